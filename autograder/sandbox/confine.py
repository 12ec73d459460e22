"""The sandbox's confinement, on the student's side: the mounts of its view, its user, its limits and
its filters, all made before the first student cell runs (`isolate` under namespaces; `become_user`
and `no_network` where none can be made; `after_isolation`, the last step, also in each child of a
fork server).

Copied next to `worker.py` and imported by it and by `forkserver.py` while the runner's folder is in
sight: it imports nothing of the project but `seccomp`, its neighbour.
"""
import os
import subprocess
import sys

import seccomp

_LIBC = None


def c_library():
    global _LIBC
    if _LIBC is None:
        import ctypes
        _LIBC = ctypes.CDLL(None, use_errno=True)
    return _LIBC


def syscall_ok(result, what):
    """Raise OSError (with errno's text) unless a libc call returned 0."""
    if result != 0:
        import ctypes
        raise OSError(ctypes.get_errno(), f"{what} failed: {os.strerror(ctypes.get_errno())}")


# mount(2)'s flags
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_REC = 0x1, 0x2, 0x4, 0x8, 0x20, 0x1000, 0x4000
# the flags a remount must keep where the kernel locked them (a mount inherited from a more privileged owner)
_LOCKED = {"nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC, "noatime": 0x400, "nodiratime": 0x800,
           "relatime": 0x200000, "strictatime": 0x1000000}


def mount(source, target, fstype=None, flags=0, data=None):
    """mount(2) itself: no mount(8) process per mount (each forked sandbox makes a few)."""
    import ctypes

    def text(value):
        return None if value is None else value.encode()

    syscall_ok(c_library().mount(text(source), text(target), text(fstype), ctypes.c_ulong(flags), text(data)),
         f"mounting {target}")


def read_only_tree(root, recursive=True):
    """Make the mount at `root` read-only, and every mount under it if `recursive`: one mount_setattr
    (Linux >= 5.12), else one remount per mount point, keeping the flags the kernel locked."""
    import ctypes

    class MountAttr(ctypes.Structure):
        _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                    ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]

    attr = MountAttr(0x1, 0, 0, 0)  # MOUNT_ATTR_RDONLY
    libc = c_library()
    # mount_setattr(AT_FDCWD, root, AT_RECURSIVE or 0, &attr, size): syscall 442 on x86_64 and aarch64
    if libc.syscall(442, -100, root.encode(), 0x8000 if recursive else 0, ctypes.byref(attr), ctypes.sizeof(attr)) == 0:
        return
    points = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            point = fields[4].encode().decode("unicode_escape")
            if point == root or (recursive and point.startswith(root + "/")):
                points.append((point, fields[5]))
    for point, options in points:
        keep = sum(_LOCKED.get(option, 0) for option in options.split(","))
        try:
            mount(None, point, None, MS_REMOUNT | MS_BIND | MS_RDONLY | keep)
        except OSError:
            if not recursive:
                raise


def drop_privileges():
    """Give up every capability the namespaces granted, for good: the student's code then cannot
    mount, unmount, chroot, raise a limit or write where the view is read-only."""
    import ctypes

    libc = c_library()
    with open("/proc/sys/kernel/cap_last_cap") as f:
        last = int(f.read())
    for cap in range(last + 1):
        libc.prctl(24, cap, 0, 0, 0)  # PR_CAPBSET_DROP
    libc.prctl(47, 4, 0, 0, 0)  # PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                    ("inheritable", ctypes.c_uint32)]

    syscall_ok(libc.capset(ctypes.byref(Header(0x20080522, 0)), ctypes.byref((Data * 2)())), "capset")
    syscall_ok(libc.prctl(38, 1, 0, 0, 0), "PR_SET_NO_NEW_PRIVS")


def bind(source, target):
    """Bind-mount `source` (a path, or /proc/self/fd/N for a folder held open) on `target`, recursively."""
    mount(source, target, None, MS_BIND | MS_REC)


def fresh_scratch(prefix, spec):
    """The one rule for what every sandbox (a single one, a fork server and each of its children)
    may write: a fresh, private tmpfs on each of the spec's writable places (isolation.WRITABLE)
    under `prefix` (the view being built, or "" once it is the root), with the folders of Python's
    own environment that lie under them (a checkout or a venv in /tmp) put back read-only."""
    keep = spec.get("keep", [])
    for place in spec["writable"]:
        target = prefix + place
        if not os.path.isdir(target):
            continue
        inside = [k for k in keep if k.startswith(place + "/") and os.path.isdir(prefix + k)
                  and not any(k.startswith(o + "/") for o in keep)]
        # Held open by descriptor: the fresh tmpfs is about to cover their paths.
        held = [(k, os.open(prefix + k, os.O_PATH | os.O_DIRECTORY)) for k in inside]
        mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, f"size={spec['tmpfs_mb']}m,mode=1777")
        for k, fd in held:
            os.makedirs(prefix + k, exist_ok=True)
            bind(f"/proc/self/fd/{fd}", prefix + k)
            os.close(fd)
            read_only_tree(prefix + k)


def isolate(spec):
    """Inside fresh user, mount, PID and network namespaces: build a read-only view of the
    machine with the course's files hidden, make it the root (pivot_root, the old root
    detached), then drop every capability."""
    root = spec["root"]
    try:
        with open("/proc/sys/user/max_user_namespaces", "w") as f:
            f.write("0")  # no nested namespace in which to gain capabilities again
    except OSError:
        pass
    empty = os.path.join(spec["runner_dir"], "empty")
    open(empty, "w").close()
    bind("/", root)
    read_only_tree(root)
    # a /dev of harmless devices only (no disks, no /dev/kmsg)
    dev = root + "/dev"
    mount("tmpfs", dev, "tmpfs", 0, "size=64k,mode=755")
    for name in ("null", "zero", "full", "random", "urandom", "tty"):
        if os.path.exists("/dev/" + name):
            open(f"{dev}/{name}", "w").close()
            mount("/dev/" + name, f"{dev}/{name}", None, MS_BIND)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        os.symlink(target, f"{dev}/{name}")
    os.mkdir(dev + "/shm")
    mount(None, dev, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID)
    fresh_scratch(root, spec)
    for path in spec["hide"]:
        target = root + path
        if os.path.isdir(target):
            mount("tmpfs", target, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4k,mode=555")
        elif os.path.exists(target):
            mount(empty, target, None, MS_BIND)
            read_only_tree(target, recursive=False)
    os.chdir(root)
    subprocess.run(["pivot_root", ".", "."], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                   env={"PATH": "/usr/sbin:/sbin:/usr/bin:/bin"})
    syscall_ok(c_library().umount2(b".", 2), "detaching the old root")  # MNT_DETACH
    os.chdir("/")
    os.makedirs("/tmp/work", exist_ok=True)
    os.chdir("/tmp/work")
    if spec.get("zygote_fd") is None:
        after_isolation(spec)


def reachable_by_others(path):
    """Whether a user with no rights of its own can reach `path` (every folder on the way lets
    others through)."""
    import stat

    path = os.path.abspath(path)
    while True:
        if not os.stat(path).st_mode & stat.S_IXOTH:
            return False
        if path == "/":
            return True
        path = os.path.dirname(path)


def become_user(spec):
    """Process isolation as root: become the unprivileged user `run_as` for good. Python's folders
    that it cannot reach by their path (an interpreter under /root) stay importable through
    descriptors opened first: /proc/self/fd/N leads into the folder without passing its parents."""
    moved = {}
    for i, entry in enumerate(sys.path):
        if entry and os.path.isdir(entry) and not reachable_by_others(entry):
            moved[entry] = sys.path[i] = f"/proc/self/fd/{os.open(entry, os.O_PATH | os.O_DIRECTORY)}"

    def through_descriptor(folder):
        for old in sorted(moved, key=len, reverse=True):
            if folder == old or folder.startswith(old + "/"):
                return moved[old] + folder[len(old):]
        return folder

    # packages already imported (importlib, encodings, ...) find their submodules through __path__
    for module in list(sys.modules.values()):
        path = getattr(module, "__path__", None)
        if isinstance(path, list):
            path[:] = [through_descriptor(p) for p in path]
        elif isinstance(getattr(path, "_path", None), list):  # a namespace package
            path._path[:] = [through_descriptor(p) for p in path._path]
    sys.path_importer_cache.clear()
    uid = int(spec["run_as"])
    if spec.get("max_processes"):
        # counted per uid, and the uid is this sandbox's own: one student's processes only
        import resource

        limit = int(spec["max_processes"])
        resource.setrlimit(resource.RLIMIT_NPROC, (limit, limit))
    os.umask(0o077)   # what it writes in the machine's shared /tmp is its own to read
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    syscall_ok(c_library().prctl(38, 1, 0, 0, 0), "PR_SET_NO_NEW_PRIVS")


def after_isolation(spec):
    """The last step before the student's code: limits, then every capability dropped. A fork
    server defers it to each forked child, which still has mounts of its own to make first."""
    import resource

    if spec.get("max_processes"):
        # counted per user namespace: effective where the grader is not the machine's root
        limit = int(spec["max_processes"])
        resource.setrlimit(resource.RLIMIT_NPROC, (limit, limit))
    drop_privileges()
    no_network(spec)


def no_network(spec):
    """The student's process and all it starts get no socket (`seccomp`): where no network
    namespace was made, this is what keeps it from the machine's loopback and the world; under
    namespaces it is a second wall, and a machine without the filter still has the first."""
    try:
        seccomp.install()
    except OSError as exc:
        if not spec.get("root"):
            raise OSError(exc.errno, f"the sandbox could not cut the student's code off the network ({exc})") from None

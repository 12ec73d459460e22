"""The fork server ("zygote") on the student's side: start-up paid once per grading worker.

`worker.py` runs this instead of serving when its spec asks for a zygote. The zygote lives in
the same isolated view as a single sandbox, imports what notebooks need (NumPy, matplotlib,
IPython's cell transformer, and TensorFlow when asked), then waits on its control socket.
For each submission it forks, and the child:

1. enters new mount, PID, IPC and network namespaces (forking once more, so that the
   student's process is the init of its own PID namespace: when it dies, everything it
   started dies with it, and so do its shared memory, message queues and sockets);
2. mounts fresh, private writable places (`confine.fresh_scratch`, the rule every sandbox
   follows) and a /proc of its own;
3. keeps only its own channel and output descriptors, drops every capability, and serves
   the grader exactly like a single sandbox.

The grader gets the new channel's descriptors and a pidfd of the student's process through
SCM_RIGHTS; it kills the process with that pidfd. No student code ever runs in the zygote.
"""
import json
import os
import signal
import socket
import struct

import confine   # the runner's folder is in sight while worker.py imports this module

CLONE_NEWNS = 0x00020000
CLONE_NEWPID = 0x20000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWNET = 0x40000000


def _preload(modules):
    import importlib

    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # a module this machine lacks is simply not preloaded
            pass
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        # A first figure loads fonts, the backend and the colour maps: do it once, here.
        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, 1], label="$x$")
        ax.contourf([[0, 1], [1, 0]], levels=[0, 0.5, 1])
        ax.scatter([0], [0])
        ax.legend()
        ax.set_title("warm-up")
        fig.canvas.draw()
        plt.close(fig)
    except Exception:
        pass


def _read_only_file(fd: int) -> bool:
    """A regular file opened for reading only (never a pipe or socket: those are other channels)."""
    import fcntl
    import stat

    try:
        return stat.S_ISREG(os.fstat(fd).st_mode) and fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_RDONLY
    except OSError:
        return False


def _child(worker, req_r, resp_w, out_w, report_w, spec):
    """In the forked child: new namespaces, private writable places, then the student's process."""
    libc = confine.c_library()
    # Its own System V IPC and POSIX message queues, and its own network (abstract Unix sockets
    # live there): nothing one student makes is seen by the next, and it all dies with the child.
    confine.syscall_ok(libc.unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWNET), "unshare")
    pid = os.fork()
    if pid:
        os.write(report_w, struct.pack(">i", pid))
        os._exit(0)
    # The student's process: pid 1 of a new PID namespace, in a session and process group of its
    # own: it would otherwise share the fork server's, and `os.killpg(0, SIGKILL)` in a student's
    # function killed the fork server and so every notebook graded after it by that worker.
    os.setsid()
    mount = confine.mount
    confine.fresh_scratch("", spec)  # the same writable places, with Python's files, as every sandbox
    try:
        mount("proc", "/proc", "proc", confine.MS_NOSUID | confine.MS_NODEV | confine.MS_NOEXEC)
    except Exception:
        pass
    os.makedirs("/tmp/work", exist_ok=True)
    os.chdir("/tmp/work")
    os.dup2(out_w, 1)
    os.dup2(out_w, 2)
    keep = {0, 1, 2, req_r, resp_w}
    for fd in map(int, os.listdir("/proc/self/fd")):
        if fd in keep or _read_only_file(fd):
            # a file the zygote's libraries hold open (matplotlib's fonts) is one this child may open
            # itself in the same view; closing it under them prints errors into the student's output
            continue
        try:
            os.close(fd)
        except OSError:
            pass
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    worker["REQ"], worker["RESP"] = req_r, resp_w
    confine.after_isolation(spec)
    worker["serve"]()
    os._exit(0)


def run(worker: dict, control_fd: int, spec: dict) -> None:
    """Serve spawn requests on the control socket until the grader closes it.

    Args:
        worker: the worker module's globals (its mount helper, privilege drop and serve loop).
        control_fd: a Unix stream socket to the grader.
        spec: the sandbox spec (tmpfs size, limits, modules to preload).
    """
    _preload(spec.get("preload", []))
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # forked children are reaped by the kernel
    control = socket.socket(fileno=control_fd)
    stream = control.makefile("rb")
    control.sendall(b'{"op":"ready"}\n')
    while True:
        line = stream.readline()
        if not line:
            return
        request = json.loads(line)
        if request.get("op") == "preload":
            _preload(request.get("modules", []))
            control.sendall(b'{"op":"ok"}\n')
            continue
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        out_r, out_w = os.pipe()
        report_r, report_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            control.close()
            for fd in (req_w, resp_r, out_r, report_r):
                os.close(fd)
            try:
                _child(worker, req_r, resp_w, out_w, report_w, spec)
            finally:
                os._exit(1)
        for fd in (req_r, resp_w, out_w, report_w):
            os.close(fd)
        raw = os.read(report_r, 4)
        os.close(report_r)
        try:
            pidfd = os.pidfd_open(struct.unpack(">i", raw)[0])
        except (OSError, struct.error):
            for fd in (req_w, resp_r, out_r):
                os.close(fd)
            control.sendall(b'{"op":"failed"}\n')
            continue
        socket.send_fds(control, [b'{"op":"spawned"}\n'], [req_w, resp_r, out_r, pidfd])
        for fd in (req_w, resp_r, out_r, pidfd):
            os.close(fd)

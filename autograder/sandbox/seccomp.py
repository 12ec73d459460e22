"""No network for the student's code, in every isolation mode: a seccomp filter it installs on itself.

Under namespaces the student's process has an empty network namespace; where none can be made
(Docker's default seccomp profile, Gradescope, Kubernetes pods) it would otherwise reach the
machine's loopback (a Dask scheduler, a database) and the world. So the worker, after its last
set-up step and before the first cell, installs this classic-BPF filter on itself (`install`,
with `no_new_privs`); it is inherited by every process it starts and can never be lifted. It
stacks under a container's own filter (the kernel applies the stricter answer of all).

Refused with EPERM (a clear error, never a kill): `socket` for every family (the channel to the
grader is a pair of pipes, opened before); `socketpair` other than AF_UNIX stream pairs (what
`multiprocessing.Pipe` makes: connected to each other, they can reach nothing else); `connect`,
`bind`, `listen`, `accept`, `accept4` (no descriptor the student's process holds needs them);
`io_uring_setup` (it can open and connect sockets without these calls); `ptrace` (on kernels
before 4.8 a traced process could change a system call after the filter saw it); and every
system call of another ABI (i386, x32), whose numbers this filter does not judge.

`audit_hook` turns the refusal, in Python, into a message that says why. It is no boundary:
the filter is.

This file is copied next to `worker.py` and imported there: it imports nothing of the project.
"""
import ctypes
import errno
import os
import struct

# classic BPF
LD_W_ABS, JEQ_K, JSET_K, JGE_K, AND_K, RET_K = 0x20, 0x15, 0x45, 0x35, 0x54, 0x06
SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO = 0x7FFF0000, 0x00050000
# offsets in struct seccomp_data: nr, arch, instruction pointer, args[6] (64 bits each, little-endian)
NR, ARCH, ARG0, ARG1 = 0, 4, 16, 24

AF_UNIX, SOCK_STREAM = 1, 1
SOCK_TYPE_MASK = 0xF   # the type without SOCK_NONBLOCK and SOCK_CLOEXEC

# per architecture: its audit arch, the first number of another ABI sharing it (x32), its calls
ARCHES = {
    "x86_64": (0xC000003E, 0x40000000, {
        "socket": 41, "connect": 42, "accept": 43, "bind": 49, "listen": 50, "socketpair": 53,
        "accept4": 288, "io_uring_setup": 425, "ptrace": 101}),
    "aarch64": (0xC00000B7, None, {
        "socket": 198, "connect": 203, "accept": 202, "bind": 200, "listen": 201, "socketpair": 199,
        "accept4": 242, "io_uring_setup": 425, "ptrace": 117}),
}
REFUSED = ("socket", "connect", "bind", "listen", "accept", "accept4", "io_uring_setup", "ptrace")

MESSAGE = ("the network is not available to your code while it is graded (no sockets: no internet, no local "
           "servers); your functions must compute their results from their arguments")


def assemble(instructions) -> bytes:
    """The filter's bytes (struct sock_filter: u16 code, u8 jt, u8 jf, u32 k) of (code, jt, jf, k) tuples."""
    return b"".join(struct.pack("HBBI", *ins) for ins in instructions)


def program(machine: str | None = None) -> list[tuple[int, int, int, int]]:
    """The no-network filter for `machine` (this one's by default), as (code, jt, jf, k) instructions.

    Raises:
        OSError: this architecture's system call numbers are not known here.
    """
    machine = machine or os.uname().machine
    if machine not in ARCHES:
        raise OSError(errno.ENOSYS, f"no seccomp filter for {machine}: expected one of {sorted(ARCHES)}")
    audit_arch, other_abi, numbers = ARCHES[machine]
    eperm = SECCOMP_RET_ERRNO | errno.EPERM
    ins = [(LD_W_ABS, 0, 0, ARCH),
           (JEQ_K, 1, 0, audit_arch),
           (RET_K, 0, 0, eperm),                              # another ABI's numbers mean other calls
           (LD_W_ABS, 0, 0, NR)]
    if other_abi is not None:
        ins += [(JGE_K, 0, 1, other_abi), (RET_K, 0, 0, eperm)]
    for name in REFUSED:
        ins += [(JEQ_K, 0, 1, numbers[name]), (RET_K, 0, 0, eperm)]
    # socketpair: AF_UNIX stream pairs only
    ins += [(JEQ_K, 0, 6, numbers["socketpair"]),
            (LD_W_ABS, 0, 0, ARG0),
            (JEQ_K, 0, 3, AF_UNIX),
            (LD_W_ABS, 0, 0, ARG1),
            (AND_K, 0, 0, SOCK_TYPE_MASK),
            (JEQ_K, 1, 0, SOCK_STREAM),
            (RET_K, 0, 0, eperm)]
    ins += [(RET_K, 0, 0, SECCOMP_RET_ALLOW)]
    return ins


def install_filter(instructions) -> None:
    """Install a classic-BPF seccomp filter on the calling thread (and what it starts from now on),
    with `no_new_privs` set first, as an unprivileged process must.

    Raises:
        OSError: the kernel refused (no seccomp, or a filter already forbids installing filters).
    """
    raw = ctypes.create_string_buffer(assemble(instructions))

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    prog = SockFprog(len(instructions), ctypes.cast(raw, ctypes.c_void_p))
    libc = ctypes.CDLL(None, use_errno=True)
    for args, what in (((38, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)"),
                       ((22, 2, ctypes.byref(prog), 0, 0), "prctl(PR_SET_SECCOMP)")):
        if libc.prctl(*args) != 0:
            code = ctypes.get_errno()
            raise OSError(code, f"{what} failed: {os.strerror(code)}")


def audit_hook(event, args):
    """Say why, where Python code asks for the network: the filter would refuse with a bare EPERM."""
    if not event.startswith("socket."):
        return
    if event == "socket.__new__":
        family, kind = args[1], args[2]
        if family == AF_UNIX and kind & SOCK_TYPE_MASK == SOCK_STREAM:
            return   # a pair made by socketpair() (a lone one is refused by the kernel)
    elif event not in ("socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg", "socket.getaddrinfo",
                       "socket.gethostbyname", "socket.gethostbyaddr"):
        return
    raise PermissionError(errno.EPERM, MESSAGE)


def install() -> None:
    """Cut the calling process (and everything it starts) off the network, for good.

    Raises:
        OSError: no filter for this machine, or the kernel refused it.
    """
    install_filter(program())
    import sys

    sys.addaudithook(audit_hook)

"""The no-network filter itself (`autograder/sandbox/seccomp.py`), in a child process of the test and
in every kind of sandbox."""
from __future__ import annotations

import ctypes
import errno
import os
import socket

import pytest

from autograder.config import load_course
from autograder.sandbox import seccomp
from autograder.sandbox.isolation import isolation_level
from autograder.sandbox.launcher import Sandbox
from autograder.sandbox.zygote import Zygote

LIMITS = load_course().limits


def _in_filtered_child(probe) -> int:
    """Run `probe` in a forked child after installing the filter; its exit code (0: it held)."""
    pid = os.fork()
    if pid == 0:
        try:
            seccomp.install_filter(seccomp.program())
            os._exit(probe())
        except BaseException:
            os._exit(99)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def test_the_filter_refuses_sockets_with_eperm_and_allows_the_rest():
    """Under the filter, are socket(2) of every family, datagram socketpairs and io_uring_setup refused
    with EPERM (not a kill), while a stream socketpair, files and processes still work?"""
    def probe():
        libc = ctypes.CDLL(None, use_errno=True)
        for family, kind in ((socket.AF_INET, socket.SOCK_STREAM), (socket.AF_INET6, socket.SOCK_DGRAM),
                             (socket.AF_UNIX, socket.SOCK_STREAM), (socket.AF_NETLINK, socket.SOCK_RAW),
                             (socket.AF_PACKET, socket.SOCK_RAW)):
            if libc.socket(family, kind, 0) != -1 or ctypes.get_errno() != errno.EPERM:
                return 1
        pair = (ctypes.c_int * 2)()
        if libc.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM, 0, pair) != -1 or ctypes.get_errno() != errno.EPERM:
            return 2
        if libc.syscall(425, 8, ctypes.create_string_buffer(120)) != -1 or ctypes.get_errno() != errno.EPERM:
            return 3   # io_uring_setup
        a, b = socket.socketpair()   # multiprocessing.Pipe and asyncio's self-pipe
        a.sendall(b"x")
        if b.recv(1) != b"x":
            return 4
        if os.waitpid(os.spawnv(os.P_NOWAIT, "/bin/true", ["true"]), 0)[1] != 0:
            return 5
        return 0

    assert _in_filtered_child(probe) == 0


def test_python_says_why_the_network_is_refused():
    """Does a connection from Python raise PermissionError with the message that the network is not
    available while grading?"""
    def probe():
        seccomp.install()
        try:
            socket.create_connection(("127.0.0.1", 9), timeout=1)
        except PermissionError as exc:
            return 0 if seccomp.MESSAGE in str(exc) else 1
        return 2

    pid = os.fork()
    if pid == 0:
        try:
            os._exit(probe())
        except BaseException:
            os._exit(99)
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0


REFUSED = """
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
assert libc.socket(2, 1, 0) == -1 and ctypes.get_errno() == 1, 'socket(2) allowed'
"""


@pytest.mark.skipif(isolation_level() != "namespaces", reason="the fork server needs namespaces")
def test_every_sandbox_installs_the_filter():
    """Is socket(2) refused (EPERM) in a single sandbox and in a child forked by the fork server,
    where the network namespace alone would have allowed making one?"""
    with Sandbox(LIMITS) as single:
        reply = single.request({"op": "exec", "code": REFUSED, "index": 0}, 60)
        assert reply["ok"], reply["error"]
    zygote = Zygote(LIMITS).start()
    try:
        forked = zygote.spawn()
        try:
            reply = forked.request({"op": "exec", "code": REFUSED, "index": 0}, 60)
        finally:
            forked.close()
        assert reply["ok"], reply["error"]
    finally:
        zygote.close()

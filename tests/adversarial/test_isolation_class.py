"""One student reaching the next in grade-all: the fork server's children share nothing.

Submission A leaves something in every place a process can leave it (files in /tmp, /var/tmp
and /dev/shm, a System V shared memory segment, an abstract Unix socket); submission B, forked
later from the same zygote (while A still runs, and after A is gone), looks for each.
"""
from __future__ import annotations

import pytest

from autograder.config import load_course
from autograder.sandbox.isolation import isolation_level
from autograder.sandbox.zygote import Zygote

pytestmark = pytest.mark.skipif(isolation_level() != "namespaces", reason="the fork server needs namespaces")
LIMITS = load_course().limits
KEY = 0x5EC7E7  # the System V key both students agree on

LEAVE = f"""
import ctypes, socket
for place in ('/tmp', '/var/tmp', '/dev/shm'):
    open(place + '/from_a.txt', 'w').write('answers')
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
segment = libc.shmget({KEY}, 4096, 0o1666)  # IPC_CREAT, readable by all, never removed
assert segment >= 0, ctypes.get_errno()
ctypes.memmove(libc.shmat(segment, None, 0), b'answers', 7)
listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
listener.bind('\\0autograder-from-a')
listener.listen()
"""

LOOK = f"""
import ctypes, os, socket
found = [p for p in ('/tmp', '/var/tmp', '/dev/shm') if os.path.exists(p + '/from_a.txt')]
libc = ctypes.CDLL(None, use_errno=True)
if libc.shmget({KEY}, 0, 0) >= 0:
    found.append('System V segment')
try:
    socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).connect('\\0autograder-from-a')
    found.append('abstract socket')
except OSError:
    pass
assert found == [], found
"""


@pytest.fixture(scope="module")
def zygote():
    z = Zygote(LIMITS).start()
    yield z
    z.close()


def _run(sandbox, code):
    return sandbox.request({"op": "exec", "code": code, "index": 0}, 60)


def test_a_later_student_finds_nothing_an_earlier_one_left(zygote):
    """Does student B, forked while A still runs and again after A is gone, find none of A's files,
    shared memory or sockets?"""
    a = zygote.spawn()
    try:
        reply = _run(a, LEAVE)
        assert reply["ok"], reply
        b = zygote.spawn()
        try:
            reply = _run(b, LOOK)
        finally:
            b.close()
        assert reply["ok"], reply["error"]
    finally:
        a.close()
    c = zygote.spawn()
    try:
        reply = _run(c, LOOK)
    finally:
        c.close()
    assert reply["ok"], reply["error"]

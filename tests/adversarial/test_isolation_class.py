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
try:  # refused by the sandbox's seccomp filter; if it could be made, B must not find it
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind('\\0autograder-from-a')
    listener.listen()
except PermissionError:
    pass
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


def test_a_student_who_kills_its_process_group_stops_only_itself(tmp_path):
    """In grade-all, a function calling os.killpg(0, SIGKILL) (its process group) loses its own
    exercise only, and the students graded after it by the same worker keep full marks: before, the
    forked child shared the fork server's process group and killed it, and every later notebook of
    that worker was a zero ("internal error ... Broken pipe")."""
    import nbformat

    from autograder.grade_all import grade_all
    from autograder.samples import submission

    killer = "import os, signal\ndef relu(z):\n    os.killpg(0, signal.SIGKILL)\n"
    (tmp_path / "class").mkdir()
    for name, solutions in (("a_killer", {"relu": killer}), ("b_honest", {}), ("c_honest", {})):
        nbformat.write(submission("a01_perceptron", solutions), tmp_path / "class" / f"{name}.ipynb")
    results = {r["student"]: r for r in grade_all(tmp_path / "class", out=tmp_path / "out", assignment="a01_perceptron",
                                                  jobs=1, progress=False)}
    assert results["b_honest"]["score"] == results["c_honest"]["score"] == 12, results
    killer_scores = {e["name"]: e["score"] for e in results["a_killer"]["exercises"]}
    assert killer_scores["relu"] == 0 and killer_scores["sigmoid"] == 2, results["a_killer"]

"""Memory outside the resident set: what a submission pins in files, shared memory and memfd
counts against its memory limit, is reported as that limit, and does not outlive the grading."""
from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import nbformat
import pytest

from autograder.config import load_course
from autograder.grade import grade_notebook
from autograder.sandbox.isolation import isolation_level
from autograder.sandbox.launcher import Sandbox, SandboxError
from autograder.sandbox.limits import memory_cgroups
from tests.adversarial.test_hostile import lean

BASE = load_course()
MEMORY_MB = 256
# Time is generous on purpose: the memory limit, not the clock, must stop each filler.
COURSE = replace(BASE, limits=replace(BASE.limits, memory_mb=MEMORY_MB, call_timeout=60, cell_timeout=60,
                                      notebook_timeout=120))
FILL = """
def relu(z):
    total = 0
    while True:
        write(b"x" * (16 << 20))
        total += 16
        print("pinned", total, "MiB", flush=True)
"""
# A new file per chunk: one file's size is also bounded by RLIMIT_FSIZE, many files are not.
FILLERS = {
    "heap": "hoard = []\nwrite = lambda chunk: hoard.append(bytearray(chunk))\n",
    "files in /tmp": "import itertools\nnames = itertools.count()\n"
                     "def write(chunk):\n    open(f'/tmp/fill{next(names)}', 'wb').write(chunk)\n",
    "files in /dev/shm": "import itertools\nnames = itertools.count()\n"
                         "def write(chunk):\n    open(f'/dev/shm/fill{next(names)}', 'wb').write(chunk)\n",
    "memfd": "import os\nkept = []\ndef write(chunk):\n    kept.append(os.memfd_create('fill'))\n"
             "    os.write(kept[-1], chunk)\n",
    "System V shared memory": (
        "import ctypes\nlibc = ctypes.CDLL(None)\nlibc.shmat.restype = ctypes.c_void_p\n"
        "def write(chunk):\n    segment = libc.shmget(0, len(chunk), 0o600)\n"
        "    address = libc.shmat(segment, None, 0)\n    ctypes.memmove(address, chunk, len(chunk))\n"
        "    libc.shmdt(ctypes.c_void_p(address))\n"),
}
OUTSIDE_THE_HEAP = {"files in /tmp", "files in /dev/shm", "memfd", "System V shared memory"}


def _segments() -> set[str]:
    """The System V shared memory segments of the grader's IPC namespace (their ids)."""
    lines = Path("/proc/sysvipc/shm").read_text().splitlines()[1:]
    return {line.split()[1] for line in lines}


namespaces = pytest.mark.skipif(isolation_level() != "namespaces",
                                reason="the writable places are private tmpfs under namespaces")


def _needs_cgroup(filler):
    if filler in OUTSIDE_THE_HEAP and not memory_cgroups():
        pytest.skip("no memory cgroup here: files and shared memory are bounded by tmpfs sizes, not reported")


@namespaces
@pytest.mark.parametrize("filler", FILLERS)
def test_memory_a_sandbox_pins_is_bounded_and_reported_as_the_memory_limit(filler):
    """Is a process that pins memory without bound (on its heap, in files of its tmpfs or /dev/shm,
    in a memfd, in System V shared memory) stopped at its memory limit, with that limit as the
    reason, and is nothing it pinned left afterwards?"""
    _needs_cgroup(filler)
    before = _segments()
    with Sandbox(COURSE.limits) as sandbox:
        try:
            reply = sandbox.request({"op": "exec", "code": FILLERS[filler] + FILL + "relu(0)", "index": 0}, 60)
            reason = f"{reply['error']['type']}: {reply['error']['message']}"
        except SandboxError as exc:
            reason = str(exc)
        output = sandbox.output.text()
    assert re.search(r"memory limit|MemoryError", reason), reason
    pinned = [int(n) for n in re.findall(r"pinned (\d+) MiB", output)]
    assert pinned and max(pinned) <= MEMORY_MB, pinned[-3:]
    assert _segments() <= before


@namespaces
@pytest.mark.parametrize("filler", ["memfd", "heap"])
def test_the_feedback_names_the_memory_limit(filler, tmp_path):
    """Does a student whose relu pins memory without bound read, in relu's feedback, that the
    memory limit stopped it (not a timeout), with every other exercise graded in full?"""
    _needs_cgroup(filler)
    path = tmp_path / "a01_perceptron.ipynb"
    nbformat.write(lean({"relu": FILLERS[filler] + FILL}), path)
    result = grade_notebook(path, course=COURSE)
    feedback = {e.name: " ".join(c.feedback for c in e.checks) for e in result.exercises}
    scores = {e.name: (e.score, e.points) for e in result.exercises}
    assert scores.pop("relu")[0] == 0
    assert re.search(r"memory limit|MemoryError", feedback["relu"]), feedback["relu"][:1000]
    assert "did not return within" not in feedback["relu"]
    assert all(score == points for score, points in scores.values()), scores

"""Interrupting the grader: when `python -m autograder grade` is stopped (SIGTERM, as a CI
timeout sends; Ctrl-C), nothing it started keeps running."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import nbformat
import pytest

from autograder.config import COURSE_ROOT
from tests.adversarial.test_hostile import lean


def _stat(pid: int) -> list[bytes] | None:
    """The fields of /proc/PID/stat after the command's name (state first), None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None


# A process is its pid and its start time: pids are reused (pid_max is 32768 on this machine, and
# the suite starts thousands of processes), and a reused pid is another test's process.
Process = tuple[int, bytes]


def _children() -> dict[int, list[Process]]:
    found: dict[int, list[Process]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = _stat(int(entry))
        if fields is None or len(fields) < 20:
            continue
        found.setdefault(int(fields[1]), []).append((int(entry), fields[19]))   # ppid; starttime
    return found


def _descendants(pid: int) -> set[Process]:
    children, found, todo = _children(), set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child[0])
    return found


def _running(process: Process) -> bool:
    fields = _stat(process[0])
    return fields is not None and len(fields) >= 20 and fields[19] == process[1] and fields[0] != b"Z"


def _comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


@pytest.mark.slow
@pytest.mark.parametrize("command,stop", [("grade", signal.SIGTERM), ("grade", signal.SIGINT),
                                          ("grade", signal.SIGKILL), ("grade-all", signal.SIGKILL)])
def test_stopping_the_grader_stops_the_students_process(command, stop, tmp_path):
    """When `grade` or `grade-all` is stopped while the student's cell spins (even by SIGKILL, which
    leaves it no clean-up of its own), is every process it started (grade-all's pool workers and
    their fork servers too) gone soon after?"""
    path = tmp_path / "class" / "a01_perceptron.ipynb"
    path.parent.mkdir()
    # the spinning cell names its process (PR_SET_NAME), so the test knows when it spins
    spin = "import ctypes\nctypes.CDLL(None).prctl(15, b'autograder-spin', 0, 0, 0)\nwhile True:\n    pass"
    nbformat.write(lean(extra=(spin,)), path)
    arguments = ([str(path)] if command == "grade" else
                 [str(path.parent), "--assignment", "a01_perceptron", "--out", str(tmp_path / "out"), "--jobs", "1"])
    grader = subprocess.Popen([sys.executable, "-m", "autograder", command, *arguments], cwd=COURSE_ROOT,
                              env={**os.environ, "PYTHONPATH": str(COURSE_ROOT)},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    started: set[Process] = set()
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and grader.poll() is None:
            started = _descendants(grader.pid)
            if any(_comm(pid) == "autograder-spin" for pid, _ in started):
                break
            time.sleep(0.2)
        assert any(_comm(pid) == "autograder-spin" for pid, _ in started), "the spinning cell did not start"
        grader.send_signal(stop)
        grader.wait(timeout=60)
        deadline = time.monotonic() + 30  # SIGKILL is asynchronous: on a loaded machine it takes a moment
        while time.monotonic() < deadline and any(_running(p) for p in started):
            time.sleep(0.2)
        assert [(pid, _comm(pid)) for pid, start in started if _running((pid, start))] == []
    finally:
        if grader.poll() is None:
            grader.kill()
            grader.wait()
        for process in started:  # what the old code left behind (orphans are no longer our descendants)
            try:
                if _running(process):
                    os.kill(process[0], signal.SIGKILL)
            except ProcessLookupError:
                pass

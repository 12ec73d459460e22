"""Attacks on a whole class graded with grade-all: a submission that kills the grader's worker,
submissions that are not plain files, and names made to reach the instructor's files and terminal.

Each test grades a small real class (the released a01 notebook, solved or not) with the real pool,
sandbox and zygotes, and asserts that every honest student keeps their grade.
"""
from __future__ import annotations

import csv
import json
import os
import signal
import threading
import time
import uuid
from pathlib import Path

import nbformat
import pytest

from autograder.grade_all import grade_all
from autograder.samples import submission

A = "a01_perceptron"


def _rows(out: Path) -> dict[tuple[str, str], str]:
    with open(out / "grades.csv", newline="", encoding="utf-8") as f:
        return {(r["assignment"], r["student_id"]): r["score"] for r in csv.DictReader(f)}


# -- a dead worker costs only its notebook ------------------------------------------------------

def _parent(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return int(next(line for line in f if line.startswith("PPid:")).split()[1])


class WorkerKiller(threading.Thread):
    """SIGKILLs, as the kernel's out-of-memory killer would, the pool worker (a child of this test's
    process) whose sandbox runs a process named `marker`, and that process's ancestors up to it."""

    def __init__(self, marker: str):
        super().__init__(daemon=True)
        self.marker, self.kills, self.stopped = marker, 0, threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(0.1):
            for entry in os.listdir("/proc"):
                try:
                    if not entry.isdigit() or Path(f"/proc/{entry}/comm").read_text().strip() != self.marker:
                        continue
                    chain = [int(entry)]
                    while chain[-1] > 1 and _parent(chain[-1]) != os.getpid():
                        chain.append(_parent(chain[-1]))
                except (OSError, StopIteration, ValueError):
                    continue
                if chain[-1] > 1:  # found this test's pool worker above it
                    for pid in reversed(chain):
                        try:
                            os.kill(pid, signal.SIGKILL)
                        except ProcessLookupError:
                            pass
                    self.kills += 1


def test_a_notebook_that_kills_its_worker_costs_only_its_own_grade(tmp_path):
    """When grading one notebook kills the pool's worker every time, are the others graded, is that
    notebook recorded as an error for its student, and does the class complete with its grades.csv?"""
    marker = "kill" + uuid.uuid4().hex[:8]
    root, out = tmp_path / "class", tmp_path / "out"
    root.mkdir()
    nbformat.write(submission(A, {}), root / "ada.ipynb")
    nbformat.write(submission(A, None), root / "bob.ipynb")
    nbformat.write(submission(A, {}), root / "cat.ipynb")
    killer_notebook = submission(A, {})
    killer_notebook.cells.insert(1, nbformat.v4.new_code_cell(
        f"import ctypes, time\nctypes.CDLL(None).prctl(15, b'{marker}', 0, 0, 0)  # PR_SET_NAME\ntime.sleep(300)"))
    nbformat.write(killer_notebook, root / "mal.ipynb")
    killer = WorkerKiller(marker)
    killer.start()
    try:
        results = {d["student"]: d for d in grade_all(root, out=out, assignment=A, jobs=2, progress=False)}
    finally:
        killer.stopped.set()
        killer.join()
    assert {s: d["score"] for s, d in results.items()} == {"ada": 12, "bob": 0, "cat": 12, "mal": 0}
    assert killer.kills == 2
    assert "killed" in results["mal"]["error"] and "twice" in results["mal"]["error"]
    assert _rows(out) == {(A, "ada"): "12.0", (A, "bob"): "0.0", (A, "cat"): "12.0", (A, "mal"): "0.0"}
    assert json.loads((out / A / "mal.json").read_text())["error"] == results["mal"]["error"]

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


@pytest.mark.slow
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


# -- submissions that are not the student's own plain file ----------------------------------------

def _nbgrader_class(root: Path, notebooks: dict[str, object]) -> None:
    """Write submitted/<student>/<A>/<A>.ipynb for each student (a notebook, or None for the stub)."""
    for student, cells in notebooks.items():
        folder = root / "submitted" / student / A
        folder.mkdir(parents=True)
        nbformat.write(submission(A, cells), folder / f"{A}.ipynb")


def test_symbolic_links_are_never_graded_as_the_students_work(tmp_path):
    """Is a notebook or folder that is a symbolic link (to the instructor's source, to another student's
    notebook, to a system file) a zero saying so, while the honest student keeps full marks?"""
    from autograder.registry import source_notebook

    root, out = tmp_path / "class", tmp_path / "out"
    _nbgrader_class(root, {"ada": {}})
    submitted = root / "submitted"
    targets = {"to_source": source_notebook(A), "to_ada": submitted / "ada" / A / f"{A}.ipynb",
               "to_system": Path("/etc/passwd")}
    for student, target in targets.items():
        (submitted / student / A).mkdir(parents=True)
        (submitted / student / A / f"{A}.ipynb").symlink_to(target)
    (submitted / "linked_folder").symlink_to(submitted / "ada")       # a student's folder
    (submitted / "linked_assignment").mkdir()
    (submitted / "linked_assignment" / A).symlink_to(submitted / "ada" / A)
    results = {d["student"]: d for d in grade_all(root, out=out, jobs=2, progress=False)}
    assert results["ada"]["score"] == 12
    refused = [s for s in results if s != "ada"]
    assert sorted(refused) == sorted([*targets, "linked_folder", "linked_assignment"])
    for student in refused:
        assert results[student]["score"] == 0 and "symbolic link" in results[student]["error"], results[student]
        assert not any(e["checks"] for e in results[student]["exercises"])


def test_a_hard_link_inside_the_class_is_graded_and_flagged_one_outside_is_refused(tmp_path):
    """Does a notebook hard-linked to another student's keep the honest student's grade (both
    names graded, each result naming the other for the instructor), while a notebook hard-linked
    to a file outside the class (a copy of the instructor's source) gets a zero that says why?"""
    root, out = tmp_path / "class", tmp_path / "out"
    _nbgrader_class(root, {"ada": {}, "cem": {}, "eve": None})
    submitted = root / "submitted"
    (submitted / "mal" / A).mkdir(parents=True)
    os.link(submitted / "ada" / A / f"{A}.ipynb", submitted / "mal" / A / f"{A}.ipynb")
    outside = tmp_path / "instructor" / f"{A}.ipynb"
    outside.parent.mkdir()
    nbformat.write(submission(A, {}), outside)
    (submitted / "eve" / A / f"{A}.ipynb").unlink()
    os.link(outside, submitted / "eve" / A / f"{A}.ipynb")
    results = {d["student"]: d for d in grade_all(root, out=out, jobs=2, progress=False)}
    assert results["cem"]["score"] == 12
    for student, other in (("ada", "mal"), ("mal", "ada")):
        assert results[student]["score"] == 12 and not results[student]["error"]
        assert any("hard link" in n and f"submission of {other}" in n for n in results[student]["notes"])
    assert results["eve"]["score"] == 0 and "hard link" in results["eve"]["error"]
    assert "outside the class folder" in results["eve"]["error"]


def test_a_second_notebook_in_a_folder_is_never_graded(tmp_path):
    """With several notebooks in a student's folder, is only <assignment>.ipynb graded (the others named),
    and without it none at all?"""
    root, out = tmp_path / "class", tmp_path / "out"
    _nbgrader_class(root, {"bob": None, "dan": None})
    bob = root / "submitted" / "bob" / A
    nbformat.write(submission(A, {}), bob / "solved_copy.ipynb")   # e.g. a classmate's, renamed
    dan = root / "submitted" / "dan" / A
    (dan / f"{A}.ipynb").rename(dan / "mine.ipynb")
    nbformat.write(submission(A, {}), dan / "theirs.ipynb")
    results = {d["student"]: d for d in grade_all(root, out=out, jobs=2, progress=False)}
    assert results["bob"]["score"] == 0 and results["bob"]["exercises"][0]["checks"]
    assert any("solved_copy.ipynb" in note and "not graded" in note for note in results["bob"]["notes"])
    assert results["dan"]["score"] == 0 and "mine.ipynb, theirs.ipynb" in results["dan"]["error"]


def test_output_names_and_an_output_folder_inside_the_class_are_not_students(tmp_path):
    """Do students named like the output's own files keep their results apart, and is an --out inside
    the class folder never graded as a student on the next run?"""
    root = tmp_path / "class"
    root.mkdir()
    for student in ("grades.csv", "summary.txt", "grades", "%unknown"):
        nbformat.write(submission(A, None), root / f"{student}.ipynb")  # the stub: graded quickly
    out = root / "out"
    for _ in range(2):
        results = grade_all(root, out=out, assignment=A, jobs=2, progress=False)
    assert sorted(d["student"] for d in results) == sorted(["grades.csv", "summary.txt", "grades", "%unknown"])
    rows = _rows(out)
    assert len(rows) == 4 and set(rows.values()) == {"0.0"}
    assert all(d["exercises"][0]["checks"] and not d["error"] for d in results)
    assert (out / "grades.csv").is_file() and (out / A / "grades.csv").is_file()


def test_an_unknown_assignment_folder_is_a_zero_that_says_so(tmp_path):
    """Is a notebook in a folder named after no assignment of the course a zero naming the known ones,
    not an internal error, and kept apart from the class's own files?"""
    root, out = tmp_path / "class", tmp_path / "out"
    _nbgrader_class(root, {"ada": {}})
    (root / "submitted" / "ada" / "grades.csv").mkdir()
    nbformat.write(submission(A, {}), root / "submitted" / "ada" / "grades.csv" / "x.ipynb")
    results = {d["assignment"]: d for d in grade_all(root, out=out, jobs=1, progress=False)}
    assert results[A]["score"] == 12
    assert "Unknown assignment" in results["grades.csv"]["error"] and "internal" not in results["grades.csv"]["error"]
    assert (out / "grades.csv").is_file() and len(_rows(out)) == 2

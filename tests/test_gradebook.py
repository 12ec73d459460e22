"""The gradebook path (grade-all --gradebook): nbgrader's gradebook and autograded notebooks filled
from the isolated grader's results, against a real nbgrader course."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest

from autograder import nbgrader_course
from autograder.config import COURSE_ROOT
from autograder.grade_all import grade_all
from autograder.gradebook import fill_gradebook
from autograder.samples import submission

A = "a01_perceptron"
pytestmark = pytest.mark.slow   # nbgrader generates the course


@pytest.fixture(scope="module")
def course_dir():
    # Outside /tmp and the repository, which every sandbox hides anyway: only --gradebook can hide it.
    parent = Path(tempfile.mkdtemp(prefix=".autograder-test-course-", dir=Path.home()))
    try:
        yield nbgrader_course.create(parent / "course", [A])
    finally:
        shutil.rmtree(parent, ignore_errors=True)


def _autograded(course_dir, student):
    return nbformat.read(course_dir / "autograded" / student / A / f"{A}.ipynb", as_version=4)


def _solution_code(notebook) -> str:
    return "\n".join(c.source for c in notebook.cells if c.cell_type == "code"
                     and (c.metadata.get("nbgrader") or {}).get("solution"))


def test_an_unreadable_submission_never_gets_the_instructors_solutions(course_dir, tmp_path):
    """Is a submission that cannot be read (broken JSON, a symbolic link to the source) recorded as a
    zero whose autograded copy holds the released stub, never the source's solutions?"""
    root = tmp_path / "class"
    root.mkdir()
    (root / "broken.ipynb").write_text("{oops")
    (root / "linked.ipynb").symlink_to(course_dir / "source" / A / f"{A}.ipynb")
    results = grade_all(root, out=tmp_path / "out", assignment=A, jobs=2, progress=False)
    fill_gradebook(course_dir, results)
    released = _solution_code(nbformat.read(course_dir / "release" / A / f"{A}.ipynb", as_version=4))
    for student in ("broken", "linked"):
        notebook = _autograded(course_dir, student)
        assert "BEGIN SOLUTION" not in nbformat.writes(notebook)
        assert _solution_code(notebook) == released
        assert any("Not graded" in o.get("text", "") for c in notebook.cells for o in c.get("outputs", []))
    assert nbgrader_course.gradebook_scores(course_dir, A)["broken"] == 0


def test_stored_outputs_are_cleared_as_nbgrader_does(course_dir, tmp_path):
    """Are a submission's stored outputs (a forged score, a script tag) cleared from the autograded copy,
    leaving only the grader's own feedback?"""
    notebook = submission(A, None)
    forged = [nbformat.v4.new_output("display_data", data={"text/html": "<script>alert('x')</script>"}),
              nbformat.v4.new_output("stream", name="stdout", text="sigmoid: 2 / 2 points\n")]
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = list(forged), 7
    root = tmp_path / "class"
    root.mkdir()
    nbformat.write(notebook, root / "forger.ipynb")
    fill_gradebook(course_dir, grade_all(root, out=tmp_path / "out", assignment=A, jobs=1, progress=False))
    text = nbformat.writes(_autograded(course_dir, "forger"))
    assert "<script>" not in text and "2 / 2 points" not in text
    assert nbgrader_course.gradebook_scores(course_dir, A)["forger"] == 0


def test_one_odd_notebook_never_stops_the_filling_for_the_others(course_dir, tmp_path):
    """Does a notebook with odd nbgrader metadata (a string, a list as grade_id) leave every other
    student recorded, its own problem reported?"""
    odd = submission(A, {})
    code = [c for c in odd.cells if c.cell_type == "code"]
    code[0].metadata["nbgrader"] = "odd"
    code[1].metadata["nbgrader"] = {"grade_id": ["a", "list"], "grade": True}
    root = tmp_path / "class"
    root.mkdir()
    nbformat.write(odd, root / "aaa_odd.ipynb")
    nbformat.write(submission(A, {}), root / "zed.ipynb")
    results = grade_all(root, out=tmp_path / "out", assignment=A, jobs=2, progress=False)
    filled = fill_gradebook(course_dir, results)
    assert nbgrader_course.gradebook_scores(course_dir, A)["zed"] == 12
    odd_score = next(d["score"] for d in results if d["student"] == "aaa_odd")
    assert nbgrader_course.gradebook_scores(course_dir, A)["aaa_odd"] == pytest.approx(odd_score)
    assert filled.recorded == 2 and not filled.problems, filled.problems


def test_the_course_directory_is_hidden_from_the_students_code(course_dir, tmp_path):
    """With --gradebook COURSE, does a student's code fail to read the course's source notebook?"""
    source = course_dir / "source" / A / f"{A}.ipynb"
    peeking = ("import numpy as np\n"
               "def sigmoid(z):\n"
               f"    open({str(source)!r}).read()  # reads the solutions, or raises\n"
               "    return 1 / (1 + np.exp(-np.asarray(z, dtype=float)))\n")
    root, out = tmp_path / "class", tmp_path / "out"
    root.mkdir()
    nbformat.write(submission(A, {"sigmoid": peeking}), root / "peek.ipynb")
    env = {**os.environ, "PYTHONPATH": str(COURSE_ROOT)}
    run = subprocess.run([sys.executable, "-m", "autograder", "grade-all", str(root), "--assignment", A, "--out",
                          str(out), "--gradebook", str(course_dir), "--no-progress"], env=env, capture_output=True,
                         text=True, timeout=900)
    assert run.returncode == 0, run.stderr
    data = json.loads((out / A / "peek.json").read_text())
    sigmoid = next(e for e in data["exercises"] if e["name"] == "sigmoid")
    assert sigmoid["score"] == 0
    assert any("No such file" in c["feedback"] or "ermission" in c["feedback"] for c in sigmoid["checks"])

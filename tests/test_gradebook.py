"""The gradebook path (grade-all --gradebook): nbgrader's gradebook and autograded notebooks filled
from the isolated grader's results, against a real nbgrader course."""
from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path

import nbformat
import pytest

from autograder import nbgrader_course
from autograder.config import COURSE_ROOT
from autograder.grade_all import grade_all
from autograder.gradebook import fill_gradebook
from autograder.release import nbgrader
from autograder.samples import CLASSES, submission

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


# -- grade-all --gradebook keeps what it did not recompute (issue 23) ------------------------------
# One real nbgrader course, its gradebook filled by nbgrader's own commands: "late" was autograded
# with nbgrader's zero penalty (given on its command line) after the due date, "kept" on time; an
# instructor then graded by hand in formgrader (manual score, extra credit, comments: the fields
# formgrader's API writes). Both then resubmit fixed notebooks, regraded by grade-all --gradebook:
# first with no late policy anywhere but nbgrader's command line, then with nbgrader's own config.

DUE, LATE_AT, ON_TIME_AT = "2026-12-02 00:00:00 UTC", "2026-12-03 10:00:00 UTC", "2026-12-01 09:30:00 UTC"
TYPO = CLASSES[A]["cem_slide_typo"]   # tanh_derivative wrong: 10 of 12


def _snapshot(course_dir) -> dict:
    """Every field of the gradebook that grade-all writes or could clobber, per student."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}") as gradebook:
        rows = {}
        for sub in gradebook.assignment_submissions(A):
            notebook = sub.notebooks[0]
            rows[sub.student.id] = {
                "timestamp": sub.timestamp, "late_penalty": notebook.late_submission_penalty or 0.0,
                "score": sub.score - (sub.late_submission_penalty or 0.0), "raw_score": sub.score,
                "auto_score": {g.name: g.auto_score for g in notebook.grades},
                "manual_score": {g.name: g.manual_score for g in notebook.grades},
                "extra_credit": {g.name: g.extra_credit for g in notebook.grades},
                "needs_manual_grade": {g.name: g.needs_manual_grade for g in notebook.grades},
                "manual_comment": {c.name: c.manual_comment for c in notebook.comments},
                "names": (sub.student.first_name, sub.student.last_name, sub.student.email)}
        return rows


@pytest.fixture(scope="module")
def regraded(tmp_path_factory):
    from nbgrader.api import Gradebook

    parent = Path(tempfile.mkdtemp(prefix=".autograder-test-course-", dir=Path.home()))
    tmp = tmp_path_factory.mktemp("regraded")
    try:
        course_dir = nbgrader_course.create(parent / "course", [A])
        db = f"sqlite:///{course_dir / 'gradebook.db'}"
        with Gradebook(db) as gradebook:
            gradebook.update_or_create_assignment(A, duedate=DUE)
            gradebook.update_or_create_student("kept", first_name="Ada", last_name="Keep", email="ada@uni.example")
        for student, at in (("late", LATE_AT), ("kept", ON_TIME_AT)):
            nbformat.write(submission(A, TYPO), tmp / "typo.ipynb")
            folder = nbgrader_course.submit(course_dir, A, student, tmp / "typo.ipynb").parent
            (folder / "timestamp.txt").write_text(at + "\n")
        nbgrader_course.autograde(course_dir, A, options=("--LateSubmissionPlugin.penalty_method=zero",))
        with Gradebook(db) as gradebook:   # the instructor, in formgrader
            notebook = gradebook.find_submission_notebook(A, A, "kept")
            grades = {g.name: g for g in notebook.grades}
            grades["sigmoid_hidden"].manual_score = 1.5
            grades["relu_hidden"].extra_credit = 0.5
            for comment in notebook.comments:
                comment.manual_comment = f"instructor's note on {comment.name}"
            gradebook.db.commit()
        snapshots = {"nbgrader": _snapshot(course_dir)}
        # both resubmit, fixed; first regraded from a folder without timestamp.txt, no late policy in any file
        for student in ("late", "kept"):
            nbformat.write(submission(A, {}), course_dir / "submitted" / student / A / f"{A}.ipynb")
        flat = tmp / "resubmitted"
        flat.mkdir()
        for student in ("late", "kept"):
            shutil.copy(course_dir / "submitted" / student / A / f"{A}.ipynb", flat / f"{student}.ipynb")
        fill = fill_gradebook(course_dir, grade_all(flat, out=tmp / "out", assignment=A, jobs=2, progress=False))
        snapshots["kept"] = _snapshot(course_dir)
        # then the policy in nbgrader's own config, and grade-all --gradebook on the course's submitted/
        with open(course_dir / "nbgrader_config.py", "a") as f:
            f.write("c.LateSubmissionPlugin.penalty_method = 'zero'\n")
        env = {**os.environ, "PYTHONPATH": str(COURSE_ROOT)}
        run = subprocess.run([sys.executable, "-m", "autograder", "grade-all", str(course_dir / "submitted"),
                              "--assignment", A, "--out", str(tmp / "out"), "--gradebook", str(course_dir),
                              "--no-progress"], env=env, capture_output=True, text=True, timeout=900)
        assert run.returncode == 0, run.stderr
        snapshots["recomputed"] = _snapshot(course_dir)
        nbgrader(["export", "--to", str(tmp / "export.csv")], course_dir)
        with open(tmp / "export.csv") as f:
            snapshots["export"] = {r["student_id"]: r for r in csv.DictReader(f)}
        yield snapshots, fill, run
    finally:
        shutil.rmtree(parent, ignore_errors=True)


def test_nbgraders_gradebook_is_as_the_scenario_says(regraded):
    """Before grade-all: did nbgrader itself record the late student as raw 10, penalty 10, score 0?"""
    before = regraded[0]["nbgrader"]
    assert before["late"]["raw_score"] == 10 and before["late"]["late_penalty"] == 10
    assert before["late"]["score"] == 0 and before["late"]["timestamp"] == datetime(2026, 12, 3, 10)
    assert before["kept"]["late_penalty"] == 0


def test_the_submissions_timestamp_is_kept(regraded):
    """Is nbgrader's timestamp kept when grade-all's folder has no timestamp.txt, and is the course's
    timestamp.txt read when it has one?"""
    snapshots = regraded[0]
    for stage in ("kept", "recomputed"):
        assert snapshots[stage]["late"]["timestamp"] == datetime(2026, 12, 3, 10), stage
        assert snapshots[stage]["kept"]["timestamp"] == datetime(2026, 12, 1, 9, 30), stage
    assert regraded[0]["export"]["late"]["timestamp"].startswith("2026-12-03 10:00:00")


def test_a_late_penalty_nbgrader_recorded_is_never_dropped(regraded):
    """With no late policy in any file (nbgrader's was on its command line), is nbgrader's penalty
    kept (at most the new score) and the instructor told?"""
    snapshots, fill, _ = regraded
    assert snapshots["kept"]["late"]["raw_score"] == 12
    assert snapshots["kept"]["late"]["late_penalty"] == 10 and snapshots["kept"]["late"]["score"] == 2
    assert any(note.startswith("late: kept nbgrader's late penalty 10") for note in fill.notes), fill.notes


def test_the_late_penalty_is_recomputed_on_the_new_score_as_nbgrader_does(regraded):
    """With nbgrader's penalty_method 'zero' in the course's nbgrader_config.py, does the new raw score
    (12) get the penalty nbgrader gives it (12, score 0), in the gradebook and in nbgrader's export?"""
    snapshots = regraded[0]
    late = snapshots["recomputed"]["late"]
    assert (late["raw_score"], late["late_penalty"], late["score"]) == (12, 12, 0)
    row = snapshots["export"]["late"]
    assert (float(row["raw_score"]), float(row["late_submission_penalty"]), float(row["score"])) == (12, 12, 0)
    assert snapshots["recomputed"]["kept"]["late_penalty"] == 0


def test_the_autograders_scores_are_the_new_ones(regraded):
    """Are the grade cells' auto scores the regraded notebook's (tanh_derivative now 2 of 2)?"""
    for stage in ("kept", "recomputed"):
        assert regraded[0][stage]["late"]["auto_score"]["tanh_derivative_hidden"] == 2
        assert sum(regraded[0][stage]["kept"]["auto_score"].values()) == 12


def test_an_instructors_manual_score_is_kept_and_flagged_for_review(regraded):
    """Is a score the instructor entered in formgrader kept, its cell marked for review as nbgrader's
    SaveAutoGrades does, and the total counts it?"""
    for stage in ("kept", "recomputed"):
        kept = regraded[0][stage]["kept"]
        assert kept["manual_score"]["sigmoid_hidden"] == 1.5
        assert kept["needs_manual_grade"]["sigmoid_hidden"] is True
        assert not any(v for k, v in kept["needs_manual_grade"].items() if k != "sigmoid_hidden")
        assert kept["raw_score"] == 12 - 2 + 1.5 + 0.5   # sigmoid by hand, relu's extra credit


def test_extra_credit_is_kept(regraded):
    """Is extra credit the instructor gave kept?"""
    for stage in ("kept", "recomputed"):
        assert regraded[0][stage]["kept"]["extra_credit"]["relu_hidden"] == 0.5


def test_an_instructors_comments_are_kept(regraded):
    """Are the instructor's comments kept?"""
    before = regraded[0]["nbgrader"]["kept"]["manual_comment"]
    assert before and all(before.values())
    for stage in ("kept", "recomputed"):
        assert regraded[0][stage]["kept"]["manual_comment"] == before


def test_the_students_names_are_kept(regraded):
    """Are the student's names and email in the gradebook kept?"""
    for stage in ("kept", "recomputed"):
        assert regraded[0][stage]["kept"]["names"] == ("Ada", "Keep", "ada@uni.example")

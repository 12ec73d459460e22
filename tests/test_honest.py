"""Honest notebooks (tests/honest.py) keep every point on every path, and the paths agree.

A Jupyter kernel gives every catalogue entry full marks (stock nbgrader, below, is that ground
truth), so `grade`, `grade-all` and `nbgrader autograde` with the derived config must too; and
every path gives every entry and every bundled sample the same score.
"""
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder import nbgrader_config, nbgrader_course
from autograder.config import load_course
from autograder.grade import grade_notebook
from autograder.grade_all import grade_all
from autograder.gradescope import build_bundle
from autograder.samples import CLASSES, submission, submission_path
from tests.checks.test_a05_sgd import MISTAKES
from tests.honest import CATALOGUE, write_entry

COURSE = load_course()
MAX = {a.id: sum(e.points for e in a.exercises) for a in COURSE.assignments}


def _student(assignment_id: str, entry: str) -> str:
    return f"honest_{entry}_{assignment_id[:3]}"


def _write_class(submitted: Path, *, samples: tuple[str, ...] = ()) -> dict[tuple[str, str], float | None]:
    """Every catalogue entry (and the samples of `samples`) as nbgrader's submitted/<student>/<aid>/.

    Returns:
        (student, assignment) -> the score every path must give: the maximum for an entry, None for
        a sample (whatever the paths agree on).
    """
    expected = {}
    for assignment_id, entry in CATALOGUE:
        student = _student(assignment_id, entry)
        write_entry(submitted / student / assignment_id, assignment_id, entry)
        expected[(student, assignment_id)] = MAX[assignment_id]
    for assignment_id in samples:
        for student in CLASSES[assignment_id]:
            target = submitted / student / assignment_id / f"{assignment_id}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(submission_path(assignment_id, student), target)
            expected[(student, assignment_id)] = None
    return expected


def _lost(result: dict) -> list:
    return [(c["name"], c["feedback"][:200]) for e in result["exercises"] for c in e["checks"] if not c["passed"]]


def test_grade_all_gives_every_honest_notebook_full_marks(tmp_path):
    """Does grade-all (forked sandboxes) give every honest catalogue entry full marks, in one run?"""
    expected = _write_class(tmp_path / "submitted")
    results = grade_all(tmp_path / "submitted", out=tmp_path / "out", jobs=2, progress=False)
    scores = {(r["student"], r["assignment"]): r for r in results}
    assert set(scores) == set(expected)
    lost = {key: (r["score"], _lost(r), r["notes"]) for key, r in scores.items() if r["score"] != expected[key]}
    assert not lost, lost


@pytest.mark.slow
@pytest.mark.parametrize("assignment_id, entry", CATALOGUE)
def test_grade_gives_every_honest_notebook_full_marks(tmp_path, assignment_id, entry):
    """Does `grade` (one sandbox of its own) give the honest entry full marks?"""
    result = grade_notebook(write_entry(tmp_path, assignment_id, entry), course=COURSE).to_dict()
    assert result["score"] == MAX[assignment_id], (_lost(result), result["notes"])


def test_a_cell_magic_keeps_its_definitions_and_a_failed_scratch_cell_is_reported(tmp_path):
    """With `%%time` on sigmoid's cell (a kernel defines sigmoid), is sigmoid graded; is a scratch
    cell's NameError still reported as that cell's failure, and `%pip` refused in the output?"""
    result = grade_notebook(write_entry(tmp_path / "magics", "a01_perceptron", "magics"), course=COURSE)
    assert result.score == 12, result.notes
    assert "Wall time" in result.output and "GradingShell" in result.output
    scratch = grade_notebook(write_entry(tmp_path / "scratch", "a01_perceptron", "scratch"), course=COURSE)
    assert scratch.score == 12
    assert any("raised NameError: name 'some_variable_i_never_defined'" in n for n in scratch.notes), scratch.notes
    assert "`%pip install tqdm` was not run" in scratch.output


@pytest.mark.slow
@pytest.mark.parametrize("entry", ["magics", "colab", "scratch"])
def test_gradescope_gives_an_honest_notebook_full_marks(tmp_path, entry):
    """Does Gradescope's run_autograder, from the bundle, give the honest a01 entry full marks?"""
    root = tmp_path / "autograder"
    with zipfile.ZipFile(build_bundle("a01_perceptron", tmp_path / "bundle.zip")) as bundle:
        bundle.extractall(root / "source")
    write_entry(root / "submission", "a01_perceptron", entry)
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable}
    run = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == MAX["a01_perceptron"], [t["output"][:200] for t in results["tests"]
                                                        if t["score"] < t["max_score"]]


KNOWN = ("sgd_update_over_lr", "a05_sgd")   # the one known difference between the paths
SAMPLED = ("a01_perceptron", "a05_sgd")   # the samples every path grades here (a01's flawed ones too)


@pytest.fixture(scope="module")
def every_path(tmp_path_factory):
    """(student, assignment) -> {path: score} for the catalogue and the samples of SAMPLED, on
    grade-all, `nbgrader autograde` with the derived config (the isolated engine), and stock
    nbgrader (a kernel per notebook, the hidden test cells run in it): one run each."""
    root = tmp_path_factory.mktemp("honest-course")
    assignments = sorted({a for a, _ in CATALOGUE} | set(SAMPLED))
    nbgrader_course.create(root, assignments, COURSE)
    expected = _write_class(root / "submitted", samples=SAMPLED)
    # the issue's known difference: a05's sgd_update dividing the gradient by lr
    (code,) = [m[2] for m in MISTAKES if m[0] == "sgd_update" and m[1] == "gradient divided by the learning rate"]
    known = root / "submitted" / KNOWN[0] / KNOWN[1] / f"{KNOWN[1]}.ipynb"
    known.parent.mkdir(parents=True)
    nbformat.write(submission(KNOWN[1], {"sgd_update": code.strip("\n")}), known)
    expected[KNOWN] = None
    scores: dict[tuple[str, str], dict[str, float]] = {key: {} for key in expected}
    for path, stock in (("stock nbgrader", True), ("isolated nbgrader", False)):
        nbgrader_config.write(COURSE, root, stock=stock)
        nbgrader_course.nbgrader(["autograde", "*", "--create", "--force"], root)
        for assignment_id in assignments:
            for student, score in nbgrader_course.gradebook_scores(root, assignment_id).items():
                scores[(student, assignment_id)][path] = score
    for result in grade_all(root / "submitted", out=tmp_path_factory.mktemp("out"), jobs=2, progress=False):
        scores[(result["student"], result["assignment"])]["grade-all"] = result["score"]
    return expected, scores


@pytest.mark.slow
def test_every_path_gives_every_honest_notebook_full_marks(every_path):
    """Does every path (stock nbgrader in a kernel, the ground truth, included) give every honest
    entry full marks?"""
    expected, scores = every_path
    short = {key: by_path for key, by_path in scores.items() if expected[key] is not None
             and (len(by_path) != 3 or any(s != expected[key] for s in by_path.values()))}
    assert not short, short


@pytest.mark.slow
def test_every_path_gives_every_sample_the_same_score(every_path):
    """Do grade-all and both nbgrader paths give every bundled sample the same score, a05's sgd_update that
    divides the gradient by lr too (once charged twice by the in-kernel hidden cells: 16.0 isolated, 12.0 there)?"""
    expected, scores = every_path
    differ = {key: by_path for key, by_path in scores.items() if expected[key] is None
              and (len(by_path) != 3 or len({round(s, 6) for s in by_path.values()}) != 1)}
    assert not differ, differ

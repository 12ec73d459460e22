"""Changing an exercise's points mid-term on a real nbgrader course directory: plain
`nbgrader autograde --force` is refused before it removes anything, and `python -m autograder
regrade` releases the assignment again, updates the gradebook and regrades every submission.

The course is graded first with the project's course.yaml; the change is then made in a copy of
the project (course.yaml, source/, solutions/, the package), which the later commands run from."""
import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder import nbgrader_course
from autograder.config import COURSE_ROOT
from autograder.registry import course_notebook, sample_notebook

A = "a01_perceptron"
STUDENTS = ("ada_perfect", "bob_stub", "dee_overflow")
pytestmark = pytest.mark.slow


def _run(args: list[str], cwd: Path, project: Path) -> subprocess.CompletedProcess:
    """A command run with `project`'s copy of the package and its course.yaml."""
    env = dict(os.environ, PYTHONPATH=str(project), TF_CPP_MIN_LOG_LEVEL="3")
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=1800)


def _autograded(course_dir: Path) -> dict[str, bytes]:
    return {s: course_notebook(course_dir, "autograded", A, s).read_bytes() for s in STUDENTS
            if course_notebook(course_dir, "autograded", A, s).exists()}


def _export(course_dir: Path, project: Path) -> dict[str, tuple[float, float]]:
    """student -> (score, max_score) of a01 in `nbgrader export`'s CSV."""
    out = course_dir / "grades.csv"
    result = _run(["-m", "nbgrader", "export", "--to", str(out)], course_dir, project)
    assert result.returncode == 0, result.stderr[-2000:]
    with out.open() as f:
        return {row["student_id"]: (float(row["score"]), float(row["max_score"]))
                for row in csv.DictReader(f) if row["assignment"] == A}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """(course directory graded with sigmoid at 2 points, project copy where sigmoid is worth 3)."""
    root = tmp_path_factory.mktemp("regrade")
    course_dir = root / "course"
    nbgrader_course.create(course_dir, [A])
    for student in STUDENTS:
        nbgrader_course.submit(course_dir, A, student, sample_notebook(A, student))
    nbgrader_course.autograde(course_dir, A)
    project = root / "project"
    shutil.copytree(COURSE_ROOT, project, symlinks=True,
                    ignore=shutil.ignore_patterns(".git", ".venv", "out", "__pycache__", ".pytest_cache"))
    yaml = (project / "course.yaml").read_text(encoding="utf-8")
    assert "{name: sigmoid, points: 2}" in yaml
    (project / "course.yaml").write_text(yaml.replace("{name: sigmoid, points: 2}", "{name: sigmoid, points: 3}"),
                                         encoding="utf-8")
    return course_dir, project


def test_is_a_stale_autograde_refused_before_it_removes_anything(course):
    """After sigmoid's points change, does plain `nbgrader autograde --force` stop with the regrade
    command, keep every autograded copy and leave every score as it was?"""
    course_dir, project = course
    copies, before = _autograded(course_dir), _export(course_dir, project)
    assert set(copies) == set(STUDENTS) and before["ada_perfect"] == (12.0, 12.0)
    result = _run(["-m", "nbgrader", "autograde", A, "--force"], course_dir, project)
    assert result.returncode != 0
    assert "course.yaml gives sigmoid 3 points, this course's gradebook 2" in result.stderr
    assert f"python -m autograder regrade {A} --course {course_dir.resolve()}" in result.stderr
    assert "Removing" not in result.stderr and "Traceback" not in result.stderr
    assert _autograded(course_dir) == copies
    assert _export(course_dir, project) == before


def test_does_regrade_release_again_and_rescore_every_submission(course):
    """Does `python -m autograder regrade` rebuild the source, update the gradebook's max points and
    autograde every submission again, so that `nbgrader export` shows the new scores?"""
    course_dir, project = course
    before = _export(course_dir, project)
    result = _run(["-m", "autograder", "regrade", A, "--course", str(course_dir)], project, project)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "max score 12 -> 13" in result.stdout
    assert "Graded ada_perfect (a01_perceptron): 13 / 13 points" in result.stdout   # nbgrader's progress, as it comes
    after = _export(course_dir, project)
    assert after["ada_perfect"] == (13.0, 13.0)
    assert after["bob_stub"] == (0.0, 13.0)
    # dee's overflowing sigmoid loses part of sigmoid's (now 3) points, keeps the rest as before
    assert before["dee_overflow"][0] < 12 and after["dee_overflow"][1] == 13.0
    assert after["dee_overflow"][0] - before["dee_overflow"][0] < 1.0
    hidden = [c for c in nbformat.read(project / "source" / A / f"{A}.ipynb", as_version=4).cells
              if c.metadata.get("nbgrader", {}).get("grade_id") == "sigmoid_hidden"]
    assert hidden[0].metadata["nbgrader"]["points"] == 3
    assert set(_autograded(course_dir)) == set(STUDENTS)
    # the course is consistent again: plain autograde --force now works
    result = _run(["-m", "nbgrader", "autograde", A, "--force"], course_dir, project)
    assert result.returncode == 0, result.stderr[-3000:]
    assert _export(course_dir, project) == after

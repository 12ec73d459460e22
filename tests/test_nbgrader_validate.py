"""`nbgrader validate` (Jupyter's Validate button) with the derived config, on released notebooks:
the untouched stub and a buggy notebook fail with the visible checks' messages, a perfect one
passes, and nothing of the hidden checks or the reference solutions is shown."""
from pathlib import Path

import nbformat
import pytest

from autograder import nbgrader_config
from autograder.authoring import solution_source
from autograder.config import load_course
from autograder.registry import released_notebook, sample_notebook
from autograder.release import nbgrader

COURSE = load_course()
A = "a01_perceptron"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def course_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("validate-course")
    nbgrader_config.write(COURSE, root)
    return root


def _validate(course_dir: Path, notebook: Path) -> str:
    """What `nbgrader validate NOTEBOOK` prints, run in the course directory (as the Validate button
    runs it in the student's folder, with this configuration)."""
    return nbgrader(["validate", str(notebook)], course_dir).stdout


def _secrets(assignment_id: str) -> list[str]:
    """Lines of the reference solutions and of the hidden test cells that the released notebook
    does not hold (the code only the grader may see)."""
    released = released_notebook(assignment_id).read_text(encoding="utf-8")
    lines = {line.strip() for e in COURSE.assignment(assignment_id).exercises
             for line in solution_source(assignment_id, e.name).splitlines()}
    lines = {line for line in lines if len(line) > 12 and line not in released}
    return sorted(lines) + ["BEGIN HIDDEN TESTS", "grade_exercise("]


@pytest.mark.parametrize("assignment_id", [a.id for a in COURSE.assignments])
def test_does_the_untouched_stub_fail_with_the_visible_checks_messages(course_dir, assignment_id):
    """Does Validate on the untouched stub fail, show a visible check's message and reveal no hidden check?"""
    out = _validate(course_dir, sample_notebook(assignment_id, "bob_stub"))
    assert "Success!" not in out
    assert "VALIDATION FAILED ON" in out
    assert "Visible check failed:" in out
    assert "NotImplementedError" in out
    leaked = [secret for secret in _secrets(assignment_id) if secret in out]
    assert leaked == []


@pytest.mark.parametrize("assignment_id", [a.id for a in COURSE.assignments])
def test_does_a_perfect_notebook_pass(course_dir, assignment_id):
    """Does Validate pass a notebook solved as the reference (TensorFlow's start-up logs included)?"""
    out = _validate(course_dir, sample_notebook(assignment_id, "ada_perfect"))
    assert out.strip() == "Success! Your notebook passes all the tests."


def test_does_a_buggy_notebook_fail_with_its_mistake(course_dir):
    """Does Validate on a sigmoid that overflows fail on that exercise's visible checks, naming the mistake?"""
    out = _validate(course_dir, sample_notebook(A, "dee_overflow"))
    assert "VALIDATION FAILED ON" in out
    assert "Visible check failed: sigmoid(" in out
    assert "FloatingPointError" in out
    assert [s for s in _secrets(A) if s in out] == []


def test_does_a_scratch_cell_that_raises_fail_validation(course_dir, tmp_path):
    """Does a student's own cell that raises fail Validate (the chosen rule), with its error and the
    warning that says such a cell costs nothing by itself?"""
    notebook = nbformat.read(sample_notebook(A, "ada_perfect"), as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell('raise ValueError("trying something")'))
    path = tmp_path / f"{A}.ipynb"
    nbformat.write(notebook, path)
    out = _validate(course_dir, path)
    assert "VALIDATION FAILED ON 1 CELL(S)" in out
    assert "ValueError: trying something" in out
    assert "costs nothing by itself" in " ".join(out.split())


def test_does_the_students_config_fail_the_stub_too(tmp_path):
    """With only the students' config (`nbgrader-config --students`) in the folder, as a student's
    Jupyter would read it, does Validate fail the untouched stub with a visible check's message?"""
    nbgrader_config.write(COURSE, tmp_path, students=True)
    out = _validate(tmp_path, sample_notebook(A, "bob_stub"))
    assert "VALIDATION FAILED ON" in out and "Visible check failed:" in out

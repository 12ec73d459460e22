"""What `nbgrader autograde` with the derived config tells the instructor: one line per student as
the pool grades them, and checksum warnings only for a hidden test cell a student changed."""
import re

import nbformat
import pytest

from autograder import nbgrader_course
from autograder.registry import course_notebook, sample_notebook
from autograder.release import nbgrader

A = "a01_perceptron"
STUDENTS = ("ada_perfect", "bob_stub", "dee_overflow")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def course_dir(tmp_path_factory):
    """An a01 course with the three sample students and one who edited sigmoid's hidden cell."""
    course_dir = tmp_path_factory.mktemp("autograde-log")
    nbgrader_course.create(course_dir, [A])
    for student in STUDENTS:
        nbgrader_course.submit(course_dir, A, student, sample_notebook(A, student))
    notebook = nbformat.read(sample_notebook(A, "ada_perfect"), as_version=4)
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "sigmoid_hidden":
            cell.source = "# I was here"
    target = course_notebook(course_dir, "submitted", A, "tam_edits_hidden")
    target.parent.mkdir(parents=True)
    nbformat.write(notebook, target)
    return course_dir


@pytest.fixture(scope="module")
def autograde_log(course_dir) -> str:
    """nbgrader autograde's log, the pool grading ahead."""
    return nbgrader(["autograde", A, "--create", "--force", "--IsolatedGrading.jobs=2"], course_dir).stderr


def test_is_each_student_logged_as_graded(autograde_log):
    """Does nbgrader's log say, once per student, that the pool graded them, with their score?"""
    graded = re.findall(r"\| INFO\] Graded (\S+) \(a01_perceptron\): ([\d.]+) / 12 points \[\d of 4 graded\]",
                        autograde_log)
    assert sorted(student for student, _ in graded) == sorted([*STUDENTS, "tam_edits_hidden"])
    scores = dict(graded)
    assert (scores["ada_perfect"], scores["bob_stub"], scores["tam_edits_hidden"]) == ("12", "0", "12")


def test_does_only_a_changed_hidden_cell_draw_a_checksum_warning(autograde_log):
    """Are the untouched submissions' hidden test cells free of "checksum has changed" warnings
    (seven per student before), while the one a student edited still draws nbgrader's warning?"""
    warnings = [line for line in autograde_log.splitlines() if "Attribute 'checksum'" in line]
    assert len(warnings) == 1 and "sigmoid_hidden" in warnings[0], warnings


def test_is_each_student_logged_without_the_pool_too(course_dir, autograde_log):
    """With one job (no pool: each notebook graded when nbgrader reaches it), is each student still
    logged once with their score?"""
    log = nbgrader(["autograde", A, "--force", "--IsolatedGrading.jobs=1"], course_dir).stderr
    graded = re.findall(r"\| INFO\] Graded (\S+) \(a01_perceptron\): ([\d.]+) / 12 points\n", log)
    assert sorted(student for student, _ in graded) == sorted([*STUDENTS, "tam_edits_hidden"])
    assert dict(graded)["ada_perfect"] == "12"

"""The nbgrader path end to end: a real course directory, generate_assignment, autograde,
generate_feedback, export, and the gradebook, against the isolated grader's scores."""
import csv

import pytest

from autograder import nbgrader_course
from autograder.grade import grade_notebook
from autograder.samples import CLASSES, submission_path

A = "a01_perceptron"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def course_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("nbgrader-course")
    nbgrader_course.create(root, [A])
    for student in CLASSES[A]:
        nbgrader_course.submit(root, A, student, submission_path(A, student))
    nbgrader_course.autograde(root, A)
    return root


def test_gradebook_scores_equal_the_isolated_graders(course_dir):
    """Does nbgrader's gradebook hold, for every sample submission, the score the CLI gives?"""
    gradebook = nbgrader_course.gradebook_scores(course_dir, A)
    assert set(gradebook) == set(CLASSES[A])
    for student in CLASSES[A]:
        isolated = grade_notebook(submission_path(A, student)).score
        assert gradebook[student] == pytest.approx(isolated, abs=1e-6), student
    assert gradebook["ada_perfect"] == 12 and gradebook["bob_stub"] == 0
    assert 0 < gradebook["cem_slide_typo"] < 12


def test_feedback_explains_without_showing_hidden_tests(course_dir):
    """Does each student's feedback carry the checks' messages but no hidden test code?"""
    files = nbgrader_course.feedback_files(course_dir, A)
    assert set(files) == set(CLASSES[A])
    for student, path in files.items():
        html = path.read_text()
        assert "grade_exercise" not in html and "HIDDEN TESTS" not in html and "nbgrader_bridge" not in html
    assert "lecture slide&#39;s typo" in files["cem_slide_typo"].read_text() \
        or "lecture slide's typo" in files["cem_slide_typo"].read_text()


def test_export_writes_the_gradebook_as_csv(course_dir):
    """Does nbgrader export write one row per student with the same scores?"""
    with open(course_dir / "grades.csv") as f:
        rows = {r["student_id"]: float(r["score"]) for r in csv.DictReader(f) if r["assignment"] == A}
    assert rows == pytest.approx(nbgrader_course.gradebook_scores(course_dir, A))

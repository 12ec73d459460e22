"""The nbgrader path end to end: a real course directory, generate_assignment, autograde,
generate_feedback, export, and the gradebook, against the isolated grader's scores."""
import csv

import pytest

from autograder import nbgrader_course
from autograder.config import load_course
from autograder.grade import grade_notebook
from autograder.samples import CLASSES, submission_path

A = "a01_perceptron"
COURSE = load_course()
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def course_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("nbgrader-course")
    nbgrader_course.create(root, list(CLASSES))
    for assignment_id, students in CLASSES.items():
        for student in students:
            nbgrader_course.submit(root, assignment_id, student, submission_path(assignment_id, student))
        nbgrader_course.autograde(root, assignment_id)
    return root


@pytest.mark.parametrize("assignment_id", list(CLASSES))
def test_gradebook_scores_equal_the_isolated_graders(course_dir, assignment_id):
    """Does nbgrader's gradebook hold, for every sample submission, the score the CLI gives,
    full marks for the reference and zero for the stub?"""
    gradebook = nbgrader_course.gradebook_scores(course_dir, assignment_id)
    assert set(gradebook) == set(CLASSES[assignment_id])
    for student in CLASSES[assignment_id]:
        isolated = grade_notebook(submission_path(assignment_id, student)).score
        assert gradebook[student] == pytest.approx(isolated, abs=1e-6), student
    assert gradebook["ada_perfect"] == COURSE.assignment(assignment_id).max_score
    assert gradebook["bob_stub"] == 0


def test_a_flawed_submission_gets_partial_credit_on_both_paths(course_dir):
    """Does the slide-typo submission lose the tanh_derivative points, and only those, in nbgrader too?"""
    assert nbgrader_course.gradebook_scores(course_dir, A)["cem_slide_typo"] == 12 - 2


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

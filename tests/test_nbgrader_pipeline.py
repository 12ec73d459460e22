"""The nbgrader path end to end: a real course directory with the derived nbgrader_config.py, all
seven assignments released, the sample class and tampering notebooks submitted, one
`nbgrader autograde` run, `generate_feedback` and `export`, against `grade-all`'s scores."""
import csv
import datetime
import hashlib
import html
import json
from pathlib import Path

import nbformat
import pytest

from autograder import nbgrader_course
from autograder.authoring import solution_source
from autograder.config import COURSE_ROOT, load_course
from autograder.grade_all import grade_all
from autograder.sandbox.isolation import course_copies
from autograder.samples import CLASSES, released_path, submission, submission_path

A = "a01_perceptron"
COURSE = load_course()
EXERCISES = [e.name for e in COURSE.assignment(A).exercises]
pytestmark = pytest.mark.slow

# Where an attacker would look for the reference: this checkout and the one the package is installed from.
PLACES = [str(COURSE_ROOT), *course_copies()[0][1:2]]

IMPORT_REFERENCE = f'''import sys
sys.path[:0] = {PLACES!r}
from solutions.a01_perceptron import *'''

FAKE_BRIDGE = '''import sys, types
fake = types.ModuleType("autograder.nbgrader_bridge")
fake.grade_exercise = lambda assignment_id, exercise, namespace: 12.0
sys.modules.setdefault("autograder", types.ModuleType("autograder"))
sys.modules["autograder.nbgrader_bridge"] = fake
print("sigmoid: 2 / 2 points")'''

EXEC_SOLUTIONS = f'''import glob, importlib.util, os, re, sys
candidates = []
for top in ("solutions", "autograder"):
    try:
        spec = importlib.util.find_spec(top)
    except Exception:
        spec = None
    for folder in (getattr(spec, "submodule_search_locations", None) or []):
        candidates.append(os.path.join(folder, "..", "solutions", "a01_perceptron.py"))
for site in sys.path:
    for finder in glob.glob(os.path.join(site, "__editable__*finder.py")):
        candidates += [m + "/a01_perceptron.py" for m in re.findall(r"'(/[^']*solutions)'", open(finder).read())]
candidates += [os.path.join(p, "solutions", "a01_perceptron.py") for p in {PLACES!r}]
for path in candidates:
    try:
        exec(open(path).read(), globals())
        break
    except OSError:
        pass'''

LOOPING_RELU = '''def relu(z):
    while True:
        pass'''

EXITING_RELU = '''def relu(z):
    import os
    os._exit(3)'''


def _attack(code: str) -> nbformat.NotebookNode:
    """The released a01 notebook with `code` as its first solution cell and nothing in the others."""
    return submission(A, {name: code if i == 0 else "pass" for i, name in enumerate(EXERCISES)})


def _writes_everywhere(course_dir: Path) -> str:
    targets = [course_dir / "source" / A / f"{A}.ipynb", course_dir / "release" / A / f"{A}.ipynb",
               course_dir / "nbgrader_config.py", course_dir / "gradebook.db", COURSE_ROOT / "course.yaml",
               COURSE_ROOT / "solutions" / f"{A}.py"]
    return "\n".join(["for target in %r:" % [str(t) for t in targets],
                      "    try:", "        open(target, 'a').write('tampered')", "    except OSError:", "        pass"])


def _checksums(course_dir: Path) -> dict[str, str]:
    files = [p for folder in (course_dir / "source", course_dir / "release", COURSE_ROOT / "solutions",
                              COURSE_ROOT / "autograder" / "checks") for p in folder.rglob("*") if p.is_file()]
    files += [course_dir / "nbgrader_config.py", COURSE_ROOT / "course.yaml"]
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files if "__pycache__" not in p.parts}


TAMPERING = ("tam_import_reference", "tam_fake_bridge", "tam_exec_solutions")
_BEFORE: dict[str, str] = {}   # the course's checksums before autograde


@pytest.fixture(scope="module")
def course_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("nbgrader-course")
    nbgrader_course.create(root, [a.id for a in COURSE.assignments])
    for assignment_id, students in CLASSES.items():
        for student in students:
            nbgrader_course.submit(root, assignment_id, student, submission_path(assignment_id, student))
    notebooks = {
        "tam_import_reference": _attack(IMPORT_REFERENCE),
        "tam_fake_bridge": _attack(FAKE_BRIDGE + "\n" + _writes_everywhere(root)),
        "tam_exec_solutions": _attack(EXEC_SOLUTIONS),
        "hog_looping_relu": submission(A, {"relu": LOOPING_RELU}),
        "kil_exiting_relu": submission(A, {"relu": EXITING_RELU}),
        "lou_late": submission(A, {}),
    }
    # stored outputs claiming full points in every hidden test cell: they must not count
    for cell in notebooks["tam_fake_bridge"].cells:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            cell.outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "2.0"}, execution_count=1)]
    for student, notebook in notebooks.items():
        path = root / "submitted" / student / A / f"{A}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(notebook, path)
    unreadable = root / "submitted" / "zed_unreadable" / A / f"{A}.ipynb"
    unreadable.parent.mkdir(parents=True)
    unreadable.write_text('{"cells": [', encoding="utf-8")
    # lou submitted a day after the due date; the course's policy (an instructor's option) is zero for late work
    (root / "submitted" / "lou_late" / A / "timestamp.txt").write_text("2020-01-02 00:00:00.000000 UTC")
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        gradebook.update_or_create_assignment(A, duedate=datetime.datetime(2020, 1, 1))
    _BEFORE.update(_checksums(root))
    nbgrader_course.autograde(root, "*", ("--LateSubmissionPlugin.penalty_method=zero",))
    return root


@pytest.fixture(scope="module")
def isolated(course_dir, tmp_path_factory):
    """grade-all's results for every a01 submission of the course: (student, assignment) -> result.
    (The other assignments' samples are their reference and their stub: full marks and zero on
    `grade`, as tests/test_grade.py and the anchors prove.)"""
    out = tmp_path_factory.mktemp("grade-all")
    results = grade_all(course_dir / "submitted", out=out, assignment=A, jobs=2, progress=False)
    return {(d["student"], d["assignment"]): d for d in results}


def _by_exercise(result: dict) -> dict[str, float]:
    return {e["name"]: e["score"] for e in result["exercises"]}


def _hidden_outputs(course_dir: Path, student: str) -> dict[str, str]:
    """grade_id -> the text nbgrader stored as that hidden test cell's output."""
    notebook = nbformat.read(course_dir / "autograded" / student / A / f"{A}.ipynb", as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: "".join(o.get("text", "") for o in c.outputs)
            for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade")}


@pytest.mark.parametrize("assignment_id", list(CLASSES))
def test_gradebook_scores_equal_grade_alls(course_dir, isolated, assignment_id):
    """Does nbgrader's gradebook hold, for every sample submission, grade's score, exercise by
    exercise: full marks for the reference, zero for the stub, grade-all's for a01's flawed ones?"""
    grades = nbgrader_course.gradebook_grades(course_dir, assignment_id)
    exercises = COURSE.assignment(assignment_id).exercises
    for student in CLASSES[assignment_id]:
        if assignment_id == A:
            expected = _by_exercise(isolated[(student, assignment_id)])
        else:
            expected = {e.name: e.points if student == "ada_perfect" else 0.0 for e in exercises}
        assert grades[student] == pytest.approx({f"{e}_hidden": p for e, p in expected.items()}, abs=1e-9), student
    scores = nbgrader_course.gradebook_scores(course_dir, assignment_id)
    assert scores["ada_perfect"] == COURSE.assignment(assignment_id).max_score
    assert scores["bob_stub"] == 0


def test_a_flawed_submission_gets_partial_credit(course_dir):
    """Does the slide-typo submission lose the tanh_derivative points, and only those?"""
    assert nbgrader_course.gradebook_scores(course_dir, A)["cem_slide_typo"] == 12 - 2
    assert nbgrader_course.gradebook_grades(course_dir, A)["cem_slide_typo"]["tanh_derivative_hidden"] == 0


@pytest.mark.parametrize("student", TAMPERING)
def test_tampering_gets_nothing(course_dir, student):
    """Do a notebook that imports the reference, one that plants a fake bridge (and forges its
    outputs, and writes to the course's files) and one that execs the reference file get zero?"""
    assert nbgrader_course.gradebook_scores(course_dir, A)[student] == 0


def test_the_course_files_are_unchanged(course_dir):
    """Are the source and released notebooks, the config, the solutions, the checks and course.yaml
    byte for byte what they were before autograde?"""
    assert _BEFORE and _checksums(course_dir) == _BEFORE


@pytest.mark.parametrize("student", ["hog_looping_relu", "kil_exiting_relu"])
def test_a_hostile_function_costs_its_exercise_with_grades_message(course_dir, isolated, student):
    """Does a relu that loops forever or kills its process cost relu alone, as on grade-all, with
    grade-all's messages in relu's hidden test cell?"""
    grades = nbgrader_course.gradebook_grades(course_dir, A)[student]
    result = isolated[(student, A)]
    assert grades == pytest.approx({f"{e}_hidden": p for e, p in _by_exercise(result).items()}, abs=1e-9)
    assert grades["relu_hidden"] == 0 and sum(grades.values()) == 11
    shown = _hidden_outputs(course_dir, student)["relu_hidden"]
    failed = [c["feedback"] for e in result["exercises"] if e["name"] == "relu" for c in e["checks"] if not c["passed"]]
    assert failed and all(message.replace("\n", "\n  ") in shown for message in failed)


def test_an_unreadable_notebook_is_a_zero_with_grades_reason(course_dir, isolated):
    """Is a notebook that is not JSON recorded as zero in the gradebook, with grade-all's one-line
    reason in its hidden test cells, while nbgrader went on with the others?"""
    assert nbgrader_course.gradebook_scores(course_dir, A)["zed_unreadable"] == 0
    reason = isolated[("zed_unreadable", A)]["error"]
    assert "is not valid JSON" in reason
    assert all(reason in text for text in _hidden_outputs(course_dir, "zed_unreadable").values())


def test_a_late_submission_keeps_nbgraders_late_penalty(course_dir):
    """Does a perfect notebook submitted after the due date get nbgrader's penalty (zero policy)?"""
    with open(course_dir / "grades.csv") as f:
        row = next(r for r in csv.DictReader(f) if r["student_id"] == "lou_late" and r["assignment"] == A)
    assert float(row["raw_score"]) == 12 and float(row["late_submission_penalty"]) == 12
    assert float(row["score"]) == 0


def test_feedback_explains_without_showing_hidden_tests_or_solutions(course_dir):
    """Does each student's feedback carry the checks' messages but no hidden test code, and the
    stub's feedback no line of the reference solutions?"""
    for assignment_id in CLASSES:
        files = nbgrader_course.feedback_files(course_dir, assignment_id)
        assert set(CLASSES[assignment_id]) <= set(files)
        for student in CLASSES[assignment_id]:   # the tampering notebooks' own code names the bridge
            text = html.unescape(files[student].read_text())
            assert "grade_exercise" not in text and "HIDDEN TESTS" not in text and "nbgrader_bridge" not in text
            assert "def test_" not in text
        released = released_path(assignment_id).read_text()
        stub = html.unescape(files["bob_stub"].read_text())
        for exercise in COURSE.assignment(assignment_id).exercises:
            for line in solution_source(assignment_id, exercise.name).splitlines():
                line = line.strip()
                if len(line) >= 20 and json.dumps(line)[1:-1] not in released and "SOLUTION" not in line:
                    assert line not in stub, (assignment_id, line)
    typo = html.unescape(nbgrader_course.feedback_files(course_dir, A)["cem_slide_typo"].read_text())
    assert "lecture slide's typo" in typo


def test_export_writes_the_gradebook_as_csv(course_dir):
    """Does nbgrader export write one row per student with the gradebook's scores?"""
    with open(course_dir / "grades.csv") as f:
        rows = {r["student_id"]: float(r["raw_score"]) for r in csv.DictReader(f) if r["assignment"] == A}
    assert rows == pytest.approx(nbgrader_course.gradebook_scores(course_dir, A))

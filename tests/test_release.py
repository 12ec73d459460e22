"""Source notebooks, released notebooks and the repository: in sync, and nothing leaks."""
import re
import subprocess

import nbformat
import pytest

from autograder.authoring import solution_source, source_path, sync
from autograder.config import COURSE_ROOT, load_course
from autograder.release import release
from autograder.samples import CLASSES, submission, submission_path

COURSE = load_course()
BUILT = [a.id for a in COURSE.assignments]


def released(aid):
    return COURSE_ROOT / "assignments" / aid / f"{aid}.ipynb"


def test_every_assignment_has_its_five_files():
    """Has every assignment of course.yaml its solutions, checks, source, release and catalogue?"""
    for aid in BUILT:
        for path in [COURSE_ROOT / "solutions" / f"{aid}.py", COURSE_ROOT / "autograder" / "checks" / f"{aid}.py",
                     source_path(aid), released(aid), COURSE_ROOT / "tests" / "checks" / f"test_{aid}.py"]:
            assert path.exists(), f"{aid}: missing {path.relative_to(COURSE_ROOT)}"


@pytest.mark.parametrize("aid", BUILT)
def test_source_notebook_is_in_sync_with_solutions_and_course_yaml(aid):
    """Are the generated cells (solutions, hidden tests, points) identical to solutions/ and course.yaml?"""
    assert sync(aid, check=True), f"run: python -m autograder sync {aid}"
    notebook = nbformat.read(source_path(aid), as_version=4)
    cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in notebook.cells}
    for ex in COURSE.assignment(aid).exercises:
        assert cells[ex.name].source == solution_source(aid, ex.name)
        assert cells[f"{ex.name}_hidden"].metadata["nbgrader"]["points"] == ex.points


@pytest.mark.parametrize("aid", BUILT)
def test_released_notebook_gives_nothing_away(aid):
    """Does the student's notebook hold no solution code, hidden test, output or grader import?"""
    text = released(aid).read_text()
    notebook = nbformat.reads(text, as_version=4)
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "nbgrader_bridge", "grade_exercise"):
        assert marker not in text, marker
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
            assert not re.search(r"^\s*(from|import)\s+(autograder|solutions)\b", cell.source, re.M), cell.source
    # Lines of the module outside the solution regions (helpers the notebook gives) are no leak.
    module = (COURSE_ROOT / "solutions" / f"{aid}.py").read_text()
    given = {line.strip() for line in re.sub(r"### BEGIN SOLUTION.*?### END SOLUTION", "", module,
                                             flags=re.S).splitlines()}
    solution_lines = {line.strip() for ex in COURSE.assignment(aid).exercises
                      for region in solution_source(aid, ex.name).split("### BEGIN SOLUTION")[1:]
                      for line in region.split("### END SOLUTION")[0].splitlines()
                      if len(line.strip()) > 25 and line.strip() not in given}
    # The author's plain code cells (helpers from earlier assignments, demos) are given on purpose;
    # the exercise cells and their visible checks must not hand out a solution line.
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code" and "nbgrader" in c.metadata)
    leaked = [line for line in solution_lines if line in code]
    assert not leaked, f"solution lines in the released notebook: {leaked[:3]}"


@pytest.mark.slow
@pytest.mark.parametrize("aid", BUILT)
def test_released_notebook_is_what_nbgrader_generates_now(aid, tmp_path):
    """Is the committed student notebook exactly what nbgrader generate_assignment makes from the source?"""
    fresh = release(aid, out_dir=tmp_path)
    assert fresh.read_text() == released(aid).read_text(), f"run: python -m autograder release {aid}"


def test_sample_class_is_reproducible():
    """Are the bundled sample submissions exactly what autograder.samples generates?"""
    for aid, students in CLASSES.items():
        for student, cells in students.items():
            assert submission_path(aid, student).read_text() == nbformat.writes(submission(aid, cells)) + "\n" \
                or nbformat.read(submission_path(aid, student), as_version=4) == submission(aid, cells), student


def test_no_junk_is_tracked():
    """Are caches, virtual environments, checkpoints and executed outputs kept out of git?"""
    tracked = subprocess.run(["git", "ls-files"], cwd=COURSE_ROOT, capture_output=True, text=True).stdout.split()
    junk = [p for p in tracked if re.search(r"(^|/)(__pycache__|\.venv|\.ipynb_checkpoints|\.pytest_cache)(/|$)|"
                                            r"\.pyc$|(^|/)out/|gradebook\.db$", p)]
    assert not junk, junk
    for path in tracked:
        if path.endswith(".ipynb") and path.startswith(("source/", "assignments/")):
            notebook = nbformat.read(COURSE_ROOT / path, as_version=4)
            assert all(c.get("outputs", []) == [] for c in notebook.cells), f"{path} has outputs"

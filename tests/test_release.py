"""Source notebooks, released notebooks and the repository: in sync, and nothing leaks."""
import re
import shutil
import subprocess

import nbformat
import pytest

from autograder import registry
from autograder.authoring import solution_source, sync
from autograder.build import build
from autograder.cli import main
from autograder.config import COURSE_ROOT, load_course
from autograder.samples import CLASSES, write_samples

COURSE = load_course()
BUILT = [a.id for a in COURSE.assignments]
released = registry.released_notebook


@pytest.mark.parametrize("aid", BUILT)
def test_source_notebook_is_in_sync_with_solutions_and_course_yaml(aid):
    """Are the generated cells (solutions, hidden tests, points) identical to solutions/ and course.yaml?"""
    assert sync(aid, check=True), f"run: python -m autograder build {aid}"
    notebook = nbformat.read(registry.source_notebook(aid), as_version=4)
    cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in notebook.cells}
    for ex in COURSE.assignment(aid).exercises:
        assert cells[ex.name].source == solution_source(aid, ex.name)
        assert cells[f"{ex.name}_hidden"].metadata["nbgrader"]["points"] == ex.points


def test_sync_fills_an_authors_empty_exercise_cells(tmp_path):
    """Does the build's sync step fill the empty answer and hidden test cells an author marked in Jupyter?"""
    aid = "a01_perceptron"
    shutil.copy(registry.course_file(), registry.course_file(tmp_path))
    path = registry.source_notebook(aid, tmp_path)
    path.parent.mkdir(parents=True)
    notebook = nbformat.read(registry.source_notebook(aid), as_version=4)
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") in ("relu", "relu_hidden"):
            cell.source = ""
    nbformat.write(notebook, path)
    assert not sync(aid, check=True, root=tmp_path)
    assert not sync(aid, root=tmp_path)  # rewritten
    assert path.read_text() == registry.source_notebook(aid).read_text()


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
    module = registry.solution_file(aid).read_text()
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
def test_released_notebook_is_what_nbgrader_generates_now(aid):
    """Is the committed student notebook exactly what nbgrader generate_assignment makes from the source?"""
    assert build([aid], check=True, steps=["release"]) == [], f"run: python -m autograder build {aid}"


def test_sample_class_is_reproducible():
    """Are the bundled sample submissions exactly what autograder.samples generates?"""
    stale = write_samples(check=True)
    assert not stale, f"run: python -m autograder build --step samples ({[registry.relative(p) for p in stale]})"


def test_a_stale_sample_is_found_and_rewritten(tmp_path):
    """Does the samples step report an edited sample without writing, and rewrite it when asked?"""
    aid = "a01_perceptron"
    shutil.copytree(registry.released_notebook(aid).parent, registry.released_notebook(aid, tmp_path).parent)
    assert len(write_samples([aid], root=tmp_path)) == len(CLASSES[aid])  # none existed: all written
    edited = registry.sample_notebook(aid, "ada_perfect", tmp_path)
    edited.write_text(edited.read_text().replace("def sigmoid(z):", "def sigmoid(x):"))
    assert write_samples([aid], check=True, root=tmp_path) == [edited]
    assert "def sigmoid(x):" in edited.read_text()
    assert write_samples([aid], root=tmp_path) == [edited]
    assert write_samples([aid], check=True, root=tmp_path) == []
    assert edited.read_text() == registry.sample_notebook(aid, "ada_perfect").read_text()


def test_build_check_of_the_fast_steps_passes_and_writes_nothing(capsys):
    """Does `build --check` (sync and samples steps) find the repository up to date, exit 0 and change no file?"""
    def generated():
        return {p: p.stat().st_mtime_ns for folder in ("source", "samples") for p in (COURSE_ROOT / folder).rglob("*.ipynb")}

    before = generated()
    assert main(["build", "--check", "--step", "sync", "--step", "samples"]) == 0
    assert capsys.readouterr().out == "up to date\n"
    assert main(["sync", "--check", "a01_perceptron"]) == 0
    assert generated() == before


def test_build_refuses_an_unknown_assignment_in_one_line(capsys):
    """Does `build a99_nothing` exit 2 with one line naming the known assignments?"""
    assert main(["build", "--check", "a99_nothing"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'a99_nothing'" in err and "a01_perceptron" in err


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

"""Isolated grading of one notebook: `python -m autograder grade`."""
import json
import subprocess
import sys

import nbformat
import pytest

from autograder.config import COURSE_ROOT
from autograder.grade import grade_notebook
from autograder.samples import released_path, submission

A = "a01_perceptron"


def write(tmp_path, notebook, name=f"{A}.ipynb"):
    path = tmp_path / name
    nbformat.write(notebook, path)
    return path


def with_cell(notebook, code, position=None):
    cell = nbformat.v4.new_code_cell(code)
    notebook.cells.insert(len(notebook.cells) if position is None else position, cell)
    return notebook


def cli(*args):
    return subprocess.run([sys.executable, "-m", "autograder", *args], capture_output=True, text=True,
                          cwd=COURSE_ROOT, timeout=600)


@pytest.fixture(scope="module")
def solved(tmp_path_factory):
    return write(tmp_path_factory.mktemp("solved"), submission(A, {}))


def test_solved_notebook_gets_full_marks_in_gradescope_shape(solved):
    """Does the solved notebook print full marks as one JSON object in Gradescope's shape?"""
    run = cli("grade", str(solved), "--format", "json")
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["score"] == result["max_score"] == 12
    assert {"score", "max_score", "execution_time", "output", "tests"} <= set(result)
    assert {t["exercise"] for t in result["tests"]} == {
        "sigmoid", "sigmoid_derivative", "tanh", "tanh_derivative", "relu", "relu_derivative", "perceptron_forward"}
    for test in result["tests"]:
        assert {"name", "exercise", "score", "max_score", "status", "output", "visibility"} <= set(test)
        assert test["status"] == "passed" and test["score"] == test["max_score"] > 0
    assert abs(sum(t["score"] for t in result["tests"]) - result["score"]) < 1e-9


def test_released_stub_gets_zero_and_exit_code_zero():
    """Does the untouched released notebook get 0, with exit code 0 and a reason per check?"""
    run = cli("grade", str(released_path(A)), "--format", "json")
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["score"] == 0 and result["max_score"] == 12
    assert all(t["status"] == "failed" and "NotImplementedError" in t["output"] for t in result["tests"])


@pytest.mark.parametrize("content, words", [
    (b"", "is empty"),
    (b"{not json", "not valid JSON"),
    (b"\xff\xfe\x00garbage", "not UTF-8"),
    (b'{"cells": "nope"}', "not a Jupyter notebook"),
    (b"print('a python file')\n", "not valid JSON"),
])
def test_unreadable_files_exit_nonzero_with_one_line(tmp_path, content, words):
    """Does a file that is not a notebook get a one-line reason and a non-zero exit, without a traceback?"""
    path = tmp_path / f"{A}.ipynb"
    path.write_bytes(content)
    run = cli("grade", str(path))
    assert run.returncode != 0
    assert words in run.stderr and len(run.stderr.strip().splitlines()) == 1
    assert "Traceback" not in run.stderr and run.stdout == ""


def test_missing_file_and_unknown_assignment(tmp_path):
    """Are a missing file and an unknown --assignment refused in one line each?"""
    run = cli("grade", str(tmp_path / "nothing.ipynb"))
    assert run.returncode != 0 and "does not exist" in run.stderr
    run = cli("grade", str(released_path(A)), "--assignment", "a99_nothing")
    assert run.returncode != 0 and "Unknown assignment" in run.stderr


def test_a_broken_function_costs_only_its_exercise(tmp_path):
    """Does a missing sigmoid_derivative and a raising relu cost only those two exercises?"""
    notebook = submission(A, {"sigmoid_derivative": "x = 1  # deleted my function",
                              "relu": "def relu(z):\n    raise ValueError('oops')"})
    result = grade_notebook(write(tmp_path, notebook))
    scores = {e.name: e.score for e in result.exercises}
    assert scores["sigmoid_derivative"] == 0 and scores["relu"] == 0
    assert scores["sigmoid"] == 2 and scores["tanh_derivative"] == 2 and scores["perceptron_forward"] == 3
    feedback = " ".join(c.feedback for e in result.exercises for c in e.checks)
    assert "sigmoid_derivative is not defined" in feedback and "ValueError: oops" in feedback


def test_a_cell_that_raises_does_not_stop_the_cells_after_it(tmp_path):
    """Are the cells after a failing cell still run (and the failure noted)?"""
    notebook = with_cell(submission(A, {}), "raise RuntimeError('my bad cell')", position=2)
    result = grade_notebook(write(tmp_path, notebook))
    assert result.score == 12
    assert any("RuntimeError: my bad cell" in note for note in result.notes)


def test_a_hanging_cell_is_skipped_and_costs_only_what_it_prevents(tmp_path):
    """Is a top-level infinite loop interrupted at its line by the cell budget, and the rest graded?"""
    from dataclasses import replace

    from autograder.config import load_course

    course = load_course()
    course = replace(course, limits=replace(course.limits, cell_timeout=3))
    notebook = with_cell(submission(A, {}), "while True:\n    pass", position=2)
    result = grade_notebook(write(tmp_path, notebook), course=course)
    assert result.score == 12
    # interrupted (KeyboardInterrupt) at its line once its CPU or wall-clock budget ran out
    assert any("cell 2 did not finish within" in note and "interrupted at cell 2, line" in note
               for note in result.notes), result.notes


def test_a_function_that_loops_costs_its_exercise_only(tmp_path):
    """Does a relu that never returns lose relu's points only, within the call limit?"""
    from dataclasses import replace

    from autograder.config import load_course

    course = load_course()
    # the plot cells call relu too: each costs one cell_timeout
    course = replace(course, limits=replace(course.limits, call_timeout=2, cell_timeout=3))
    notebook = submission(A, {"relu": "def relu(z):\n    while True:\n        pass"})
    result = grade_notebook(write(tmp_path, notebook), course=course)
    scores = {e.name: e.score for e in result.exercises}
    assert scores["relu"] == 0 and result.score == 11
    relu_feedback = [c.feedback for e in result.exercises if e.name == "relu" for c in e.checks]
    assert all("did not return within 2 s" in f or "stopped" in f for f in relu_feedback)
    # after the first timeout, relu is not run again: its other checks are refused at once
    assert any("was not called: an earlier call of relu did not return within 2 s" in f for f in relu_feedback)


def test_the_course_files_are_out_of_the_students_reach(tmp_path):
    """Can a student's cell read the solutions, the checks or course.yaml, or import them?"""
    probe = """
import os, json
seen = {}
for path in ["solutions/a01_perceptron.py", "autograder/checks/a01_perceptron.py", "course.yaml",
             "source/a01_perceptron/a01_perceptron.ipynb"]:
    try:
        seen[path] = len(open(os.path.join(%r, path)).read())
    except OSError as exc:
        seen[path] = type(exc).__name__
try:
    import solutions.a01_perceptron
    seen["import"] = "imported"
except ImportError:
    seen["import"] = "ImportError"
raise RuntimeError(json.dumps(seen))
""" % str(COURSE_ROOT)
    result = grade_notebook(write(tmp_path, with_cell(submission(A, {}), probe)))
    if result.isolation != "namespaces":
        pytest.skip("this machine has no unprivileged namespaces; the process fallback is documented")
    note = next(n for n in result.notes if "RuntimeError" in n)
    seen = json.loads(note.split("RuntimeError: ", 1)[1])
    assert seen["import"] == "ImportError"
    assert all(seen[p] in (0, "FileNotFoundError", "IsADirectoryError", "PermissionError") for p in seen if p != "import")
    assert result.score == 12


def _nested(depth):
    return '{"cells": [], "metadata": {"x": ' + "[" * depth + "]" * depth + '}, "nbformat": 4, "nbformat_minor": 5}'


@pytest.mark.parametrize("depth", [200, 100_000])
def test_deeply_nested_json_is_refused_in_one_line(tmp_path, depth):
    """Is a notebook whose JSON nests thousands of levels deep refused in one line, not a RecursionError?"""
    path = tmp_path / f"{A}.ipynb"
    path.write_text(_nested(depth))
    run = cli("grade", str(path))
    assert run.returncode != 0 and "Traceback" not in run.stderr, run.stderr[-2000:]
    assert "nested" in run.stderr and len(run.stderr.strip().splitlines()) == 1, run.stderr


def test_parsing_has_its_own_size_budget(tmp_path):
    """Is a notebook of too many cells (an nbformat 3 one, converted) refused in one line, quickly?"""
    import time

    from autograder.notebook import MAX_CELLS

    cells = [{"cell_type": "code", "input": "1", "language": "python", "metadata": {}, "outputs": []}] * (MAX_CELLS + 1)
    path = tmp_path / f"{A}.ipynb"
    path.write_text(json.dumps({"metadata": {}, "nbformat": 3, "nbformat_minor": 0,
                                "worksheets": [{"cells": cells, "metadata": {}}]}))
    started = time.monotonic()
    run = cli("grade", str(path))
    assert run.returncode != 0 and "Traceback" not in run.stderr, run.stderr[-2000:]
    assert f"over the {MAX_CELLS}" in run.stderr and len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert time.monotonic() - started < 60


def test_stored_outputs_cost_nothing_to_read(tmp_path):
    """Are a submission's stored outputs (tens of MiB) dropped before the notebook is validated?"""
    import time

    from autograder.notebook import read_notebook

    notebook = submission(A, {})
    blob = {"output_type": "stream", "name": "stdout", "text": ["x" * 100 + "\n"] * 400}
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = [nbformat.from_dict(blob)] * 40
    path = write(tmp_path, notebook)
    assert path.stat().st_size > 20 << 20
    started = time.monotonic()
    read = read_notebook(path)
    elapsed = time.monotonic() - started
    assert all(not cell.get("outputs") for cell in read.cells)
    assert elapsed < 30, f"{elapsed:.1f} s"


def test_restarts_and_cell_time_are_bounded_over_every_run(tmp_path):
    """Do cells that kill the process share one notebook_timeout over all the runs they cause, and
    count against the notebook's restarts, instead of each run getting the whole budget again?"""
    from dataclasses import replace

    from autograder.config import load_course

    course = load_course()
    course = replace(course, limits=replace(course.limits, notebook_timeout=8))
    notebook = submission(A, {})
    for position in range(2, 14):
        with_cell(notebook, "import os\nos._exit(3)", position=position)
    with_cell(notebook, "import time\ntime.sleep(2.5)", position=2)
    result = grade_notebook(write(tmp_path, notebook), course=course)
    stopped = [note for note in result.notes if "stopped the notebook's process" in note]
    # the runs share one notebook_timeout: once it is used, no more killing cell is reached
    assert len(stopped) <= 10, result.notes
    assert any("used its 8 s (notebook_timeout" in note for note in result.notes), result.notes


def test_a_cell_that_raised_is_named_as_the_student_finds_it(tmp_path):
    """The released stub of a01: does the note name each unwritten cell by its first line (not by a
    position counting markdown cells from 0) and say what NotImplementedError's empty message means?"""
    path = tmp_path / "a01_perceptron.ipynb"
    nbformat.write(submission("a01_perceptron", None), path)
    notes = grade_notebook(path).notes
    # the stub's cells that call sigmoid (its plot) raise; the cell defining it only defines it
    assert any(note.startswith("the cell beginning `z = np.linspace(-6, 6, 401)` (cell ")
               and "raised NotImplementedError: a function it defines or calls is not written yet" in note
               for note in notes), notes
    assert not any(note.rstrip().endswith(":") or "Error: \n" in note for note in notes), notes
    assert not any(note.startswith("cell ") and " raised " in note for note in notes), notes

"""Fuzzing the grader's front door: malformed notebooks and odd cell contents.

Whatever the file holds, reading it either gives a notebook whose cells the grader can run or
raises a one-line `NotebookError`; grading a notebook with odd cells always returns a valid
result. Nothing else may escape (no traceback, no crash of a class run).
"""
from __future__ import annotations

import copy
import json

import nbformat
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograder.config import load_course
from autograder.grade import GradeResult, grade_notebook
from autograder.notebook import NotebookError, assignment_of, code_cells, read_notebook
from autograder.samples import released_path

from .test_hostile import A, COURSE, lean

REAL = released_path(A).read_bytes()
REAL_JSON = json.loads(REAL)
KNOWN = {a.id for a in load_course().assignments}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


def _read_and_classify(path):
    """Read as the grader does; return the assignment id, or the NotebookError's message."""
    try:
        notebook = read_notebook(path)
        cells = code_cells(notebook)
        assert all(type(c.source) is str and type(c.index) is int for c in cells)
        return assignment_of(notebook, path, load_course())
    except NotebookError as exc:
        message = str(exc)
        assert message and "\n" not in message, message
        return message


@st.composite
def mutated_notebooks(draw):
    """The real released notebook with a few of its keys deleted or replaced by odd JSON values."""
    data = copy.deepcopy(REAL_JSON)
    for _ in range(draw(st.integers(1, 4))):
        # walk to a random container
        node, path = data, []
        for _ in range(draw(st.integers(0, 4))):
            if isinstance(node, dict) and node:
                key = draw(st.sampled_from(sorted(node)))
            elif isinstance(node, list) and node:
                key = draw(st.integers(0, len(node) - 1))
            else:
                break
            path.append((node, key))
            node = node[key]
        if not path:
            data = draw(json_values) if draw(st.booleans()) else data
            continue
        parent, key = path[-1]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[key]
        else:
            parent[key] = draw(json_values)
    return json.dumps(data).encode("utf-8")


@st.composite
def mangled_bytes(draw):
    """The real notebook's bytes truncated, with bytes flipped or inserted."""
    raw = bytearray(REAL)
    action = draw(st.sampled_from(["truncate", "flip", "insert", "random"]))
    if action == "truncate":
        return bytes(raw[:draw(st.integers(0, len(raw)))])
    if action == "random":
        return draw(st.binary(max_size=200))
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, len(raw) - 1))
        if action == "flip":
            raw[at] = draw(st.integers(0, 255))
        else:
            raw[at:at] = draw(st.binary(min_size=1, max_size=8))
    return bytes(raw)


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                    HealthCheck.too_slow])
@given(content=st.one_of(mutated_notebooks(), mangled_bytes()))
def test_reading_any_file_gives_a_notebook_or_a_one_line_error(tmp_path, content):
    """Does reading a mutated or mangled notebook always give a runnable notebook of a known
    assignment or a one-line NotebookError, never another exception?"""
    path = tmp_path / f"{A}.ipynb"
    path.write_bytes(content)
    outcome = _read_and_classify(path)
    assert outcome in KNOWN or isinstance(outcome, str)


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(metadata=json_values, name=st.sampled_from([f"{A}.ipynb", "a02_dense.ipynb", "homework.ipynb", "a0.ipynb"]),
       given_id=st.sampled_from([None, A, "a99_nothing"]))
def test_any_assignment_metadata_gives_an_id_or_a_one_line_error(tmp_path, metadata, name, given_id):
    """Is odd `metadata.autograder` (any JSON) with any file name and --assignment resolved to a
    known assignment or refused in one line?"""
    data = copy.deepcopy(REAL_JSON)
    data["metadata"]["autograder"] = metadata
    path = tmp_path / name
    path.write_text(json.dumps(data))
    notebook = read_notebook(path)
    try:
        assert assignment_of(notebook, path, load_course(), given_id) in KNOWN
    except NotebookError as exc:
        assert "\n" not in str(exc)


ODD_CELLS = [
    "", "   \n\n", "\x00", "# only a comment", "def broken(:\n    pass", "if True:\npass",
    "%matplotlib inline", "%%time\nx = 1", "!ls /", "%%bash\necho hi", "x = 1;" * 2000,
    "(" * 500 + ")" * 500, "'''unterminated", "\ufeffx = 1", "x = '\ud800'" if False else "x = 'é\u202e'",
    "import this", "raise ImportError('nothing')", "yield 1", "return 5", "await something()",
    "import numpy\nnumpy.seterr(all='raise')",
]
WRECKING = ["del np", "globals().clear()", "__builtins__ = None"]  # break the student's own functions


@settings(max_examples=6, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cells=st.lists(st.one_of(st.sampled_from(ODD_CELLS + WRECKING), st.text(max_size=80)), min_size=1, max_size=6),
       at_end=st.booleans())
def test_odd_cells_always_give_a_valid_result(tmp_path, cells, at_end):
    """Does a notebook with odd cells (syntax errors, magics, control characters, random text,
    statements that wreck the namespace) always get a valid result within the limits?"""
    path = tmp_path / f"{A}.ipynb"
    nbformat.write(lean(extra=tuple(cells), at_end=at_end), path)
    result = grade_notebook(path, course=COURSE)
    assert isinstance(result, GradeResult)
    assert 0 <= result.score <= result.max_score == 12
    assert [e.name for e in result.exercises] == [e.name for e in COURSE.assignment(A).exercises]
    for exercise in result.exercises:
        assert exercise.checks and all(isinstance(c.passed, bool) and isinstance(c.feedback, str)
                                       for c in exercise.checks)
    if at_end and not set(cells) & set(WRECKING):
        # cells after the graded ones cannot take points from them (unless they delete what the
        # functions use, as they would in Jupyter)
        assert result.score == 12, result.notes


def test_a_cell_that_deletes_numpy_is_reported_not_fatal(tmp_path):
    """Does `del np` after the graded cells fail the functions that use np with a NameError in the
    feedback, rather than break the grader?"""
    path = tmp_path / f"{A}.ipynb"
    nbformat.write(lean(extra=("del np",), at_end=True), path)
    result = grade_notebook(path, course=COURSE)
    feedback = " ".join(c.feedback for e in result.exercises for c in e.checks)
    assert result.score < 12 and "NameError" in feedback

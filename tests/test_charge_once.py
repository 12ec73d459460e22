"""One mistake is charged once: a check of a function that fails only because an earlier exercise's
function it calls is wrong passes once the reference's function stands in for that one, with a note;
the reference's function stays on the grader's side and answers only while it is lent."""
import warnings

import numpy as np
import pytest

from autograder.config import load_course
from autograder.engine import run_checks
from autograder.grade import grade_notebook
from autograder.nbgrader_bridge import grade_exercise
from autograder.samples import submission
from autograder.sandbox.launcher import Sandbox
from autograder.student import LocalBackend, RemoteBackend, StudentFailure

A01 = "a01_perceptron"
NAIVE_SIGMOID = "def sigmoid(z):\n    return 1 / (1 + np.exp(-z))"   # overflows for z << 0
USES_SIGMOID = "def sigmoid_derivative(z):\n    s = sigmoid(z)\n    return s * (1 - s)"
OWN_OVERFLOW = "def sigmoid_derivative(z):\n    e = np.exp(-z)\n    return e / (1 + e) ** 2"


def _namespace(solutions: dict[str, str], assignment: str = A01) -> dict:
    """The notebook's cells with these solutions, run here (the in-kernel path)."""
    namespace = {}
    for cell in submission(assignment, solutions).cells:
        if cell.cell_type != "code":
            continue
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            try:   # a visible check that fails stops nothing here, as in a kernel run cell by cell
                exec(compile(cell.source, "<cell>", "exec"), namespace)
            except Exception:
                pass
    return namespace


def _exercise(results, name):
    return next(r for r in results if r.name == name)


@pytest.mark.parametrize("path", ["isolated", "local"])
def test_a_derivative_that_fails_through_the_students_sigmoid_keeps_its_points(path, tmp_path):
    """With a sigmoid that overflows and a correct sigmoid_derivative calling it, is the overflow
    charged in sigmoid alone (sigmoid_derivative 2/2, the note naming sigmoid), on both paths?"""
    solutions = {"sigmoid": NAIVE_SIGMOID, "sigmoid_derivative": USES_SIGMOID}
    if path == "isolated":
        notebook = tmp_path / f"{A01}.ipynb"
        import nbformat

        nbformat.write(submission(A01, solutions), notebook)
        results = grade_notebook(notebook).exercises
    else:
        results = run_checks(load_course().assignment(A01), LocalBackend(_namespace(solutions)))
    sigmoid, derivative = _exercise(results, "sigmoid"), _exercise(results, "sigmoid_derivative")
    assert sigmoid.score < sigmoid.points
    assert derivative.score == derivative.points
    notes = [c.feedback for c in derivative.checks if c.feedback]
    assert notes and all("reference sigmoid in place of yours" in n for n in notes), notes


def test_a_derivative_with_its_own_overflow_is_still_charged():
    """A sigmoid_derivative that overflows by itself (not through sigmoid) loses its points even when
    sigmoid is wrong too: the reference sigmoid does not excuse it."""
    solutions = {"sigmoid": NAIVE_SIGMOID, "sigmoid_derivative": OWN_OVERFLOW}
    results = run_checks(load_course().assignment(A01), LocalBackend(_namespace(solutions)))
    derivative = _exercise(results, "sigmoid_derivative")
    assert derivative.score < derivative.points
    assert not any("in place of yours" in c.feedback for c in derivative.checks)


def test_the_in_kernel_bridge_charges_once_too():
    """nbgrader's hidden cell of sigmoid_derivative alone (the in-kernel bridge) gives the same
    points as the isolated engine: it finds out that sigmoid fails by itself."""
    namespace = _namespace({"sigmoid": NAIVE_SIGMOID, "sigmoid_derivative": USES_SIGMOID})
    assert grade_exercise(A01, "sigmoid_derivative", namespace) == 2.0


LEND_CODE = """
def g(x):
    return -1.0

def f(x):
    global KEPT
    KEPT = g            # the lent function, kept for later
    return g(x)

def h(x):
    return KEPT(x)
"""


def test_a_lent_function_answers_only_while_it_is_lent():
    """The reference's function is reachable from the student's process only inside `substituted`:
    a copy the student's code kept is refused afterwards, and its own function is back."""
    limits = load_course().limits

    def start():
        sandbox = Sandbox(limits)
        sandbox.start()
        return sandbox

    backend = RemoteBackend(start, lambda s: s.request({"op": "exec", "code": LEND_CODE, "index": 0}, 20))
    try:
        with backend.substituted({"g": lambda x: 2 * x}):
            assert backend.lookup("f")(np.float64(3.0)) == 6.0
        with pytest.raises(StudentFailure, match="RuntimeError"):
            backend.lookup("h")(np.float64(3.0))
        assert backend.lookup("f")(np.float64(3.0)) == -1.0
    finally:
        backend.close()


WITH_REPLACEMENT = '''def iterate_minibatches(X, y, batch_size, shuffle=True, seed=None):
    n = len(X)
    order = np.random.default_rng(seed).integers(0, n, size=n) if shuffle else np.arange(n)
    for start in range(0, n, batch_size):
        yield X[order[start:start + batch_size]], y[order[start:start + batch_size]]'''


ADAM_INIT_TUPLE = """def adam_init(weights):
    return [np.zeros_like(w) for w in weights], [np.zeros_like(w) for w in weights], 0"""


@pytest.mark.parametrize("wrong, code, excused", [
    # a lent reference that is a generator reaches the student's code the same way on both paths:
    # before, the isolated path could not send it back and charged train_minibatch_sgd too
    ("iterate_minibatches", WITH_REPLACEMENT, "train_minibatch_sgd"),
    # a check that calls the lent function itself (adam_update's checks build the state with
    # adam_init): before, the isolated path kept calling the student's adam_init there (a name's
    # reference was remembered from before the lending) and charged adam_update 3 points too
    ("adam_init", ADAM_INIT_TUPLE, "adam_update"),
], ids=["lent generator", "check calls the lent function"])
def test_a_lent_reference_gives_both_paths_the_same_scores(tmp_path, wrong, code, excused):
    """One wrong a05 function, which a later exercise needs: do both paths charge it once (the
    later exercise keeps its points) and give the same scores?"""
    import nbformat

    path = tmp_path / "a05_sgd.ipynb"
    nbformat.write(submission("a05_sgd", {wrong: code}), path)
    isolated = {r.name: r.score for r in grade_notebook(path).exercises}
    namespace = _namespace({wrong: code}, "a05_sgd")
    local = {r.name: r.score for r in run_checks(load_course().assignment("a05_sgd"), LocalBackend(namespace))}
    assert isolated == local
    points = {e.name: e.points for e in load_course().assignment("a05_sgd").exercises}
    assert isolated[wrong] < points[wrong]
    assert isolated[excused] == points[excused]


A07 = "a07_keras_equivalence"


@pytest.mark.slow
def test_one_wrong_method_of_a_class_is_charged_once_on_both_paths(tmp_path):
    """NumpyMLP with the slide's tanh-derivative typo, graded in the sandbox and in-kernel: is it
    charged in gradients' check alone (17.6/20, not 10.4), with the same checks and notes on both?"""
    import nbformat

    from tests.checks.test_a07_keras_equivalence import GRADIENTS_ONLY, TANH_TYPO

    path = tmp_path / f"{A07}.ipynb"
    nbformat.write(submission(A07, {"NumpyMLP": TANH_TYPO}), path)
    (isolated,) = grade_notebook(path).exercises
    (local,) = run_checks(load_course().assignment(A07), LocalBackend(_namespace({"NumpyMLP": TANH_TYPO}, A07)))
    assert isolated.score == local.score == pytest.approx(GRADIENTS_ONLY)
    assert [(c.name, c.passed, c.feedback) for c in isolated.checks if c.passed and c.feedback] == \
        [(c.name, c.passed, c.feedback) for c in local.checks if c.passed and c.feedback]
    assert [c.name for c in isolated.checks if not c.passed] == ["test_gradients_equal_gradient_tape"]

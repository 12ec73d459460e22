"""Do the released notebooks' visible checks teach? Run in a real kernel, they pass on the reference
solutions, and on a top mistake they end in their own message (the call, what was expected, what came
back, the likely mistake), never in a raw traceback of NumPy's or of the student's code.

One kernel per notebook: the notebook (the released one, its solution cells filled with the reference)
runs once without its plots, then each mistake is defined in that kernel, its exercise's visible-checks
cell runs again, and the reference definition is restored.
"""
import importlib
import json
import os
import re

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

from autograder.config import load_course
from autograder.samples import submission
from tests.catalogue import Catalogue

COURSE = load_course()


def _catalogued(assignment_id, exercise, what):
    """The cell of a mistake the catalogue (tests/checks/test_<aid>.py) already holds: one copy of its code."""
    mistakes = importlib.import_module(f"tests.checks.test_{assignment_id}").MISTAKES
    return next(code for ex, name, code, _ in mistakes if (ex, name) == (exercise, what)).strip("\n")


# (assignment, exercise, mistake's name, its code, fragments the visible check's message must contain);
# fragments None: a correct alternative, the visible checks must pass.
MISTAKES = [
    ("a01_perceptron", "sigmoid", "naive exp", '''
def sigmoid(z):
    return 1 / (1 + np.exp(-np.asarray(z, dtype=float)))''',
     ["sigmoid(", "raised FloatingPointError: overflow", "Likely mistake: np.exp overflowed"]),
    ("a01_perceptron", "sigmoid", "clipped at 500, overflows in float32", '''
def sigmoid(z):
    z = np.clip(z, -500, 500)
    return 1 / (1 + np.exp(-z))''',
     ["float32", "raised FloatingPointError: overflow", "Likely mistake: np.exp overflowed"]),
    ("a01_perceptron", "tanh_derivative", "the slide's typo", '''
def tanh_derivative(z):
    t = tanh(z)
    return t * (1 - t)''',
     ["tanh_derivative(0.0): expected 1.0, received 0.0", "Likely mistake: the lecture slide's typo"]),
    ("a01_perceptron", "relu_derivative", "booleans", '''
def relu_derivative(z):
    return np.asarray(z) > 0''', None),
    ("a01_perceptron", "relu_derivative", "z >= 0", '''
def relu_derivative(z):
    return (np.asarray(z) >= 0).astype(float)''', ["Likely mistake: relu'(0) is 0"]),
    ("a01_perceptron", "relu_derivative", "a Python number has no astype", '''
def relu_derivative(z):
    return (z > 0).astype(float)''',
     ["relu_derivative(2.0) raised AttributeError", "at the line `return (z > 0).astype(float)`", "np.asarray(z)"]),
    ("a02_dense", "dense_forward", "transposed kernel", '''
def dense_forward(X, W, b, activation):
    Z = X @ W.T + b
    return {"sigmoid": sigmoid, "tanh": tanh, "relu": relu, "linear": lambda z: z}[activation](Z)''',
     ["raised ValueError: matmul", "at the line `Z = X @ W.T + b`", "Likely mistake: the kernel W has shape (inputs, units)"]),
    ("a02_dense", "dense_forward", "a missing branch", '''
def dense_forward(X, W, b, activation):
    Z = X @ W + b
    if activation == "sigmoid":
        A = sigmoid(Z)
    elif activation == "linear":
        A = Z
    return A''',
     ["raised UnboundLocalError", "at the line `return A`"]),
    ("a03_loss", "binary_cross_entropy", "unclipped", '''
def binary_cross_entropy(y_true, y_pred, eps=1e-7):
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    return -np.mean(y_true * np.log(y_pred) + (1 - y_true) * np.log(1 - y_pred))''',
     ["raised FloatingPointError: divide by zero", "Likely mistake: log(0). Clip the predictions"]),
    ("a03_loss", "binary_cross_entropy", "(n,) against (n, 1) broadcast", '''
def binary_cross_entropy(y_true, y_pred, eps=1e-7):
    p = np.clip(y_pred, eps, 1 - eps)
    return -np.mean(y_true * np.log(p) + (1 - y_true) * np.log(1 - p))''',
     ["y_true of shape (3,), y_pred of shape (3, 1)", "Likely mistake: NumPy broadcast", "(n, n) table"]),
    ("a03_loss", "binary_cross_entropy", "only one direction fixed", '''
def binary_cross_entropy(y_true, y_pred, eps=1e-7):
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_pred.ndim == y_true.ndim + 1:
        y_pred = y_pred[..., 0]
    p = np.clip(y_pred, eps, 1 - eps)
    return -np.mean(y_true * np.log(p) + (1 - y_true) * np.log(1 - p))''',
     ["y_true of shape (3, 1), y_pred of shape (3,)", "Likely mistake: NumPy broadcast", "(n, n) table"]),
    ("a03_loss", "binary_cross_entropy_from_logits", "naive exp", '''
def binary_cross_entropy_from_logits(y_true, z):
    p = 1 / (1 + np.exp(-np.asarray(z)))
    return -np.mean(y_true * np.log(p) + (1 - y_true) * np.log(1 - p))''',
     ["raised FloatingPointError", "Likely mistake: np.exp overflowed"]),
    ("a03_loss", "mean_squared_error", "(n, 1) labels against (n,) broadcast", '''
def mean_squared_error(y_true, y_pred):
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_pred.ndim == y_true.ndim + 1:
        y_pred = y_pred[..., 0]
    return np.mean((y_true - y_pred) ** 2)''',
     ["y_true of shape (3, 1), y_pred of shape (3,)", "Likely mistake: NumPy broadcast"]),
    ("a04_backprop", "perceptron_gradients", "n times too large", '''
def perceptron_gradients(X, y, w0, w):
    dz = sigmoid(w0 + X @ w) - y
    return dz.sum(), X.T @ dz''',
     ["perceptron_gradients(X2, y2, 0.0, [0, 0])[0]", "Likely mistake: the gradient is n times too large"]),
    ("a04_backprop", "mlp_gradients", "correct, while perceptron_gradients is wrong", '''
def perceptron_gradients(X, y, w0, w):
    return 0.0, np.zeros_like(w)''', None),
    ("a04_backprop", "dense_backward", "transposed dW", '''
def dense_backward(dA, X, W, b, activation):
    Z = X @ W + b
    dZ = dA * activation_derivative(Z, activation)
    return dZ @ W.T, dZ.T @ X, dZ.sum(axis=0)''',
     ["dense_backward(dA, X of 3 rows, W, b, 'relu')[1]", "expected shape (2, 3) [[", "The shape is transposed"]),
    ("a04_backprop", "dense_backward", "averaged again over the batch", '''
def dense_backward(dA, X, W, b, activation):
    dZ = dA * activation_derivative(X @ W + b, activation)
    return dZ @ W.T, X.T @ dZ / len(X), dZ.mean(axis=0)''',
     ["X of 3 rows", "Likely mistake: the batch was averaged again"]),
    ("a05_sgd", "train_minibatch_sgd", "unweighted history", '''
def train_minibatch_sgd(X, y, weights, activations, lr, epochs, batch_size, shuffle=False, seed=None):
    weights, history = [np.array(w) for w in weights], []
    for epoch in range(epochs):
        losses = []
        for X_b, y_b in iterate_minibatches(X, y, batch_size, shuffle, seed):
            loss, grads = loss_and_gradients(X_b, y_b, weights, activations)
            weights = sgd_update(weights, grads, lr)
            losses.append(loss)
        history.append(np.mean(losses))
    return weights, history''',
     ["(3 * loss_1 + 2 * loss_2) / 5", "Likely mistake: the batches' losses were averaged without weights"]),
    ("a05_sgd", "iterate_minibatches", "last batch dropped", '''
def iterate_minibatches(X, y, batch_size, shuffle=True, seed=None):
    order = np.random.default_rng(seed).permutation(len(X)) if shuffle else np.arange(len(X))
    for start in range(0, len(X) - batch_size + 1, batch_size):
        yield X[order[start:start + batch_size]], y[order[start:start + batch_size]]''',
     ["expected batch sizes [4, 4, 2], received [4, 4]", "the last, smaller batch is missing"]),
    ("a05_sgd", "train_minibatch_sgd", "correct, while iterate_minibatches drops the last batch", '''
def iterate_minibatches(X, y, batch_size, shuffle=True, seed=None):
    order = np.random.default_rng(seed).permutation(len(X)) if shuffle else np.arange(len(X))
    for start in range(0, len(X) - batch_size + 1, batch_size):
        yield X[order[start:start + batch_size]], y[order[start:start + batch_size]]''',
     ["your iterate_minibatches(5 rows, batch_size=3, shuffle=False) gives batch sizes [3], not [3, 2]"]),
    ("a05_sgd", "train_minibatch_sgd", "correct, while sgd_update divides the gradient by lr", '''
def sgd_update(weights, grads, lr):
    return [w - g / lr for w, g in zip(weights, grads)]''',
     ["one step w - lr * g (your sgd_update does not step to w - lr * g: make its visible checks pass first)"]),
    ("a05_sgd", "adam_update", "the paper's epsilon", '''
def adam_update(weights, grads, state, lr=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    t = state["t"] + 1
    m = [beta_1 * m + (1 - beta_1) * g for m, g in zip(state["m"], grads)]
    v = [beta_2 * v + (1 - beta_2) * g ** 2 for v, g in zip(state["v"], grads)]
    new = [w - lr * (mi / (1 - beta_1 ** t)) / (np.sqrt(vi / (1 - beta_2 ** t)) + epsilon)
           for w, mi, vi in zip(weights, m, v)]
    return new, {"m": m, "v": v, "t": t}''',
     ["gradients of 1e-8", "Likely mistake: epsilon added to the bias-corrected sqrt(v_hat)"]),
    ("a06_regularization", "dropout_forward", "rate kept instead of dropped", '''
def dropout_forward(A, rate, training=True, rng=None):
    A = np.asarray(A, dtype=float)
    if not training or rate == 0:
        return A.copy(), np.ones_like(A)
    rng = np.random.default_rng() if rng is None else rng
    mask = (rng.random(A.shape) < rate).astype(float)
    return A * mask / (1 - rate), mask''',
     ["should drop about 30% of the units", "Likely mistake: rate is the fraction DROPPED"]),
    ("a06_regularization", "dropout_forward", "the kept units scaled in place", '''
def dropout_forward(A, rate, training=True, rng=None):
    if not training or rate == 0:
        return A.copy(), np.ones_like(A)
    rng = np.random.default_rng() if rng is None else rng
    mask = (rng.random(A.shape) >= rate).astype(float)
    A *= mask / (1 - rate)
    return A, mask''',
     ["dropout_forward(A, 0.5) changed its argument A in place"]),
    ("a06_regularization", "early_stopping_epoch", "waits one epoch too many",
     _catalogued("a06_regularization", "early_stopping_epoch", "waits one epoch too many"),
     ["expected 1, received 4", "Likely mistake: training waited one epoch too many"]),
    ("a06_regularization", "early_stopping_epoch", "a tie improves", '''
def early_stopping_epoch(val_losses, patience):
    best = 0
    for epoch in range(1, len(val_losses)):
        if val_losses[epoch] <= val_losses[best]:
            best = epoch
        elif epoch - best >= patience:
            break
    return best''',
     ["a tie is not an improvement", "Likely mistake: a tie counted as an improvement"]),
    ("a07_keras_equivalence", "NumpyMLP", "fit weighted by batch_size", '''
_reference_fit = NumpyMLP.fit
def _fit_by_batch_size(self, X, y, epochs, batch_size, lr, shuffle=False):
    X, y = np.asarray(X), np.asarray(y)
    history = []
    for _ in range(epochs):
        total = 0.0
        for start in range(0, len(X), batch_size):
            total += self.train_step(X[start:start + batch_size], y[start:start + batch_size], lr) * batch_size
        history.append(total / len(X))
    return history
NumpyMLP.fit = _fit_by_batch_size''',
     ["fit(5 rows, epochs=1, batch_size=3, lr=0.5)", "Likely mistake: each batch was weighted by batch_size"]),
]


def _visible(notebook, exercise):
    return next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == f"{exercise}_visible")


def _text(cell):
    """Everything a student sees below a cell."""
    parts = []
    for output in cell.outputs:
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type == "error":
            parts += [f"{output.ename}: {output.evalue}", *output.traceback]
        else:
            parts.append(str(output.get("data", {}).get("text/plain", "")))
    return "\n".join(parts)


class NotebookKernel:
    """A kernel that ran a released notebook (reference solutions, no plots) and re-runs its cells."""

    def __init__(self, assignment_id):
        self.notebook = submission(assignment_id, {})
        self.client = NotebookClient(self.notebook, kernel_name="python3", timeout=300, allow_errors=True)
        self.client.km = self.client.create_kernel_manager()
        # A student's kernel: no window for plots, none of the grader's settings (it silences TensorFlow's log
        # lines itself) and no PYTEST_* variable (with one, ipykernel leaves native libraries' output out of the
        # cells): what the a07 test must not take for granted.
        env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL" and not k.startswith("PYTEST_")}
        self.client.start_new_kernel(env={**env, "MPLBACKEND": "Agg"})
        self.client.start_new_kernel_client()
        last = max(i for i, c in enumerate(self.notebook.cells)
                   if c.metadata.get("nbgrader", {}).get("grade_id", "").endswith("_visible"))
        for index, cell in enumerate(self.notebook.cells[:last + 1]):
            # Plot cells define nothing the checks use; the figure test below runs every notebook whole.
            if cell.cell_type == "code" and "plt." not in cell.source:
                self.client.execute_cell(cell, index)

    def run(self, source):
        """Run `source` as a new cell; return the cell with its outputs."""
        cell = nbformat.v4.new_code_cell(source)
        self.notebook.cells.append(cell)  # nbclient stores the executed cell at its index
        try:
            self.client.execute_cell(cell, len(self.notebook.cells) - 1)
        finally:
            self.notebook.cells.pop()
        return cell

    def visible_checks(self, exercise):
        cell = _visible(self.notebook, exercise)
        self.client.execute_cell(cell, self.notebook.cells.index(cell))
        return cell

    def restore(self):
        """Define every graded function again as the reference does (a mistake may redefine any of them)."""
        for index, cell in enumerate(self.notebook.cells):
            if cell.metadata.get("nbgrader", {}).get("solution"):
                self.client.execute_cell(cell, index)

    def run_author_cell(self, cell_id):
        """Run the author's cell of that id, in place; return it with its outputs."""
        index, cell = next((i, c) for i, c in enumerate(self.notebook.cells) if c.get("id") == cell_id)
        self.client.execute_cell(cell, index)
        return cell

    def close(self):
        self.client._cleanup_kernel()


@pytest.fixture(scope="module")
def kernels():
    started = {}

    def kernel(assignment_id):
        if assignment_id not in started:
            started[assignment_id] = NotebookKernel(assignment_id)
        return started[assignment_id]

    yield kernel
    for k in started.values():
        k.close()


ASSIGNMENTS = sorted({m[0] for m in MISTAKES})


@pytest.mark.slow
@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_reference_passes_every_visible_check(aid, kernels):
    """Do the reference solutions pass every visible check of the released notebook?"""
    kernel = kernels(aid)
    for exercise in COURSE.assignment(aid).exercises:
        text = _text(_visible(kernel.notebook, exercise.name))
        assert f"{exercise.name}: visible checks passed" in text, text


@pytest.mark.slow
@pytest.mark.parametrize("aid, exercise, name, source, fragments", MISTAKES,
                         ids=[f"{m[0][:3]}-{m[1]}-{m[2]}" for m in MISTAKES])
def test_visible_check_names_the_mistake(aid, exercise, name, source, fragments, kernels):
    """Does a top mistake end its visible checks in their own message, naming it, without a raw traceback?"""
    kernel = kernels(aid)
    defined = kernel.run(source)
    assert not [o for o in defined.outputs if o.output_type == "error"], _text(defined)
    try:
        cell = kernel.visible_checks(exercise)
    finally:
        kernel.restore()
    text = _text(cell)
    printed = "".join(o.text for o in cell.outputs if o.output_type == "stream")
    errors = [o for o in cell.outputs if o.output_type == "error"]
    if fragments is None:
        assert not errors and f"{exercise}: visible checks passed" in printed, text
        return
    assert f"{exercise}: visible checks passed" not in printed, text
    assert len(errors) == 1 and errors[0].ename == "CheckFailed", text
    # The student sees one line, the check's own message: no traceback, no NumPy or kernel internals.
    assert len(errors[0].traceback) == 1 and errors[0].traceback[0].startswith("Visible check failed: "), text
    for fragment in fragments:
        assert fragment in errors[0].traceback[0], f"{fragment!r} not in: {text}"


@pytest.mark.slow
def test_tensorflow_log_lines_stay_out_of_the_students_output(kernels):
    """Does a07's comparison with Keras show its results without TensorFlow's C++ log lines?"""
    kernel = kernels("a07_keras_equivalence")
    for cell_id in ("1a9d9449", "313b0cc1"):   # the class's data; Keras and NumpyMLP trained side by side
        kernel.run_author_cell(cell_id)
    text = "\n".join(_text(c) for c in kernel.notebook.cells if c.cell_type == "code")   # every cell run so far
    assert "largest difference between the trained weights" in text, text
    # TensorFlow 2.21 prints two lines before its logging starts ("All log messages before
    # absl::InitializeLog() ..." and the oneDNN notice) whatever TF_CPP_MIN_LOG_LEVEL says; the notebook's
    # setting keeps every line after them out: the CPU-instructions notice, DT_DOUBLE warnings.
    for noise in ("cpu_feature_guard", "DT_DOUBLE", "W0000"):
        assert noise not in text, text


def test_every_notebook_defines_the_same_visible_checks_helpers_first():
    """Does every released notebook define the visible checks' helpers, one text for all, before its first exercise?"""
    texts = set()
    for assignment in COURSE.assignments:
        notebook = submission(assignment.id, None)
        ids = [c.get("id") for c in notebook.cells]
        assert "visible-checks-helpers" in ids, assignment.id
        first_exercise = min(i for i, c in enumerate(notebook.cells) if c.metadata.get("nbgrader", {}).get("solution"))
        assert ids.index("visible-checks-helpers") < first_exercise, assignment.id
        texts.add(notebook.cells[ids.index("visible-checks-helpers")].source)
    assert len(texts) == 1, "the helper cells differ between notebooks"


# --- Every catalogue entry through the visible checks -------------------------------------------------------------
# The mistakes catalogues (tests/checks/test_<aid>.py) hold the wrong implementations the hidden checks must catch
# and the correct alternatives they must accept. The visible checks answer to the same rules: a correct entry passes
# every one of them; a wrong one gets a "Likely mistake" only where that mistake's own prediction is what came back,
# and a mistake the visible checks of its own exercise miss does not fail another exercise's visible checks.

def _catalogue(assignment_id):
    """The assignment's `Catalogue` subclass, from tests/checks/test_<aid>.py."""
    module = importlib.import_module(f"tests.checks.test_{assignment_id}")
    return next(v for v in vars(module).values()
                if isinstance(v, type) and issubclass(v, Catalogue) and getattr(v, "assignment", None) == assignment_id)


def _entries():
    """(assignment, exercise, what, the student's cell, correct?) for every catalogue entry."""
    entries = []
    for assignment in COURSE.assignments:
        catalogue = _catalogue(assignment.id)
        entries += [(assignment.id, m[0], m[1], catalogue.prelude + m[2], False) for m in catalogue.mistakes]
        entries += [(assignment.id, a[0], a[1], a[2], True) for a in catalogue.alternatives]
        for f in catalogue.findings:   # a finding that keeps every point is a correct alternative
            correct = f.kept[0] >= assignment.exercise(f.exercise).points - 1e-9
            entries.append((assignment.id, f.exercise, f.what, catalogue.prelude + f.code, correct))
    return entries


ENTRIES = _entries()

# The "Likely mistake" each catalogue mistake gets from the visible checks, reviewed against the entry's code:
# (assignment, exercise, the entry's "what") -> {exercise whose visible check names it: words of the name}. An entry not
# listed gets no name from any visible check. A new catalogue entry that the visible checks name is added here
# once its name has been read and found right.
VISIBLE_NAMES = {
    ('a01_perceptron', 'sigmoid', 'sign of the exponent flipped'): {'sigmoid_derivative': 'np.exp overflowed'},
    ('a01_perceptron', 'sigmoid', 'naive formula overflows at -1000'): {'sigmoid': 'np.exp overflowed', 'sigmoid_derivative': 'np.exp overflowed'},
    ('a01_perceptron', 'sigmoid_derivative', 'missing (1 - s)'): {'sigmoid_derivative': 'this is sigmoid(0), not its derivative sigmoid(z) * (1 - sigmoid(z))'},
    ('a01_perceptron', 'sigmoid_derivative', 'naive exp overflows'): {'sigmoid_derivative': 'np.exp overflowed'},
    ('a01_perceptron', 'tanh', 'naive formula gives nan at 1000'): {'tanh': 'np.exp overflowed (exp(1000) is inf, and inf / inf is nan)'},
    ('a01_perceptron', 'tanh_derivative', "the slide's typo"): {'tanh_derivative': "the lecture slide's typo g(z)(1 - g(z))"},
    ('a01_perceptron', 'relu', 'np.max reduces the array'): {'relu': 'np.max(z, 0) is a reduction (the largest entry)'},
    ('a01_perceptron', 'relu_derivative', '1 at z = 0'): {'relu_derivative': "relu'(0) is 0, as on the slide"},
    ('a01_perceptron', 'perceptron_forward', 'bias missing'): {'perceptron_forward': 'the bias w0 is missing'},
    ('a01_perceptron', 'perceptron_forward', 'always the sigmoid'): {'perceptron_forward': 'g=relu was ignored'},
    ('a01_perceptron', 'sigmoid', 'z clipped to +/-500 overflows in float32'): {'sigmoid': 'np.exp overflowed'},
    ('a01_perceptron', 'sigmoid', 'z clipped to +/-709 overflows in float32'): {'sigmoid': 'np.exp overflowed'},
    ('a01_perceptron', 'perceptron_forward', 'float32 numbers shown once as np.float32'): {'perceptron_forward': 'the bias w0 is missing'},
    ('a02_dense', 'dense_forward', 'transposed kernel'): {'dense_forward': 'the kernel W has shape (inputs, units), so Z = X @ W + b (not X @ W.T,'},
    ('a03_loss', 'binary_cross_entropy', 'no clipping: log(0) at predictions 0 and 1'): {'binary_cross_entropy': 'log(0)'},
    ('a03_loss', 'binary_cross_entropy', 'clipped only from below'): {'binary_cross_entropy': 'log(0)'},
    ('a03_loss', 'binary_cross_entropy', 'sign flipped'): {'binary_cross_entropy': 'the sign'},
    ('a03_loss', 'binary_cross_entropy', 'sum instead of mean'): {'binary_cross_entropy': 'a sum over the examples instead of a mean.'},
    ('a03_loss', 'binary_cross_entropy', 'eps argument ignored'): {'binary_cross_entropy': 'NumPy broadcast the (n,) and (n, 1) arrays to an (n, n) table, pairing'},
    ('a03_loss', 'binary_cross_entropy', '(n,) against (n, 1) broadcast to a table'): {'binary_cross_entropy': 'NumPy broadcast the (n,) and (n, 1) arrays to an (n, n) table, pairing'},
    ('a03_loss', 'binary_cross_entropy_from_logits', 'naive sigmoid then log overflows'): {'binary_cross_entropy_from_logits': 'np.exp overflowed'},
    ('a03_loss', 'binary_cross_entropy_from_logits', 'sigmoid then the clipped loss'): {'binary_cross_entropy_from_logits': 'the loss went through sigmoid and clipping'},
    ('a03_loss', 'binary_cross_entropy_from_logits', '(n,) against (n, 1) broadcast to a table'): {'binary_cross_entropy_from_logits': 'NumPy broadcast the (n,) and (n, 1) arrays to an (n, n) table, pairing'},
    ('a03_loss', 'mean_squared_error', 'sum instead of mean'): {'mean_squared_error': 'a sum instead of a mean.'},
    ('a03_loss', 'mean_squared_error', 'half the mean'): {'mean_squared_error': 'a factor 1/2'},
    ('a03_loss', 'mean_squared_error', '(n,) against (n, 1) broadcast to a table'): {'mean_squared_error': 'NumPy broadcast the (n,) and (n, 1) arrays to an (n, n) table, pairing'},
    ('a03_loss', 'empirical_loss', 'arguments of loss swapped'): {'empirical_loss': 'called loss(y_pred, y_true)'},
    ('a03_loss', 'empirical_loss', 'divided by n twice'): {'empirical_loss': 'divided by n a second time'},
    ('a03_loss', 'binary_cross_entropy', 'no clipping: log(0), charged by the one check of 0 and 1 predictions'): {'binary_cross_entropy': 'log(0)'},
    ('a03_loss', 'binary_cross_entropy', '(n,) labels broadcast against (n, 1) predictions: charged once'): {'binary_cross_entropy': 'NumPy broadcast the (n,) and (n, 1) arrays to an (n, n) table, pairing'},
    ('a03_loss', 'binary_cross_entropy_from_logits', '(n,) labels broadcast against (n, 1) logits: charged once'): {'binary_cross_entropy_from_logits': 'NumPy broadcast the (n,) and (n, 1) arrays to an (n, n) table, pairing'},
    ('a03_loss', 'mean_squared_error', '(n,) labels broadcast against (n, 1) predictions: charged once'): {'mean_squared_error': 'NumPy broadcast the (n,) and (n, 1) arrays to an (n, n) table, pairing'},
    ('a03_loss', 'mean_squared_error', 'a float32 sum instead of the mean: numbers shown once, rounded'): {'mean_squared_error': 'a sum instead of a mean.'},
    ('a04_backprop', 'perceptron_gradients', 'sign flipped'): {'perceptron_gradients': 'the sign'},
    ('a04_backprop', 'perceptron_gradients', 'sum instead of mean'): {'perceptron_gradients': 'the gradient is n times too large'},
    ('a04_backprop', 'perceptron_gradients', 'missing 1/n in dw only'): {'perceptron_gradients': 'the gradient is n times too large'},
    ('a04_backprop', 'dense_backward', 'activation derivative missing'): {'dense_backward': "the activation's derivative is missing"},
    ('a04_backprop', 'dense_backward', 'activation derivative taken of the output'): {'dense_backward': 'the derivative was taken at the output A = sigmoid(Z) = 0.5 instead of'},
    ('a04_backprop', 'dense_backward', 'mean over the batch instead of sum'): {'dense_backward': 'the batch was averaged again'},
    ('a04_backprop', 'dense_backward', "the slide's tanh typo"): {'dense_backward': "the lecture slide's typo g(z)(1 - g(z))"},
    ('a04_backprop', 'dense_backward', 'relu derivative 1 at z = 0'): {'dense_backward': "relu'(0) is 0"},
    ('a04_backprop', 'mlp_gradients', 'sum instead of mean'): {'mlp_gradients': 'the gradient is n times too large'},
    ('a04_backprop', 'numerical_gradient', 'one-sided difference'): {'numerical_gradient': 'one-sided differences (f(x + h) - f(x)) / h'},
    ('a04_backprop', 'numerical_gradient', 'h instead of 2h'): {'numerical_gradient': 'divided by h instead of 2h'},
    ('a04_backprop', 'gradient_descent', 'the same array appended every step'): {'gradient_descent': 'the same array was appended at every step (w -= ... changes it in plac'},
    ('a05_sgd', 'sgd_update', 'sign flipped'): {'sgd_update': 'the sign'},
    ('a05_sgd', 'adam_update', 'no bias correction'): {'adam_update': 'the bias correction is missing'},
    ('a05_sgd', 'adam_update', 'epsilon added to sqrt(v_hat), as in the paper'): {'adam_update': 'epsilon added to the bias-corrected sqrt(v_hat), as in the paper'},
    ('a05_sgd', 'train_minibatch_sgd', 'history: plain mean of the batch losses'): {'train_minibatch_sgd': "the batches' losses were averaged without weights"},
    ('a05_sgd', 'train_minibatch_sgd', 'last partial batch skipped'): {'train_minibatch_sgd': 'the last, partial batch was skipped'},
    ('a05_sgd', 'train_minibatch_sgd', 'history of the last batch only'): {'train_minibatch_sgd': "the history kept the last batch's loss only."},
    ('a05_sgd', 'train_minibatch_sgd', 'one update per epoch'): {'train_minibatch_sgd': 'the weights were updated once per epoch'},
    ('a05_sgd', 'adam_update', "the paper's epsilon (added to sqrt(v_hat)): charged where sqrt(v) ~ epsilon only"): {'adam_update': 'epsilon added to the bias-corrected sqrt(v_hat), as in the paper'},
    ('a06_regularization', 'dropout_forward', 'not inverted: kept units not scaled'): {'dropout_forward': 'the kept units were not divided by 1 - rate (inverted dropout scales t'},
    ('a06_regularization', 'dropout_forward', 'rate used as the keep probability'): {'dropout_forward': "rate is the fraction DROPPED, not kept (Keras' Dropout(rate))."},
    ('a06_regularization', 'dropout_backward', 'not scaled'): {'dropout_backward': 'the gradient was not divided by 1 - rate, as the forward pass divides '},
    ('a06_regularization', 'dropout_backward', 'multiplied by (1 - rate)'): {'dropout_backward': 'multiplied by 1 - rate'},
    ('a06_regularization', 'dropout_backward', 'mask missing'): {'dropout_backward': 'the mask was not applied'},
    ('a06_regularization', 'dropout_backward', 'divided by rate'): {'dropout_backward': 'divided by rate'},
    ('a06_regularization', 'l2_penalty', 'textbook 1/2 factor'): {'l2_penalty': 'a factor 1/2'},
    ('a06_regularization', 'l2_penalty', 'only the first kernel'): {'l2_penalty': 'only the first kernel was counted.'},
    ('a06_regularization', 'early_stopping_epoch', 'argmin over every epoch'): {'early_stopping_epoch': 'the epochs after training stopped were used'},
    ('a06_regularization', 'early_stopping_epoch', 'ties count as improvements'): {'early_stopping_epoch': 'a tie counted as an improvement'},
    ('a06_regularization', 'early_stopping_epoch', 'waits one epoch too many'): {'early_stopping_epoch': 'training waited one epoch too many'},
    ('a06_regularization', 'early_stopping_epoch', 'returns the stopping epoch'): {'early_stopping_epoch': 'the epoch where training stopped was returned'},
    ('a06_regularization', 'early_stopping_epoch', 'last epoch when never stopped'): {'early_stopping_epoch': 'the last epoch was returned'},
    ('a06_regularization', 'early_stopping_epoch', '1-based epochs'): {'early_stopping_epoch': 'a 1-based epoch'},
    ('a06_regularization', 'dropout_forward', 'rate taken as the keep fraction: named as such, not as one mask for every row'): {'dropout_forward': "rate is the fraction DROPPED, not kept (Keras' Dropout(rate))."},
    ('a07_keras_equivalence', 'NumpyMLP', 'gradients not averaged over the batch'): {'NumpyMLP': 'the gradient is n times too large'},
    ('a07_keras_equivalence', 'NumpyMLP', 'activation derivative taken of the output'): {'NumpyMLP': "the derivative was taken of the layer's output"},
    ('a07_keras_equivalence', 'NumpyMLP', "the slide's tanh typo: charged in gradients' check only, named as in a01, without a dropout hint"): {'NumpyMLP': "the lecture slide's typo tanh(z) * (1 - tanh(z))"},
    ('a07_keras_equivalence', 'NumpyMLP', 'history averaged without batch-size weights'): {'NumpyMLP': "the batches' losses were averaged without weights"},
    ('a07_keras_equivalence', 'NumpyMLP', "gradients not averaged: charged in gradients' check only, named, without a dropout hint"): {'NumpyMLP': 'the gradient is n times too large'},
}


def _outcomes(kernel, code, assignment_id):
    """Exercise -> "" when its visible checks passed, else the one line the student sees (every exercise, in order)."""
    defined = kernel.run(code)
    assert not [o for o in defined.outputs if o.output_type == "error"], _text(defined)
    outcomes = {}
    try:
        for exercise in COURSE.assignment(assignment_id).exercises:
            cell = kernel.visible_checks(exercise.name)
            errors = [o for o in cell.outputs if o.output_type == "error"]
            printed = "".join(o.text for o in cell.outputs if o.output_type == "stream")
            if not errors and f"{exercise.name}: visible checks passed" in printed:
                outcomes[exercise.name] = ""
            elif errors and errors[0].ename == "CheckFailed":
                outcomes[exercise.name] = errors[0].traceback[0]
            else:   # a raw error: the visible checks' own bug, shown with its traceback
                outcomes[exercise.name] = "RAW " + _text(cell)
    finally:
        kernel.restore()
    return outcomes


PLURALS = "rows|batches|steps|losses|gradients|values|epochs|units|weights|arrays|examples|entries|kernels|columns|calls"


def _unreadable(message):
    """What makes a visible check's own words hard to read at a glance: NumPy's reprs, a plural noun after 1, or an
    expected and a received value printed alike (rounded until they read the same). The student's line of code and
    the text of the error it raised are quoted as they are, and not judged."""
    own = re.sub(r"`[^`]*`", "`...`", message)
    own = re.sub(r" raised .*?(?= in [\w.<>]+, at the line|\. Likely mistake|$)", " raised ...", own)
    problems = [f"NumPy's repr {r!r}" for r in ("np.float", "np.int", "array(", "dtype=") if r in own]
    problems += [f"plural after 1: {m.group(0)!r}" for m in re.finditer(rf"(?<![\d.,])1 ({PLURALS})\b", own)]
    for shown, back in re.findall(r"expected (.+?), received (.+?)(?=\. |\.$|$)", own):
        if shown == back:
            problems.append(f"expected and received both read {shown!r}")
    return problems


@pytest.mark.slow
@pytest.mark.parametrize("aid, exercise, what, code, correct", ENTRIES,
                         ids=[f"{e[0][:3]}-{e[1]}-{e[2]}" for e in ENTRIES])
def test_catalogue_entry_through_the_visible_checks(aid, exercise, what, code, correct, kernels):
    """Does a catalogue entry get from the visible checks what the hidden checks' rules allow: a correct one passes
    them all, a mistake is named only as itself, and one they miss fails no other exercise's visible checks?"""
    outcomes = _outcomes(kernels(aid), code, aid)
    shown = "\n".join(f"  {name}: {text or 'passed'}" for name, text in outcomes.items())
    assert not [t for t in outcomes.values() if t.startswith("RAW ")], f"a raw error in the visible checks:\n{shown}"
    assert all(t == "" or t.startswith("Visible check failed: ") for t in outcomes.values()), shown
    if correct:
        assert not any(outcomes.values()), f"{what}: a correct implementation rejected by a visible check:\n{shown}"
        return
    if not outcomes[exercise]:
        others = {name: text for name, text in outcomes.items() if text}
        assert not others, (f"{what}: a mistake in {exercise} its visible checks miss fails the visible checks of "
                            f"{sorted(others)}, correct functions:\n{shown}")
    for name, text in outcomes.items():
        assert not _unreadable(text), f"{what}: the message of {name}'s visible check: {_unreadable(text)}\n{text}"
    named = {name: text.split("Likely mistake: ", 1)[1] for name, text in outcomes.items() if "Likely mistake: " in text}
    expected = VISIBLE_NAMES.get((aid, exercise, what), {})
    assert set(named) == set(expected), f"{what}: named {named}, expected names in {sorted(expected)}:\n{shown}"
    for name, words in expected.items():
        assert words in named[name], f"{what}: the visible check of {name} names {named[name]!r}, not {words!r}"


# A correct result in another form the contract accepts: computed in float32 (the grader compares it within float32's
# precision), or a 0-d array where a number is expected. Every function exercise of the notebook is wrapped at once,
# so the exercises that call one another see the other form too.
RESULT_FORMS = '''
import functools as _functools
import inspect as _inspect

def _as_form(form, value):
    if form == "float32" and isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return value.astype(np.float32)
    if isinstance(value, (float, np.floating)):
        return np.float32(value) if form == "float32" else np.asarray(value)
    if isinstance(value, (tuple, list)):
        return type(value)(_as_form(form, v) for v in value)
    if isinstance(value, dict):
        return {k: _as_form(form, v) for k, v in value.items()}
    return value

def _in_form(function, form):
    if _inspect.isgeneratorfunction(function):
        @_functools.wraps(function)
        def wrapped(*args, **kwargs):
            for item in function(*args, **kwargs):
                yield _as_form(form, item)
    else:
        @_functools.wraps(function)
        def wrapped(*args, **kwargs):
            return _as_form(form, function(*args, **kwargs))
    return wrapped

for _name in __NAMES__:
    if not isinstance(globals()[_name], type):
        globals()[_name] = _in_form(globals()[_name], __FORM__)
'''


@pytest.mark.slow
@pytest.mark.parametrize("form", ["float32", "0-d array"])
@pytest.mark.parametrize("aid", [a.id for a in COURSE.assignments])
def test_visible_checks_accept_every_form_of_a_correct_result(aid, form, kernels):
    """Does every visible check pass the reference's results returned in float32, or as 0-d arrays for numbers?"""
    names = [e.name for e in COURSE.assignment(aid).exercises]
    outcomes = _outcomes(kernels(aid), RESULT_FORMS.replace("__NAMES__", repr(names)).replace("__FORM__", repr(form)), aid)
    rejected = {name: text for name, text in outcomes.items() if text}
    assert not rejected, f"correct results in {form} rejected:\n" + "\n".join(f"  {n}: {t}" for n, t in rejected.items())


def _helpers():
    """The visible checks' helpers, as the released notebooks define them."""
    notebook = submission(COURSE.assignments[0].id, None)
    namespace = {"np": np}
    exec(next(c.source for c in notebook.cells if c.get("id") == "visible-checks-helpers"), namespace)
    return namespace


def _failure(helpers, received, expected, **kwargs):
    with pytest.raises(helpers["CheckFailed"]) as failed:
        helpers["expect_close"](received, expected, "f(x)", **kwargs)
    return str(failed.value)


def test_helpers_show_values_as_a_student_reads_them():
    """Do the visible checks' messages show numbers to the digits that differ, integers as integers, arrays as their
    shape then a few values, NumPy scalars without their type, and counts with the right plural?"""
    h = _helpers()
    assert _failure(h, 1216.6666667, 2433.3333333) == "f(x): expected 2433.3, received 1216.7."
    assert _failure(h, np.float32(19.7384), 20.0) == "f(x): expected 20.0, received 19.74."
    assert _failure(h, 4, 1) == "f(x): expected 1, received 4."
    assert _failure(h, np.array([0.90002, 1.1, 1.0]), [0.9, 1.1, 1.0], atol=1e-6) == \
        "f(x): expected shape (3,) [0.9, 1.1, 1.0], received shape (3,) [0.90002, 1.1, 1.0]."
    big = _failure(h, np.arange(12.0).reshape(4, 3), np.ones((4, 3)))
    assert big.startswith("f(x): expected shape (4, 3) [1.0, 1.0, 1.0, 1.0, ...], received shape (4, 3) [0.0, 1.0, 2.0, 3.0, ...].")
    assert "First difference at index (0, 0): expected 1.0, received 0.0 (11 of 12 values differ)." in big
    assert _failure(h, np.array([0.5]), 0.25).endswith("A single number is expected, not an array of shape (1,).")
    assert _failure(h, np.ones((3, 2)), np.ones((2, 3))).endswith("The shape is transposed.")
    assert _failure(h, np.ones((3, 2)), np.ones((3, 2)) * 2, mistakes=[(np.ones((3, 2)), "half.")]).endswith(
        "Likely mistake: half.")
    assert h["show"](np.ones(3, np.float32)) == "shape (3,) float32 [1.0, 1.0, 1.0]"
    assert [h["plural"](n, w) for n, w in [(1, "row"), (2, "row"), (1, "batch"), (3, "batch")]] == \
        ["1 row", "2 rows", "1 batch", "3 batches"]
    # float32 results are compared within float32's precision, as the grader compares them
    h["expect_close"](np.float32(1.00002), 1.0, "f(x)")
    assert _failure(h, 1.00002, 1.0) == "f(x): expected 1.0, received 1.00002."


# Every figure a notebook shows, described when plt.show() is called: per panel, its title and axis labels (a shared
# axis counts as labelled when a panel sharing it is), whether its ticks are words, and its coloured marks.
FIGURE_PROBE = '''
import matplotlib.pyplot as _plt
from matplotlib.collections import PathCollection as _Scatter

_figures = []
_show = _plt.show

def _describe_and_show(*args, **kwargs):
    for number in _plt.get_fignums():
        figure = _plt.figure(number)
        bars = [a for a in figure.axes if a.get_label() == "<colorbar>"]
        panels = []
        for ax in [a for a in figure.axes if a.get_label() != "<colorbar>"]:
            def labelled(axis, shared):
                return bool(axis.get_label_text()) or any(s.get_xlabel() if axis is ax.xaxis else s.get_ylabel()
                                                          for s in shared.get_siblings(ax) if s is not ax)
            words = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
            panels.append({
                "title": ax.get_title() or figure._suptitle and figure._suptitle.get_text() or "",
                "x": labelled(ax.xaxis, ax.get_shared_x_axes()) or any(not w.lstrip("-\\u2212").replace(".", "").isdigit() for w in words),
                "y": labelled(ax.yaxis, ax.get_shared_y_axes()) or ax.images != [] and bool(ax.get_ylabel()),
                "colour-mapped marks": any(isinstance(c, _Scatter) and c.get_array() is not None for c in ax.collections),
                "legend": ax.get_legend() is not None or bool(figure.legends),
                "colour bar": bool(bars),
            })
        _figures.append(panels)
    return _show(*args, **kwargs)

_plt.show = _describe_and_show
'''


@pytest.mark.slow
@pytest.mark.parametrize("aid", [a.id for a in COURSE.assignments])
def test_every_figure_panel_is_labelled_and_its_colours_explained(aid):
    """Does every panel of every figure of the notebook (run in a real kernel, reference solutions) label both axes,
    and explain by a legend or a colour bar the colours its points are given?"""
    notebook = submission(aid, {})
    first_code = next(i for i, c in enumerate(notebook.cells) if c.cell_type == "code")
    notebook.cells.insert(first_code + 1, nbformat.v4.new_code_cell(FIGURE_PROBE))
    notebook.cells.append(nbformat.v4.new_code_cell("import json; print(json.dumps(_figures))"))
    NotebookClient(notebook, kernel_name="python3", timeout=900, allow_errors=True).execute()
    errors = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors, [f"{e.ename}: {e.evalue}" for e in errors]
    figures = json.loads(notebook.cells[-1].outputs[0].text)
    assert figures, "no figure was shown"
    for number, panels in enumerate(figures, 1):
        for panel in panels:
            where = f"figure {number}, panel {panel['title']!r}"
            assert panel["x"] and panel["y"], f"{where}: an axis without a label ({panel})"
            if panel["colour-mapped marks"]:
                assert panel["legend"] or panel["colour bar"], f"{where}: coloured points without a legend or a colour bar"


def test_a03_text_says_where_the_plot_shows_clipping_flatten_the_loss():
    """Does a03's text put the flat part of the clipped loss where its plot shows it: from the z at which sigmoid(z)
    falls below the clipping bound eps = 1e-7 (about -16), long before sigmoid(z) rounds to 0?"""
    notebook = submission("a03_loss", None)
    text = next(c.source for c in notebook.cells if c.get("id") == "3c270e65")
    flat_from = np.log(1e-7 / (1 - 1e-7))   # sigmoid(z) = eps
    assert f"$z \\approx {round(flat_from)}$" in text, text
    assert f"{-np.log(1e-7):.1f}" in text and "rounds\nto 0 or 1" not in text and "rounds to 0 or 1" not in text, text

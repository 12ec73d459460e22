"""Do the released notebooks' visible checks teach? Run in a real kernel, they pass on the reference
solutions, and on a top mistake they end in their own message (the call, what was expected, what came
back, the likely mistake), never in a raw traceback of NumPy's or of the student's code.

One kernel per notebook: the notebook (the released one, its solution cells filled with the reference)
runs once without its plots, then each mistake is defined in that kernel, its exercise's visible-checks
cell runs again, and the reference definition is restored.
"""
import os

import nbformat
import pytest
from nbclient import NotebookClient

from autograder.config import load_course
from autograder.samples import submission

COURSE = load_course()

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
     ["dense_backward(dA, X, W, b, 'relu')[1]", "expected [[1.0, 2.0, 0.0]"]),
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
            # Plot cells define nothing the checks use; they are run by test_lessons' full executions.
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
    for noise in ("oneDNN", "cpu_feature_guard", "DT_DOUBLE", "absl::InitializeLog", "I0000", "W0000"):
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

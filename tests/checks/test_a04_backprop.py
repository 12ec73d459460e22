"""The catalogue of a04 mistakes and correct alternatives, graded by the real hidden checks."""
from tests.catalogue import Catalogue, Finding, points_without

A = "a04_backprop"

# (exercise, what the mistake is, the student's cell, words the feedback must contain)
MISTAKES = [
    ("perceptron_gradients", "sign flipped", """
def perceptron_gradients(X, y, w0, w):
    dz = (y - sigmoid(w0 + X @ w)) / len(y)
    return dz.sum(), X.T @ dz
""", "sign is flipped"),
    ("perceptron_gradients", "sum instead of mean", """
def perceptron_gradients(X, y, w0, w):
    dz = sigmoid(w0 + X @ w) - y
    return dz.sum(), X.T @ dz
""", "sum instead of the mean"),
    ("perceptron_gradients", "sigmoid derivative multiplied again", """
def perceptron_gradients(X, y, w0, w):
    p = sigmoid(w0 + X @ w)
    dz = (p - y) * p * (1 - p) / len(y)
    return dz.sum(), X.T @ dz
""", "second time"),
    ("perceptron_gradients", "gradient of the MSE", """
def perceptron_gradients(X, y, w0, w):
    p = sigmoid(w0 + X @ w)
    dz = 2 * (p - y) * p * (1 - p) / len(y)
    return dz.sum(), X.T @ dz
""", "mean squared error"),
    ("perceptron_gradients", "activation derivative taken of the output", """
def perceptron_gradients(X, y, w0, w):
    p = sigmoid(w0 + X @ w)
    dJ_dp = (-(y / p) + (1 - y) / (1 - p)) / len(y)
    s = sigmoid(p)
    dz = dJ_dp * s * (1 - s)
    return dz.sum(), X.T @ dz
""", "taken of the output"),
    ("perceptron_gradients", "missing 1/n in dw only", """
def perceptron_gradients(X, y, w0, w):
    dz = sigmoid(w0 + X @ w) - y
    return dz.mean(), X.T @ dz
""", "1/n"),
    ("dense_backward", "activation derivative missing", """
def dense_backward(dA, X, W, b, activation):
    return dA @ W.T, X.T @ dA, dA.sum(axis=0)
""", "derivative is missing"),
    ("dense_backward", "activation derivative taken of the output", """
def dense_backward(dA, X, W, b, activation):
    A = activate(X @ W + b, activation)
    dZ = dA * activation_derivative(A, activation)
    return dZ @ W.T, X.T @ dZ, dZ.sum(axis=0)
""", "taken of the output"),
    ("dense_backward", "transposed kernel gradient", """
def dense_backward(dA, X, W, b, activation):
    dZ = dA * activation_derivative(X @ W + b, activation)
    return dZ @ W.T, dZ.T @ X, dZ.sum(axis=0)
""", "transposed kernel"),
    ("dense_backward", "mean over the batch instead of sum", """
def dense_backward(dA, X, W, b, activation):
    dZ = dA * activation_derivative(X @ W + b, activation)
    n = len(X)
    return dZ @ W.T / n, X.T @ dZ / n, dZ.mean(axis=0)
""", "divided by n"),
    ("dense_backward", "sign flipped", """
def dense_backward(dA, X, W, b, activation):
    dZ = -dA * activation_derivative(X @ W + b, activation)
    return dZ @ W.T, X.T @ dZ, dZ.sum(axis=0)
""", "sign is flipped"),
    ("dense_backward", "the slide's tanh typo", """
def dense_backward(dA, X, W, b, activation):
    Z = X @ W + b
    if activation == "tanh":
        t = np.tanh(Z)
        dZ = dA * t * (1 - t)
    else:
        dZ = dA * activation_derivative(Z, activation)
    return dZ @ W.T, X.T @ dZ, dZ.sum(axis=0)
""", "typo"),
    ("dense_backward", "relu derivative 1 at z = 0", """
def dense_backward(dA, X, W, b, activation):
    Z = X @ W + b
    g = (Z >= 0).astype(float) if activation == "relu" else activation_derivative(Z, activation)
    dZ = dA * g
    return dZ @ W.T, X.T @ dZ, dZ.sum(axis=0)
""", "relu'(0) is 0"),
    ("mlp_gradients", "sign flipped", """
_right = mlp_gradients
def mlp_gradients(X, y, weights, activations):
    return [-g for g in _right(X, y, weights, activations)]
""", "sign is flipped"),
    ("mlp_gradients", "sum instead of mean", """
_right = mlp_gradients
def mlp_gradients(X, y, weights, activations):
    return [len(X) * g for g in _right(X, y, weights, activations)]
""", "sum instead of the mean"),
    ("mlp_gradients", "derivative taken of the hidden output", """
def mlp_gradients(X, y, weights, activations):
    A, inputs, outputs = X, [], []
    for k, act in enumerate(activations):
        inputs.append(A)
        A = activate(A @ weights[2 * k] + weights[2 * k + 1], act)
        outputs.append(A)
    dZ = (A - np.reshape(y, A.shape)) / len(X)
    grads = [None] * len(weights)
    for k in reversed(range(len(activations))):
        if k < len(activations) - 1:
            dZ = dA * activation_derivative(outputs[k], activations[k])
        grads[2 * k], grads[2 * k + 1] = inputs[k].T @ dZ, dZ.sum(axis=0)
        dA = dZ @ weights[2 * k].T
    return grads
""", "taken of the output"),
    ("mlp_gradients", "hidden activation derivative missing", """
def mlp_gradients(X, y, weights, activations):
    A, inputs = X, []
    for k, act in enumerate(activations):
        inputs.append(A)
        A = activate(A @ weights[2 * k] + weights[2 * k + 1], act)
    dZ = (A - np.reshape(y, A.shape)) / len(X)
    grads = [None] * len(weights)
    for k in reversed(range(len(activations))):
        grads[2 * k], grads[2 * k + 1] = inputs[k].T @ dZ, dZ.sum(axis=0)
        dZ = dZ @ weights[2 * k].T
    return grads
""", "derivative is missing"),
    ("mlp_gradients", "transposed kernel gradients", """
_right = mlp_gradients
def mlp_gradients(X, y, weights, activations):
    return [g.T for g in _right(X, y, weights, activations)]
""", "transposed kernel"),
    ("mlp_gradients", "output sigmoid derivative applied twice", """
def mlp_gradients(X, y, weights, activations):
    A, inputs, zs = X, [], []
    for k, act in enumerate(activations):
        inputs.append(A)
        zs.append(A @ weights[2 * k] + weights[2 * k + 1])
        A = activate(zs[-1], act)
    dA = (A - np.reshape(y, A.shape)) / len(X)
    grads = [None] * len(weights)
    for k in reversed(range(len(activations))):
        dZ = dA * activation_derivative(zs[k], activations[k])
        grads[2 * k], grads[2 * k + 1] = inputs[k].T @ dZ, dZ.sum(axis=0)
        dA = dZ @ weights[2 * k].T
    return grads
""", "multiplied in again"),
    ("mlp_gradients", "y of shape (n,) broadcast against (n, 1)", """
def mlp_gradients(X, y, weights, activations):
    A, inputs, zs = X, [], []
    for k, act in enumerate(activations):
        inputs.append(A)
        zs.append(A @ weights[2 * k] + weights[2 * k + 1])
        A = activate(zs[-1], act)
    dZ = (A - y) / len(X)
    grads = [None] * len(weights)
    for k in reversed(range(len(activations))):
        if k < len(activations) - 1:
            dZ = dA * activation_derivative(zs[k], activations[k])
        grads[2 * k], grads[2 * k + 1] = inputs[k].T @ dZ, dZ.sum(axis=0)
        dA = dZ @ weights[2 * k].T
    return grads
""", "shape"),
    ("numerical_gradient", "one-sided difference", """
def numerical_gradient(f, x, h=1e-5):
    x = np.array(x, dtype=float)
    grad, f0 = np.zeros_like(x), f(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        grad[i] = (f(x + e) - f0) / h
    return grad
""", "one-sided difference"),
    ("numerical_gradient", "h instead of 2h", """
def numerical_gradient(f, x, h=1e-5):
    x = np.array(x, dtype=float)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        grad[i] = (f(x + e) - f(x - e)) / h
    return grad
""", "instead of 2h"),
    ("numerical_gradient", "h ignored", """
def numerical_gradient(f, x, h=1e-5):
    x = np.array(x, dtype=float)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = 1e-5
        grad[i] = (f(x + e) - f(x - e)) / 2e-5
    return grad
""", "ignored"),
    ("numerical_gradient", "x not restored", """
def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros(np.shape(x))
    for i in np.ndindex(x.shape):
        x[i] += h
        f_plus = f(x)
        x[i] -= 2 * h
        grad[i] = (f_plus - f(x)) / (2 * h)
    return grad
""", "in place"),
    ("numerical_gradient", "every entry moved at once", """
def numerical_gradient(f, x, h=1e-5):
    x = np.asarray(x, dtype=float)
    return np.full(x.shape, (f(x + h) - f(x - h)) / (2 * h))
""", "one entry at a time"),
    ("numerical_gradient", "flattened result", """
_right = numerical_gradient
def numerical_gradient(f, x, h=1e-5):
    return _right(f, x, h).ravel()
""", "shape"),
    ("gradient_descent", "sign flipped", """
def gradient_descent(grad, w_init, lr, n_steps, tol=None):
    w, history = np.array(w_init, dtype=float), []
    for _ in range(n_steps):
        w = w + lr * grad(w)
        history.append(w)
    return w, history
""", "sign is flipped"),
    ("gradient_descent", "the same array appended every step", """
def gradient_descent(grad, w_init, lr, n_steps, tol=None):
    w, history = np.array(w_init, dtype=float), []
    for _ in range(n_steps):
        step = lr * grad(w)
        w -= step
        history.append(w)
        if tol is not None and np.linalg.norm(step) < tol:
            break
    return w, history
""", "same array"),
    ("gradient_descent", "history starts with w_init", """
def gradient_descent(grad, w_init, lr, n_steps, tol=None):
    w = np.array(w_init, dtype=float)
    history = [w]
    for _ in range(n_steps):
        w = w - lr * grad(w)
        history.append(w)
    return w, history
""", "w_init too"),
    ("gradient_descent", "tol ignored", """
def gradient_descent(grad, w_init, lr, n_steps, tol=None):
    w, history = np.array(w_init, dtype=float), []
    for _ in range(n_steps):
        w = w - lr * grad(w)
        history.append(w)
    return w, history
""", "tol is ignored"),
    ("gradient_descent", "tol compared with the gradient's norm", """
def gradient_descent(grad, w_init, lr, n_steps, tol=None):
    w, history = np.array(w_init, dtype=float), []
    for _ in range(n_steps):
        g = grad(w)
        w = w - lr * g
        history.append(w)
        if tol is not None and np.linalg.norm(g) < tol:
            break
    return w, history
""", "gradient's norm"),
    ("gradient_descent", "w_init changed in place", """
def gradient_descent(grad, w_init, lr, n_steps, tol=None):
    w, history = w_init, []
    for _ in range(n_steps):
        step = lr * grad(w)
        w -= step
        history.append(w.copy())
        if tol is not None and np.linalg.norm(step) < tol:
            break
    return w, history
""", "in place"),
    ("gradient_descent", "learning rate not applied", """
def gradient_descent(grad, w_init, lr, n_steps, tol=None):
    w, history = np.array(w_init, dtype=float), []
    for _ in range(n_steps):
        w = w - grad(w)
        history.append(w)
    return w, history
""", "learning rate is not applied"),
]

# (exercise, how it differs from the reference, the student's cell)
ALTERNATIVES = [
    ("perceptron_gradients", "a loop over the examples, with the notebook's stable sigmoid", """
def perceptron_gradients(X, y, w0, w):
    n, m = X.shape
    dw0, dw = 0.0, np.zeros(m)
    for i in range(n):
        err = sigmoid(w0 + X[i] @ w) - y[i]
        dw0 += err / n
        dw += err * X[i] / n
    return dw0, dw
"""),
    ("perceptron_gradients", "means over the batch", """
def perceptron_gradients(X, y, w0, w):
    err = sigmoid(w0 + np.dot(X, w)) - y
    return float(np.mean(err)), np.mean(err[:, None] * X, axis=0)
"""),
    ("dense_backward", "einsum and its own table of derivatives", """
def dense_backward(dA, X, W, b, activation):
    Z = np.einsum("nm,md->nd", X, W) + b
    derivative = {
        "sigmoid": lambda z: np.exp(-np.abs(z)) / (1 + np.exp(-np.abs(z))) ** 2,
        "tanh": lambda z: 1 - np.tanh(z) ** 2,
        "relu": lambda z: np.where(z > 0, 1.0, 0.0),
        "linear": lambda z: np.ones_like(z),
    }[activation]
    dZ = dA * derivative(Z)
    return np.einsum("nd,md->nm", dZ, W), np.einsum("nm,nd->md", X, dZ), np.einsum("nd->d", dZ)
"""),
    ("dense_backward", "the derivative written with the output A = g(Z)", """
def dense_backward(dA, X, W, b, activation):
    Z = X @ W + b
    A = activate(Z, activation)
    if activation == "sigmoid":
        g = A * (1 - A)
    elif activation == "tanh":
        g = 1 - A ** 2
    elif activation == "relu":
        g = (A > 0) * 1.0
    else:
        g = 1.0
    dZ = dA * g
    return np.dot(dZ, W.T), np.dot(X.T, dZ), np.sum(dZ, axis=0)
"""),
    ("mlp_gradients", "dense_backward per hidden layer, from dJ/dz of the sigmoid output", """
def mlp_gradients(X, y, weights, activations):
    A, cache = X, []
    for k, act in enumerate(activations):
        cache.append(A)
        A = activate(A @ weights[2 * k] + weights[2 * k + 1], act)
    dZ = (A - np.reshape(y, A.shape)) / len(A)
    last = len(activations) - 1
    grads = [cache[last].T @ dZ, dZ.sum(axis=0)]
    dA = dZ @ weights[2 * last].T
    for k in reversed(range(last)):
        dA, dW, db = dense_backward(dA, cache[k], weights[2 * k], weights[2 * k + 1], activations[k])
        grads = [dW, db] + grads
    return grads
"""),
    ("mlp_gradients", "a recursive backward pass", """
def mlp_gradients(X, y, weights, activations):
    def backward(A_in, k):
        Z = A_in @ weights[2 * k] + weights[2 * k + 1]
        A = activate(Z, activations[k])
        if k == len(activations) - 1:
            dZ = (A - np.asarray(y).reshape(A.shape)) / A.shape[0]
            rest = []
        else:
            dA, rest = backward(A, k + 1)
            dZ = dA * activation_derivative(Z, activations[k])
        return dZ @ weights[2 * k].T, [A_in.T @ dZ, dZ.sum(axis=0)] + rest
    return backward(X, 0)[1]
"""),
    ("numerical_gradient", "unit vectors over the flattened array", """
def numerical_gradient(f, x, h=1e-5):
    x = np.asarray(x, dtype=float)
    grad = np.empty(x.size)
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = h
        e = e.reshape(x.shape)
        grad[i] = (f(x + e) - f(x - e)) / (2 * h)
    return grad.reshape(x.shape)
"""),
    ("numerical_gradient", "perturbs the caller's x in place and restores it", """
def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i].copy()
        x[i] = old + h
        up = f(x)
        x[i] = old - h
        down = f(x)
        x[i] = old
        grad[i] = (up - down) / h / 2
    return grad
"""),
    ("gradient_descent", "tests the step before applying it, in a while loop", """
def gradient_descent(grad, w_init, lr, n_steps, tol=None):
    w = np.copy(w_init).astype(float)
    history, step_count = [], 0
    while step_count < n_steps:
        step = lr * grad(w)
        if tol is not None and np.sqrt(np.sum(step ** 2)) < tol:
            break
        w = w - step
        history.append(w)
        step_count += 1
    return w, history
"""),
    ("gradient_descent", "updates a copy in place and appends copies", """
def gradient_descent(grad, w_init, lr, n_steps, tol=None):
    w = np.array(w_init, dtype=float, copy=True)
    history = []
    for _ in range(n_steps):
        step = lr * grad(w)
        w -= step
        history.append(w.copy())
        if tol is not None and np.linalg.norm(step.ravel()) < tol:
            break
    return w, history
"""),
]


MISTAKES.append(("perceptron_gradients", "a naive 1 / (1 + np.exp(-z)) inside, in a loop over the examples", """
def perceptron_gradients(X, y, w0, w):
    n, m = X.shape
    dw0, dw = 0.0, np.zeros(m)
    for i in range(n):
        err = 1 / (1 + np.exp(-(w0 + X[i] @ w))) - y[i]
        dw0 += err / n
        dw += err * X[i] / n
    return dw0, dw
""", "RuntimeWarning: overflow"))


PERCEPTRON_BUT_LARGE, DENSE_BUT_LARGE, MLP_BUT_LARGE = (
    points_without(A, name, f"test_{name}_large_pre_activations")
    for name in ("perceptron_gradients", "dense_backward", "mlp_gradients"))

FINDINGS = [
    Finding("gradient_descent", "history returned as one stacked array keeps every point", """
_right_descent = gradient_descent

def gradient_descent(grad, w_init, lr, n_steps, tol=None):
    w, history = _right_descent(grad, w_init, lr, n_steps, tol)
    return w, np.array(history)
""", kept=(3, 3)),
    Finding("perceptron_gradients", "y_hat clipped at 1e-10 inside the chain: loses points, named", """
def perceptron_gradients(X, y, w0, w):
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    p = sigmoid(w0 + X @ w)
    c = np.clip(p, 1e-10, 1 - 1e-10)
    dz = -(y / c - (1 - y) / (1 - c)) * p * (1 - p) / len(y)
    return dz.sum(), X.T @ dz
""", kept=(0, 2.99), shows=("clipped to [1e-10",), mistake="inside the chain"),
    # no RuntimeWarning on any finite input: at pre-activations of +/-1000 (+/-100 in float32) y_hat is exactly
    # 0 or 1, and the literal chain rule divides 0 by 0 there (NaN): charged once, by the large-input check,
    # with the warning's mistake named (it kept every point before: its z stopped at +/-30)
    Finding("perceptron_gradients", "the explicit chain without clipping: charged once, at saturation", """
def perceptron_gradients(X, y, w0, w):
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    p = sigmoid(w0 + X @ w)
    dz = -(y / p - (1 - y) / (1 - p)) * p * (1 - p) / len(y)
    return dz.sum(), X.T @ dz
""", kept=(PERCEPTRON_BUT_LARGE, PERCEPTRON_BUT_LARGE),
            shows=("RuntimeWarning",), mistake="RuntimeWarning: "),
    Finding("perceptron_gradients", "the literal chain rule: charged once, at saturation", """
def perceptron_gradients(X, y, w0, w):
    z = w0 + X @ w
    y_hat = sigmoid(z)
    dJ_dyhat = (-(y / y_hat) + (1 - y) / (1 - y_hat)) / len(y)
    dyhat_dz = y_hat * (1 - y_hat)
    dz = dJ_dyhat * dyhat_dz
    return np.sum(dz), dz @ X
""",
            kept=(PERCEPTRON_BUT_LARGE, PERCEPTRON_BUT_LARGE), shows=("RuntimeWarning",), mistake="RuntimeWarning: "),
    Finding("dense_backward", "tanh' as 1 / cosh(clip(z, -300, 300))**2: cosh overflows in float32", """
def dense_backward(dA, X, W, b, activation):
    Z = np.einsum("nm,md->nd", X, W) + b
    derivative = {
        "sigmoid": lambda z: np.exp(-np.abs(z)) / (1 + np.exp(-np.abs(z))) ** 2,
        "tanh": lambda z: 1 / np.cosh(np.clip(z, -300, 300)) ** 2,
        "relu": lambda z: np.where(z > 0, 1.0, 0.0),
        "linear": lambda z: np.ones_like(z),
    }[activation]
    dZ = dA * derivative(Z)
    return np.einsum("nd,md->nm", dZ, W), np.einsum("nm,nd->md", X, dZ), np.einsum("nd->d", dZ)
""",
            kept=(DENSE_BUT_LARGE, DENSE_BUT_LARGE), shows=("RuntimeWarning: overflow",), mistake="overflow"),
    Finding("mlp_gradients", "the literal BCE derivative (A - y) / (A (1 - A)): 0/0 at saturation", """
def mlp_gradients(X, y, weights, activations):
    A, cache = X, []
    for k, act in enumerate(activations):
        cache.append(A)
        A = activate(A @ weights[2 * k] + weights[2 * k + 1], act)
    y = y.reshape(-1, 1)
    dA = (A - y) / (A * (1 - A)) / len(y)
    grads = []
    for k in reversed(range(len(activations))):
        dA, dW, db = dense_backward(dA, cache[k], weights[2 * k], weights[2 * k + 1], activations[k])
        grads = [dW, db] + grads
    return grads
""",
            kept=(MLP_BUT_LARGE, MLP_BUT_LARGE), shows=("RuntimeWarning",), mistake="RuntimeWarning: "),
    Finding("mlp_gradients", "central differences (off by ~1e-7): no transposed kernel, no shape hint", """
def mlp_gradients(X, y, weights, activations):
    def J():
        A = np.asarray(X, dtype=float)
        for k, g in enumerate(activations):
            A = activate(A @ weights[2 * k] + weights[2 * k + 1], g)
        p = np.clip(A, 1e-7, 1 - 1e-7)
        t = np.reshape(np.asarray(y, dtype=float), p.shape)
        return -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p))
    grads = []
    for W in weights:
        W0 = np.array(W, dtype=float)
        G = np.zeros_like(W0)
        for i in np.ndindex(W0.shape):
            W[i] = W0[i] + 1e-5
            up = J()
            W[i] = W0[i] - 1e-5
            down = J()
            W[i] = W0[i]
            G[i] = (up - down) / 2e-5
        grads.append(G)
    return grads
""", kept=(0, 3.99), hides=("transposed kernel", "must have the shape"), mistake=""),
]


class TestCatalogue(Catalogue):
    assignment, mistakes, alternatives, findings = A, MISTAKES, ALTERNATIVES, FINDINGS

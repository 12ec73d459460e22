"""The catalogue of a01 mistakes and correct alternatives, graded by the real hidden checks."""
from tests.catalogue import Catalogue, Finding, reference_edit

A = "a01_perceptron"

# (exercise, what the mistake is, the student's cell, words the feedback must contain)
MISTAKES = [
    ("sigmoid", "sign of the exponent flipped", """
def sigmoid(z):
    return 1 / (1 + np.exp(z))
""", "sign of the exponent"),
    ("sigmoid", "naive formula overflows at -1000", """
def sigmoid(z):
    return 1 / (1 + np.exp(-np.asarray(z, dtype=float)))
""", "RuntimeWarning"),
    ("sigmoid", "missing 1 + in the denominator", """
def sigmoid(z):
    return 1 / np.exp(-np.asarray(z, dtype=float))
""", "1 +"),
    ("sigmoid", "returns a list for arrays", """
def sigmoid(z):
    return [1 / (1 + np.exp(-v)) for v in np.ravel(z)] if np.ndim(z) else 1 / (1 + np.exp(-z))
""", "shape"),
    ("sigmoid", "clips z to [-10, 10], wrong in the tails", """
def sigmoid(z):
    z = np.clip(z, -10, 10)
    return 1 / (1 + np.exp(-z))
""", "Called"),
    ("sigmoid_derivative", "derivative taken at sigmoid(z)", """
def sigmoid_derivative(z):
    s = sigmoid(sigmoid(z))
    return s * (1 - s)
""", "at sigmoid(z) instead of z"),
    ("sigmoid_derivative", "formula applied to z", """
def sigmoid_derivative(z):
    return z * (1 - z)
""", "applied to z itself"),
    ("sigmoid_derivative", "missing (1 - s)", """
def sigmoid_derivative(z):
    return sigmoid(z)
""", "factor is missing"),
    ("sigmoid_derivative", "naive exp overflows", """
def sigmoid_derivative(z):
    z = np.asarray(z, dtype=float)
    return np.exp(-z) / (1 + np.exp(-z)) ** 2
""", "RuntimeWarning"),
    ("tanh", "sigmoid instead of tanh", """
def tanh(z):
    return sigmoid(z)
""", "sigmoid, not tanh"),
    ("tanh", "naive formula gives nan at 1000", """
def tanh(z):
    z = np.asarray(z, dtype=float)
    return (np.exp(z) - np.exp(-z)) / (np.exp(z) + np.exp(-z))
""", "RuntimeWarning"),
    ("tanh", "sinh", """
def tanh(z):
    return (np.exp(z) - np.exp(-z)) / 2
""", "sinh"),
    ("tanh", "sign flipped", """
def tanh(z):
    return -np.tanh(z)
""", "sign is flipped"),
    ("tanh_derivative", "the slide's typo", """
def tanh_derivative(z):
    t = tanh(z)
    return t * (1 - t)
""", "typo"),
    ("tanh_derivative", "square missing", """
def tanh_derivative(z):
    return 1 - tanh(z)
""", "square is missing"),
    ("tanh_derivative", "derivative taken at tanh(z)", """
def tanh_derivative(z):
    return 1 - tanh(tanh(z)) ** 2
""", "at tanh(z) instead of z"),
    ("tanh_derivative", "formula applied to z", """
def tanh_derivative(z):
    return 1 - np.asarray(z) ** 2
""", "applied to z itself"),
    ("relu", "absolute value", """
def relu(z):
    return np.abs(z)
""", "absolute value"),
    ("relu", "np.max reduces the array", """
def relu(z):
    return np.max(z, 0)
""", "np.maximum"),
    ("relu", "the mask instead of the value", """
def relu(z):
    return (np.asarray(z) > 0).astype(float)
""", "the derivative"),
    ("relu", "min instead of max", """
def relu(z):
    return np.minimum(z, 0)
""", "min(0, z)"),
    ("relu_derivative", "1 at z = 0", reference_edit(A, "relu_derivative", ("(z > 0)", "(z >= 0)")), "z = 0"),
    ("relu_derivative", "relu instead of its derivative", """
def relu_derivative(z):
    return relu(z)
""", "relu(z) itself"),
    ("relu_derivative", "mask reversed", """
def relu_derivative(z):
    return (np.asarray(z) <= 0).astype(float)
""", "reversed"),
    ("relu_derivative", "returns booleans of the wrong shape for scalars", """
def relu_derivative(z):
    return np.atleast_1d(np.asarray(z) > 0).astype(float)
""", "scalar"),
    ("perceptron_forward", "bias missing", reference_edit(A, "perceptron_forward", ("z = w0 + np.asarray(X)", "z = np.asarray(X)")),
     "bias w0 is missing"),
    ("perceptron_forward", "bias after the activation", """
def perceptron_forward(X, w0, w, g=sigmoid):
    return g(np.asarray(X) @ w) + w0
""", "after the activation"),
    ("perceptron_forward", "always the sigmoid", """
def perceptron_forward(X, w0, w, g=sigmoid):
    return sigmoid(w0 + np.asarray(X) @ w)
""", "g argument"),
    ("perceptron_forward", "activation not applied", """
def perceptron_forward(X, w0, w, g=sigmoid):
    return w0 + np.asarray(X) @ w
""", "not applied"),
    ("perceptron_forward", "one example returned as a (1,) array", """
def perceptron_forward(X, w0, w, g=sigmoid):
    X = np.atleast_2d(X)
    return g(w0 + X @ w)
""", "scalar"),
]

# (exercise, how it differs from the reference, the student's cell)
ALTERNATIVES = [
    ("sigmoid", "scipy-free expit via tanh", """
def sigmoid(z):
    return 0.5 * (1 + np.tanh(0.5 * np.asarray(z, dtype=np.result_type(np.asarray(z), 1.0))))
"""),
    ("sigmoid", "piecewise with boolean masks", """
def sigmoid(z):
    z = np.array(z, dtype=np.result_type(np.asarray(z), 1.0))
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1 / (1 + np.exp(-z[pos]))
    e = np.exp(z[~pos])
    out[~pos] = e / (1 + e)
    return out
"""),
    ("sigmoid_derivative", "via exp(-|z|)", """
def sigmoid_derivative(z):
    e = np.exp(-np.abs(np.asarray(z, dtype=np.result_type(np.asarray(z), 1.0))))
    return e / (1 + e) ** 2
"""),
    ("sigmoid_derivative", "with sigmoid(-z)", """
def sigmoid_derivative(z):
    return sigmoid(z) * sigmoid(-np.asarray(z))
"""),
    ("tanh", "np.tanh", """
def tanh(z):
    return np.tanh(z)
"""),
    ("tanh", "from the sigmoid", """
def tanh(z):
    return 2 * sigmoid(2 * np.asarray(z)) - 1
"""),
    ("tanh_derivative", "np.tanh squared", """
def tanh_derivative(z):
    return 1 - np.tanh(z) ** 2
"""),
    ("tanh_derivative", "1 / cosh^2 without overflow", """
def tanh_derivative(z):
    t = np.tanh(z)
    return (1 - t) * (1 + t)
"""),
    ("relu", "where", """
def relu(z):
    z = np.asarray(z, dtype=np.result_type(np.asarray(z), 1.0))
    return np.where(z > 0, z, 0.0).astype(z.dtype)
"""),
    ("relu", "z times the mask", """
def relu(z):
    z = np.asarray(z, dtype=np.result_type(np.asarray(z), 1.0))
    return z * (z > 0)
"""),
    ("relu_derivative", "where", """
def relu_derivative(z):
    return np.where(np.asarray(z) > 0, 1.0, 0.0)
"""),
    ("relu_derivative", "heaviside with 0 at 0", """
def relu_derivative(z):
    return np.heaviside(z, 0.0)
"""),
    ("perceptron_forward", "np.dot", """
def perceptron_forward(X, w0, w, g=sigmoid):
    return g(np.dot(X, w) + w0)
"""),
    ("perceptron_forward", "explicit sum over features", """
def perceptron_forward(X, w0, w, g=sigmoid):
    X = np.asarray(X)
    z = w0 + (X * np.asarray(w)).sum(axis=-1)
    return g(z)
"""),
]


# Variants whose points, message and named mistake are pinned down (the contract: values and shape
# are graded; any real dtype with the right values passes; a number for a number).
FINDINGS = [
    Finding("relu_derivative", "booleans z > 0 are the right 0/1 values", """
def relu_derivative(z):
    return np.asarray(z) > 0
""", kept=(1, 1)),
    Finding("relu_derivative", "integers 0/1", """
def relu_derivative(z):
    return (np.asarray(z) > 0).astype(int)
""", kept=(1, 1)),
    Finding("relu_derivative", "a Python bool for a Python number", """
def relu_derivative(z):
    return z > 0 if np.ndim(z) == 0 else (np.asarray(z) > 0).astype(float)
""", kept=(1, 1)),
    Finding("sigmoid", "float64 results for float32 inputs", """
def sigmoid(z):
    z = np.asarray(z, dtype=np.float64)
    return np.exp(-np.logaddexp(0, -z))
""", kept=(2, 2)),
    Finding("sigmoid", "a 0-d array for a Python number", """
def sigmoid(z):
    z = np.asarray(z)
    return np.exp(-np.logaddexp(0, -z)).astype(np.result_type(z, 1.0))
""", kept=(2, 2)),
    Finding("sigmoid", "complex results are rejected with their dtype", """
def sigmoid(z):
    return np.exp(-np.logaddexp(0, -np.asarray(z))).astype(complex)
""", kept=(0, 1.5), shows=("dtype complex128",)),
    Finding("sigmoid", "z clipped to +/-500 overflows in float32", """
def sigmoid(z):
    z = np.clip(z, -500, 500)
    return 1 / (1 + np.exp(-z))
""", kept=(0, 1.99), shows=("RuntimeWarning", "float32")),
    Finding("sigmoid", "z clipped to +/-709 overflows in float32", """
def sigmoid(z):
    z = np.clip(z, -709, 709)
    return 1 / (1 + np.exp(-z))
""", kept=(0, 1.99), shows=("RuntimeWarning", "float32")),
    Finding("sigmoid_derivative", "z clipped to +/-500 overflows in float32", """
def sigmoid_derivative(z):
    z = np.clip(z, -500, 500)
    s = 1 / (1 + np.exp(-z))
    return s * (1 - s)
""", kept=(0, 1.99), shows=("RuntimeWarning", "float32")),
    Finding("tanh", "exp of z clipped to +/-300 overflows in float32", """
def tanh(z):
    z = np.clip(z, -300, 300)
    return (np.exp(z) - np.exp(-z)) / (np.exp(z) + np.exp(-z))
""", kept=(0, 0.99), shows=("RuntimeWarning", "float32")),
    Finding("relu", "absolute value: errors shown without a relative error over a zero", """
def relu(z):
    return np.abs(z)
""", kept=(0, 0.99), shows=("absolute value",), hides=("e+300", "np.float32(np.float32")),
    Finding("perceptron_forward", "float32 numbers shown once as np.float32", """
def perceptron_forward(X, w0, w, g=sigmoid):
    return g(np.asarray(X) @ w)
""", kept=(0, 2.99), hides=("np.float32(np.float32", "e+300"), mistake="bias w0 is missing"),
]


class TestCatalogue(Catalogue):
    assignment, mistakes, alternatives, findings = A, MISTAKES, ALTERNATIVES, FINDINGS

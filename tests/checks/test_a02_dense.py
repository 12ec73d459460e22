"""The catalogue of a02 mistakes and correct alternatives, graded by the real hidden checks."""
from tests.catalogue import Catalogue, Finding

A = "a02_dense"


def _layer(init="""
        rng = np.random.default_rng(seed)
        limit = np.sqrt(6 / (input_dim + output_dim))
        self.W = rng.uniform(-limit, limit, size=(input_dim, output_dim))
        self.b = np.zeros(output_dim)
""", call="""
        return dense_forward(X, self.W, self.b, self.activation)
""", get="""
        return [self.W.copy(), self.b.copy()]
""", set_="""
        self.W, self.b = np.array(weights[0]), np.array(weights[1])
"""):
    """A DenseLayer cell with one part replaced by a student's version."""
    return f"""
class DenseLayer:
    def __init__(self, input_dim, output_dim, activation="sigmoid", seed=None):
        self.activation = activation
{init.strip(chr(10))}

    def __call__(self, X):
{call.strip(chr(10))}

    def get_weights(self):
{get.strip(chr(10))}

    def set_weights(self, weights):
{set_.strip(chr(10))}
"""


# (exercise, what the mistake is, the student's cell, words the feedback must contain)
MISTAKES = [
    ("dense_forward", "transposed kernel", """
def dense_forward(X, W, b, activation):
    g = {"sigmoid": sigmoid, "tanh": tanh, "relu": relu, "linear": lambda z: z}.get(activation, activation)
    return g(np.asarray(X) @ np.asarray(W).T + b)
""", "X @ W.T raises exactly this error"),
    ("dense_forward", "bias missing", """
def dense_forward(X, W, b, activation):
    g = {"sigmoid": sigmoid, "tanh": tanh, "relu": relu, "linear": lambda z: z}.get(activation, activation)
    return g(np.asarray(X) @ W)
""", "bias b is missing"),
    ("dense_forward", "bias added after the activation", """
def dense_forward(X, W, b, activation):
    g = {"sigmoid": sigmoid, "tanh": tanh, "relu": relu, "linear": lambda z: z}.get(activation, activation)
    return g(np.asarray(X) @ W) + b
""", "after the activation"),
    ("dense_forward", "always the sigmoid, as in the lecture's snippet", """
def dense_forward(X, W, b, activation):
    return sigmoid(np.asarray(X) @ W + b)
""", "instead of the activation asked for"),
    ("dense_forward", "a callable activation is ignored", """
def dense_forward(X, W, b, activation):
    Z = np.asarray(X) @ W + b
    if activation == "sigmoid":
        return sigmoid(Z)
    if activation == "tanh":
        return tanh(Z)
    if activation == "relu":
        return relu(Z)
    return Z
""", "activation is not applied"),
    ("dense_forward", "naive sigmoid overflows for large pre-activations", """
def dense_forward(X, W, b, activation):
    Z = np.asarray(X) @ W + b
    g = {"sigmoid": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh, "relu": relu,
         "linear": lambda z: z}.get(activation, activation)
    return g(Z)
""", "RuntimeWarning"),
    ("dense_forward", "output transposed", """
def dense_forward(X, W, b, activation):
    g = {"sigmoid": sigmoid, "tanh": tanh, "relu": relu, "linear": lambda z: z}.get(activation, activation)
    return g(np.asarray(W).T @ np.asarray(X).T + np.asarray(b)[:, None])
""", "transposed"),
    ("DenseLayer", "transposed kernel", _layer(init="""
        rng = np.random.default_rng(seed)
        limit = np.sqrt(6 / (input_dim + output_dim))
        self.W = rng.uniform(-limit, limit, size=(output_dim, input_dim))
        self.b = np.zeros(output_dim)
""", call="""
        return dense_forward(X, self.W.T, self.b, self.activation)
"""), "kernel is transposed"),
    ("DenseLayer", "the lecture's bias of shape (1, output_dim)", _layer(init="""
        rng = np.random.default_rng(seed)
        limit = np.sqrt(6 / (input_dim + output_dim))
        self.W = rng.uniform(-limit, limit, size=(input_dim, output_dim))
        self.b = np.zeros((1, output_dim))
"""), "one-dimensional"),
    ("DenseLayer", "He-uniform limit sqrt(6 / input_dim)", _layer(init="""
        rng = np.random.default_rng(seed)
        limit = np.sqrt(6 / input_dim)
        self.W = rng.uniform(-limit, limit, size=(input_dim, output_dim))
        self.b = np.zeros(output_dim)
"""), "He uniform"),
    ("DenseLayer", "Glorot-normal instead of Glorot-uniform", _layer(init="""
        rng = np.random.default_rng(seed)
        self.W = rng.normal(0, np.sqrt(2 / (input_dim + output_dim)), size=(input_dim, output_dim))
        self.b = np.zeros(output_dim)
"""), "normal"),
    ("DenseLayer", "uniform on [0, limit]", _layer(init="""
        rng = np.random.default_rng(seed)
        limit = np.sqrt(6 / (input_dim + output_dim))
        self.W = rng.uniform(0, limit, size=(input_dim, output_dim))
        self.b = np.zeros(output_dim)
"""), "not [0, limit]"),
    ("DenseLayer", "seed ignored", _layer(init="""
        rng = np.random.default_rng()
        limit = np.sqrt(6 / (input_dim + output_dim))
        self.W = rng.uniform(-limit, limit, size=(input_dim, output_dim))
        self.b = np.zeros(output_dim)
"""), "seed is ignored"),
    ("DenseLayer", "activation ignored in __call__", _layer(call="""
        return dense_forward(X, self.W, self.b, "sigmoid")
"""), "activation argument is ignored"),
    ("DenseLayer", "get_weights in the wrong order", _layer(get="""
        return [self.b, self.W]
"""), "reversed"),
    ("mlp_forward", "no activation on the output layer", """
def mlp_forward(X, weights, activations):
    A = X
    n_layers = len(activations)
    for l in range(n_layers):
        Z = A @ weights[2 * l] + weights[2 * l + 1]
        A = dense_forward(A, weights[2 * l], weights[2 * l + 1], activations[l]) if l < n_layers - 1 else Z
    return A
""", "last layer's activation is not applied"),
    ("mlp_forward", "activations in reverse order", """
def mlp_forward(X, weights, activations):
    A = X
    for l, g in enumerate(reversed(activations)):
        A = dense_forward(A, weights[2 * l], weights[2 * l + 1], g)
    return A
""", "reverse order"),
    ("mlp_forward", "X fed to every layer", """
def mlp_forward(X, weights, activations):
    A = X
    for l, g in enumerate(activations):
        A = dense_forward(X, weights[2 * l], weights[2 * l + 1], g)
    return A
""", "previous layer's output"),
    ("mlp_forward", "first activation for every layer", """
def mlp_forward(X, weights, activations):
    A = X
    for l in range(len(activations)):
        A = dense_forward(A, weights[2 * l], weights[2 * l + 1], activations[0])
    return A
""", "first activation is used for every layer"),
    ("mlp_forward", "returns every layer's output", """
def mlp_forward(X, weights, activations):
    outputs = [X]
    for l, g in enumerate(activations):
        outputs.append(dense_forward(outputs[-1], weights[2 * l], weights[2 * l + 1], g))
    return outputs[1:]
""", "Expected: one array"),
    ("mlp_forward", "weights indexed by layer, not by pair", """
def mlp_forward(X, weights, activations):
    A = X
    for l, g in enumerate(activations):
        A = dense_forward(A, weights[l], weights[l + 1], g)
    return A
""", "weights[2 l]"),
]

# (exercise, how it differs from the reference, the student's cell)
ALTERNATIVES = [
    ("dense_forward", "einsum and an if-chain with callable()", """
def dense_forward(X, W, b, activation):
    Z = np.einsum("nm,md->nd", np.asarray(X), np.asarray(W)) + np.asarray(b)[None, :]
    if callable(activation):
        return activation(Z)
    if activation == "sigmoid":
        return 0.5 * (1 + np.tanh(0.5 * Z))
    if activation == "tanh":
        return np.tanh(Z)
    if activation == "relu":
        return np.where(Z > 0, Z, 0)
    if activation == "linear":
        return Z
    raise ValueError(activation)
"""),
    ("dense_forward", "one unit at a time, like the lecture's z_j formula", """
def dense_forward(X, W, b, activation):
    X, W, b = np.asarray(X), np.asarray(W), np.asarray(b)
    Z = np.stack([b[j] + (X * W[:, j]).sum(axis=1) for j in range(W.shape[1])], axis=1)
    names = {"sigmoid": sigmoid, "tanh": tanh, "relu": relu, "linear": lambda z: z}
    g = names[activation] if isinstance(activation, str) else activation
    return g(Z)
"""),
    ("DenseLayer", "RandomState, float32 weights, weights kept in a list", """
class DenseLayer:
    def __init__(self, input_dim, output_dim, activation="sigmoid", seed=None):
        limit = (6.0 / (input_dim + output_dim)) ** 0.5
        W = np.random.RandomState(seed).uniform(-limit, limit, (input_dim, output_dim)).astype(np.float32)
        self._weights = [W, np.zeros(output_dim, dtype=np.float32)]
        self.activation = activation

    @property
    def W(self):
        return self._weights[0]

    @property
    def b(self):
        return self._weights[1]

    def __call__(self, X):
        return dense_forward(X, self.W, self.b, self.activation)

    def get_weights(self):
        return [w.copy() for w in self._weights]

    def set_weights(self, weights):
        self._weights = [np.array(w) for w in weights]
"""),
    ("DenseLayer", "rng.random scaled, forward written inline", """
class DenseLayer:
    def __init__(self, input_dim, output_dim, activation="sigmoid", seed=None):
        rng = np.random.default_rng(seed)
        limit = np.sqrt(6 / (input_dim + output_dim))
        self.W = (2 * rng.random((input_dim, output_dim)) - 1) * limit
        self.b = np.zeros((output_dim,))
        self.g = {"sigmoid": sigmoid, "tanh": tanh, "relu": relu, "linear": lambda z: z}.get(activation, activation)

    def __call__(self, X):
        return self.g(np.dot(X, self.W) + self.b)

    def get_weights(self):
        return [np.copy(self.W), np.copy(self.b)]

    def set_weights(self, weights):
        W, b = weights
        self.W = np.asarray(W).copy()
        self.b = np.asarray(b).copy()
"""),
    ("mlp_forward", "zip over kernels, biases and activations", """
def mlp_forward(X, weights, activations):
    out = X
    for W, b, g in zip(weights[0::2], weights[1::2], activations):
        out = dense_forward(out, W, b, g)
    return out
"""),
    ("mlp_forward", "recursion over layers", """
def mlp_forward(X, weights, activations):
    if not activations:
        return X
    A = dense_forward(X, weights[0], weights[1], activations[0])
    return mlp_forward(A, weights[2:], activations[1:])
"""),
    ("mlp_forward", "a list of DenseLayer objects", """
def mlp_forward(X, weights, activations):
    layers = []
    for l, g in enumerate(activations):
        layer = DenseLayer(*weights[2 * l].shape, activation=g, seed=0)
        layer.set_weights(weights[2 * l: 2 * l + 2])
        layers.append(layer)
    for layer in layers:
        X = layer(X)
    return X
"""),
]


ROW_BIAS = _layer(init="""
        rng = np.random.default_rng(seed)
        limit = np.sqrt(6 / (input_dim + output_dim))
        self.W = rng.uniform(-limit, limit, size=(input_dim, output_dim))
        self.b = np.zeros((1, output_dim))
""")
KEEPS_ARRAYS = _layer(set_="""
        self.W, self.b = weights
""")
MISTAKES.append(("DenseLayer", "set_weights keeps the caller's arrays", KEEPS_ARRAYS, "not a copy"))

FINDINGS = [
    # docs/curriculum.md: the bias is (output_dim,), as Keras'; the lecture's (1, d) row is charged once,
    # by the attributes check (weight 1 of 7); before, 3 of 5 checks (0.86/3), Glorot's among them
    Finding("DenseLayer", "the lecture's (1, output_dim) bias: charged by the attributes check alone", ROW_BIAS,
            kept=(3 - 3 / 7, 3 - 3 / 7), shows=("one-dimensional",), hides=("Glorot",), mistake="one-dimensional"),
    # the contract's copy rule, charged once by the check of set_weights (weight 2 of 7)
    Finding("DenseLayer", "set_weights keeps the caller's arrays: charged once", KEEPS_ARRAYS,
            kept=(3 - 6 / 7, 3 - 6 / 7), shows=("not a copy",)),
    Finding("dense_forward", "its own sigmoid clipped to +/-500 overflows in float32", """
def dense_forward(X, W, b, activation):
    Z = X @ W + b
    if callable(activation):
        return activation(Z)
    if activation == "sigmoid":
        return 1 / (1 + np.exp(-np.clip(Z, -500, 500)))
    return {"tanh": np.tanh, "relu": lambda z: np.maximum(z, 0), "linear": lambda z: z}[activation](Z)
""", kept=(0, 2.99), shows=("RuntimeWarning", "float32")),
    Finding("dense_forward", "a missing 'tanh' branch raises: the student's exception, no guessed mistake", """
def dense_forward(X, W, b, activation):
    Z = X @ W + b
    if activation == "sigmoid":
        A = sigmoid(Z)
    elif activation == "relu":
        A = np.maximum(Z, 0)
    elif activation == "linear":
        A = Z
    elif callable(activation):
        A = activation(Z)
    return A
""", kept=(0, 2.99), shows=("UnboundLocalError",), hides=("transposed kernel", "X @ W.T"), mistake=""),
    Finding("dense_forward", "float64 results for float32 inputs keep every point", """
def dense_forward(X, W, b, activation):
    Z = np.asarray(X, dtype=np.float64) @ np.asarray(W, dtype=np.float64) + np.asarray(b, dtype=np.float64)
    if callable(activation):
        return activation(Z)
    return {"sigmoid": lambda z: np.exp(-np.logaddexp(0, -z)), "tanh": np.tanh,
            "relu": lambda z: np.maximum(z, 0), "linear": lambda z: z}[activation](Z)
""", kept=(3, 3)),
]


class TestCatalogue(Catalogue):
    assignment, mistakes, alternatives, findings = A, MISTAKES, ALTERNATIVES, FINDINGS

"""Hidden checks of a04_backprop: gradient descent and backpropagation.

Gradients are compared with the reference and with `tf.GradientTape` on the equivalent Keras
model built in float64 (its layers and loss get dtype="float64"; Keras' global floatx is never
touched), so the Keras comparisons can use tolerances near 1e-10. Every cache a check needs is
built from a real forward pass of the inputs it passes; kernels are never square, so a
transposed kernel cannot pass.
"""
import numpy as np

from solutions import a04_backprop as ref

from ..student import StudentFailure, describe
from .kit import Mistake, exercise, expect, expect_close, fail, load_keras, load_tensorflow, plural
from .recorded import keras_result

ACTIVATIONS = ("sigmoid", "tanh", "relu", "linear")


# float64 against float64 Keras: both compute the same sums in a different order (errors ~1e-15).
KERAS64 = {"rtol": 1e-8, "atol": 1e-10}


def _expect_parts(got, expected, *, call, parts, mistakes=(), shape_hints=None, **tolerances):
    """`got` is a tuple or list of len(expected) arrays, each close to its expected part.

    Args:
        mistakes: (explanation, values) pairs, values a tuple of one wrong value per part.
        shape_hints: one hint per part, shown when that part's shape is wrong ("" for none).
    """
    shape_hints = shape_hints or [""] * len(parts)
    if not isinstance(got, (tuple, list)) or len(got) != len(expected):
        kind = "nothing (None): did you forget to return?" if got is None else describe(got)
        if isinstance(got, (tuple, list)):
            kind = f"a {type(got).__name__} of {plural(len(got), 'value')}"
        fail(called=call, expected=f"{len(expected)} values ({', '.join(parts)})", received=kind)
    for i, part in enumerate(parts):
        expect_close(got[i], expected[i], call=f"{call}, its {part}",
                     mistakes=[Mistake(text, values[i]) for text, values in mistakes], shape_hint=shape_hints[i],
                     **tolerances)


# -- perceptron_gradients -----------------------------------------------------------------------

def _perceptron_variants(X, y, w0, w):
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    n = len(y)
    z = w0 + X @ w
    p = ref.sigmoid(z)
    ds = ref.sigmoid(p) * (1 - ref.sigmoid(p))

    def out(dz):
        return dz.sum(), X.T @ dz

    return [
        ("the sign is flipped: dJ/dz = (y_hat - y) / n, and gradient descent subtracts it later.",
         out((y - p) / n)),
        (f"the gradient is exactly n = {n} times too large: the sum instead of the mean, the 1/n of "
         "the mean loss is missing.", out(p - y)),
        ("the 1/n is applied twice: dJ/dz = (y_hat - y) / n.", out((p - y) / n ** 2)),
        ("the sigmoid's derivative is multiplied in a second time: dJ/dy_hat * dy_hat/dz simplifies "
         "to (y_hat - y) / n, which already contains sigma'(z).", out((p - y) * p * (1 - p) / n)),
        ("this is the gradient of the mean squared error, not of the binary cross-entropy.",
         out(2 * (p - y) * p * (1 - p) / n)),
        ("the activation's derivative is taken of the output, sigma'(y_hat), instead of at z.",
         out((p - y) / (p * (1 - p)) * ds / n)),
    ]


def _check_perceptron(perceptron_gradients, X, y, w0, w, call):
    got = perceptron_gradients(X, y, w0, w)
    _expect_parts(got, ref.perceptron_gradients(X, y, w0, w), call=call, parts=("dJ/dw0", "dJ/dw"),
                  mistakes=_perceptron_variants(X, y, w0, w),
                  shape_hints=("dJ/dw0 is a number: the sum over the batch of dJ/dz_i.",
                               "dJ/dw has w's shape (m,): X^T @ dJ/dz."))


@exercise("perceptron_gradients", weight=2)
def test_perceptron_gradients_hand_values(perceptron_gradients):
    """the lecture's perceptron (w0 = 1, w = [3, -2], x = [-1, 2], y = 1) and an all-zero start"""
    X, y, w = np.array([[-1.0, 2.0]]), np.array([1.0]), np.array([3.0, -2.0])
    s = 1 / (1 + np.exp(6.0))  # y_hat = sigmoid(-6), dJ/dz = y_hat - 1
    got = perceptron_gradients(X, y, 1.0, w)
    _expect_parts(got, (s - 1, (s - 1) * np.array([-1.0, 2.0])), parts=("dJ/dw0", "dJ/dw"),
                  call=f"perceptron_gradients({describe(X)}, {describe(y)}, 1.0, {describe(w)}) (y_hat = sigmoid(-6))",
                  mistakes=_perceptron_variants(X, y, 1.0, w))
    # y_hat = 0.5 everywhere, so dJ/dz = (0.5 - y) / 3 = [-1, 1, 1] / 6: dJ/dw0 = 1/6, dJ/dw = [1, 2.5] / 6
    X, y, w = np.array([[1.0, 2.0], [3.0, 4.0], [-1.0, 0.5]]), np.array([1.0, 0.0, 0.0]), np.zeros(2)
    got = perceptron_gradients(X, y, 0.0, w)
    _expect_parts(got, (1 / 6, np.array([1.0, 2.5]) / 6), parts=("dJ/dw0", "dJ/dw"),
                  call=f"perceptron_gradients({describe(X)}, {describe(y)}, 0.0, {describe(w)})",
                  mistakes=_perceptron_variants(X, y, 0.0, w))


@exercise("perceptron_gradients", weight=2)
def test_perceptron_gradients_batches(perceptron_gradients):
    """random batches of several shapes, float64 and float32"""
    for i, (n, m) in enumerate([(5, 3), (8, 2), (1, 4), (12, 6)]):
        rng = np.random.default_rng(400 + i)
        for dtype in (np.float64, np.float32):
            X = rng.normal(size=(n, m)).astype(dtype)
            y = (rng.random(n) < 0.5).astype(dtype)
            w, w0 = rng.normal(size=m).astype(dtype), dtype(rng.normal())
            _check_perceptron(perceptron_gradients, X, y, w0, w,
                              f"perceptron_gradients(X of shape ({n}, {m}) {np.dtype(dtype)}, y of shape ({n},), "
                              f"w0={float(w0):.4g}, w of shape ({m},))")


@keras_result
def _keras_perceptron_case():
    keras, tf = load_keras(), load_tensorflow()
    rng = np.random.default_rng(420)
    X, y = rng.normal(size=(9, 4)), (rng.random(9) < 0.5).astype(float)
    w, w0 = rng.normal(size=4), 0.3
    layer = keras.layers.Dense(1, activation="sigmoid", dtype="float64")
    layer.build((None, 4))
    layer.set_weights([w.reshape(4, 1), np.array([w0])])
    loss = keras.losses.BinaryCrossentropy(dtype="float64")
    with tf.GradientTape() as tape:
        value = loss(tf.constant(y.reshape(-1, 1)), layer(tf.constant(X)))
    dW, db = tape.gradient(value, layer.trainable_weights)
    return X, y, w0, w, float(db.numpy()[0]), dW.numpy().reshape(4)


@exercise("perceptron_gradients")
def test_perceptron_gradients_equal_keras(perceptron_gradients):
    """equal to tf.GradientTape on keras Dense(1, activation="sigmoid") with BinaryCrossentropy (float64)"""
    X, y, w0, w, dw0, dw = _keras_perceptron_case()
    call = "perceptron_gradients(X of shape (9, 4), y of shape (9,), 0.3, w of shape (4,)) against Keras"
    got = perceptron_gradients(X, y, w0, w)
    _expect_parts(got, (dw0, dw), call=call, parts=("dJ/dw0", "dJ/dw"), mistakes=_perceptron_variants(X, y, w0, w))
    expect_close(got[1], dw, call=call + ", its dJ/dw (tolerance for float64 Keras)", **KERAS64)
    expect_close(got[0], dw0, call=call + ", its dJ/dw0 (tolerance for float64 Keras)", **KERAS64)


def _clipped_chain(X, y, w0, w, eps):
    """perceptron_gradients by dJ/dy_hat * dy_hat/dz with y_hat clipped to [eps, 1 - eps] inside the chain."""
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    p = ref.sigmoid(w0 + X @ w)
    c = np.clip(p, eps, 1 - eps)
    dz = -(y / c - (1 - y) / (1 - c)) * p * (1 - p) / len(y)
    return dz.sum(), X.T @ dz


@exercise("perceptron_gradients")
def test_perceptron_gradients_saturated(perceptron_gradients):
    """confidently wrong predictions (z = +/-25 and +/-30, y_hat within 1e-13 of 0 or 1) still give dJ/dz = (y_hat - y) / n"""
    X = np.array([[-3.0, 0.0], [3.0, 0.0], [-2.5, 0.0], [2.5, 0.0], [0.3, 0.0], [0.0, 0.4]])
    y, w0, w = np.array([1.0, 0.0, 1.0, 0.0, 1.0, 0.0]), 0.0, np.array([10.0, -5.0])   # z = [-30, 30, -25, 25, 3, -2]
    variants = _perceptron_variants(X, y, w0, w) + [
        (f"y_hat is clipped to [{eps:g}, 1 - {eps:g}] inside the chain dJ/dy_hat * dy_hat/dz: where y_hat is "
         "nearer 0 or 1 than that, the clipped dJ/dy_hat no longer cancels dy_hat/dz = y_hat (1 - y_hat), and the "
         "gradient of a confidently wrong prediction vanishes. dJ/dz simplifies to (y_hat - y) / n: use it "
         "(no clipping needed).", _clipped_chain(X, y, w0, w, eps))
        for eps in (1e-7, 1e-8, 1e-10, 1e-12, 1e-15)]
    _expect_parts(perceptron_gradients(X, y, w0, w), ref.perceptron_gradients(X, y, w0, w), parts=("dJ/dw0", "dJ/dw"),
                  call=f"perceptron_gradients({describe(X)}, {describe(y)}, 0.0, {describe(w)}) (z = [-30, 30, -25, 25, 3, -2])",
                  mistakes=variants)


# Pre-activations that overflow a naive exp: exp(710) is inf in float64, exp(89) in float32.
OVERFLOW_SCALE = {np.float64: 1000.0, np.float32: 100.0}


@exercise("perceptron_gradients")
def test_perceptron_gradients_large_pre_activations(perceptron_gradients):
    """pre-activations of +/-1000 in float64 and +/-100 in float32 give dJ/dz = (y_hat - y) / n without RuntimeWarning (a naive exp(-z) overflows there)"""
    for dtype in (np.float64, np.float32):
        scale = OVERFLOW_SCALE[dtype]
        X = np.array([[-1.0, 0.0], [1.0, 0.0], [0.5, 0.0], [0.0, -0.5], [0.001, 0.002]], dtype=dtype)
        y, w = np.array([1.0, 0.0, 0.0, 1.0, 1.0], dtype=dtype), np.array([scale, scale], dtype=dtype)
        z = X.astype(float) @ w.astype(float)
        _expect_parts(perceptron_gradients(X, y, 0.0, w), ref.perceptron_gradients(X, y, 0.0, w),
                      parts=("dJ/dw0", "dJ/dw"), mistakes=_perceptron_variants(X, y, 0.0, w),
                      call=f"perceptron_gradients(X, y, 0.0, w) in {np.dtype(dtype)} with z = {describe(z)}")


# -- dense_backward -----------------------------------------------------------------------------

def _dense_variants(dA, X, W, b, activation):
    X, W, dA = (np.asarray(v, dtype=float) for v in (X, W, dA))
    Z = X @ W + b
    A = ref.activate(Z, activation)
    n = len(X)

    def out(dZ):
        return dZ @ W.T, X.T @ dZ, dZ.sum(axis=0)

    dZ = dA * ref.activation_derivative(Z, activation)
    right = out(dZ)
    found = [
        ("the sign is flipped.", tuple(-v for v in right)),
        (f"the gradients are divided by n = {n}: dA already contains the loss's 1/n, so sum over the "
         "batch here instead of taking the mean.", tuple(v / n for v in right)),
        ("transposed kernel: dJ/dW must have W's shape (inputs, units): dW = X^T @ dZ, not dZ^T @ X.",
         (right[0], right[1].T, right[2])),
    ]
    if activation == "relu":  # before "missing": where every Z >= 0 both give dA
        found.append(("relu'(0) is 0, as in the lecture, not 1: a unit with Z = 0 passes no gradient "
                      "(Z > 0, not Z >= 0).", out(dA * (Z >= 0))))
    if activation != "linear":
        found.append(("the activation's derivative is missing: dZ = dA * g'(Z), elementwise.", out(dA)))
    if activation in ("sigmoid", "tanh"):
        found.append(("the activation's derivative is taken of the output, g'(A), instead of at the "
                      "pre-activation Z = X @ W + b.", out(dA * ref.activation_derivative(A, activation))))
    if activation == "sigmoid":
        found.append(("the derivative is written as A * (1 - A) with A = g(Z) taken twice: sigma'(Z) = "
                      "sigma(Z) * (1 - sigma(Z)).", out(dA * ref.sigmoid(A) * (1 - ref.sigmoid(A)))))
    if activation == "tanh":
        found.append(("this uses the lecture slide's typo tanh(Z) * (1 - tanh(Z)); tanh'(Z) = 1 - tanh(Z)**2.",
                      out(dA * A * (1 - A))))
    return found


_DENSE_HINTS = ("dX = dZ @ W^T has X's shape (n, inputs).", "dW = X^T @ dZ has W's shape (inputs, units).",
                "db sums dZ over the batch (axis 0): shape (units,).")


def _check_dense(dense_backward, dA, X, W, b, activation, call):
    got = dense_backward(dA, X, W, b, activation)
    _expect_parts(got, ref.dense_backward(dA, X, W, b, activation), call=call, parts=("dX", "dW", "db"),
                  mistakes=_dense_variants(dA, X, W, b, activation), shape_hints=_DENSE_HINTS)
    return got


@exercise("dense_backward", weight=2)
def test_dense_backward_hand_values(dense_backward):
    """a ReLU layer with Z = [1, 2, 0]: dX = [1, 2.5], dW = [[1, 2, 0], [2, 4, 0]], db = [1, 2, 0]"""
    X, W = np.array([[1.0, 2.0]]), np.array([[1.0, 0.0, -1.0], [0.5, 1.0, 0.5]])
    b, dA = np.array([-1.0, 0.0, 0.0]), np.array([[1.0, 2.0, 3.0]])
    call = f'dense_backward({describe(dA)}, {describe(X)}, W, {describe(b)}, "relu") with W = {describe(W)}'
    expected = (np.array([[1.0, 2.5]]), np.array([[1.0, 2.0, 0.0], [2.0, 4.0, 0.0]]), np.array([1.0, 2.0, 0.0]))
    _expect_parts(dense_backward(dA, X, W, b, "relu"), expected, call=call, parts=("dX", "dW", "db"),
                  mistakes=_dense_variants(dA, X, W, b, "relu"), shape_hints=_DENSE_HINTS)


def _dense_case(n, m, d, dtype, seed):
    """Inputs of a layer and an upstream gradient dA from a real downstream loss."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, m))
    W, b = rng.normal(size=(m, d)) / np.sqrt(m), rng.normal(size=d) * 0.5
    target = rng.random(size=(n, d))
    # dA of the loss mean((A - target)^2) at this layer's real output A.
    dA = 2 * (ref.activate(X @ W + b, "tanh") - target) / (n * d)
    return tuple(v.astype(dtype) for v in (dA, X, W, b))


@exercise("dense_backward", weight=3)
def test_dense_backward_every_activation(dense_backward):
    """every activation, non-square kernels of several shapes, float64 and float32"""
    for i, (n, m, d) in enumerate([(5, 3, 4), (2, 6, 3), (7, 4, 1)]):
        for activation in ACTIVATIONS:
            for dtype in (np.float64, np.float32):
                dA, X, W, b = _dense_case(n, m, d, dtype, seed=500 + i)
                _check_dense(dense_backward, dA, X, W, b, activation,
                             f'dense_backward(dA ({n}, {d}), X ({n}, {m}), W ({m}, {d}), b ({d},), "{activation}") '
                             f"in {np.dtype(dtype)}")


@keras_result
def _keras_dense_case(activation):
    keras, tf = load_keras(), load_tensorflow()
    dA, X, W, b = _dense_case(6, 3, 5, np.float64, seed=530)
    layer = keras.layers.Dense(5, activation=activation, dtype="float64")
    layer.build((None, 3))
    layer.set_weights([W, b])
    X_var = tf.Variable(X)
    with tf.GradientTape() as tape:
        # d/dtheta of sum(A * dA) is exactly the backward step given dJ/dA = dA
        value = tf.reduce_sum(layer(X_var) * dA)
    grads = tape.gradient(value, [X_var] + layer.trainable_weights)
    return (dA, X, W, b), tuple(g.numpy() for g in grads)


@exercise("dense_backward", weight=2)
def test_dense_backward_equals_keras(dense_backward):
    """equal to tf.GradientTape through keras.layers.Dense(5, activation=...) for every activation (float64)"""
    for activation in ACTIVATIONS:
        (dA, X, W, b), expected = _keras_dense_case(activation)
        call = f'dense_backward(dA (6, 5), X (6, 3), W (3, 5), b (5,), "{activation}") against Keras'
        got = dense_backward(dA, X, W, b, activation)
        variants = _dense_variants(dA, X, W, b, activation)
        if not isinstance(got, (tuple, list)) or len(got) != 3:
            _expect_parts(got, expected, call=call, parts=("dX", "dW", "db"))
        for i, part in enumerate(("dX", "dW", "db")):
            expect_close(got[i], expected[i], call=f"{call}, its {part} (tolerance for float64 Keras)",
                         mistakes=[Mistake(text, values[i]) for text, values in variants], shape_hint=_DENSE_HINTS[i],
                         **KERAS64)


# -- mlp_gradients ------------------------------------------------------------------------------

# (layer sizes, activations): non-square layers, every activation in a hidden layer.
_NETWORKS = [
    ((3, 5, 4, 1), ("tanh", "relu", "sigmoid")),
    ((4, 2, 1), ("sigmoid", "sigmoid")),
    ((2, 6, 3, 1), ("linear", "tanh", "sigmoid")),
    ((5, 1), ("sigmoid",)),
]


def _network(case, dtype=np.float64, n=8):
    sizes, activations = _NETWORKS[case]
    rng = np.random.default_rng(600 + case)
    X = rng.normal(size=(n, sizes[0]))
    y = (rng.random(n) < 0.5).astype(float)
    weights = []
    for fan_in, units in zip(sizes[:-1], sizes[1:]):
        weights += [rng.normal(size=(fan_in, units)) * 1.2 / np.sqrt(fan_in), rng.normal(size=units) * 0.3]
    return X.astype(dtype), y.astype(dtype), [w.astype(dtype) for w in weights], list(activations)


def _mlp_variant(X, y, weights, activations, kind):
    """The gradients as a known wrong implementation computes them."""
    A = np.asarray(X, dtype=float)
    inputs, zs, outs = [], [], []
    for k, activation in enumerate(activations):
        inputs.append(A)
        zs.append(A @ weights[2 * k] + weights[2 * k + 1])
        A = ref.activate(zs[-1], activation)
        outs.append(A)
    y = np.reshape(np.asarray(y, dtype=float), A.shape)
    n = A.size
    grads = [None] * len(weights)
    for k in reversed(range(len(activations))):
        if k == len(activations) - 1:
            dZ = (A - y) / n
            if kind == "sign":
                dZ = -dZ
            elif kind == "sum":
                dZ = A - y
            elif kind == "extra_sigmoid":
                dZ = dZ * A * (1 - A)
        elif kind == "output_derivative":
            dZ = dA * ref.activation_derivative(outs[k], activations[k])
        elif kind == "missing_derivative":
            dZ = dA
        elif kind == "n_twice":
            dZ = dA * ref.activation_derivative(zs[k], activations[k]) / n
        else:
            dZ = dA * ref.activation_derivative(zs[k], activations[k])
        grads[2 * k] = inputs[k].T @ dZ
        grads[2 * k + 1] = dZ.sum(axis=0)
        dA = dZ @ np.asarray(weights[2 * k]).T
    if kind == "transposed":
        grads = [g.T if g.ndim == 2 else g for g in grads]
    return grads


_MLP_MISTAKES = {
    "sign": "the sign is flipped: dJ/dZ of the output layer is (y_hat - y) / n.",
    "sum": "the gradients are exactly n times too large: the sum instead of the mean, the 1/n of the mean "
           "loss is missing.",
    "n_twice": "the 1/n is applied again in a hidden layer: it belongs to the loss, once, at the output.",
    "extra_sigmoid": "the output's sigmoid derivative is multiplied in again: for the mean BCE, "
                     "dJ/dZ = (y_hat - y) / n already contains it.",
    "output_derivative": "the activation's derivative is taken of the output g'(A) of a hidden layer, "
                         "instead of at its pre-activation Z.",
    "missing_derivative": "the activation derivative is missing in a hidden layer: dZ = dA * g'(Z).",
    "transposed": "transposed kernel: each dJ/dW must have W's shape (inputs, units): dW = A_prev^T @ dZ.",
}


def _check_mlp(got, expected, X, y, weights, activations, call, tolerances=None):
    if not isinstance(got, (list, tuple)) or len(got) != len(weights):
        kind = "nothing (None): did you forget to return?" if got is None else describe(got)
        if isinstance(got, (list, tuple)):
            kind = f"a {type(got).__name__} of {plural(len(got), 'array')}"
        fail(called=call, expected=f"a list of {len(weights)} arrays, one per weight, in the order of weights "
             "[dW1, db1, dW2, db2, ...]", received=kind)
    variants = {kind: _mlp_variant(X, y, weights, activations, kind) for kind in _MLP_MISTAKES}
    for i, g in enumerate(expected):
        name = f"d{'W' if i % 2 == 0 else 'b'}{i // 2 + 1}"
        expect_close(got[i], g, call=f"{call}, its {name} (entry {i} of the list)",
                     mistakes=[Mistake(text, variants[kind][i]) for kind, text in _MLP_MISTAKES.items()],
                     shape_hint=f"{name} must have the shape of weights[{i}], {np.shape(weights[i])}.",
                     **(tolerances or {}))


@keras_result
def _keras_network_gradients(case):
    keras, tf = load_keras(), load_tensorflow()
    X, y, weights, activations = _network(case)
    sizes, _ = _NETWORKS[case]
    model = keras.Sequential([keras.Input((sizes[0],), dtype="float64")]
                             + [keras.layers.Dense(u, activation=a, dtype="float64")
                                for u, a in zip(sizes[1:], activations)])
    model.set_weights(weights)
    loss = keras.losses.BinaryCrossentropy(dtype="float64")
    with tf.GradientTape() as tape:
        value = loss(tf.constant(y.reshape(-1, 1)), model(tf.constant(X)))
    return [g.numpy() for g in tape.gradient(value, model.trainable_weights)]


@exercise("mlp_gradients", weight=3)
def test_mlp_gradients_equal_keras(mlp_gradients):
    """equal to tf.GradientTape on the equivalent float64 keras.Sequential of Dense layers, every activation"""
    for case, (sizes, activations) in enumerate(_NETWORKS):
        X, y, weights, activations = _network(case)
        expected = _keras_network_gradients(case)
        for labels in (y.reshape(-1, 1), y):
            call = (f"mlp_gradients(X {X.shape}, y {labels.shape}, weights for layer sizes {list(sizes)}, "
                    f"{activations}) against Keras")
            try:
                got = mlp_gradients(X, labels, weights, activations)
            except StudentFailure as exc:
                if labels.ndim == 2 or exc.type in ("NotImplementedError", "Timeout", "Stopped"):
                    raise
                # The same call with labels of shape (n, 1) returned: the label's shape is the cause.
                trace = f"\n{exc.traceback.rstrip()}" if exc.traceback else ""
                fail(called=call, received=f"your code raised {exc}{trace}",
                     hint="Hint: the same call with y of shape (n, 1) worked. y has shape (n,) here while the output "
                          "y_hat has shape (n, 1): y_hat - y then broadcasts to an (n, n) matrix. Reshape y to "
                          "y_hat's shape first.")
            _check_mlp(got, expected, X, labels, weights, activations, call, KERAS64)


@exercise("mlp_gradients")
def test_mlp_gradients_float32(mlp_gradients):
    """float32 networks against the reference, and a batch of one example"""
    for case, (sizes, _) in enumerate(_NETWORKS):
        X, y, weights, activations = _network(case, np.float32)
        call = f"mlp_gradients(X {X.shape} float32, y {y.shape}, weights for layer sizes {list(sizes)}, {activations})"
        _check_mlp(mlp_gradients(X, y, weights, activations), ref.mlp_gradients(X, y, weights, activations),
                   X, y, weights, activations, call)
    X, y, weights, activations = _network(0, n=1)
    _check_mlp(mlp_gradients(X, y, weights, activations), ref.mlp_gradients(X, y, weights, activations),
               X, y, weights, activations, "mlp_gradients(X (1, 3), y (1,), weights for [3, 5, 4, 1], ...)")


@exercise("dense_backward")
def test_dense_backward_large_pre_activations(dense_backward):
    """sigmoid and tanh layers with pre-activations of +/-1000 in float64 and +/-100 in float32: the derivative without RuntimeWarning"""
    for dtype in (np.float64, np.float32):
        scale = OVERFLOW_SCALE[dtype]
        X = np.array([[1.0, -1.0], [-1.0, 0.5], [0.5, 1.0]], dtype=dtype)
        W = (np.array([[1.0, -1.0, 0.5], [-0.5, 1.0, -1.0]]) * scale).astype(dtype)
        b, dA = np.array([0.0, 0.5, -0.5], dtype=dtype), np.full((3, 3), 0.1, dtype=dtype)
        for activation in ("sigmoid", "tanh"):
            _check_dense(dense_backward, dA, X, W, b, activation,
                         f'dense_backward(dA (3, 3), X (3, 2), W (2, 3), b (3,), "{activation}") in {np.dtype(dtype)} '
                         f"with pre-activations up to +/-{scale:g}")


@exercise("mlp_gradients")
def test_mlp_gradients_large_pre_activations(mlp_gradients):
    """a sigmoid network with pre-activations of +/-1000 in float64 and +/-100 in float32: gradients without RuntimeWarning"""
    for dtype in (np.float64, np.float32):
        scale = OVERFLOW_SCALE[dtype]
        X = np.array([[1.0, -1.0], [-1.0, 0.5], [0.5, 1.0], [0.2, -0.3]], dtype=dtype)
        y = np.array([1.0, 0.0, 0.0, 1.0], dtype=dtype)
        weights = [(np.array([[1.0, -1.0, 0.5], [-0.5, 1.0, -1.0]]) * scale).astype(dtype),
                   np.array([0.0, 0.5, -0.5], dtype=dtype),
                   (np.array([[1.0], [-1.0], [0.5]]) * scale).astype(dtype), np.array([0.25], dtype=dtype)]
        for activations in (["sigmoid", "sigmoid"], ["tanh", "sigmoid"]):
            call = (f"mlp_gradients(X (4, 2) {np.dtype(dtype)}, y (4,), weights for layer sizes [2, 3, 1], {activations}) "
                    f"with pre-activations up to +/-{scale:g}")
            _check_mlp(mlp_gradients(X, y, weights, activations), ref.mlp_gradients(X, y, weights, activations),
                       X, y, weights, activations, call)


# -- numerical_gradient -------------------------------------------------------------------------

_Q = np.array([[3.0, 1.0, 0.0, -0.5], [1.0, 2.0, 0.5, 0.0], [0.0, 0.5, 4.0, 1.0], [-0.5, 0.0, 1.0, 1.5]])
_C = np.array([1.0, -2.0, 0.5, 3.0])


def quadratic(x):
    """J(x) = 0.5 x^T Q x + c^T x for x of shape (4,), whose gradient is Q x + c."""
    x = np.asarray(x, dtype=float)
    return float(0.5 * x @ _Q @ x + _C @ x)


_CUBE = np.arange(1.0, 13.0).reshape(3, 4) / 6


def cubic(x):
    """J(x) = sum(c * x**3) + 0.5 * (sum x)**2 + sum(sin x) for x of shape (3, 4)."""
    x = np.asarray(x, dtype=float)
    return float(np.sum(_CUBE * x ** 3) + 0.5 * np.sum(x) ** 2 + np.sum(np.sin(x)))


def _differences(f, x, h):
    """Known wrong estimates of the gradient of f at x with step h."""
    x = np.asarray(x, dtype=float)
    forward, backward, default_h = np.zeros_like(x), np.zeros_like(x), np.zeros_like(x)
    f0 = f(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = 1
        forward[i] = (f(x + h * e) - f0) / h
        backward[i] = (f0 - f(x - h * e)) / h
        default_h[i] = (f(x + 1e-5 * e) - f(x - 1e-5 * e)) / 2e-5
    central = ref.numerical_gradient(f, x, h)
    at_once = np.full_like(x, (f(x + h) - f(x - h)) / (2 * h))
    return [
        Mistake("one-sided difference (f(x + h e_i) - f(x)) / h: use the central difference "
                "(f(x + h e_i) - f(x - h e_i)) / (2 h).", forward),
        Mistake("one-sided difference (f(x) - f(x - h e_i)) / h: use the central difference "
                "(f(x + h e_i) - f(x - h e_i)) / (2 h).", backward),
        Mistake("divided by h instead of 2h: the two points x + h e_i and x - h e_i are 2h apart.", 2 * central),
        Mistake("divided by h**2 instead of 2h.", central * 2 * h / h ** 2),
        Mistake("the step h passed as an argument is ignored (the default 1e-5 was used).", default_h),
        Mistake("every entry was moved at once (x + h): move one entry at a time, x + h e_i.", at_once),
    ]


@exercise("numerical_gradient", weight=2)
def test_numerical_gradient_quadratic(numerical_gradient):
    """on a quadratic, the central difference is exact: it equals Q x + c for h = 1e-3"""
    x = np.array([0.5, -1.0, 2.0, 0.25])
    call = f"numerical_gradient(quadratic, {describe(x)}, h=0.001) with quadratic(x) = 0.5 x^T Q x + c^T x"
    # rounding only: about 1e-16 * |J| / h
    expect_close(numerical_gradient(quadratic, x, h=1e-3), _Q @ x + _C, call=call, rtol=1e-7, atol=1e-8,
                 mistakes=_differences(quadratic, x, 1e-3))
    expect_close(numerical_gradient(quadratic, x, 1e-3), _Q @ x + _C, call=call.replace("h=0.001", "0.001"),
                 rtol=1e-7, atol=1e-8, mistakes=_differences(quadratic, x, 1e-3))


@exercise("numerical_gradient", weight=2)
def test_numerical_gradient_uses_h(numerical_gradient):
    """with a large step h = 0.1 on a cubic of a (3, 4) array, the result is the central difference with that h"""
    x = np.linspace(-1.5, 1.2, 12).reshape(3, 4)
    for h in (0.1, 0.25):
        call = f"numerical_gradient(cubic, x of shape (3, 4), h={h})"
        # the reference evaluates the same points: only rounding, about 1e-16 * |J| / h
        expect_close(numerical_gradient(cubic, x, h), ref.numerical_gradient(cubic, x, h), call=call,
                     rtol=1e-7, atol=1e-9, mistakes=_differences(cubic, x, h),
                     shape_hint="The result must have x's shape, one partial derivative per entry.")


@exercise("numerical_gradient")
def test_numerical_gradient_default_step_and_float32(numerical_gradient):
    """the default h is small enough to match the true gradient; float32 x works"""
    x = np.array([0.5, -1.0, 2.0, 0.25])
    expect_close(numerical_gradient(quadratic, x), _Q @ x + _C, call=f"numerical_gradient(quadratic, {describe(x)})",
                 rtol=1e-5, atol=1e-6, mistakes=[m for m in _differences(quadratic, x, 1e-5) if "ignored" not in m.explanation])
    # dyadic x and h: x +/- h is exact in float32 and float64 alike
    x32 = (np.arange(12, dtype=np.float32).reshape(3, 4) - 6) / 8
    expect_close(numerical_gradient(cubic, x32, 0.0625), ref.numerical_gradient(cubic, x32, 0.0625),
                 call="numerical_gradient(cubic, x float32 of shape (3, 4), 0.0625)",
                 mistakes=_differences(cubic, x32, 0.0625))


# -- gradient_descent ---------------------------------------------------------------------------

_D = np.array([[1.0, 2.0], [0.5, 3.0], [1.5, 0.25]])
_TARGET = np.array([[1.0, -1.0], [2.0, 0.0], [-0.5, 0.5]])


def bowl_gradient(w):
    """The gradient of J(w) = 0.5 * sum(D * (w - T)**2) for w of shape (3, 2)."""
    return _D * (np.asarray(w, dtype=float) - _TARGET)


def square_gradient(w):
    """The gradient of J(w) = w**2."""
    return 2 * np.asarray(w, dtype=float)


def _negated(grad):
    def ascent(w):
        return -grad(w)
    return ascent


def _descent_mistakes(grad, w_init, lr, n_steps, tol=None):
    _, right = ref.gradient_descent(grad, w_init, lr, n_steps, tol)
    _, up = ref.gradient_descent(_negated(grad), w_init, lr, n_steps, tol)
    _, no_lr = ref.gradient_descent(grad, w_init, 1.0, n_steps, tol)
    return {
        "sign": ("the sign is flipped: this climbs the loss, w <- w + lr * grad(w); descend with w - lr * grad(w).",
                 up),
        "lr": ("the learning rate is not applied: w <- w - lr * grad(w).", no_lr),
        "aliased": ("every entry of history holds the final weights: the same array was appended at every step "
                    "and then changed in place. Append a new array per step (w = w - lr * g, or w.copy()).",
                    [right[-1]] * len(right) if right else []),
        "with_init": ("history starts with w_init: it holds the weights after each step, so its first entry "
                      "is w_init - lr * grad(w_init).", [np.asarray(w_init, dtype=float)] + right[:-1]),
    }


def _history_as_list(history, call):
    if isinstance(history, np.ndarray) and history.ndim >= 1 and history.dtype.kind in "biuf":
        return list(history)   # the steps stacked along the first axis: the same values
    if not isinstance(history, (list, tuple)):
        fail(called=call, expected="history, a list of arrays (the weights after each step)",
             received=describe(history))
    return list(history)


def _expect_distinct(history, expected, call):
    """Fail, naming the mistake, when every entry of history holds the same (final) weights."""
    if len(history) > 1 and len(expected) > 1 and all(
            np.array_equal(np.asarray(h, dtype=float), np.asarray(history[-1], dtype=float)) for h in history):
        fail(called=call, expected=f"history[0] = {describe(expected[0])}, ..., history[-1] = {describe(expected[-1])}",
             received=f"{len(history)} copies of {describe(history[-1])}",
             mistake="every entry of history holds the final weights: the same array was appended at every step "
                     "and then changed in place. Append a new array per step (w = w - lr * g, or w.copy()).")


def _check_descent(gradient_descent, grad, w_init, lr, n_steps, call):
    got = gradient_descent(grad, w_init, lr, n_steps)
    expected_w, expected = ref.gradient_descent(grad, w_init, lr, n_steps)
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        fail(called=call, expected="a pair (w, history)", received=describe(got))
    w, history = got
    history = _history_as_list(history, call)
    mistakes = _descent_mistakes(grad, w_init, lr, n_steps)
    if len(history) != len(expected):
        named = None
        if len(history) == len(expected) + 1:
            named = "history holds w_init too; it must hold only the weights after each step."
        elif len(history) == len(expected) - 1:
            named = "one step too few (range(n_steps) runs n_steps times)."
        fail(called=call, expected=f"a history of {len(expected)} arrays, one per step",
             received=f"a history of {plural(len(history), 'entry', 'entries')}", mistake=named)
    _expect_distinct(history, expected, call)
    for i, (h, e) in enumerate(zip(history, expected)):
        expect_close(h, e, call=f"{call}, its history[{i}] (the weights after step {i + 1})",
                     mistakes=[Mistake(text, values[i]) for text, values in mistakes.values() if len(values) > i])
    expect_close(w, expected_w, call=f"{call}, its final w",
                 mistakes=[*[Mistake(text, values[-1]) for text, values in mistakes.values() if values],
                           Mistake("the final w returned is w_init: return the weights after the last step, "
                                   "history[-1].", w_init)])


@exercise("gradient_descent", weight=2)
def test_gradient_descent_hand_values(gradient_descent):
    """J(w) = w^2 from w = 1 with lr = 0.25: the weights halve at each step, 0.5, 0.25, 0.125"""
    w_init = np.array([1.0])
    _check_descent(gradient_descent, square_gradient, w_init, 0.25, 3,
                   "gradient_descent(grad of J(w) = w**2, w_init=array([1.]), lr=0.25, n_steps=3)")


@exercise("gradient_descent", weight=2)
def test_gradient_descent_history(gradient_descent):
    """history holds a separate array after every step, on a (3, 2) bowl, float64 and float32"""
    for dtype in (np.float64, np.float32):
        w_init = np.zeros((3, 2), dtype=dtype)
        for lr, n_steps in ((0.1, 6), (0.6, 4)):
            _check_descent(gradient_descent, bowl_gradient, w_init, lr, n_steps,
                           f"gradient_descent(bowl_gradient, w_init=zeros((3, 2)) {np.dtype(dtype)}, lr={lr}, "
                           f"n_steps={n_steps})")


@exercise("gradient_descent")
def test_gradient_descent_no_steps(gradient_descent):
    """n_steps = 0 returns w_init's values and an empty history"""
    w_init = np.array([[0.5, -1.0], [2.0, 0.0], [1.0, 1.0]])
    call = "gradient_descent(bowl_gradient, w_init (3, 2), lr=0.1, n_steps=0)"
    got = gradient_descent(bowl_gradient, w_init, 0.1, 0)
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        fail(called=call, expected="a pair (w, history)", received=describe(got))
    history = _history_as_list(got[1], call)
    if history:
        fail(called=call, expected="an empty history (no step taken)", received=f"a history of {plural(len(history), 'entry', 'entries')}")
    expect_close(got[0], w_init, call=f"{call}, its w (no step: w_init's values)")


@exercise("gradient_descent", weight=2)
def test_gradient_descent_tol(gradient_descent):
    """with tol, the descent stops after the first step whose norm ||lr * grad(w)|| is below tol"""
    w_init = np.array([[2.0, 1.0], [-1.0, 3.0], [0.0, 0.5]])
    lr, n_steps, tol = 0.3, 500, 1e-3
    call = f"gradient_descent(bowl_gradient, w_init (3, 2), lr={lr}, n_steps={n_steps}, tol={tol})"
    got = gradient_descent(bowl_gradient, w_init, lr, n_steps, tol)
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        fail(called=call, expected="a pair (w, history)", received=describe(got))
    history = _history_as_list(got[1], call)
    _, expected = ref.gradient_descent(bowl_gradient, w_init, lr, n_steps, tol)
    # Testing the step before applying it (and so stopping one step earlier) is also accepted.
    if len(history) not in (len(expected), len(expected) - 1):
        _, by_gradient = ref.gradient_descent(bowl_gradient, w_init, lr, n_steps, tol * lr)
        named = None
        if len(history) == n_steps:
            named = "tol is ignored: stop as soon as the step's norm is below tol."
        elif abs(len(history) - len(by_gradient)) <= 1:
            named = "the gradient's norm ||grad(w)|| was compared with tol; compare the step's norm ||lr * grad(w)||."
        fail(called=call, expected=f"the descent to stop after step {len(expected)}, the first whose norm "
             f"||lr * grad(w)|| is below tol (a history of {len(expected)} arrays)",
             received=f"a history of {plural(len(history), 'array')}", mistake=named)
    _expect_distinct(history, expected, call)
    for i, h in enumerate(history):
        expect_close(h, expected[i], call=f"{call}, its history[{i}]")
    expect_close(got[0], history[-1], call=f"{call}, its final w, against your history[-1] (the weights after the last step)")
    full = gradient_descent(bowl_gradient, w_init, lr, 40, None)
    full_call = f"gradient_descent(bowl_gradient, w_init (3, 2), lr={lr}, n_steps=40, tol=None)"
    if not (isinstance(full, (tuple, list)) and len(full) == 2):
        fail(called=full_call, expected="a pair (w, history)", received=describe(full))
    steps = len(_history_as_list(full[1], full_call))
    if steps != 40:
        fail(called=full_call, expected="all 40 steps (tol=None never stops early)", received=f"{steps} steps")

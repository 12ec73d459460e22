"""Hidden checks of a02_dense: dense layers and deep networks.

The references are the solutions and Keras itself: `keras.layers.Dense` and a
`keras.Sequential` of them, built once per shape and cached, given the same weights. Keras
runs in float32 (compared with course.yaml's keras tolerances) and, with dtype="float64" on
the layers, in float64, where only rounding separates it from NumPy (KERAS64 below); no
global Keras setting is changed. Kernels are never square where a transposed kernel could
slip through. DenseLayer's random initialisation is checked by its statistics with fixed
seeds and stated tolerances, never against one particular draw.
"""
from functools import lru_cache

import numpy as np

from solutions import a02_dense as ref

from ..student import ContractViolation, StudentFailure, StudentObject, describe
from .kit import Mistake, exercise, expect, expect_close, fail, load_keras, raised_as_predicted, plural
from .recorded import keras_result

ACTIVATIONS = ("sigmoid", "tanh", "relu", "linear")

# float64 Keras layers against NumPy: the same operations in double precision, so only the
# summation order differs (observed differences ~1e-16).
KERAS64 = {"rtol": 1e-10, "atol": 1e-12}

# -- Keras references (built once per shape, weights set on every use) ------------------------

@lru_cache(maxsize=None)
def _keras_dense(inputs: int, units: int, activation: str, dtype: str):
    keras = load_keras()
    layer = keras.layers.Dense(units, activation=activation, dtype=dtype)
    layer.build((None, inputs))
    return layer


@lru_cache(maxsize=None)
def _keras_sequential(sizes: tuple, activations: tuple, dtype: str):
    keras = load_keras()
    layers = [keras.Input((sizes[0],), dtype=dtype)]
    layers += [keras.layers.Dense(units, activation=a, dtype=dtype) for units, a in zip(sizes[1:], activations)]
    return keras.Sequential(layers)


@keras_result
def _keras_dense_output(X, W, b, activation):
    """keras.layers.Dense(d, activation=...) with weights [W, b], in X's dtype."""
    layer = _keras_dense(W.shape[0], W.shape[1], activation, X.dtype.name)
    layer.set_weights([W, b])
    return np.asarray(load_keras().ops.convert_to_numpy(layer(X)))


@keras_result
def _keras_mlp_output(X, weights, activations):
    """keras.Sequential of Dense layers with those weights, in X's dtype."""
    sizes = (X.shape[1],) + tuple(w.shape[1] for w in weights[::2])
    model = _keras_sequential(sizes, tuple(activations), X.dtype.name)
    model.set_weights(list(weights))
    return np.asarray(load_keras().ops.convert_to_numpy(model(X, training=False)))


@keras_result
def _keras_relu_layer_output(weights, X):
    """Keras' Dense(3, activation="relu") in float32, given `weights` by set_weights, on X:
    (None, its output), or (what Keras said, None) when it refused the weights."""
    layer = _keras_dense(4, 3, "relu", "float32")
    try:
        layer.set_weights(list(weights))
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}", None
    return None, np.asarray(load_keras().ops.convert_to_numpy(layer(X)))


def _as_keras_float32(weights):
    """Float arrays as the float32 layer's set_weights stores them (the same rounding), so that a
    network kept in float64 asks for the result recorded for float32 weights; anything else as it is."""
    if isinstance(weights, (list, tuple)) and all(isinstance(w, np.ndarray) and w.dtype in (np.float32, np.float64)
                                                  for w in weights):
        return [w.astype(np.float32) for w in weights]
    return weights


# -- helpers ----------------------------------------------------------------------------------

def _random(shape, dtype, seed, scale=1.0):
    return (np.random.default_rng(seed).normal(0, scale, size=shape)).astype(dtype)


def _call(function, *args, call, predictions=(), **kwargs):
    """Call the student's code; if it raises, say what was called and what it raised.

    No mistake is guessed from an exception: a hint is added only when a known mistake, run on the
    same inputs (`predictions`, see `kit.raised_as_predicted`), raises exactly the same error.
    """
    try:
        return function(*args, **kwargs)
    except StudentFailure as exc:
        if exc.type in ("NotImplementedError", "Timeout", "Stopped"):
            raise
        trace = f"\n{exc.traceback.rstrip()}" if exc.traceback else ""
        same = raised_as_predicted(exc, predictions)
        fail(called=call, received=f"your code raised {exc}{trace}",
             hint=f"Hint: {same}" if same else None)


def _kernel_predictions(X, W, b):
    """Transposed kernels, run on the inputs: the errors they raise, to recognise them."""
    return [(f"{form} raises exactly this error here. The kernel W has shape (inputs, units) = (m, d), as in "
             "Keras, so Z = X @ W + b has shape (n, d).", compute)
            for form, compute in (("X @ W.T", lambda: X @ W.T + b), ("W @ X", lambda: W @ X),
                                  ("W.T @ X.T", lambda: W.T @ X.T + b))]


def _distinct(mistakes, correct):
    """The mistakes whose value differs from the correct one here (a linear layer has no 'missing activation')."""
    return [m for m in mistakes if not (np.shape(m.value) == np.shape(correct)
                                        and np.allclose(m.value, correct, rtol=1e-6, atol=1e-9))]


def _no_list(got, call, what):
    if isinstance(got, (list, tuple)):
        fail(called=call, expected=f"one array, {what}", received=f"a {type(got).__name__} of {plural(len(got), 'item')}, "
             f"{describe(got)}")


def _activation_name(activation):
    return activation if isinstance(activation, str) else activation.__name__.lstrip("_")


def _activation_text(activation):
    return repr(activation) if isinstance(activation, str) else f"{_activation_name(activation)} (a function)"


def _dense_mistakes(X, W, b, activation):
    g = (lambda z: ref.dense_forward(z, np.eye(z.shape[1]), np.zeros(z.shape[1]), activation))
    Z = X @ W
    mistakes = [
        Mistake("the bias b is missing: Z = X @ W + b.", g(Z)),
        Mistake("the bias is subtracted: Z = X @ W + b.", g(Z - b)),
        Mistake("the bias is added after the activation: A = g(X @ W + b).", g(Z) + b),
        Mistake("the output is transposed: return shape (n, d), one row per example.", g(Z + b).T),
    ]
    if activation != "linear":
        mistakes.append(Mistake(f"the activation is not applied: return g(Z) with g = {_activation_name(activation)}.",
                                Z + b))
    if activation != "sigmoid":
        mistakes.append(Mistake(f"the sigmoid was applied instead of the activation asked for "
                                f"({_activation_name(activation)}): use the activation argument.",
                                ref.sigmoid(Z + b)))
    return _distinct(mistakes, g(Z + b))


def _leaky_relu(z):
    """A grader's activation, passed as a callable: max(z, 0.1 z)."""
    z = np.asarray(z)
    return np.where(z > 0, z, 0.1 * z)


def _softsign(z):
    """A grader's activation, passed as a callable: z / (1 + |z|)."""
    z = np.asarray(z)
    return z / (1 + np.abs(z))


def _check_dense(dense_forward, X, W, b, activation, expected=None, **tolerances):
    call = (f"dense_forward(X of shape {X.shape} {X.dtype}, W of shape {W.shape}, b of shape {b.shape}, "
            f"activation={_activation_text(activation)})")
    got = _call(dense_forward, X, W, b, activation, call=call, predictions=_kernel_predictions(X, W, b))
    _no_list(got, call, f"of shape {(X.shape[0], W.shape[1])}")
    expected = ref.dense_forward(X, W, b, activation) if expected is None else expected
    expect_close(got, expected, call=call, mistakes=_dense_mistakes(X.astype(float), W.astype(float),
                                                                     b.astype(float), activation), **tolerances)


# -- dense_forward ----------------------------------------------------------------------------

@exercise("dense_forward", weight=2)
def test_dense_forward_hand_values(dense_forward):
    """the lecture's perceptron as a one-unit layer gives sigmoid(-6), and a 2-input, 3-unit layer gives hand values"""
    X, W, b = np.array([[-1.0, 2.0]]), np.array([[3.0], [-2.0]]), np.array([1.0])
    _check_dense(dense_forward, X, W, b, "sigmoid", expected=np.array([[ref.sigmoid(-6.0)]]))
    # z = b + X W by hand: rows [-1, 2], [0, 0], [2, 1], [1, -1] give [[-6, -1, 2], [1, -1, 0], [5, 1.5, 1], [6, -0.5, -1]]
    X = np.array([[-1.0, 2.0], [0.0, 0.0], [2.0, 1.0], [1.0, -1.0]])
    W = np.array([[3.0, 1.0, 0.0], [-2.0, 0.5, 1.0]])
    b = np.array([1.0, -1.0, 0.0])
    Z = np.array([[-6.0, -1.0, 2.0], [1.0, -1.0, 0.0], [5.0, 1.5, 1.0], [6.0, -0.5, -1.0]])
    _check_dense(dense_forward, X, W, b, "linear", expected=Z)
    _check_dense(dense_forward, X, W, b, "relu", expected=np.maximum(Z, 0))


@exercise("dense_forward", weight=2)
def test_dense_forward_matches_keras(dense_forward):
    """dense_forward equals keras.layers.Dense(d, activation=...) with weights [W, b], for every activation, in float32 and float64"""
    for i, activation in enumerate(ACTIVATIONS):
        X, W, b = _random((6, 5), np.float64, 10 + i), _random((5, 3), np.float64, 20 + i), _random(3, np.float64, 30 + i)
        expected64 = _keras_dense_output(X, W, b, activation)
        _check_dense(dense_forward, X, W, b, activation, expected=expected64, **KERAS64)
        X32, W32, b32 = X.astype(np.float32), W.astype(np.float32), b.astype(np.float32)
        expected32 = _keras_dense_output(X32, W32, b32, activation)
        _check_dense(dense_forward, X32, W32, b32, activation, expected=expected32, keras=True)


@exercise("dense_forward")
def test_dense_forward_callable_activation(dense_forward):
    """dense_forward applies an activation passed as a function (the grader's leaky ReLU and softsign)"""
    X, W, b = _random((7, 4), np.float64, 40), _random((4, 2), np.float64, 41), _random(2, np.float64, 42)
    for g in (_leaky_relu, _softsign):
        _check_dense(dense_forward, X, W, b, g)


@exercise("dense_forward")
def test_dense_forward_shapes_dtypes_and_large_inputs(dense_forward):
    """dense_forward gives shape (n, d) for several non-square shapes and both dtypes, and is stable for pre-activations of +/-1000 in float64 and float32"""
    for i, (n, m, d) in enumerate([(1, 3, 2), (7, 2, 5), (4, 6, 1), (10, 3, 4)]):
        for dtype in (np.float64, np.float32):
            X, W, b = _random((n, m), dtype, 50 + i), _random((m, d), dtype, 60 + i), _random(d, dtype, 70 + i)
            _check_dense(dense_forward, X, W, b, ACTIVATIONS[i])
    X = np.array([[1.0, -2.0], [-3.0, 0.5], [0.0, 0.0]])
    W = np.array([[1000.0, -500.0, 0.0], [0.0, 500.0, -1000.0]])
    b = np.array([0.0, 0.0, 1.0])
    for activation in ("sigmoid", "tanh"):
        _check_dense(dense_forward, X, W, b, activation)
        # float32 overflows sooner (exp(89) is inf there): the same layer in float32
        X32, W32, b32 = X.astype(np.float32), W.astype(np.float32), b.astype(np.float32)
        _check_dense(dense_forward, X32, W32, b32, activation)


# -- DenseLayer -------------------------------------------------------------------------------

def _make_layer(DenseLayer, *args, **kwargs):
    call = "DenseLayer(" + ", ".join([repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]) + ")"
    layer = _call(DenseLayer, *args, call=call, **kwargs)
    if not isinstance(layer, StudentObject):
        fail(called=call, expected="a DenseLayer object (DenseLayer is a class)", received=describe(layer))
    return layer, call


def _attribute(layer, name, call):
    return _call(getattr, layer, name, call=f"{call}.{name}")


def _check_shapes(layer, call, input_dim, output_dim, bias=True):
    """(W, b) of the layer, W's type and shape checked; b's too with `bias` (the bias's shape and zeros
    are graded once, by test_denselayer_attributes: a (1, d) bias costs that check alone)."""
    W, b = _attribute(layer, "W", call), _attribute(layer, "b", call)
    for name, value in (("W", W), ("b", b)) if bias else (("W", W),):
        if not (isinstance(value, np.ndarray) and value.dtype.kind == "f"):
            # weights are trained by small steps: integers or booleans cannot hold them
            fail(called=f"{call}.{name}", expected="a float array (float32 or float64)", received=describe(value))
    if W.shape != (input_dim, output_dim):
        fail(called=f"{call}.W", expected=f"shape (input_dim, output_dim) = {(input_dim, output_dim)}",
             received=f"shape {W.shape}",
             mistake="the kernel is transposed: Keras' kernel has shape (inputs, units)."
             if W.shape == (output_dim, input_dim) else None)
    if not bias:
        return W, b
    if b.shape != (output_dim,):
        fail(called=f"{call}.b", expected=f"shape (output_dim,) = {(output_dim,)}, as Keras' Dense bias",
             received=f"shape {b.shape}",
             mistake="the lecture's snippet uses add_weight([1, output_dim]); this course follows Keras' Dense, "
                     "whose bias is one-dimensional: np.zeros(output_dim)." if b.shape == (1, output_dim) else None)
    if not np.all(b == 0):
        fail(called=f"{call}.b", expected="zeros (Keras' default bias initialiser)", received=describe(b))
    return W, b


def _glorot_diagnosis(variance, fan_in, fan_out):
    """The mistake whose limit predicts the measured variance (uniform on [-l, l] has variance l^2 / 3), or None."""
    candidates = [
        ("sqrt(6 / input_dim) (He uniform): Glorot uses input_dim + output_dim", np.sqrt(6 / fan_in)),
        ("sqrt(6 / output_dim): Glorot uses input_dim + output_dim", np.sqrt(6 / fan_out)),
        ("sqrt(3 / input_dim) (LeCun uniform): Glorot uses sqrt(6 / (input_dim + output_dim))", np.sqrt(3 / fan_in)),
        ("sqrt(1 / input_dim): Glorot uses sqrt(6 / (input_dim + output_dim))", np.sqrt(1 / fan_in)),
        ("6 / (input_dim + output_dim) without the square root", 6 / (fan_in + fan_out)),
        ("sqrt(2 / (input_dim + output_dim)), the Glorot-normal standard deviation; the uniform limit is "
         "sqrt(6 / (input_dim + output_dim))", np.sqrt(2 / (fan_in + fan_out))),
        ("1 (np.random.uniform(-1, 1)): scale it by limit = sqrt(6 / (input_dim + output_dim))", 1.0),
    ]
    for text, limit in candidates:
        if abs(variance / (limit ** 2 / 3) - 1) < 0.03:
            return f"the limit is {text}."
    return None


@exercise("DenseLayer")
def test_denselayer_attributes(DenseLayer):
    """DenseLayer(4, 3, activation="tanh", seed=0) has W of shape (4, 3) and b of zeros of shape (3,)"""
    layer, call = _make_layer(DenseLayer, 4, 3, activation="tanh", seed=0)
    W, _ = _check_shapes(layer, call, 4, 3)
    if not (np.all(np.isfinite(W)) and np.any(W != 0)):
        fail(called=f"{call}.W", expected="random values (Glorot-uniform), not all zero", received=describe(W))


@exercise("DenseLayer", weight=2)
def test_denselayer_glorot_uniform(DenseLayer):
    """W is Glorot-uniform: within +/-sqrt(6/(in+out)), mean ~0, variance ~limit^2/3, flat histogram (300 x 200 layer)"""
    fan_in, fan_out = 300, 200
    layer, call = _make_layer(DenseLayer, fan_in, fan_out, seed=1)
    W, _ = _check_shapes(layer, call, fan_in, fan_out, bias=False)
    W = W.astype(np.float64)
    limit = np.sqrt(6 / (fan_in + fan_out))
    n = W.size  # 60000 draws
    low, high, mean, variance = W.min(), W.max(), W.mean(), W.var()
    seen = (f"values in [{low:.5g}, {high:.5g}], mean {mean:.5g}, variance {variance:.5g} "
            f"(over {n} entries, seed=1)")
    # Bounds: a uniform draw never leaves [-limit, limit]; 1e-6 relative slack for float32 rounding.
    outside = np.mean(np.abs(W) > limit * (1 + 1e-6))
    normal = ("these look like normal draws (np.random.normal gives Glorot-normal); "
              "Glorot-uniform draws uniformly from [-limit, limit]: rng.uniform(-limit, limit, size)."
              if 0 < outside < 0.2 and abs(mean) < 0.05 * limit else None)
    expect(outside == 0, called=call,
           expected=f"every entry of W in [-limit, limit] with limit = sqrt(6 / (300 + 200)) = {limit:.5g}",
           received=f"{seen}; {outside:.1%} of the entries are outside",
           mistake=normal or _glorot_diagnosis(variance, fan_in, fan_out))
    # Mean: its standard error is limit / sqrt(3 n) = 0.0024 limit; allow 0.02 limit (over 8 standard errors).
    expect(abs(mean) <= 0.02 * limit, called=call,
           expected=f"W centred on 0 (|mean| <= {0.02 * limit:.3g}); Glorot-uniform draws from "
                    "[-limit, limit], not [0, limit]",
           received=seen)
    # Variance: limit^2 / 3 for a uniform; the sample variance's relative standard error is sqrt(0.8 / n) = 0.37%,
    # allow 3% (over 8 standard errors).
    expect(abs(variance / (limit ** 2 / 3) - 1) <= 0.03, called=call,
           expected=f"variance limit^2 / 3 = {limit ** 2 / 3:.5g} (within 3%), limit = "
                    f"sqrt(6 / (input_dim + output_dim)) = {limit:.5g}",
           received=seen, mistake=_glorot_diagnosis(variance, fan_in, fan_out))
    # Uniform shape: each tenth of [-limit, limit] holds 10% of the entries; standard error 0.12%, allow 1%.
    shares = np.histogram(W / limit, bins=10, range=(-1, 1))[0] / n
    expect(np.all(np.abs(shares - 0.1) <= 0.01), called=call,
           expected="W uniform on [-limit, limit]: each tenth of the interval holds 10% +/- 1% of the entries",
           received=f"shares {np.array2string(shares, precision=3)}")


@exercise("DenseLayer")
def test_denselayer_seed(DenseLayer):
    """the same seed gives the same kernel, different seeds (and seed=None twice) different kernels"""
    kernels = {}
    for key, seed in (("a", 7), ("b", 7), ("c", 8), ("d", None), ("e", None)):
        layer, call = _make_layer(DenseLayer, 5, 4, seed=seed)
        kernels[key] = _attribute(layer, "W", call)
    # Each finding is the prediction of its mistake: an ignored seed gives different draws for one seed,
    # a fixed seed the same draw for different seeds.
    if not np.array_equal(kernels["a"], kernels["b"]):
        fail(called="DenseLayer(5, 4, seed=7) twice", expected="the same W both times",
             received="two different kernels", mistake="the seed is ignored: draw with rng = np.random.default_rng(seed).")
    if np.array_equal(kernels["a"], kernels["c"]):
        fail(called="DenseLayer(5, 4, seed=7) and DenseLayer(5, 4, seed=8)", expected="different kernels",
             received="the same W", mistake="a fixed seed is used instead of the seed argument.")
    if np.array_equal(kernels["d"], kernels["e"]):
        fail(called="DenseLayer(5, 4, seed=None) twice",
             expected="different kernels (seed=None means a fresh random initialisation)", received="the same W",
             mistake="a fixed seed is used when seed is None.")


def _layer_mistakes(X, W, b, activation):
    ignored = [Mistake("the layer's activation argument is ignored (the sigmoid is always applied): __call__ must "
                       "use the activation given to __init__.", ref.dense_forward(X, W, b, "sigmoid"))]
    return _distinct(ignored, ref.dense_forward(X, W, b, activation)) + _dense_mistakes(X, W, b, activation)


@exercise("DenseLayer", weight=2)
def test_denselayer_call_and_weights(DenseLayer):
    """layer(X) is dense_forward(X, W, b, activation); set_weights([W, b]) and get_weights() use Keras' order"""
    X = _random((5, 4), np.float64, 80)
    layer, call = _make_layer(DenseLayer, 4, 3, activation="tanh", seed=0)
    W0, b0 = _check_shapes(layer, call, 4, 3, bias=False)
    got = _call(layer, X, call=f"{call}(X of shape (5, 4))")
    expect_close(got, ref.dense_forward(X, W0, b0, "tanh"), call=f"layer = {call}; layer(X of shape (5, 4))",
                 mistakes=_layer_mistakes(X, W0, b0, "tanh"))

    W, b = _random((4, 3), np.float64, 81), _random(3, np.float64, 82)
    set_weights = _attribute(layer, "set_weights", call)
    _call(set_weights, [W, b], call="layer.set_weights([W, b])")
    expect_close(_attribute(layer, "W", call), W, call="layer.set_weights([W, b]); layer.W",
                 mistakes=[Mistake("set_weights took b for W: the order is [W, b], as in Keras.", b)])
    got = _call(layer, X, call="layer(X) after layer.set_weights([W, b])")
    expect_close(got, ref.dense_forward(X, W, b, "tanh"), call="layer.set_weights([W, b]); layer(X of shape (5, 4))",
                 mistakes=_layer_mistakes(X, W, b, "tanh"))
    got = _call(_attribute(layer, "get_weights", call), call="layer.get_weights()")
    if not (isinstance(got, (list, tuple)) and len(got) == 2):
        fail(called="layer.get_weights()", expected="a list [W, b] of two arrays", received=describe(got))
    if isinstance(got[0], np.ndarray) and got[0].shape == b.shape:
        fail(called="layer.get_weights()", expected="[W, b]", received="[b, W]",
             mistake="the order is reversed: Keras' get_weights() gives the kernel first, then the bias.")
    expect_close(got[0], W, call="layer.get_weights()[0] (the kernel W)")
    expect_close(got[1], b, call="layer.get_weights()[1] (the bias b)")

    default, call = _make_layer(DenseLayer, 3, 2, seed=5)
    X = _random((6, 3), np.float32, 83)
    W, b = _attribute(default, "W", call), _attribute(default, "b", call)
    expect_close(_call(default, X, call=f"{call}(X of shape (6, 3) float32)"),
                 ref.dense_forward(X, W, b, "sigmoid"), call=f"layer = {call}; layer(X of shape (6, 3) float32)",
                 mistakes=[*_dense_mistakes(X.astype(float), W, b, "sigmoid"),
                           *[Mistake(f"the default activation is {other!r}; it is \"sigmoid\", as in the lecture's "
                                     "MydenseLayer.", ref.dense_forward(X.astype(float), W, b, other))
                             for other in ("linear", "relu", "tanh")]])


@exercise("DenseLayer")
def test_denselayer_matches_keras(DenseLayer):
    """Keras' Dense(3, activation="relu") accepts the layer's get_weights() and then computes the same outputs"""
    layer, call = _make_layer(DenseLayer, 4, 3, activation="relu", seed=3)
    W, b = _random((4, 3), np.float32, 90), _random(3, np.float32, 91)
    try:   # a set_weights that keeps the caller's arrays is charged once, in test_denselayer_call_and_weights
        _call(_attribute(layer, "set_weights", call), [W, b], call="layer.set_weights([W, b])")
    except ContractViolation as exc:
        if exc.rule != "kept":
            raise
    weights = _call(_attribute(layer, "get_weights", call), call="layer.get_weights()")
    X = _random((8, 4), np.float32, 92)
    refused, expected = _keras_relu_layer_output(_as_keras_float32(weights), X)
    if refused:
        fail(called='keras.layers.Dense(3, activation="relu").set_weights(layer.get_weights())',
             expected="[W of shape (4, 3), b of shape (3,)], which Keras accepts",
             received=f"{describe(weights)}\nKeras said: {refused}")
    expect_close(_call(layer, X, call="layer(X of shape (8, 4) float32)"), expected,
                 call=f"layer = {call}; layer.set_weights([W, b]); layer(X of shape (8, 4) float32) against Keras",
                 keras=True, mistakes=_layer_mistakes(X.astype(float), W.astype(float), b.astype(float), "relu"))


# Pre-activations that overflow a naive exp: exp(710) is inf in float64, exp(89) in float32.
OVERFLOW_SCALE = {np.float64: 1000.0, np.float32: 100.0}


def _large_network(dtype):
    """X and the weights of a 2-3-2 network whose pre-activations reach +/-OVERFLOW_SCALE in both layers."""
    scale = OVERFLOW_SCALE[dtype]
    X = np.array([[1.0, -1.0], [-1.0, 0.5], [0.5, 1.0]])
    weights = [np.array([[1.0, -1.0, 0.5], [-0.5, 1.0, -1.0]]) * scale, np.array([0.0, 0.5, -0.5]),
               np.array([[1.0, -1.0], [-1.0, 1.0], [0.5, -0.5]]) * scale, np.array([0.25, -0.25])]
    return X.astype(dtype), [w.astype(dtype) for w in weights]


@exercise("DenseLayer")
def test_denselayer_large_pre_activations(DenseLayer):
    """layer(X) with the default sigmoid is stable for pre-activations of +/-1000 in float64 and +/-100 in float32 (no RuntimeWarning)"""
    for dtype in (np.float64, np.float32):
        X, (W, b, _, _) = _large_network(dtype)
        layer, call = _make_layer(DenseLayer, 2, 3, seed=0)
        try:   # a set_weights that keeps the caller's arrays is charged once, in test_denselayer_call_and_weights
            _call(_attribute(layer, "set_weights", call), [W, b], call="layer.set_weights([W, b])")
        except ContractViolation as exc:
            if exc.rule != "kept":
                raise
        expect_close(_call(layer, X, call=f"layer(X of shape {X.shape} {np.dtype(dtype)})"),
                     ref.dense_forward(X, W, b, "sigmoid"),
                     call=f"layer = {call}; layer.set_weights([W, b]); layer(X) with pre-activations up to "
                          f"+/-{OVERFLOW_SCALE[dtype]:g} in {np.dtype(dtype)}")


# -- mlp_forward ------------------------------------------------------------------------------

def _network(sizes, dtype, seed):
    rng = np.random.default_rng(seed)
    weights = []
    for m, d in zip(sizes[:-1], sizes[1:]):
        weights += [rng.normal(0, 1, size=(m, d)).astype(dtype), rng.normal(0, 0.5, size=d).astype(dtype)]
    return weights


def _mlp_mistakes(X, weights, activations):
    acts, depth = list(activations), len(activations)
    X, weights = X.astype(float), [w.astype(float) for w in weights]

    def run(used, layers=depth):
        return ref.mlp_forward(X, weights[:2 * layers], used[:layers])

    mistakes = [
        Mistake("the last layer's activation is not applied: the output layer applies activations[-1] too.",
                run(acts[:-1] + ["linear"])),
        Mistake("the hidden layers have no activation: every layer l applies activations[l].",
                run(["linear"] * (depth - 1) + acts[-1:])),
        Mistake("the activations are used in reverse order: layer l uses activations[l].", run(acts[::-1])),
        Mistake("the first activation is used for every layer: layer l uses activations[l].", run(acts[:1] * depth)),
        Mistake("the last activation is used for every layer: layer l uses activations[l].", run(acts[-1:] * depth)),
    ]
    if depth > 1:
        mistakes.append(Mistake("only the first layer is computed: loop over every layer, feeding each one's "
                                "output to the next.", run(acts, 1)))
    return _distinct(mistakes, run(acts))


def _mlp_predictions(X, weights, activations):
    """Wrong loops over the layers, run on the inputs: the errors they raise, to recognise them."""
    def fed_x():
        for k, g in enumerate(activations):
            A = ref.dense_forward(X, weights[2 * k], weights[2 * k + 1], g)
        return A

    def by_layer():
        A = X
        for k, g in enumerate(activations):
            A = ref.dense_forward(A, weights[k], weights[k + 1], g)
        return A

    return [("feeding X to every layer raises exactly this error here: each layer's input is the previous "
             "layer's output, A = g_l(A @ W_l + b_l).", fed_x),
            ("taking weights[l] and weights[l + 1] for layer l raises exactly this error here: the kernel of "
             "layer l is weights[2 l] and its bias weights[2 l + 1].", by_layer),
            *_kernel_predictions(X, weights[0], weights[1])]


def _check_mlp(mlp_forward, X, weights, activations, expected=None, **tolerances):
    shapes = ", ".join(str(w.shape) for w in weights)
    call = f"mlp_forward(X of shape {X.shape} {X.dtype}, weights of shapes [{shapes}], {list(activations)})"
    got = _call(mlp_forward, X, weights, list(activations), call=call,
                predictions=_mlp_predictions(X, weights, activations))
    _no_list(got, call, f"the last layer's output, of shape {(X.shape[0], weights[-1].shape[0])}")
    expected = ref.mlp_forward(X, weights, activations) if expected is None else expected
    expect_close(got, expected, call=call, mistakes=_mlp_mistakes(X, weights, activations), **tolerances)


@exercise("mlp_forward")
def test_mlp_forward_hand_example(mlp_forward):
    """a 2-3-1 network (relu, then linear) on x = [1, 2] gives 1.5, as computed by hand"""
    X = np.array([[1.0, 2.0]])
    # z1 = [1 + 2, -1 + 2, -2 + 1] = [3, 1, -1]; relu -> [3, 1, 0]; z2 = 3 - 2 + 0 + 0.5 = 1.5
    weights = [np.array([[1.0, -1.0, 0.0], [1.0, 1.0, -1.0]]), np.array([0.0, 0.0, 1.0]),
               np.array([[1.0], [-2.0], [5.0]]), np.array([0.5])]
    _check_mlp(mlp_forward, X, weights, ["relu", "linear"], expected=np.array([[1.5]]))


@exercise("mlp_forward", weight=2)
def test_mlp_forward_matches_keras(mlp_forward):
    """mlp_forward equals a keras.Sequential of Dense layers with the same weights, in float32 and float64"""
    cases = [((3, 5, 4, 2), ("relu", "tanh", "sigmoid")),
             ((6, 8, 1), ("tanh", "sigmoid")),
             ((2, 7, 3, 4, 3), ("sigmoid", "relu", "linear", "tanh"))]
    for i, (sizes, activations) in enumerate(cases):
        X = _random((9, sizes[0]), np.float64, 100 + i)
        weights = _network(sizes, np.float64, 110 + i)
        _check_mlp(mlp_forward, X, weights, activations, expected=_keras_mlp_output(X, weights, activations), **KERAS64)
        X32, weights32 = X.astype(np.float32), [w.astype(np.float32) for w in weights]
        _check_mlp(mlp_forward, X32, weights32, activations, expected=_keras_mlp_output(X32, weights32, activations),
                   keras=True)


@exercise("mlp_forward")
def test_mlp_forward_depths_and_batches(mlp_forward):
    """one layer equals dense_forward; a 5-layer network and a batch of one example work, in both dtypes"""
    for dtype in (np.float64, np.float32):
        X = _random((4, 3), dtype, 120)
        weights = _network((3, 2), dtype, 121)
        _check_mlp(mlp_forward, X, weights, ["tanh"], expected=ref.dense_forward(X, *weights, "tanh"))
        X = _random((1, 4), dtype, 122)
        weights = _network((4, 6, 5, 3, 2, 1), dtype, 123)
        _check_mlp(mlp_forward, X, weights, ["relu", "tanh", "relu", "linear", "sigmoid"])


@exercise("mlp_forward")
def test_mlp_forward_large_pre_activations(mlp_forward):
    """sigmoid and tanh layers are stable for pre-activations of +/-1000 in float64 and +/-100 in float32 (no RuntimeWarning)"""
    for dtype in (np.float64, np.float32):
        X, weights = _large_network(dtype)
        for activations in (["sigmoid", "sigmoid"], ["tanh", "sigmoid"]):
            _check_mlp(mlp_forward, X, weights, activations)

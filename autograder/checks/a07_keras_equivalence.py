"""Hidden checks of a07_keras_equivalence: the student's NumpyMLP against the same Keras model.

Every Keras reference is built in float64 (`dtype="float64"` on the layers and the loss, so
no global Keras setting is touched), from the case's fixed data, and recorded (`recorded.py`):
grading reads Keras' results without importing TensorFlow. The student's
results are compared with it at tolerances that a network computing in float32 meets:

- forward, loss, gradients, one SGD step: rtol=1e-4, atol=1e-6 (`STEP_TOL`);
- fit (history and final weights, several epochs): rtol=1e-4, atol=1e-5 (`FIT_TOL`); Keras
  keeps `History.history["loss"]` in a float32 metric, so it is exact to about 1e-7 only;
- dropout in training: statistics over 10 000 units with a fixed seed, tolerances below.

The reference solution itself agrees with these Keras models to 1e-10 (tests/checks).
Labels, weights and inputs are chosen so that the output logits stay within about +/-8, where
Keras' loss (computed from the logits of a sigmoid output) and the loss computed from clipped
probabilities agree; `test_loss_with_saturated_outputs` handles larger logits on purpose.
"""
from functools import lru_cache

import numpy as np

from solutions import a07_keras_equivalence as ref

from ..sandbox.launcher import StudentFailure
from ..student import ContractViolation, describe
from .kit import CausedBy, CheckFailure, Mistake, exercise, expect, expect_close, fail, load_keras, load_tensorflow
from .recorded import keras_result

STEP_TOL = {"rtol": 1e-4, "atol": 1e-6}
FIT_TOL = {"rtol": 1e-4, "atol": 1e-5}
LR = 0.5  # a power of two: Keras keeps the learning rate in float32, and 0.5 is exact there

# name -> (layer_sizes, activations): one and two hidden layers, every hidden activation,
# a sigmoid output, no square kernel (a transposed kernel cannot pass).
ARCHS = {
    "tanh": ((3, 5, 1), ("tanh", "sigmoid")),
    "relu-sigmoid": ((4, 6, 3, 1), ("relu", "sigmoid", "sigmoid")),
    "linear": ((2, 7, 1), ("linear", "sigmoid")),
    "tanh-relu": ((5, 3, 4, 1), ("tanh", "relu", "sigmoid")),
}
DROPOUT_ARCH = ((3, 6, 5, 1), ("relu", "tanh", "sigmoid"))
DROPOUT_RATE = 0.4


def _arch_text(sizes, activations, rate=0.0):
    extra = f", dropout_rate={rate}" if rate else ""
    return f"NumpyMLP({list(sizes)}, {list(activations)}{extra})"


# -- the data of each case ---------------------------------------------------------------------

@lru_cache(maxsize=None)
def _data(arch, n=10, seed=0):
    """(X, y, weights) for an architecture: Keras-order weights with non-zero biases."""
    sizes, _ = ARCHS[arch] if arch in ARCHS else DROPOUT_ARCH
    rng = np.random.default_rng(1000 + seed + 17 * len(arch))
    X = rng.normal(size=(n, sizes[0]))
    y = (np.arange(n) % 2 == 0).astype(float)
    rng.shuffle(y)
    weights = []
    for m, d in zip(sizes[:-1], sizes[1:]):
        weights += [rng.normal(0, 0.9, size=(m, d)), rng.normal(0, 0.4, size=d)]
    return X, y, weights


def _arch(arch):
    return ARCHS[arch] if arch in ARCHS else DROPOUT_ARCH


# -- Keras references (float64, built once) ----------------------------------------------------

def _bce():
    return load_keras().losses.BinaryCrossentropy(dtype="float64")


def _build(sizes, activations, rate):
    keras = load_keras()
    layers = [keras.Input(shape=(sizes[0],), dtype="float64")]
    for i, (units, activation) in enumerate(zip(sizes[1:], activations)):
        layers.append(keras.layers.Dense(units, activation=activation, dtype="float64"))
        if rate > 0 and i < len(activations) - 1:
            layers.append(keras.layers.Dropout(rate, seed=i, dtype="float64"))
    return keras.Sequential(layers)


@lru_cache(maxsize=None)
def _keras_model(sizes, activations, rate=0.0):
    return _build(sizes, activations, rate)


@keras_result
def _keras_eval(arch, rate=0.0, label_shape="(n,)"):
    """Keras' output, loss and tf.GradientTape gradients at the case's weights (inference)."""
    tf = load_tensorflow()

    sizes, activations = _arch(arch)
    X, y, weights = _data(arch)
    y = y.reshape(-1, 1) if label_shape == "(n, 1)" else y
    model = _keras_model(sizes, activations, rate)
    model.set_weights(weights)
    with tf.GradientTape() as tape:
        output = model(X, training=False)
        loss = _bce()(y, output)
    grads = tape.gradient(loss, model.trainable_weights)
    return np.array(output), float(loss), [np.array(g) for g in grads]


@keras_result
def _keras_step(arch, lr=LR):
    """The weights after one `train_on_batch` with SGD(lr) on the whole case (one batch)."""
    keras = load_keras()
    sizes, activations = _arch(arch)
    X, y, weights = _data(arch)
    model = _build(sizes, activations, 0.0)
    model.compile(optimizer=keras.optimizers.SGD(lr), loss=_bce(), run_eagerly=True)
    model.set_weights(weights)
    model.train_on_batch(X, y)
    return [np.array(w) for w in model.get_weights()]


@keras_result
def _keras_fit(arch, epochs, batch_size, lr=LR):
    """(history, final weights, weights after every batch) of model.fit(shuffle=False)."""
    keras = load_keras()
    sizes, activations = _arch(arch)
    X, y, weights = _data(arch)
    model = _build(sizes, activations, 0.0)
    model.compile(optimizer=keras.optimizers.SGD(lr), loss=_bce())
    model.set_weights(weights)
    snapshots = []

    class _Snapshots(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            snapshots.append([np.array(w) for w in self.model.get_weights()])

    history = model.fit(X, y, epochs=epochs, batch_size=batch_size, shuffle=False, verbose=0,
                        callbacks=[_Snapshots()])
    return list(history.history["loss"]), [np.array(w) for w in model.get_weights()], snapshots


@keras_result
def _keras_weight_shapes(arch):
    """The shapes of the Keras model's weights, in its order: what its set_weights accepts (exactly these)."""
    return [tuple(w.shape) for w in _keras_model(*_arch(arch)).get_weights()]


@keras_result
def _keras_forward(arch, weights, X):
    """model(X, training=False) with these weights."""
    model = _keras_model(*_arch(arch))
    model.set_weights(weights)
    return np.array(model(X, training=False))


@keras_result
def _keras_saturated_loss(arch, weights, X, y):
    """(Keras' loss from the output's logits, Keras' float32 loss from the probabilities) with these weights."""
    model = _keras_model(*_arch(arch))
    model.set_weights(weights)
    output_tensor = model(X, training=False)   # a tensor that keeps its logits: Keras' loss uses them
    output = np.asarray(output_tensor)
    keras32 = load_keras().losses.BinaryCrossentropy()(y.astype(np.float32).reshape(-1, 1), output.astype(np.float32))
    return float(_bce()(y, output_tensor)), float(keras32)


# -- a plain NumPy network for the wrong variants (the named mistakes) -------------------------

def _act(z, name, derivative=False, tanh_typo=False):
    if name == "sigmoid":
        s = ref.NumpyMLP._activate(z, "sigmoid")
        return s * (1 - s) if derivative else s
    if name == "tanh":
        if derivative and tanh_typo:  # the lecture slide's typo, named in a01 too
            return np.tanh(z) * (1 - np.tanh(z))
        return 1 - np.tanh(z) ** 2 if derivative else np.tanh(z)
    if name == "relu":
        return (z > 0).astype(float) if derivative else np.maximum(z, 0)
    return np.ones_like(z) if derivative else z


def _variant_forward(weights, activations, X, *, bias=True, all_sigmoid=False):
    a = X
    for i, name in enumerate(activations):
        z = a @ weights[2 * i] + (weights[2 * i + 1] if bias else 0)
        a = _act(z, "sigmoid" if all_sigmoid else name)
    return a


def _variant_loss(weights, activations, X, y, *, reduce="mean", broadcast=False):
    with np.errstate(all="ignore"):
        p = _variant_forward(weights, activations, X)
        y = np.asarray(y, dtype=float)
        y = y if broadcast else y.reshape(p.shape)
        p = np.clip(p, 1e-7, 1 - 1e-7)
        terms = y * np.log(p) + (1 - y) * np.log(1 - p)
        return {"mean": -np.mean(terms), "sum": -np.sum(terms), "sign": np.mean(terms)}[reduce]


def _variant_grads(weights, activations, X, y, *, average=True, output_derivative=False, sign=1.0, tanh_typo=False):
    """Backprop with one known mistake switched on."""
    inputs, zs, a = [X], [], X
    for i, name in enumerate(activations):
        z = a @ weights[2 * i] + weights[2 * i + 1]
        a = _act(z, name)
        zs.append(z)
        inputs.append(a)
    y = np.asarray(y, dtype=float).reshape(a.shape)
    delta = (a - y) / (y.size if average else 1)
    grads = [None] * len(weights)
    for i in range(len(activations) - 1, -1, -1):
        grads[2 * i] = sign * inputs[i].T @ delta
        grads[2 * i + 1] = sign * delta.sum(axis=0)
        if i > 0:
            # The mistake evaluates g' at the layer's output a = g(z) instead of at z.
            at = inputs[i] if output_derivative else zs[i - 1]
            delta = (delta @ weights[2 * i].T) * _act(at, activations[i - 1], derivative=True, tanh_typo=tanh_typo)
    return grads


def _gradient_mistakes(weights, activations, X, y):
    return [
        ("the gradients are not averaged over the batch: divide dJ/dz of the output by the "
         "number of examples (the loss is a mean, so its gradient is one too).",
         _variant_grads(weights, activations, X, y, average=False)),
        ("the activation's derivative was taken of the layer's output a = g(z) instead of its "
         "pre-activation z: use g'(z), keeping z from the forward pass.",
         _variant_grads(weights, activations, X, y, output_derivative=True)),
        ("the sign is flipped: these are the gradients of -J (use y_hat - y, not y - y_hat).",
         _variant_grads(weights, activations, X, y, sign=-1.0)),
        (TANH_TYPO, _variant_grads(weights, activations, X, y, tanh_typo=True)),
    ]


TANH_TYPO = ("tanh's derivative is the lecture slide's typo, tanh(z) * (1 - tanh(z)); the derivative of tanh is "
             "1 - tanh(z)**2 (as in a01).")


# -- calling the student's code with teaching failures -----------------------------------------

def _call(function, *args, call, **kwargs):
    """Call the student's code; when it raises, say what was called and what it raised (no guessed mistake)."""
    try:
        return function(*args, **kwargs)
    except StudentFailure as exc:
        if exc.type in ("NotImplementedError", "Timeout", "Stopped"):
            raise
        trace = f"\n{exc.traceback.rstrip()}" if exc.traceback else ""
        fail(called=call, received=f"your code raised {exc}{trace}")


def _new(NumpyMLP, arch, rate=0.0, seed=0):
    sizes, activations = _arch(arch)
    text = _arch_text(sizes, activations, rate)
    mlp = _call(NumpyMLP, list(sizes), list(activations), dropout_rate=rate, seed=seed, call=text)
    return mlp, text


def _with_weights(NumpyMLP, arch, weights, rate=0.0):
    mlp, text = _new(NumpyMLP, arch, rate)
    _set_weights(mlp, weights, text)
    return mlp, text


def _set_weights(mlp, weights, text):
    """`mlp.set_weights(weights)` for a check of another method: a set_weights that keeps the caller's
    arrays (no copy) is charged once, in `test_set_weights_copies`; here the weights are set all the same."""
    try:
        _call(mlp.set_weights, [w.copy() for w in weights], call=f"{text}.set_weights(weights)")
    except ContractViolation as exc:
        if exc.rule != "kept":
            raise


def _weight_name(k):
    return f"{'kernel W' if k % 2 == 0 else 'bias b'}{k // 2 + 1} (layer {k // 2 + 1})"


def _as_list(got, n, call):
    if not isinstance(got, (list, tuple)):
        fail(called=call, expected=f"a list of {n} arrays [W1, b1, W2, b2, ...]", received=describe(got))
    expect(len(got) == n, called=call,
           expected=f"{n} arrays [W1, b1, W2, b2, ...] (one kernel and one bias per layer, in Keras order)",
           received=f"{len(got)} items")
    return list(got)


def _matches(got, values, rtol=1e-4, atol=1e-6):
    try:
        return all(np.shape(g) == np.shape(v) and np.allclose(np.asarray(g, dtype=float), v, rtol=rtol, atol=atol)
                   for g, v in zip(got, values, strict=True))
    except (TypeError, ValueError):
        return False


def _expect_weights(got, expected, *, call, what="weights", mistakes=(), tol=STEP_TOL):
    """Compare lists of arrays in Keras order; localise the first difference (layer, weight, entry)."""
    got = _as_list(got, len(expected), call)
    for k, (g, e) in enumerate(zip(got, expected)):
        shape = np.shape(g)
        if shape != e.shape:
            transposed = len(shape) == 2 and shape == e.shape[::-1]
            fail(called=call, expected=f"the {what} {_weight_name(k)} of shape {e.shape}", received=f"shape {shape}",
                 mistake="the kernel is stored as (out, in) = (units, inputs); Keras' kernel is (inputs, units)."
                 if transposed else None,
                 hint=None if transposed else "Hint: a bias has shape (units,), a kernel (inputs, units).")
        expect_close(g, e, call=f"{call}, {what} {_weight_name(k)}", **tol,
                     mistakes=[Mistake(text, values[k]) for text, values in mistakes])


def _history_array(got, call):
    if not isinstance(got, (list, tuple, np.ndarray)) or not all(np.ndim(v) == 0 for v in np.asarray(got, dtype=object).ravel()):
        fail(called=call, expected="the history, a list with one loss per epoch", received=describe(got))
    return np.asarray([float(v) for v in np.ravel(np.asarray(got, dtype=object))])


# -- one mistake, one charge: a method judged by what the student's own other methods return -----

def _note(method, causes, what):
    named = " and ".join(causes)
    return (f"Passed given your {named}: your {method} did {what.format(named)}, so the failure came from your "
            f"{named}, charged in {'its' if len(causes) == 1 else 'their'} own checks.")


def _caused_by(causes, method, what, failure):
    """Run `failure()`; if it fails the check and `causes` (a tuple, or a function computing it only
    then) names the methods whose results explain it, fail as a `CausedBy` naming them."""
    try:
        failure()
    except CheckFailure as exc:
        causes = causes() if callable(causes) and not isinstance(exc, CausedBy) else causes
        if causes and not isinstance(exc, CausedBy):
            raise CausedBy(exc, causes, _note(method, causes, what)) from None
        raise


def _own(compute):
    """What the student's own methods give (`compute()`), or None when they fail, raise or break a
    general rule (a RuntimeWarning)."""
    try:
        return compute()
    except (CheckFailure, ContractViolation, StudentFailure, TypeError, ValueError):
        return None


def _train_step_causes(NumpyMLP, arch, got_weights, got_loss):
    """The methods whose results explain a failed train_step: the step equals w - lr * (your own
    gradients) and returns your own loss, and one of those differs from Keras'. None otherwise."""
    X, y, weights = _data(arch)
    _, keras_loss, keras_grads = _keras_eval(arch)

    def own():
        mlp, text = _with_weights(NumpyMLP, arch, weights)
        grads = _as_list(_call(mlp.gradients, X, y, call=f"{text}.gradients(X, y)"), len(weights), "gradients")
        return grads, _call(mlp.loss, X, y, call=f"{text}.loss(X, y)")

    found = _own(own)
    if found is None:
        return None
    grads, loss = found
    stepped = _own(lambda: [w - LR * np.asarray(g, dtype=float) for w, g in zip(weights, grads, strict=True)])
    if stepped is None or not _matches(got_weights, stepped) or not _matches([got_loss], [loss]):
        return None   # train_step did something else than one step with your own gradients and loss
    causes = (("gradients",) if not _matches(grads, keras_grads) else ()) + (
        ("loss",) if not _matches([loss], [keras_loss]) else ())
    return causes or None


def _loss_causes(NumpyMLP, arch, labels, got):
    """("forward",) when a failed loss is the mean BCE of your own forward's output (probabilities
    clipped to [1e-7, 1 - 1e-7], which equals Keras' value from the logits at these logits) and that
    output differs from Keras'; None otherwise."""
    X, _, weights = _data(arch)
    keras_output, _, _ = _keras_eval(arch)

    def own():
        mlp, text = _with_weights(NumpyMLP, arch, weights)
        return np.asarray(_call(mlp.forward, X, call=f"{text}.forward(X)"), dtype=float)

    output = _own(own)
    if output is None or output.shape != keras_output.shape or _matches([output], [keras_output]):
        return None
    p = np.clip(output, 1e-7, 1 - 1e-7)
    t = np.asarray(labels, dtype=float).reshape(p.shape)
    with np.errstate(all="ignore"):
        bce = -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p))
    return ("forward",) if _matches([got], [bce]) else None


def _own_fit(NumpyMLP, arch, epochs):
    """(history, weights) of fit(shuffle=False) done with your own train_step, batch after batch."""
    X, y, weights = _data(arch)
    mlp, text = _with_weights(NumpyMLP, arch, weights)
    history = []
    for _ in range(epochs):
        total = 0.0
        for start in range(0, len(X), BATCH):
            rows = slice(start, start + BATCH)
            loss = _call(mlp.train_step, X[rows], y[rows], LR, call=f"{text}.train_step(X[rows], y[rows], lr={LR})")
            total += float(loss) * len(X[rows])
        history.append(total / len(X))
    return np.array(history), _as_list(_call(mlp.get_weights, call=f"{text}.get_weights()"), len(weights),
                                        "get_weights")


def _fit_causes(NumpyMLP, arch, got, *, weights: bool):
    """("train_step",) when a failed fit did what fit should with your own train_step (its history, or
    its final weights with `weights`), and that differs from Keras'; None otherwise."""
    found = _own(lambda: _own_fit(NumpyMLP, arch, EPOCHS))
    if found is None:
        return None
    history, final = found
    expected, keras_final, _ = _keras_fit(arch, EPOCHS, BATCH)
    if weights:
        same, right = _matches(got, final, **FIT_TOL), _matches(final, keras_final, **FIT_TOL)
    else:
        same = np.shape(got) == history.shape and _matches([got], [history], **FIT_TOL)
        right = _matches([history], [np.asarray(expected)], **FIT_TOL)
    return ("train_step",) if same and not right else None


def _dropout_causes(NumpyMLP, arch, keras_output, keras_loss, keras_grads):
    """The methods whose results explain a failed dropout-at-inference check: with dropout_rate=0.4 your
    network gives at inference exactly what the same network without dropout gives, and that
    differs from Keras' in these. None otherwise."""
    X, y, weights = _data(arch)

    def values(rate):
        mlp, text = _with_weights(NumpyMLP, arch, weights, rate=rate)
        return [_call(mlp.forward, X, training=False, call=f"{text}.forward(X, training=False)"),
                _call(mlp.forward, X, call=f"{text}.forward(X)"),
                _call(mlp.loss, X, y, call=f"{text}.loss(X, y)"),
                *_as_list(_call(mlp.gradients, X, y, call=f"{text}.gradients(X, y)"), len(weights), "gradients")]

    found = _own(lambda: (values(DROPOUT_RATE), values(0.0)))
    if found is None or not _matches(*found, rtol=1e-9, atol=1e-12):
        return None
    plain = found[1]
    causes = (("forward",) if not _matches(plain[:1], [keras_output]) else ()) + (
        ("loss",) if not _matches(plain[2:3], [keras_loss]) else ()) + (
        ("gradients",) if not _matches(plain[3:], keras_grads) else ())
    return causes or None


# -- construction, get_weights, set_weights ----------------------------------------------------

@exercise("NumpyMLP", weight=2, method="__init__")
def test_initial_weights(NumpyMLP):
    """get_weights returns [W1, b1, ...] in Keras shapes: kernels (inputs, units) Glorot-uniform, biases zero"""
    for arch in ("tanh", "relu-sigmoid"):
        sizes, activations = _arch(arch)
        mlp, text = _new(NumpyMLP, arch, seed=3)
        got = _as_list(_call(mlp.get_weights, call=f"{text}.get_weights()"), 2 * (len(sizes) - 1),
                       f"{text}.get_weights()")
        for k, g in enumerate(got):
            m, d = sizes[k // 2], sizes[k // 2 + 1]
            want = (m, d) if k % 2 == 0 else (d,)
            if np.shape(g) != want:
                transposed = np.shape(g) == (d, m)
                fail(called=f"{text}.get_weights()", expected=f"{_weight_name(k)} of shape {want}",
                     received=f"shape {np.shape(g)}",
                     mistake=("kernels stored as (out, in) = (units, inputs); Keras' kernel is (inputs, units), "
                              "so that a layer computes X @ W + b." if transposed else None),
                     hint=None if transposed else
                     "Hint: Keras order is [W1, b1, W2, b2, ...], W of shape (inputs, units), b of shape (units,).")
            g = np.asarray(g, dtype=float)
            if k % 2:
                expect(np.all(g == 0), called=f"{text}.get_weights()",
                       expected=f"the {_weight_name(k)} initialised to zeros, as Keras' Dense does",
                       received=describe(g))
            else:
                limit = np.sqrt(6 / (m + d))
                expect(np.all(np.abs(g) <= limit + 1e-12) and np.std(g) > limit / 10,
                       called=f"{text}.get_weights()",
                       expected=f"the {_weight_name(k)} drawn Glorot-uniform, "
                                f"from U(-{limit:.4f}, {limit:.4f}) with limit = sqrt(6 / (inputs + units))",
                       received=f"values in [{g.min():.4f}, {g.max():.4f}] with standard deviation {g.std():.4f}")
        again, _ = _new(NumpyMLP, arch, seed=3)
        expect(_matches(_call(again.get_weights, call=f"{text}.get_weights()"), got, 0, 0),
               called=f"{text} twice with seed=3", expected="the same initial weights (the seed fixes them)",
               received="different weights. Draw them from np.random.default_rng(seed).")


@exercise("NumpyMLP", weight=2, method="set_weights")
def test_weights_round_trip_through_keras(NumpyMLP):
    """the weights round-trip: your initial weights load into the Keras model (model.set_weights), and Keras' back into yours"""
    arch = "relu-sigmoid"
    sizes, activations = _arch(arch)
    mlp, text = _new(NumpyMLP, arch, seed=5)
    mine = _as_list(_call(mlp.get_weights, call=f"{text}.get_weights()"), 6, f"{text}.get_weights()")
    keras_shapes = _keras_weight_shapes(arch)
    try:
        loaded = [np.asarray(w, dtype=np.float64) for w in mine]
    except Exception as exc:
        loaded, why = None, f"{type(exc).__name__}: {str(exc)[:300]}"
    else:   # Keras' set_weights takes float arrays of exactly its own shapes (tests/checks show it refuses others)
        wrong = [k for k, (w, shape) in enumerate(zip(loaded, keras_shapes)) if w.shape != shape]
        why = "; ".join(f"{_weight_name(k)}: Keras' shape {keras_shapes[k]}, yours {loaded[k].shape}" for k in wrong)
    if loaded is None or why:
        fail(called=f"model.set_weights({text}.get_weights()) on the Keras twin",
             expected=f"the weights in Keras order and shapes {keras_shapes}",
             received=f"shapes {[np.shape(w) for w in mine]}\n{why}")
    X, y, weights = _data(arch)
    # The Keras twin's forward with your weights is the reference's (equal to Keras' model(X): tests/checks)
    twin = ref.NumpyMLP(list(sizes), list(activations))
    twin.set_weights(loaded)
    with np.errstate(all="ignore"):
        expected = twin.forward(X)
    expect_close(_call(mlp.forward, X, call=f"{text}.forward(X)"), expected,
                 call=f"{text}.forward(X of shape {X.shape}) against model(X) with your initial weights", **STEP_TOL)
    _set_weights(mlp, weights, text)
    _expect_weights(_call(mlp.get_weights, call=f"{text}.get_weights()"), weights,
                    call=f"{text}.set_weights(weights) then .get_weights()",
                    tol={"rtol": 1e-6, "atol": 0})  # exact, up to storing the weights in float32


@exercise("NumpyMLP", method="set_weights")
def test_set_weights_copies(NumpyMLP):
    """set_weights stores copies of the arrays it is given, as the contract says (the caller's arrays and the network's stay apart)"""
    arch = "tanh"
    X, y, weights = _data(arch)
    mlp, text = _new(NumpyMLP, arch)
    # the call's capture sees a set_weights that keeps an argument (a ContractViolation naming it)
    _call(mlp.set_weights, [w.copy() for w in weights], call=f"{text}.set_weights(weights)")
    _expect_weights(_call(mlp.get_weights, call=f"{text}.get_weights()"), weights,
                    call=f"{text}.set_weights(weights) then .get_weights()", tol={"rtol": 1e-6, "atol": 0})


# -- predictions --------------------------------------------------------------------------------

@exercise("NumpyMLP", weight=3, method="forward")
def test_forward_equals_keras(NumpyMLP):
    """forward(X) equals model(X) for one and two hidden layers, every hidden activation (tol 1e-4 rel)"""
    for arch in ARCHS:
        sizes, activations = _arch(arch)
        X, _, weights = _data(arch)
        mlp, text = _with_weights(NumpyMLP, arch, weights)
        expected, _, _ = _keras_eval(arch)
        call = f"{text}.forward(X of shape {X.shape}) against the Keras model with the same weights"
        got = _call(mlp.forward, X, call=call)
        expect_close(got, expected, call=call, **STEP_TOL, mistakes=[
            Mistake("the biases are not added: z = X @ W + b in every layer.",
                    _variant_forward(weights, activations, X, bias=False)),
            Mistake("the sigmoid is applied in every layer: use each layer's own activation.",
                    _variant_forward(weights, activations, X, all_sigmoid=True)),
        ], shape_hint="forward returns shape (n, layer_sizes[-1]).")
        got_default = _call(mlp.forward, X, training=False, call=f"{text}.forward(X, training=False)")
        expect_close(got_default, expected, call=f"{text}.forward(X, training=False)", **STEP_TOL)


@exercise("NumpyMLP", method="forward")
def test_forward_float32(NumpyMLP):
    """forward works on float32 inputs and weights (tol 1e-4 rel against Keras in float64)"""
    arch = "tanh-relu"
    X, _, weights = _data(arch)
    mlp, text = _with_weights(NumpyMLP, arch, [w.astype(np.float32) for w in weights])
    X32 = X.astype(np.float32)
    expected = _keras_forward(arch, [w.astype(np.float32).astype(np.float64) for w in weights], X32.astype(np.float64))
    expect_close(_call(mlp.forward, X32, call=f"{text}.forward(X float32)"), expected,
                 call=f"{text}.forward(X float32 of shape {X.shape}) with float32 weights", **STEP_TOL)


# -- loss ---------------------------------------------------------------------------------------

@exercise("NumpyMLP", weight=2, method="loss")
def test_loss_equals_keras(NumpyMLP):
    """loss(X, y) equals BinaryCrossentropy()(y, model(X)) for labels of shape (n,) and (n, 1) (tol 1e-4 rel)"""
    for arch in ("tanh", "relu-sigmoid", "linear"):
        sizes, activations = _arch(arch)
        X, y, weights = _data(arch)
        mlp, text = _with_weights(NumpyMLP, arch, weights)
        for shape in ("(n,)", "(n, 1)"):
            labels = y.reshape(-1, 1) if shape == "(n, 1)" else y
            _, expected, _ = _keras_eval(arch, label_shape=shape)
            call = f"{text}.loss(X of shape {X.shape}, y of shape {labels.shape})"
            got = _call(mlp.loss, X, labels, call=call)
            expect(np.ndim(got) == 0, called=call, expected="one number, the mean loss over the batch",
                   received=f"{describe(got)} of shape {np.shape(got)}")
            _caused_by(lambda: _loss_causes(NumpyMLP, arch, labels, got), "loss",
                       "the mean binary cross-entropy of what your forward returned", lambda: expect_close(
                got, expected, call=call, **STEP_TOL, mistakes=[
                    Mistake("the losses are summed instead of averaged: J is the mean over the batch "
                            "(the 1/n is missing).", _variant_loss(weights, activations, X, labels, reduce="sum")),
                    Mistake("the sign is flipped: J = -mean(y log y_hat + (1 - y) log(1 - y_hat)).",
                            _variant_loss(weights, activations, X, labels, reduce="sign")),
                    Mistake("labels of shape (n,) were broadcast against outputs of shape (n, 1), giving an "
                            "(n, n) matrix of losses: reshape y to the output's shape first.",
                            _variant_loss(weights, activations, X, labels, broadcast=True)),
                ]))


@exercise("NumpyMLP", method="loss")
def test_loss_with_saturated_outputs(NumpyMLP):
    """loss stays finite, without RuntimeWarning, when the output logits reach +/-40 (Keras' value from the logits, or the clipped-probability value in float64 or float32)"""
    arch = "tanh"
    X, y, weights = _data(arch)
    big = [w.copy() for w in weights]
    big[2] = np.sign(big[2]) * 12.0
    big[3] = np.array([4.0])
    mlp, text = _with_weights(NumpyMLP, arch, big)
    # Keras' loss from the logits, and what Keras computes in float32 from the probabilities (1 - 1e-7
    # rounds to 1 - 1.19e-7 there)
    keras_value, keras32 = _keras_saturated_loss(arch, big, X, y)
    clipped = _variant_loss(big, _arch(arch)[1], X, y)
    accepted = {"Keras, from the logits": keras_value, "probabilities clipped to [1e-7, 1 - 1e-7]": clipped,
                "Keras in float32, from probabilities clipped in float32": keras32}
    call = f"{text}.loss(X, y) with output logits up to +/-40"
    got = _call(mlp.loss, X, y, call=call)
    expect(np.ndim(got) == 0 and np.isfinite(float(got)),
           called=call, expected=f"a finite loss ({keras_value:.6g})", received=describe(got),
           hint="How to fix: compute from the logits, or clip y_hat to [1e-7, 1 - 1e-7] before the logarithms.")
    if not any(np.isclose(float(got), value, rtol=1e-4) for value in accepted.values()):
        fail(called=call, expected=" or ".join(f"{value:.8g} ({how})" for how, value in accepted.items())
             + ", within rtol 1e-4", received=f"{float(got):.8g}")


@exercise("NumpyMLP", method="stability")
def test_large_pre_activations(NumpyMLP):
    """forward and gradients stay finite, without RuntimeWarning, for pre-activations of +/-1000 in float64 and +/-100 in float32 (a naive exp overflows there)"""
    for activations in (("sigmoid", "sigmoid"), ("tanh", "sigmoid")):
        for dtype, scale in ((np.float64, 1000.0), (np.float32, 100.0)):
            sizes = (2, 3, 1)
            X = np.array([[1.0, -1.0], [-1.0, 0.5], [0.5, 1.0], [0.2, -0.3]])
            y = np.array([1.0, 0.0, 0.0, 1.0])
            weights = [np.array([[1.0, -1.0, 0.5], [-0.5, 1.0, -1.0]]) * scale, np.array([0.0, 0.5, -0.5]),
                       np.array([[1.0], [-1.0], [0.5]]) * scale, np.array([0.25])]
            net = ref.NumpyMLP(list(sizes), list(activations))
            net.set_weights(weights)
            text = _arch_text(sizes, activations)
            mlp = _call(NumpyMLP, list(sizes), list(activations), call=text)
            _set_weights(mlp, [w.astype(dtype) for w in weights], text)
            where = f"with pre-activations up to +/-{scale:g} in {np.dtype(dtype)}"
            expect_close(_call(mlp.forward, X.astype(dtype), call=f"{text}.forward(X)"), net.forward(X),
                         call=f"{text}.forward(X of shape {X.shape}) {where}", **STEP_TOL)
            try:
                got = _call(mlp.gradients, X.astype(dtype), y, call=f"{text}.gradients(X, y)")
            except ContractViolation as exc:
                # the loss's own warning (a naive log of the sigmoid), charged by the loss's checks
                if exc.rule == "warning" and _own(lambda: mlp.loss(X.astype(dtype), y)) is None:
                    raise CausedBy(CheckFailure(str(exc), mistake=exc.mistake), ("loss",), _note(
                        "gradients", ("loss",), "what it should with the loss your loss computes (its own "
                        "RuntimeWarning at these inputs)")) from None
                raise
            _expect_weights(got, net.gradients(X, y), call=f"{text}.gradients(X, y) {where}", what="gradient of")


# -- gradients ----------------------------------------------------------------------------------

@exercise("NumpyMLP", weight=3, method="gradients")
def test_gradients_equal_gradient_tape(NumpyMLP):
    """gradients(X, y) equal tf.GradientTape on the Keras model's loss, for every layer and weight (tol 1e-4 rel)"""
    for arch in ARCHS:
        sizes, activations = _arch(arch)
        X, y, weights = _data(arch)
        mlp, text = _with_weights(NumpyMLP, arch, weights)
        for shape in ("(n,)", "(n, 1)") if arch == "tanh" else ("(n,)",):
            labels = y.reshape(-1, 1) if shape == "(n, 1)" else y
            _, _, expected = _keras_eval(arch, label_shape=shape)
            call = f"{text}.gradients(X of shape {X.shape}, y of shape {labels.shape})"
            got = _call(mlp.gradients, X, labels, call=call)
            _expect_weights(got, expected, call=call + " against tf.GradientTape", what="gradient of",
                            mistakes=_gradient_mistakes(weights, activations, X, labels))


# -- one step, and fit ----------------------------------------------------------------------------

@exercise("NumpyMLP", weight=2, method="train_step")
def test_train_step_equals_keras_sgd(NumpyMLP):
    """train_step returns the batch's loss before the step, and leaves the weights of one keras.optimizers.SGD step"""
    for arch in ("tanh", "tanh-relu"):
        sizes, activations = _arch(arch)
        X, y, weights = _data(arch)
        mlp, text = _with_weights(NumpyMLP, arch, weights)
        _, loss_before, grads = _keras_eval(arch)
        after = _keras_step(arch)
        call = f"{text}.train_step(X of shape {X.shape}, y, lr={LR})"
        got_loss = _call(mlp.train_step, X, y, LR, call=call)
        got_weights = _call(mlp.get_weights, call=f"{text}.get_weights()")
        wrong = [
            ("the gradients are not averaged over the batch (the step is n times too large).",
             [w - LR * g for w, g in zip(weights, _variant_grads(weights, activations, X, y, average=False))]),
            ("the step goes uphill: w <- w - lr * gradient, not w + lr * gradient.",
             [w + LR * g for w, g in zip(weights, grads)]),
            ("the activation's derivative was taken of the output a = g(z) instead of z.",
             [w - LR * g for w, g in zip(weights, _variant_grads(weights, activations, X, y, output_derivative=True))]),
            ("the learning rate is ignored.", [w - g for w, g in zip(weights, grads)]),
            (TANH_TYPO, [w - LR * g for w, g in zip(weights, _variant_grads(weights, activations, X, y, tanh_typo=True))]),
        ]
        try:
            _expect_weights(got_weights, after, call=call + ", then get_weights(), against one SGD step in Keras",
                            mistakes=wrong)
            loss_after = _variant_loss(after, activations, X, y)
            expect_close(got_loss, loss_before, call=call + " (its return value)", **STEP_TOL, mistakes=[
                Mistake("the loss was taken after the update: return the loss computed in the forward pass "
                        "that gave the gradients, before the step.", loss_after)])
        except CheckFailure as exc:
            causes = _train_step_causes(NumpyMLP, arch, got_weights, got_loss)
            if causes:
                raise CausedBy(exc, causes, _note("train_step", causes, "one SGD step with what your {} returned"))
            raise


EPOCHS, BATCH = 3, 4  # 10 rows: batches of 4, 4 and a final partial batch of 2


@lru_cache(maxsize=None)
def _fit_mistakes(arch):
    """Histories of known wrong fit loops, computed with the reference class."""
    sizes, activations = _arch(arch)
    X, y, weights = _data(arch)
    starts = list(range(0, len(X), BATCH))

    def run(drop_last=False, after=False, weighted=True, whole=False):
        net = ref.NumpyMLP(list(sizes), list(activations))
        net.set_weights(weights)
        history = []
        for _ in range(EPOCHS):
            losses, sizes_ = [], []
            for s in starts:
                rows = slice(s, s + BATCH)
                if drop_last and len(X[rows]) < BATCH:
                    continue
                loss = net.train_step(X[rows], y[rows], LR)
                losses.append(net.loss(X[rows], y[rows]) if after else loss)
                sizes_.append(len(X[rows]))
            history.append(net.loss(X, y) if whole else np.average(losses, weights=sizes_ if weighted else None))
        return np.array(history), net.get_weights()

    return {
        "drop_last": run(drop_last=True),
        "after": run(after=True),
        "unweighted": run(weighted=False),
        "whole": run(whole=True),
    }


HISTORY_MISTAKES = {
    "drop_last": "the last, partial batch is dropped: an epoch visits every row, and its final batch "
                 "holds the remaining n % batch_size rows.",
    "after": "each batch's loss is taken after its update: Keras records the loss of the forward pass "
             "that computed the gradients, before the step.",
    "unweighted": "the batches' losses are averaged without weights: weight each by its batch size "
                  "(the final partial batch counts less), as Keras' History does.",
    "whole": "the history holds the loss on the whole data set at the end of each epoch; Keras' History "
             "holds the mean of the batches' losses during the epoch.",
}


@exercise("NumpyMLP", weight=3, method="fit")
def test_fit_history_equals_keras(NumpyMLP):
    """fit(shuffle=False) over 3 epochs with a final partial batch: the history equals History.history["loss"] (tol 1e-4 rel)"""
    for arch in ("tanh", "relu-sigmoid"):
        X, y, weights = _data(arch)
        mlp, text = _with_weights(NumpyMLP, arch, weights)
        expected, _, _ = _keras_fit(arch, EPOCHS, BATCH)
        call = f"{text}.fit(X of shape {X.shape}, y, epochs={EPOCHS}, batch_size={BATCH}, lr={LR}, shuffle=False)"
        got = _history_array(_call(mlp.fit, X, y, EPOCHS, BATCH, LR, shuffle=False, call=call), call)
        if len(got) == EPOCHS * 3:
            fail(called=call, expected=f"{EPOCHS} losses, one per epoch",
                 received=f"{len(got)} losses, one per batch: average each epoch's batch losses, weighted by batch size.")
        expect(len(got) == EPOCHS, called=call, expected=f"{EPOCHS} losses, one per epoch",
               received=f"{len(got)} values")
        variants = _fit_mistakes(arch)
        expected = np.array(expected)
        bad = np.flatnonzero(~np.isclose(got, expected, **FIT_TOL))
        if bad.size:
            e = int(bad[0])
            named = next((text_ for key, text_ in HISTORY_MISTAKES.items()
                          if np.allclose(got, variants[key][0], rtol=1e-4, atol=1e-6)), None)
            # train_step's mistake when fit only did its loop with it ("the loss after the update" included)
            causes = _fit_causes(NumpyMLP, arch, got, weights=False)
            _caused_by(causes, "fit", "the epochs' loop with what your {} returned on each batch", lambda: fail(called=call, expected=f"History.history['loss'] = {describe(expected)}",
                 received=f"{describe(got)}\nFirst difference at epoch {e + 1}: expected {expected[e]:.8g}, "
                          f"received {got[e]:.8g} (by {got[e] - expected[e]:.3g}; tolerance rtol=1e-4, atol=1e-5)",
                 mistake=named))


@exercise("NumpyMLP", weight=2, method="fit")
def test_fit_final_weights_equal_keras(NumpyMLP):
    """after fit(shuffle=False), the weights equal Keras' after model.fit; a difference is traced to its epoch and batch"""
    arch = "tanh"
    sizes, activations = _arch(arch)
    X, y, weights = _data(arch)
    _, final, snapshots = _keras_fit(arch, EPOCHS, BATCH)
    mlp, text = _with_weights(NumpyMLP, arch, weights)
    call = f"{text}.fit(X of shape {X.shape}, y, epochs={EPOCHS}, batch_size={BATCH}, lr={LR})"
    _call(mlp.fit, X, y, EPOCHS, BATCH, LR, call=call)
    got = _as_list(_call(mlp.get_weights, call=f"{text}.get_weights()"), len(weights), f"{text}.get_weights()")
    if _matches(got, final, **FIT_TOL):
        return
    # Localise: one epoch from the same start, against Keras' weights after each of its batches.
    one, _ = _with_weights(NumpyMLP, arch, weights)
    _call(one.fit, X, y, 1, BATCH, LR, call=call.replace(f"epochs={EPOCHS}", "epochs=1"))
    got_one = _call(one.get_weights, call=f"{text}.get_weights()")
    per_epoch = len(snapshots) // EPOCHS
    mistake = None
    if _matches(got_one, snapshots[per_epoch - 1], **FIT_TOL):
        where = "Your first epoch matches Keras; the difference starts in a later epoch."
    elif _matches(got_one, snapshots[per_epoch - 2], **FIT_TOL):
        where, mistake = "After one epoch your weights equal Keras' after batch 2 of 3.", HISTORY_MISTAKES["drop_last"]
    elif _matches(got_one, weights, rtol=0, atol=0):
        where = "After one epoch your weights have not changed: apply each batch's update."
    elif _matches(got_one, snapshots[0], **FIT_TOL):
        where = "After one epoch your weights equal Keras' after its first batch only: visit every batch."
    else:
        where = "Your weights already differ within the first epoch: check train_step on each batch in order."
    causes = _fit_causes(NumpyMLP, arch, got, weights=True)

    def failure():
        try:
            _expect_weights(got, final, call=call + ", then get_weights(), against Keras' model.fit", tol=FIT_TOL)
        except CheckFailure as exc:
            fail(called=exc.called, expected=exc.expected, received=f"{exc.received}\n{where}",
                 mistake=mistake or exc.mistake, hint=exc.hint)
        fail(called=call, expected="the weights after Keras' model.fit", received=where, mistake=mistake)

    _caused_by(causes, "fit", "the epochs' loop with what your {} returned on each batch", failure)


# -- dropout ------------------------------------------------------------------------------------

@exercise("NumpyMLP", weight=2, method="dropout")
def test_dropout_inference_equals_keras(NumpyMLP):
    """with dropout_rate=0.4, inference (training=False) equals the Keras model with Dropout layers: forward, loss and gradients"""
    arch = "dropout"
    sizes, activations = DROPOUT_ARCH
    X, y, weights = _data(arch)
    mlp, text = _with_weights(NumpyMLP, arch, weights, rate=DROPOUT_RATE)
    output, loss, grads = _keras_eval(arch, rate=DROPOUT_RATE)
    call = f"{text}.forward(X of shape {X.shape}, training=False)"
    got = _call(mlp.forward, X, training=False, call=call)

    def compare():
        # Each dropout mistake is named by its own prediction only: units zeroed at inference, a default
        # that differs from training=False, or a loss or gradients that change from call to call.
        active = np.shape(got) == output.shape and np.mean(np.asarray(got) != output) > 0.1
        _named_if(active, "dropout is active at inference; apply it only when training=True.",
                  expect_close, got, output, call=call, **STEP_TOL)
        default = _call(mlp.forward, X, call=f"{text}.forward(X)")
        _named_if(not _matches([default], [got], 0, 0), "training does not default to False: dropout only when asked for.",
                  expect_close, default, output, call=f"{text}.forward(X) (training defaults to False)", **STEP_TOL)
        losses = [_call(mlp.loss, X, y, call=f"{text}.loss(X, y)") for _ in range(2)]
        _named_if(not _matches(losses[:1], losses[1:], 0, 0), "loss applies dropout (it changes from call to call): "
                  "it is computed in inference mode.", expect_close, losses[0], loss, call=f"{text}.loss(X, y)", **STEP_TOL)
        grads_twice = [_call(mlp.gradients, X, y, call=f"{text}.gradients(X, y)") for _ in range(2)]
        _named_if(not _matches(grads_twice[0], grads_twice[1], 0, 0), "gradients(X, y) applies dropout (they change "
                  "from call to call): they are computed in inference mode (training=False).",
                  _expect_weights, grads_twice[0], grads,
                  call=f"{text}.gradients(X, y) against tf.GradientTape (inference mode)", what="gradient of",
                  mistakes=_gradient_mistakes(weights, activations, X, y))

    _caused_by(lambda: _dropout_causes(NumpyMLP, arch, output, loss, grads), f"{text}",
               "at inference exactly what your network does without dropout", compare)


def _named_if(condition, mistake, compare, *args, **kwargs):
    """Run a comparison; if it fails and `condition` (the mistake's own prediction) holds, name `mistake`."""
    try:
        compare(*args, **kwargs)
    except CheckFailure as exc:
        if condition:
            exc.mistake = mistake
        raise


def _probe(NumpyMLP, hidden_layers, rate, seed=7):
    """A net whose output reveals its dropout: tanh units, then identity kernels, then a sigmoid."""
    units = 200
    sizes = [4] + [units] * (hidden_layers + 1)
    activations = ["tanh"] + ["linear"] * (hidden_layers - 1) + ["sigmoid"]
    rng = np.random.default_rng(seed)
    W1, b1 = rng.normal(0, 0.5, size=(4, units)), rng.normal(0, 0.1, size=units)
    weights = [W1, b1]
    for _ in range(hidden_layers):
        weights += [np.eye(units), np.zeros(units)]
    text = _arch_text(sizes, activations, rate)
    mlp = _call(NumpyMLP, sizes, activations, dropout_rate=rate, seed=seed, call=text)
    _set_weights(mlp, weights, text)
    X = rng.normal(size=(50, 4))
    return mlp, text, X, np.tanh(X @ W1 + b1)


@exercise("NumpyMLP", weight=2, method="dropout")
def test_dropout_training_statistics(NumpyMLP):
    """in training, the fraction dropped is close to the rate (+/-0.03 over 10 000 units), kept units are scaled by 1/(1 - rate), so expected activations are preserved (+/-0.04)"""
    for hidden_layers, rate in ((1, 0.3), (2, 0.3)):
        mlp, text, X, hidden = _probe(NumpyMLP, hidden_layers, rate)
        keep = (1 - rate) ** hidden_layers  # a unit survives every hidden layer's dropout
        call = f"{text}.forward(X of shape {X.shape}, training=True) with identity kernels after the tanh layer"
        outs = [np.asarray(_call(mlp.forward, X, training=True, call=call), dtype=float) for _ in range(2)]
        for out in outs:
            expect(out.shape == hidden.shape, called=call, expected=f"shape {hidden.shape}",
                   received=f"shape {out.shape}")
            if np.any(out <= 0) or np.any(out >= 1):
                fail(called=call, expected="sigmoid outputs strictly between 0 and 1",
                     received="some outputs are exactly 0 or 1.",
                     mistake="dropout is applied after the output layer; it follows the hidden layers only.")
        z = np.log(outs[0]) - np.log1p(-outs[0])  # the output's logits: the hidden units after dropout
        dropped = np.abs(z) < 1e-6
        fraction = dropped.mean()
        expected_fraction = 1 - keep
        layers_text = "each of the 2 hidden layers" if hidden_layers == 2 else "the hidden layer"
        if abs(fraction - expected_fraction) > 0.03:
            if abs(fraction - (1 - rate) ** 1) < 0.03 and hidden_layers == 1:
                named = "the rate is used as the probability of keeping a unit: rate is the fraction DROPPED."
            elif abs(fraction) < 1e-9:
                named = "no unit is dropped: dropout is not applied when training=True."
            elif hidden_layers == 2 and abs(fraction - rate) < 0.03:
                named = "dropout follows only the first hidden layer: add it after every hidden layer."
            else:
                named = None
            fail(called=call, expected=f"a fraction {expected_fraction:.3f} of the units dropped (rate={rate} after "
                 f"{layers_text}), within 0.03", received=f"{fraction:.3f}", mistake=named)
        # Units near 0 are left out: their ratio is imprecise when the output is computed in float32.
        clear = ~dropped & (np.abs(hidden) > 0.05)
        ratio = z[clear] / hidden[clear]
        scale = 1 / keep
        if not np.allclose(ratio, scale, rtol=1e-3):
            named = None
            if np.allclose(ratio, 1, rtol=1e-3):
                named = ("the kept units are not rescaled: divide them by (1 - rate) (inverted dropout, as Keras), "
                         "so that expected activations are preserved.")
            elif np.allclose(ratio, keep, rtol=1e-3):
                named = "the kept units are multiplied by (1 - rate); divide by it instead."
            fail(called=call, expected=f"every kept unit equal to its value without dropout times {scale:.6g} = "
                 f"1/(1 - rate){'^2' if hidden_layers == 2 else ''} (rtol 1e-3)",
                 received=f"ratios from {ratio.min():.6g} to {ratio.max():.6g}", mistake=named)
        preserved = np.mean(z[np.abs(hidden) > 0.05] / hidden[np.abs(hidden) > 0.05])
        expect(abs(preserved - 1) < 0.04,
               called=call, expected="the mean over units of (activation with dropout) / (activation without) "
                                     "close to 1 (expected activations preserved), within 0.04",
               received=f"{preserved:.4f}")
        z2 = np.log(outs[1]) - np.log1p(-outs[1])
        expect(np.mean((np.abs(z2) < 1e-6) != dropped) > 0.05,
               called=f"{call} twice", expected="a new random mask on every call",
               received="the same units dropped both times. Draw the mask in forward, from a generator "
                        "created once (np.random.default_rng(seed)) and reused.")

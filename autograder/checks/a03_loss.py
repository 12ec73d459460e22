"""Hidden checks of a03_loss: quantifying loss.

The losses are compared with Keras itself (`keras.losses.BinaryCrossentropy`, its
`from_logits=True` form and `MeanSquaredError`): in float64 (the Keras loss built with
dtype="float64") within rtol 1e-10, atol 1e-12, and in float32 (Keras' default) within
course.yaml's Keras tolerances. Edge cases (predictions of exactly 0 and 1) are compared with
Keras in float64; in float32, 1 - 1e-7 rounds to 1 - 1.19e-7, so there both Keras' float32 value
and the value clipped in float64 (about 1% apart) are accepted.

Points within each loss: the hand values and the Keras comparisons in float64 carry most of the
weight (2 each); float32 and the pairing of (n,) labels with (n, 1) predictions are one check of
weight 1 each, and the other checks use equal shapes only, so that broadcasting (n,) against
(n, 1) (one cause) is charged once, by one check, whatever the dtype.
"""
from functools import lru_cache

import numpy as np

from solutions import a03_loss as ref

from ..student import ContractViolation, describe
from .kit import Mistake, close, exercise, expect_close, fail, load_keras, tolerance
from .recorded import keras_result

KERAS64 = {"rtol": 1e-10, "atol": 1e-12}   # float64 results against Keras computing in float64

# Labels and predictions shapes, as (y_true shape, y_pred shape): equal shapes, several columns, a
# 3-d batch; and Keras' pairing of (n,) with (n, 1) either way round, checked on its own (PAIRED).
SHAPES = [((7,), (7,)), ((6, 1), (6, 1)), ((5, 3), (5, 3)), ((2, 3, 4), (2, 3, 4))]
PAIRED = [((6,), (6, 1)), ((6, 1), (6,))]

CLIP_HINT = ("Hint: a prediction of exactly 0 or 1 makes log(0) = -inf. Clip the predictions to "
             "[eps, 1 - eps] with np.clip before taking logs, at both ends (log(1 - p) needs it too).")
STABLE_HINT = ("Hint: sigmoid(z) rounds to exactly 0 or 1 for large |z|, and exp(-z) overflows for very "
               "negative z. Use the stable form max(z, 0) - z * y + log(1 + exp(-|z|)) (np.log1p helps).")


def _clip_hint(y, p):
    """CLIP_HINT where its cause is in the input: a prediction of exactly 0 or 1."""
    return CLIP_HINT if np.any((np.asarray(p) == 0) | (np.asarray(p) == 1)) else ""


def _stable_hint(y, z):
    """STABLE_HINT where its cause is in the input: logits whose exp overflows in their dtype."""
    z = np.asarray(z)
    limit = 88.0 if z.dtype == np.float32 else 709.0
    return STABLE_HINT if np.any(np.abs(z) > limit) else ""


# -- helpers ----------------------------------------------------------------------------------

def _check_paired(function, kind, hint, mistakes, draw):
    """The loss of labels (n,) against predictions (n, 1) and the reverse, in float64 and float32, against Keras.

    One check per loss holds every pairing case, so broadcasting (one cause) costs its weight once.
    """
    name = {"bce": "binary_cross_entropy", "bce_logits": "binary_cross_entropy_from_logits",
            "mse": "mean_squared_error"}[kind]
    for i, (y_shape, p_shape) in enumerate(PAIRED):
        for dtype in ("float64", "float32"):
            rng = np.random.default_rng(1000 + 2 * i + (dtype == "float32"))
            y = (rng.normal(0, 5, size=y_shape) if kind == "mse" else rng.integers(0, 2, size=y_shape)).astype(dtype)
            p = draw(rng, p_shape).astype(dtype)
            tolerances = KERAS64 if dtype == "float64" else {"keras": True}
            expect_close(_call(function, hint, y, p), _keras(kind, y, p, dtype),
                         call=f"{name}(y {dtype} of shape {y_shape}, {'z' if kind == 'bce_logits' else 'y_pred'} "
                              f"{dtype} of shape {p_shape})",
                         mistakes=mistakes(y, p), **tolerances)


@lru_cache(maxsize=None)
def _keras_loss(kind, dtype):
    """A Keras loss object, built once; its dtype is set on the loss, never globally."""
    keras = load_keras()

    if kind == "bce":
        return keras.losses.BinaryCrossentropy(dtype=dtype)
    if kind == "bce_logits":
        return keras.losses.BinaryCrossentropy(from_logits=True, dtype=dtype)
    return keras.losses.MeanSquaredError(dtype=dtype)


@keras_result
def _keras(kind, y_true, y_pred, dtype):
    value = np.asarray(_keras_loss(kind, dtype)(y_true, y_pred))
    return value.astype(dtype)


def _call(function, hint, *args, **kwargs):
    """Call the student's function; add a hint to a RuntimeWarning when its cause is in these inputs.

    Args:
        hint: hint(y, p) gives the hint for these inputs ("" when its cause is absent).
    """
    try:
        return function(*args, **kwargs)
    except ContractViolation as exc:
        because = hint(*args[:2])
        if not because:
            raise
        fail(str(exc), hint=because)


def _paired(y, p):
    """y and p as float64, the extra axis of (n,) against (n, 1) dropped (as Keras pairs them)."""
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    if p.ndim == y.ndim + 1 and p.shape[-1] == 1:
        p = p[..., 0]
    if y.ndim == p.ndim + 1 and y.shape[-1] == 1:
        y = y[..., 0]
    return y, p


def _shape_mistakes(y, p, per_element):
    """Mistakes about shapes: broadcasting (n,) against (n, 1), and averaging over one axis only."""
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    out = []
    if y.ndim != p.ndim:
        with np.errstate(all="ignore"):
            table = per_element(y, p)   # NumPy's broadcasting: (n,) against (n, 1) is (n, n)
        out.append(Mistake(f"labels of shape {y.shape} and predictions of shape {p.shape} were broadcast to a "
                           f"{table.shape} table, pairing every label with every prediction. Pair them row by "
                           "row, as Keras does: drop the extra axis of length 1 first (y_pred[..., 0] or "
                           "reshape).", np.mean(table)))
    yy, pp = _paired(y, p)
    if yy.ndim > 1:
        with np.errstate(all="ignore"):
            terms = per_element(yy, pp)
        out.append(Mistake("the mean was taken over the last axis only (one value per row): Keras then "
                           "averages those over the batch too. Return one number, the mean over all elements.",
                           np.mean(terms, axis=-1)))
        out.append(Mistake("the mean was taken over the batch axis only (one value per column): return one "
                           "number, the mean over all elements.", np.mean(terms, axis=0)))
    return out


# -- binary_cross_entropy ---------------------------------------------------------------------

def _bce_terms(eps):
    def terms(y, p):
        c = np.clip(p, eps, 1 - eps)
        return -(y * np.log(c) + (1 - y) * np.log(1 - c))
    return terms


def _bce_mistakes(y, p, eps=1e-7):
    yy, pp = _paired(y, p)
    with np.errstate(all="ignore"):
        c = np.clip(pp, eps, 1 - eps)
        terms = yy * np.log(c) + (1 - yy) * np.log(1 - c)
        loss = -np.mean(terms)
        out = [
            Mistake("the sign is flipped: the loss is MINUS the mean of y log(p) + (1 - y) log(1 - p), "
                    "a positive number.", -loss),
            Mistake("this is the sum over the elements, not the mean: divide by the number of elements "
                    "(Keras' losses are means, the 1/n of J(W)).", -np.sum(terms)),
            Mistake("y and 1 - y are swapped: y multiplies log(p) and (1 - y) multiplies log(1 - p).",
                    -np.mean(yy * np.log(1 - c) + (1 - yy) * np.log(c))),
            Mistake("the (1 - y) * log(1 - p) term is missing: the examples labelled 0 count too.",
                    -np.mean(yy * np.log(c))),
            Mistake("log10 was used: the cross-entropy uses the natural logarithm, np.log.", loss / np.log(10)),
            Mistake("log2 was used: the cross-entropy (as Keras computes it) uses the natural logarithm, np.log.",
                    loss / np.log(2)),
            Mistake("the predictions were clipped to [1e-7, 1 - 1e-7] whatever eps is: clip to [eps, 1 - eps] "
                    "with the eps argument.", ref.binary_cross_entropy(yy, pp)),
            Mistake("the predictions were clipped only from below: log(1 - p) needs p <= 1 - eps as well.",
                    -np.mean(yy * np.log(np.maximum(pp, eps)) + (1 - yy) * np.log(1 - np.maximum(pp, eps)))),
        ]
    return out + _shape_mistakes(y, p, _bce_terms(eps))


@exercise("binary_cross_entropy", weight=2)
def test_binary_cross_entropy_hand_values(binary_cross_entropy):
    """labels [1, 1, 0, 0] with predictions [0.1, 0.8, 0.2, 0.5] give -(ln 0.1 + 2 ln 0.8 + ln 0.5) / 4"""
    y, p = np.array([1.0, 1.0, 0.0, 0.0]), np.array([0.1, 0.8, 0.2, 0.5])
    expected = -(np.log(0.1) + 2 * np.log(0.8) + np.log(0.5)) / 4
    expect_close(_call(binary_cross_entropy, _clip_hint, y, p), expected,
                 call=f"binary_cross_entropy({describe(y)}, {describe(p)})", mistakes=_bce_mistakes(y, p),
                 shape_hint="J = -1/n * sum(y * log(y_hat) + (1 - y) * log(1 - y_hat)), one number.")
    # The lecture's example: predicted 0.1 for a student who passed (label 1).
    y1, p1 = np.array([1.0]), np.array([0.1])
    expect_close(_call(binary_cross_entropy, _clip_hint, y1, p1), -np.log(0.1),
                 call=f"binary_cross_entropy({describe(y1)}, {describe(p1)})", mistakes=_bce_mistakes(y1, p1))


@exercise("binary_cross_entropy", weight=2)
def test_binary_cross_entropy_predictions_0_and_1(binary_cross_entropy):
    """predictions of exactly 0 and 1 give Keras' large but finite loss (clipped at eps = 1e-7), in float64 and float32, and eps is used"""
    y, p = np.array([1.0, 0.0, 1.0, 0.0, 1.0, 0.0]), np.array([0.0, 1.0, 1.0, 0.0, 0.7, 0.3])
    call = f"binary_cross_entropy({describe(y)}, {describe(p)})"
    expect_close(_call(binary_cross_entropy, _clip_hint, y, p), _keras("bce", y, p, "float64"), call=call,
                 **KERAS64, mistakes=_bce_mistakes(y, p))
    y, p = np.array([1.0, 0.0, 1.0, 0.0, 1.0]), np.array([0.0, 1.0, 0.0005, 0.9995, 0.5])
    expect_close(_call(binary_cross_entropy, _clip_hint, y, p, eps=1e-3), ref.binary_cross_entropy(y, p, eps=1e-3),
                 call=f"binary_cross_entropy({describe(y)}, {describe(p)}, eps=0.001)",
                 mistakes=_bce_mistakes(y, p, eps=1e-3))
    # Predictions of exactly 0 and 1 in float32: finite, without RuntimeWarning. Clipping in float32
    # (1 - 1e-7 rounds to 1 - 1.19e-7, as Keras does) and clipping in float64 are both accepted.
    y, p = np.array([1, 0, 1, 0, 1], dtype=np.float32), np.array([0, 1, 1, 0, 0.7], dtype=np.float32)
    got = _call(binary_cross_entropy, _clip_hint, y, p)
    in_float64 = ref.binary_cross_entropy(y.astype(float), p.astype(float))
    call = f"binary_cross_entropy({describe(y)}, {describe(p)})"
    if not close(got, in_float64, *tolerance(in_float64, keras=True)):
        expect_close(got, _keras("bce", y, p, "float32"), keras=True, mistakes=_bce_mistakes(y, p),
                     call=f"{call} (Keras' float32 value; {in_float64:.6g}, clipped in float64, is accepted too)")


@exercise("binary_cross_entropy", weight=2)
def test_binary_cross_entropy_equals_keras(binary_cross_entropy):
    """equals keras.losses.BinaryCrossentropy() in float64: soft labels, (n,) against (n, 1), several columns"""
    for i, (y_shape, p_shape) in enumerate(SHAPES):
        for soft in (False, True):
            rng = np.random.default_rng(300 + 2 * i + soft)
            y = rng.uniform(size=y_shape) if soft else rng.integers(0, 2, size=y_shape).astype(float)
            p = rng.uniform(0.02, 0.98, size=p_shape)
            expect_close(_call(binary_cross_entropy, _clip_hint, y, p), _keras("bce", y, p, "float64"),
                         call=f"binary_cross_entropy(y of shape {y_shape}{' (soft labels)' if soft else ''}, "
                              f"y_pred of shape {p_shape})", **KERAS64, mistakes=_bce_mistakes(y, p))
    y, p = np.array([1, 0, 0, 1]), np.array([0.7, 0.4, 0.1, 0.95])
    expect_close(_call(binary_cross_entropy, _clip_hint, y, p), _keras("bce", y, p, "float64"),
                 call=f"binary_cross_entropy({describe(y)} (integer labels), {describe(p)})", **KERAS64,
                 mistakes=_bce_mistakes(y, p))


@exercise("binary_cross_entropy")
def test_binary_cross_entropy_float32(binary_cross_entropy):
    """equals Keras' float32 BinaryCrossentropy for float32 inputs"""
    for i, (y_shape, p_shape) in enumerate(SHAPES):
        rng = np.random.default_rng(400 + i)
        y = rng.integers(0, 2, size=y_shape).astype(np.float32)
        p = rng.uniform(0.02, 0.98, size=p_shape).astype(np.float32)
        expect_close(_call(binary_cross_entropy, _clip_hint, y, p), _keras("bce", y, p, "float32"), keras=True,
                     call=f"binary_cross_entropy(y float32 of shape {y_shape}, y_pred float32 of shape {p_shape})",
                     mistakes=_bce_mistakes(y, p))


@exercise("binary_cross_entropy")
def test_binary_cross_entropy_pairs_rows(binary_cross_entropy):
    """labels (n,) against predictions (n, 1), and the reverse, are paired row by row as Keras does (float64 and float32)"""
    _check_paired(binary_cross_entropy, "bce", _clip_hint, _bce_mistakes, lambda rng, shape: rng.uniform(0.02, 0.98, shape))


# -- binary_cross_entropy_from_logits ---------------------------------------------------------

def _sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def _logit_terms(y, z):
    return np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))


def _logit_mistakes(y, z):
    yy, zz = _paired(y, z)
    with np.errstate(all="ignore"):
        terms = _logit_terms(yy, zz)
        out = [
            Mistake("the sign is flipped: the loss is a positive number, "
                    "mean(max(z, 0) - z * y + log(1 + exp(-|z|))).", -np.mean(terms)),
            Mistake("this is the sum over the elements, not the mean: divide by the number of elements.",
                    np.sum(terms)),
            Mistake("the labels are flipped, or the sign of z: y goes with sigmoid(z), which is large for "
                    "large positive z; the stable form is max(z, 0) - z * y + log(1 + exp(-|z|)).",
                    np.mean(_logit_terms(1 - yy, zz))),
            Mistake("the logits were turned into probabilities and clipped to [eps, 1 - eps]: that caps each "
                    "example's loss at -log(1e-7), about 16.1, while from logits it grows like |z|. Use "
                    "max(z, 0) - z * y + log(1 + exp(-|z|)) instead of clipping.",
                    ref.binary_cross_entropy(yy, _sigmoid(zz))),
            Mistake("the logits were used as probabilities: z is not in [0, 1]; the probability is sigmoid(z).",
                    ref.binary_cross_entropy(yy, zz)),
            Mistake("the max(z, 0) term is missing: for z > 0, log(1 + exp(-z)) alone leaves out z.",
                    np.mean(-zz * yy + np.log1p(np.exp(-np.abs(zz))))),
            Mistake("the log(1 + exp(-|z|)) term is missing.", np.mean(np.maximum(zz, 0) - zz * yy)),
            Mistake("the naive formula with s = sigmoid(z): s rounds to exactly 0 or 1 for large |z|, and log(0) "
                    "is -inf. " + STABLE_HINT[len("Hint: "):].split(". ", 1)[1],
                    -np.mean(yy * np.log(1 / (1 + np.exp(-zz))) + (1 - yy) * np.log(1 - 1 / (1 + np.exp(-zz))))),
        ]
    return out + _shape_mistakes(y, z, _logit_terms)


@exercise("binary_cross_entropy_from_logits", weight=2)
def test_binary_cross_entropy_from_logits_hand_values(binary_cross_entropy_from_logits):
    """logits [ln 3, -ln 3, 0, ln 3] (probabilities 0.75, 0.25, 0.5, 0.75) with labels [1, 1, 0, 0]"""
    y, z = np.array([1.0, 1.0, 0.0, 0.0]), np.array([np.log(3.0), -np.log(3.0), 0.0, np.log(3.0)])
    expected = -(np.log(0.75) + np.log(0.25) + np.log(0.5) + np.log(0.25)) / 4
    expect_close(_call(binary_cross_entropy_from_logits, _stable_hint, y, z), expected,
                 call=f"binary_cross_entropy_from_logits({describe(y)}, {describe(z)})",
                 mistakes=_logit_mistakes(y, z),
)


@exercise("binary_cross_entropy_from_logits", weight=2)
def test_binary_cross_entropy_from_logits_large_logits(binary_cross_entropy_from_logits):
    """logits of +/-50, +/-710, +/-1000 and +/-1e4 give Keras' finite loss, without overflow and without clipping"""
    z = np.array([-1000.0, 1000.0, -1e4, 1e4, -710.0, 710.0, 50.0, -50.0, 1000.0, -1000.0, 2.0, -0.5])
    y = np.array([1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.3, 0.7, 1.0, 0.0, 1.0, 0.0])
    expect_close(_call(binary_cross_entropy_from_logits, _stable_hint, y, z), _keras("bce_logits", y, z, "float64"),
                 call=f"binary_cross_entropy_from_logits({describe(y)}, {describe(z)})", **KERAS64,
                 mistakes=_logit_mistakes(y, z))
    z32, y32 = z.astype(np.float32), y.astype(np.float32)
    expect_close(_call(binary_cross_entropy_from_logits, _stable_hint, y32, z32),
                 _keras("bce_logits", y32, z32, "float32"), keras=True,
                 call=f"binary_cross_entropy_from_logits({describe(y32)}, {describe(z32)})",
                 mistakes=_logit_mistakes(y32, z32))


@exercise("binary_cross_entropy_from_logits", weight=2)
def test_binary_cross_entropy_from_logits_equals_keras(binary_cross_entropy_from_logits):
    """equals BinaryCrossentropy(from_logits=True) in float64: soft labels, (n,) against (n, 1), several columns"""
    for i, (y_shape, z_shape) in enumerate(SHAPES):
        for soft in (False, True):
            rng = np.random.default_rng(500 + 2 * i + soft)
            y = rng.uniform(size=y_shape) if soft else rng.integers(0, 2, size=y_shape).astype(float)
            z = rng.normal(0, 3, size=z_shape)
            expect_close(_call(binary_cross_entropy_from_logits, _stable_hint, y, z),
                         _keras("bce_logits", y, z, "float64"), **KERAS64, mistakes=_logit_mistakes(y, z),
                         call=f"binary_cross_entropy_from_logits(y of shape {y_shape}"
                              f"{' (soft labels)' if soft else ''}, z of shape {z_shape})")


@exercise("binary_cross_entropy_from_logits")
def test_binary_cross_entropy_from_logits_float32(binary_cross_entropy_from_logits):
    """equals Keras' float32 BinaryCrossentropy(from_logits=True) for float32 inputs"""
    for i, (y_shape, z_shape) in enumerate(SHAPES):
        rng = np.random.default_rng(600 + i)
        y = rng.integers(0, 2, size=y_shape).astype(np.float32)
        z = rng.normal(0, 3, size=z_shape).astype(np.float32)
        expect_close(_call(binary_cross_entropy_from_logits, _stable_hint, y, z),
                     _keras("bce_logits", y, z, "float32"), keras=True, mistakes=_logit_mistakes(y, z),
                     call=f"binary_cross_entropy_from_logits(y float32 of shape {y_shape}, "
                          f"z float32 of shape {z_shape})")


@exercise("binary_cross_entropy_from_logits")
def test_binary_cross_entropy_from_logits_pairs_rows(binary_cross_entropy_from_logits):
    """labels (n,) against logits (n, 1), and the reverse, are paired row by row as Keras does (float64 and float32)"""
    _check_paired(binary_cross_entropy_from_logits, "bce_logits", _stable_hint, _logit_mistakes,
                  lambda rng, shape: rng.normal(0, 3, shape))


# -- mean_squared_error -----------------------------------------------------------------------

def _squared(y, p):
    return (y - p) ** 2


def _mse_mistakes(y, p):
    yy, pp = _paired(y, p)
    d = yy - pp
    mse = np.mean(d ** 2)
    return [
        Mistake("this is the sum of the squared errors, not their mean: divide by the number of elements "
                "(Keras' MeanSquaredError is a mean).", np.sum(d ** 2)),
        Mistake("this is half the mean squared error: Keras' MeanSquaredError has no 1/2 factor (the 1/2 of "
                "some textbooks only tidies the derivative).", mse / 2),
        Mistake("this is the mean absolute error: square the errors instead of taking their absolute value.",
                np.mean(np.abs(d))),
        Mistake("this is the root mean squared error: the mean squared error has no square root.", np.sqrt(mse)),
        Mistake("the mean of the errors was squared: square each error first, then take the mean.",
                np.mean(d) ** 2),
    ] + _shape_mistakes(y, p, _squared)


@exercise("mean_squared_error", weight=2)
def test_mean_squared_error_hand_values(mean_squared_error):
    """the lecture's grades: actual [90, 20, 95], predicted [30, 80, 85] give (60^2 + 60^2 + 10^2) / 3"""
    y, p = np.array([90.0, 20.0, 95.0]), np.array([30.0, 80.0, 85.0])
    expect_close(mean_squared_error(y, p), 7300 / 3, call=f"mean_squared_error({describe(y)}, {describe(p)})",
                 mistakes=_mse_mistakes(y, p), shape_hint="MSE = 1/n * sum((y - y_hat)**2), one number.")


@exercise("mean_squared_error", weight=2)
def test_mean_squared_error_equals_keras(mean_squared_error):
    """equals keras.losses.MeanSquaredError() in float64 for (n,) against (n, 1), several columns and 3-d batches"""
    for i, (y_shape, p_shape) in enumerate(SHAPES):
        rng = np.random.default_rng(700 + i)
        y, p = rng.normal(0, 5, size=y_shape), rng.normal(0, 5, size=p_shape)
        expect_close(mean_squared_error(y, p), _keras("mse", y, p, "float64"), **KERAS64,
                     call=f"mean_squared_error(y of shape {y_shape}, y_pred of shape {p_shape})",
                     mistakes=_mse_mistakes(y, p))


@exercise("mean_squared_error")
def test_mean_squared_error_float32(mean_squared_error):
    """equals Keras' float32 MeanSquaredError for float32 inputs"""
    for i, (y_shape, p_shape) in enumerate(SHAPES):
        rng = np.random.default_rng(800 + i)
        y = rng.normal(0, 5, size=y_shape).astype(np.float32)
        p = rng.normal(0, 5, size=p_shape).astype(np.float32)
        expect_close(mean_squared_error(y, p), _keras("mse", y, p, "float32"), keras=True,
                     call=f"mean_squared_error(y float32 of shape {y_shape}, y_pred float32 of shape {p_shape})",
                     mistakes=_mse_mistakes(y, p))


@exercise("mean_squared_error")
def test_mean_squared_error_pairs_rows(mean_squared_error):
    """labels (n,) against predictions (n, 1), and the reverse, are paired row by row as Keras does (float64 and float32)"""
    _check_paired(mean_squared_error, "mse", lambda y, p: "", _mse_mistakes, lambda rng, shape: rng.normal(0, 5, shape))


# -- empirical_loss ---------------------------------------------------------------------------
# The grader's own models and losses, passed to the student's empirical_loss as arguments.

def always_half(X):
    """A model that predicts 0.5 for every example."""
    return np.full(np.shape(X)[:-1], 0.5)


def pass_the_class(X):
    """A perceptron on (lectures attended, hours on the project): sigmoid(-4 + 0.5 x1 + 0.3 x2)."""
    return _sigmoid(-4.0 + np.asarray(X, dtype=float) @ np.array([0.5, 0.3]))


def grade_model(X):
    """A linear regression on (lectures attended, hours on the project): 10 (x1 + x2) - 60."""
    return np.asarray(X, dtype=float) @ np.array([10.0, 10.0]) - 60.0


def two_outputs(X):
    """A linear model with two outputs per example."""
    return np.asarray(X, dtype=float) @ np.array([[1.0, -0.5], [0.25, 2.0]]) + np.array([0.5, -1.0])


def mean_absolute_error(y_true, y_pred):
    """A loss other than the notebook's: mean(|y - y_hat|)."""
    y_true, y_pred = _paired(y_true, y_pred)
    return np.mean(np.abs(y_true - y_pred))


def _empirical_mistakes(loss, predict, X, y):
    p = predict(X)
    n = len(X)
    out = [
        Mistake("the arguments of loss are swapped: call loss(y_true, y_pred), that is loss(y, predict(X)).",
                loss(p, y)),
        Mistake("the examples' losses were summed: J(W) is their mean (the 1/n of the formula).", n * loss(y, p)),
        Mistake("the loss was divided by n twice: loss(y, y_hat) is already a mean over the examples, so "
                "J(W) = loss(y, predict(X)) with no further division.", loss(y, p) / n),
    ]
    for other in (ref.binary_cross_entropy, ref.mean_squared_error):
        if other is not loss:
            out.append(Mistake(f"this is the {other.__name__} of the predictions, not the loss you were given: "
                               "use the loss argument.", other(y, p)))
    return out


def _expect_empirical(empirical_loss, loss, predict, X, y, expected):
    expect_close(empirical_loss(loss, predict, X, y), expected,
                 call=f"empirical_loss({loss.__name__}, {predict.__name__}, X of shape {X.shape}, "
                      f"y of shape {y.shape}) with X = {describe(X)} and y = {describe(y)}",
                 mistakes=_empirical_mistakes(loss, predict, X, y),
                 shape_hint="J(W) is one number: the mean loss of the model over the whole data set.")


@exercise("empirical_loss", weight=2)
def test_empirical_loss_hand_values(empirical_loss):
    """a model that always predicts 0.5 has a mean cross-entropy of ln 2; the lecture's grades an MSE of 6725 / 3"""
    X = np.array([[4.0, 5.0], [2.0, 1.0], [5.0, 8.0], [9.0, 12.0]])
    y = np.array([1.0, 0.0, 1.0, 1.0])
    _expect_empirical(empirical_loss, ref.binary_cross_entropy, always_half, X, y, np.log(2.0))
    X, y = X[:3], np.array([90.0, 20.0, 95.0])   # grade_model predicts [30, -30, 70]
    _expect_empirical(empirical_loss, ref.mean_squared_error, grade_model, X, y, 6725 / 3)


@exercise("empirical_loss", weight=2)
def test_empirical_loss_uses_the_given_loss_and_model(empirical_loss):
    """empirical_loss uses the loss and the model it is given: cross-entropy, MSE, another loss, two outputs"""
    rng = np.random.default_rng(900)
    X = np.column_stack([rng.integers(0, 13, size=10), rng.uniform(0, 20, size=10)])
    y = rng.integers(0, 2, size=10).astype(float)
    _expect_empirical(empirical_loss, ref.binary_cross_entropy, pass_the_class, X, y,
                      ref.binary_cross_entropy(y, pass_the_class(X)))
    grades = rng.uniform(0, 100, size=10)
    for loss in (ref.mean_squared_error, mean_absolute_error):
        _expect_empirical(empirical_loss, loss, grade_model, X, grades, loss(grades, grade_model(X)))
    Y = rng.normal(size=(10, 2))
    _expect_empirical(empirical_loss, ref.mean_squared_error, two_outputs, X, Y,
                      ref.mean_squared_error(Y, two_outputs(X)))


# Batch sizes a student may split the data set into (to save memory); a data set of a prime number of
# examples leaves every one of them a smaller last batch.
BATCH_SIZES = (8, 10, 16, 20, 25, 32, 50, 64, 100, 128, 256, 500)


def _batch_mean_mistakes(loss, predict, X, y):
    """The plain mean of per-batch means, for every usual batch size: the last, smaller batch counts too much."""
    out = []
    for size in BATCH_SIZES:
        if len(X) % size:
            means = [loss(y[i:i + size], predict(X[i:i + size])) for i in range(0, len(X), size)]
            out.append(Mistake(f"the data set was split into batches of {size} and their means averaged without "
                               f"weights: the last batch holds {len(X) % size} examples, not {size}, so each of them "
                               "counts too much. Weight each batch's mean by its size, sum(loss_b * n_b) / n, or call "
                               "loss once on the whole set.", np.mean(means)))
    return out


@exercise("empirical_loss")
def test_empirical_loss_large_data_set(empirical_loss):
    """over 1009 examples (a prime number: any batching leaves a smaller last batch), J(W) is the mean over every example"""
    rng = np.random.default_rng(901)
    n = 1009
    X = np.column_stack([rng.integers(0, 13, size=n), rng.uniform(0, 20, size=n)])
    X = X[np.argsort(X @ np.array([0.5, 0.3]))]   # sorted by the model's logit: the batches' losses differ
    y = (rng.random(n) < 0.5).astype(float)
    for loss, model in ((ref.binary_cross_entropy, pass_the_class), (ref.mean_squared_error, grade_model)):
        labels = y if loss is ref.binary_cross_entropy else 100 * y
        expect_close(empirical_loss(loss, model, X, labels), loss(labels, model(X)),
                     call=f"empirical_loss({loss.__name__}, {model.__name__}, X of shape {X.shape}, "
                          f"y of shape {labels.shape})",
                     mistakes=[*_empirical_mistakes(loss, model, X, labels),
                               *_batch_mean_mistakes(loss, model, X, labels)],
                     shape_hint="J(W) is one number: the mean loss of the model over the whole data set.")

"""Hidden checks of a06_regularization: overfitting, dropout, L2 and early stopping.

Dropout is random: its checks never compare with one particular draw. They check properties
with fixed seeds and explicit tolerances: a statistic whose standard deviation is sigma must
lie within SIGMAS * sigma of its expected value (SIGMAS = 5: a correct implementation fails
one such test with probability below 1e-6), and a sample variance must lie within
VARIANCE_BAND times the binomial variance (its own relative standard deviation is below 10%
for the sample sizes used here).
"""
import numpy as np

from solutions import a06_regularization as ref

from ..sandbox.wire import Rng
from ..student import describe
from .kit import Mistake, exercise, expect, expect_close, fail, load_keras, plural
from .recorded import keras_result

SIGMAS = 5.0
VARIANCE_BAND = (0.5, 1.6)


def _random(shape, dtype, seed, low=None, high=None):
    rng = np.random.default_rng(seed)
    values = rng.normal(0, 2, size=shape) if low is None else rng.uniform(low, high, size=shape)
    return values.astype(dtype)


# -- dropout_forward --------------------------------------------------------------------------

def _call_text(A, rate, training=True, seed=None):
    rng = "rng=None" if seed is None else f"rng=np.random.default_rng({seed})"
    return f"dropout_forward(A of shape {A.shape}, dtype {A.dtype}, rate={rate}, training={training}, {rng})"


def _forward(dropout_forward, A, rate, training=True, seed=None):
    """Call the student's dropout_forward; check that it returns (out, mask) of A's shape, mask in {0, 1}."""
    call = _call_text(A, rate, training, seed)
    kwargs = {"training": training}
    if seed is not None:
        kwargs["rng"] = Rng(seed)
    got = dropout_forward(A, rate, **kwargs)
    if not (isinstance(got, (tuple, list)) and len(got) == 2):
        fail(called=call, expected=f"a pair (out, mask), both arrays of shape {A.shape}", received=describe(got),
             hint="How to fix: end with `return out, mask`.")
    out, mask = got
    for what, value in (("out", out), ("mask", mask)):
        if not (isinstance(value, np.ndarray) and value.dtype.kind in "biuf"):
            fail(called=call, expected=f"{what} as a NumPy array of shape {A.shape}", received=describe(value))
        if value.shape != A.shape:
            # One draw per unit (or per example) broadcast over the batch gives a mask of such a shape.
            per_unit = value.shape in (A.shape[1:], (1,) + A.shape[1:], A.shape[:1], A.shape[:1] + (1,))
            fail(called=call, expected=f"{what} of shape {A.shape} (one value per unit of A)",
                 received=f"{what} of shape {value.shape}",
                 mistake="the mask was drawn with one value per unit or per example, not per entry: draw it with "
                         "A's shape, rng.random(A.shape), so that every unit of every example is dropped "
                         "independently." if per_unit else None)
    values = np.unique(mask.astype(np.float64))
    if not np.all(np.isin(values, [0.0, 1.0])):
        scaled = training and 0 < rate < 1 and np.allclose(values[values != 0], 1 / (1 - rate))
        fail(called=call, expected="a mask of 0s (dropped) and 1s (kept)",
             received=f"a mask containing {describe(values[~np.isin(values, [0.0, 1.0])][:6])}",
             mistake="the mask holds the scaled values 1 / (1 - rate): return the 0/1 mask itself; the scaling "
                     "belongs in out, not in the mask." if scaled else None)
    return out, mask.astype(np.float64)


def _expect_inverted(out, mask, A, rate, call):
    """out must be A * mask / (1 - rate) for the mask that came back."""
    A64 = A.astype(np.float64)
    expect_close(out, (A64 * mask / (1 - rate)).astype(A.dtype), call=call + "\n(compared with A * mask / (1 - rate) "
                 "for the mask you returned)",
                 mistakes=(
                     Mistake("the kept units are not scaled: this is A * mask. Inverted dropout divides them by "
                             "(1 - rate) so that each unit keeps its expected value.", A64 * mask),
                     Mistake("the kept units are multiplied by (1 - rate) instead of divided by it.",
                             A64 * mask * (1 - rate)),
                     Mistake("the kept units are divided by rate instead of (1 - rate): rate is the fraction "
                             "dropped, 1 - rate the fraction kept.", A64 * mask / rate),
                     Mistake("the mask is not applied to A: out = A * mask / (1 - rate).", A64 / (1 - rate)),
                     Mistake("out is zero where the mask is 1 and kept where it is 0: the mask returned is "
                             "reversed with respect to out.", A64 * (1 - mask) / (1 - rate)),
                 ))


def _fraction_mistake(dropped, rate, n):
    """The mistake whose prediction the dropped fraction of n units matches (within SIGMAS), or None."""
    sigma = np.sqrt(rate * (1 - rate) / n)
    if rate != 0.5 and abs(dropped - (1 - rate)) <= SIGMAS * sigma:
        return ("about 1 - rate of the units were dropped: rate is the fraction DROPPED (Keras' Dropout(rate)); "
                "keep a unit when rng.random() >= rate.")
    if dropped == 0:
        return "no unit was dropped in training."
    return None


@exercise("dropout_forward", weight=2)
def test_dropout_forward_scales_kept_units(dropout_forward):
    """out is A * mask / (1 - rate) for the returned 0/1 mask, for several non-square shapes, rates and dtypes"""
    cases = [((3, 5), 0.5), ((40, 7), 0.2), ((4, 6, 5), 0.75), ((64, 3), 0.1)]
    for i, (shape, rate) in enumerate(cases):
        for dtype in (np.float64, np.float32):
            A = _random(shape, dtype, seed=10 + i)
            seed = 500 + i
            out, mask = _forward(dropout_forward, A, rate, seed=seed)
            _expect_inverted(out, mask, A, rate, _call_text(A, rate, True, seed))


@exercise("dropout_forward", weight=1)
def test_dropout_forward_inference_and_rate_zero(dropout_forward):
    """at inference (training=False) and with rate=0, out equals A exactly and the mask is all ones"""
    A = _random((6, 4), np.float64, seed=3)
    for rate, training in ((0.5, False), (0.3, False), (0.0, True), (0.0, False)):
        for dtype in (np.float64, np.float32):
            A_d = A.astype(dtype)
            call = _call_text(A_d, rate, training, seed=11)
            out, mask = _forward(dropout_forward, A_d, rate, training=training, seed=11)
            why = "training=False means inference" if not training else "rate=0 drops nothing"
            expect_close(out, A_d, call=call, rtol=0.0, atol=0.0,
                         mistakes=(Mistake(f"{why}: nothing is dropped and nothing is scaled; the division by "
                                           "(1 - rate) only happens in training.", A_d / (1 - rate)),))
            if not np.all(mask == 1):
                fail(called=call, expected=f"a mask of all ones ({why})",
                     received=f"{int(np.sum(mask == 0))} zeros in the mask of {mask.size} units")


@exercise("dropout_forward", weight=2)
def test_dropout_forward_drop_fraction(dropout_forward):
    """the fraction of units dropped is rate, within 5 binomial standard deviations, for rates 0.1 to 0.8"""
    cases = [((2000, 10), np.float64, 0.1), ((500, 40), np.float32, 0.3), ((1000, 20), np.float64, 0.5),
             ((250, 80), np.float32, 0.8)]
    for i, (shape, dtype, rate) in enumerate(cases):
        A = _random(shape, dtype, seed=20 + i, low=0.5, high=1.5)
        out, mask = _forward(dropout_forward, A, rate, seed=600 + i)
        n = mask.size
        dropped = 1 - mask.mean()
        sigma = np.sqrt(rate * (1 - rate) / n)
        expect(abs(dropped - rate) <= SIGMAS * sigma,
               called=_call_text(A, rate, True, 600 + i),
               expected=f"a fraction {rate} of the {n} units dropped, "
                        f"within {SIGMAS:g} standard deviations ({SIGMAS * sigma:.4f})",
               received=f"{dropped:.4f} of the units dropped", mistake=_fraction_mistake(dropped, rate, n))


def _independence_failure(call, what, got, expected, mistake, hint=None):
    fail(called=call, expected=f"each unit dropped independently of the others, so {what} about {expected}",
         received=got, mistake=mistake, hint=hint)


@exercise("dropout_forward", weight=2)
def test_dropout_forward_units_independent(dropout_forward):
    """units are dropped independently: every column and every pair of neighbours behave as independent draws"""
    n, d, rate = 1000, 20, 0.3
    A = _random((n, d), np.float64, seed=30, low=0.5, high=1.5)
    call = _call_text(A, rate, True, 700)
    _, mask = _forward(dropout_forward, A, rate, seed=700)
    drop = 1 - mask
    per_column = drop.mean(axis=0)
    sigma = np.sqrt(rate * (1 - rate) / n)
    worst = int(np.argmax(np.abs(per_column - rate)))
    if abs(per_column[worst] - rate) > SIGMAS * sigma:
        # Named only by their own predictions: one mask for every row makes each column all 0 or all 1;
        # rate taken as the keep fraction drops about 1 - rate of every column.
        if np.all((per_column == 0) | (per_column == 1)):
            mistake = ("the same mask is used for every row (example) of the batch: draw one value per entry of "
                       "A, rng.random(A.shape), not one per unit rng.random(A.shape[1]).")
        else:
            mistake = _fraction_mistake(float(drop.mean()), rate, drop.size)
        _independence_failure(
            call, f"every column (unit) dropped in a fraction rate={rate} of the rows (+/- {SIGMAS * sigma:.3f})",
            f"column {worst} dropped in a fraction {per_column[worst]:.3f} of the rows", rate, mistake)
    per_row = drop.sum(axis=1)
    variance, binomial = per_row.var(), d * rate * (1 - rate)
    if not VARIANCE_BAND[0] * binomial <= variance <= VARIANCE_BAND[1] * binomial:
        mistake = None
        if np.all((per_row == 0) | (per_row == d)):
            mistake = "whole rows are dropped or kept together (one draw per example): draw one value per entry of A."
        elif np.all(per_row == per_row[0]):
            mistake = ("every row drops the same number of units (a shuffled fixed pattern): each unit must be "
                       "dropped with probability rate independently, so the count per row varies.")
        _independence_failure(call, f"the number of dropped units per row with variance d * rate * (1 - rate) "
                              f"= {binomial:.2f} (accepted: {VARIANCE_BAND[0]:g} to {VARIANCE_BAND[1]:g} times that)",
                              f"a variance of {variance:.2f}", f"{binomial:.2f}", mistake)
    for axis, name in ((1, "horizontally adjacent units (same row)"), (0, "vertically adjacent units (same column)")):
        first = np.take(drop, np.arange(drop.shape[axis] - 1), axis=axis)
        second = np.take(drop, np.arange(1, drop.shape[axis]), axis=axis)
        both = (first * second).mean()
        pairs = first.size
        sigma_pair = np.sqrt(rate**2 * (1 - rate**2) / pairs) * 2  # neighbouring pairs overlap: allow twice
        if abs(both - rate**2) > SIGMAS * sigma_pair:
            _independence_failure(call, f"both {name} dropped in a fraction rate**2 = {rate**2:.3f} "
                                  f"(+/- {SIGMAS * sigma_pair:.3f}) of the pairs", f"{both:.3f}", f"{rate**2:.3f}",
                                  None, hint="How to fix: draw every entry of the mask separately, "
                                             "rng.random(A.shape) >= rate.")


@exercise("dropout_forward", weight=1)
def test_dropout_forward_number_of_drops_varies(dropout_forward):
    """the number of units dropped varies from call to call as a binomial count (not a fixed number of drops)"""
    rate, shape, calls = 0.25, (8, 10), 200
    A = np.ones(shape)
    masks = [_forward(dropout_forward, A, rate, seed=1000 + s)[1] for s in range(calls)]
    call = f"dropout_forward(np.ones({shape}), rate={rate}, rng=np.random.default_rng(seed)) for {calls} seeds"
    expect(any(not np.array_equal(masks[0], m) for m in masks[1:]),
           called=call, expected="different masks for different generators", received="the same mask every time",
           mistake="the rng argument is ignored (a generator with a fixed seed is created inside the function): "
                   "draw from rng.")
    counts = np.array([np.sum(m == 0) for m in masks])
    n = A.size
    mean, variance = counts.mean(), counts.var(ddof=1)
    expected_var = n * rate * (1 - rate)
    sigma = np.sqrt(expected_var / calls)
    expect(abs(mean - n * rate) <= SIGMAS * sigma,
           called=call, expected=f"on average {n * rate:g} of the {n} units dropped (+/- {SIGMAS * sigma:.2f})",
           received=f"{mean:.2f} on average", mistake=_fraction_mistake(mean / n, rate, n * calls))
    if not VARIANCE_BAND[0] * expected_var <= variance <= VARIANCE_BAND[1] * expected_var:
        mistake = ("a fixed number of units is dropped (for example round(rate * A.size) "
                   "positions of a permutation). Each unit must be dropped independently with probability rate, "
                   "so the count itself is random." if variance < 0.1 * expected_var else None)
        fail(called=call,
             expected=f"the number of dropped units varying like a binomial count, variance "
                      f"n * rate * (1 - rate) = {expected_var:.2f} (accepted: {VARIANCE_BAND[0]:g} to "
                      f"{VARIANCE_BAND[1]:g} times that)",
             received=f"counts from {counts.min()} to {counts.max()}, variance {variance:.2f}", mistake=mistake)


@exercise("dropout_forward", weight=1)
def test_dropout_forward_uses_rng(dropout_forward):
    """the mask comes from rng: the same seed gives the same result, other seeds and rng=None give other masks"""
    A = _random((50, 12), np.float64, seed=40)
    rate = 0.5
    out1, mask1 = _forward(dropout_forward, A, rate, seed=77)
    out2, mask2 = _forward(dropout_forward, A, rate, seed=77)
    expect(np.array_equal(mask1, mask2) and np.array_equal(out1, out2),
           called=f"{_call_text(A, rate, True, 77)} twice",
           expected="the same out and mask both times (the same seed)",
           received=f"masks differing in {int(np.sum(mask1 != mask2))} of {mask1.size} units",
           mistake="the mask is drawn from NumPy's global random state (np.random.rand, np.random.random) instead of "
                   "the rng argument: use rng.random(A.shape).")
    _, mask3 = _forward(dropout_forward, A, rate, seed=78)
    expect(not np.array_equal(mask1, mask3),
           called=f"{_call_text(A, rate, True, 77)} and the same with np.random.default_rng(78)",
           expected="different masks for different generators", received="the same mask",
           mistake="the rng argument is ignored (a generator with a fixed seed is created inside the function): "
                   "draw from rng.")
    _, mask4 = _forward(dropout_forward, A, rate)
    _, mask5 = _forward(dropout_forward, A, rate)
    expect(not np.array_equal(mask4, mask5),
           called=f"{_call_text(A, rate)} twice",
           expected="two different masks (with rng=None each call uses a fresh generator, np.random.default_rng())",
           received="the same mask twice", mistake="a fixed seed is used when rng is None.")
    dropped = 1 - mask4.mean()
    sigma = np.sqrt(rate * (1 - rate) / mask4.size)
    expect(abs(dropped - rate) <= SIGMAS * sigma,
           called=_call_text(A, rate), expected=f"a fraction {rate} of the units dropped (+/- {SIGMAS * sigma:.3f})",
           received=f"{dropped:.3f}")


@keras_result
def _keras_dropout(rate, shape, dtype, seed, training):
    """Keras' Dropout(rate) applied to the seeded positive array used by the Keras check."""
    keras = load_keras()
    A = _random(shape, dtype, seed, low=0.5, high=1.5)
    layer = keras.layers.Dropout(rate, seed=seed, dtype=np.dtype(dtype).name)
    return np.asarray(layer(A, training=training))


@exercise("dropout_forward", weight=1)
def test_dropout_forward_matches_keras(dropout_forward):
    """equals keras.layers.Dropout(rate) at inference, and matches it in training: same kept values, same mean"""
    shape, rate = (4000, 25), 0.4
    for dtype in (np.float32, np.float64):
        A = _random(shape, dtype, seed=50, low=0.5, high=1.5)
        out, _ = _forward(dropout_forward, A, rate, training=False, seed=90)
        expect_close(out, _keras_dropout(rate, shape, dtype, 50, False), keras=True,
                     call=_call_text(A, rate, False, 90) + "\n(compared with keras.layers.Dropout(rate)(A, training=False))")
    A = _random(shape, np.float32, seed=50, low=0.5, high=1.5)
    keras_out = _keras_dropout(rate, shape, np.float32, 50, True)
    out, mask = _forward(dropout_forward, A, rate, seed=91)
    call = _call_text(A, rate, True, 91)
    both = (mask == 1) & (keras_out != 0)
    expect_close(out[both], keras_out[both], keras=True, call=call + "\n(the units kept by both you and "
                 "keras.layers.Dropout(rate)(A, training=True): Keras sets them to A / (1 - rate))")
    A64 = A.astype(np.float64)
    sigma = np.sqrt(np.sum(A64**2) * rate / (1 - rate)) / A.size  # std of the mean of out
    for who, value in (("your out", out), ("Keras' output", keras_out)):
        expect(abs(value.mean() - A64.mean()) <= SIGMAS * sigma,
               called=call, expected=f"{who} with the mean of A, {A64.mean():.5f}, in expectation "
                                     f"(+/- {SIGMAS * sigma:.5f})",
               received=f"a mean of {value.mean():.5f}")
    gap = abs(out.mean() - keras_out.mean())
    expect(gap <= SIGMAS * np.sqrt(2) * sigma,
           called=call, expected=f"the mean of your out within {SIGMAS * np.sqrt(2) * sigma:.5f} of the mean of "
                                 f"Keras' Dropout output {keras_out.mean():.5f}",
           received=f"{out.mean():.5f}")


# -- dropout_backward -------------------------------------------------------------------------

def _backward_mistakes(dout, mask, rate):
    dout = np.asarray(dout, dtype=np.float64)
    mistakes = [
        Mistake("the gradient is not scaled: this is dout * mask. The forward pass divided the kept units by "
                "(1 - rate), so the gradient must be divided by it too.", dout * mask),
        Mistake("the gradient is multiplied by (1 - rate) instead of divided by it.", dout * mask * (1 - rate)),
        Mistake("the mask is reversed: gradient flows through the KEPT units (mask == 1), not the dropped ones.",
                dout * (1 - mask) / (1 - rate)),
        Mistake("the mask is missing: dropped units received no output, so their gradient is 0.", dout / (1 - rate)),
        Mistake("this is mask / (1 - rate), without dout: multiply the incoming gradient by it.",
                mask / (1 - rate) + 0 * dout),
    ]
    if rate > 0:
        mistakes.append(Mistake("the gradient is divided by rate instead of (1 - rate).", dout * mask / rate))
    return mistakes


@exercise("dropout_backward", weight=2)
def test_dropout_backward_hand_values(dropout_backward):
    """with rate 0.5 the gradient of the kept units doubles and that of the dropped units is 0"""
    dout = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    mask = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    expect_close(dropout_backward(dout, mask, 0.5), np.array([[2.0, 0.0, 6.0], [0.0, 10.0, 12.0]]),
                 call=f"dropout_backward({describe(dout)}, {describe(mask)}, 0.5)",
                 mistakes=_backward_mistakes(dout, mask, 0.5))
    dout, mask = np.array([[-1.0, 2.0], [0.5, 4.0], [3.0, -2.0]]), np.array([[1.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    expect_close(dropout_backward(dout, mask, 0.2), np.array([[-1.25, 2.5], [0.0, 5.0], [3.75, 0.0]]),
                 call=f"dropout_backward({describe(dout)}, {describe(mask)}, 0.2)",
                 mistakes=_backward_mistakes(dout, mask, 0.2))


@exercise("dropout_backward", weight=2)
def test_dropout_backward_shapes_rates_dtypes(dropout_backward):
    """dout * mask / (1 - rate) for non-square and 3-d shapes, rates 0 to 0.9, float32 and float64"""
    cases = [((3, 5), 0.0), ((64, 10), 0.3), ((2, 3, 4), 0.9), ((7, 2), 0.5)]
    for i, (shape, rate) in enumerate(cases):
        for dtype in (np.float64, np.float32):
            dout = _random(shape, dtype, seed=60 + i)
            _, mask = ref.dropout_forward(np.ones(shape, dtype), rate, rng=np.random.default_rng(160 + i))
            expect_close(dropout_backward(dout, mask, rate), ref.dropout_backward(dout, mask, rate),
                         call=f"dropout_backward(dout of shape {shape}, dtype {dtype.__name__}, mask of the same "
                              f"shape with {int(np.sum(mask == 0))} zeros, rate={rate})",
                         mistakes=_backward_mistakes(dout, mask, rate))


# -- l2_penalty -------------------------------------------------------------------------------

def _l2_mistakes(kernels, lam):
    kernels = [np.asarray(k, dtype=np.float64) for k in kernels]
    squares = sum(float(np.sum(k**2)) for k in kernels)
    return (
        Mistake("lam is missing: the penalty is lam times the sum of squares.", squares),
        Mistake("there is an extra factor 1/2: Keras' L2(lam) adds lam * sum(W**2), without the 1/2 some "
                "textbooks use.", lam * squares / 2),
        Mistake("this is the L1 penalty, lam * sum(|W|); L2 squares the weights.",
                lam * sum(float(np.sum(np.abs(k))) for k in kernels)),
        Mistake("the square root is taken: the penalty is the SQUARED norm, lam * sum(W**2).",
                lam * np.sqrt(squares)),
        Mistake("the norms of the kernels are added: square every entry and add them all.",
                lam * sum(float(np.sqrt(np.sum(k**2))) for k in kernels)),
        Mistake("this is a mean, not a sum, of the squares.", lam * squares / sum(k.size for k in kernels)),
        Mistake("only the first kernel is counted: add the squares of every kernel in the list.",
                lam * float(np.sum(kernels[0]**2))),
        Mistake("only the last kernel is counted: add the squares of every kernel in the list.",
                lam * float(np.sum(kernels[-1]**2))),
    )


def _l2_call(kernels, lam):
    inner = ", ".join(describe(k, 60) if np.size(k) <= 6 else f"<array of shape {np.shape(k)}, dtype "
                      f"{np.asarray(k).dtype}>" for k in kernels)
    return f"l2_penalty([{inner}], lam={lam})"


def _expect_scalar(got, call):
    expect(np.ndim(got) == 0 and not isinstance(got, (list, tuple)),
           called=call, expected="one number (the penalty is a scalar added to the loss)",
           received=describe(got) + (f" of shape {np.shape(got)}" if isinstance(got, np.ndarray) else ""))


@exercise("l2_penalty", weight=2)
def test_l2_penalty_hand_values(l2_penalty):
    """lam = 0.01 on a 2x2 kernel and a bias-like vector gives 0.01 * (30 + 1.5) = 0.315"""
    cases = [([np.array([[1.0, 2.0], [3.0, -4.0]]), np.array([0.5, -0.5, 1.0])], 0.01, 0.315),
             ([np.array([[1.0, -2.0, 2.0]])], 0.5, 4.5),
             ([np.array([[1.0, 2.0], [3.0, -4.0]]), np.array([0.5, -0.5, 1.0])], 0.0, 0.0)]
    for kernels, lam, expected in cases:
        call = _l2_call(kernels, lam)
        got = l2_penalty(kernels, lam)
        _expect_scalar(got, call)
        expect_close(got, expected, call=call, mistakes=_l2_mistakes(kernels, lam) if lam else ())


@keras_result
def _keras_l2(seed, lam, dtype):
    """sum of keras.regularizers.L2(lam)(kernel) over the kernels of _l2_kernels(seed, dtype)."""
    keras = load_keras()
    regularizer = keras.regularizers.L2(lam)
    return float(sum(float(np.asarray(regularizer(k))) for k in _l2_kernels(seed, dtype)))


def _l2_kernels(seed, dtype):
    shapes = [(4, 3), (3,), (3, 7), (2, 3, 5)]
    return [_random(shape, dtype, seed + i) for i, shape in enumerate(shapes)]


@exercise("l2_penalty", weight=2)
def test_l2_penalty_matches_keras(l2_penalty):
    """equals the sum of keras.regularizers.L2(lam) over several kernels, float32 and float64"""
    for i, lam in enumerate((0.01, 0.5, 1e-4)):
        for dtype in (np.float64, np.float32):
            kernels = _l2_kernels(70 + 10 * i, dtype)
            call = _l2_call(kernels, lam)
            got = l2_penalty(kernels, lam)
            _expect_scalar(got, call)
            expect_close(got, _keras_l2(70 + 10 * i, lam, dtype), keras=True, mistakes=_l2_mistakes(kernels, lam),
                         call=call + "\n(compared with the sum of keras.regularizers.L2(lam)(kernel) over the kernels)")


# -- early_stopping_epoch ---------------------------------------------------------------------

def _stop_trace(val_losses, patience):
    """(best epoch, epoch where Keras stops or None) by the rule of the curriculum."""
    best = 0
    for epoch in range(1, len(val_losses)):
        if val_losses[epoch] < val_losses[best]:
            best = epoch
        elif epoch - best >= patience:
            return best, epoch
    return best, None


def _variant(val_losses, patience, *, ties_improve=False, extra_wait=0, on_no_stop_last=False, return_stop=False):
    best, last_improvement = 0, 0
    for epoch in range(1, len(val_losses)):
        better = val_losses[epoch] <= val_losses[best] if ties_improve else val_losses[epoch] < val_losses[best]
        if better:
            best = last_improvement = epoch
        elif epoch - last_improvement >= patience + extra_wait:
            return epoch if return_stop else best
    return len(val_losses) - 1 if on_no_stop_last else best


def _early_mistakes(val_losses, patience):
    v = list(val_losses)
    expected = ref.early_stopping_epoch(v, patience)
    candidates = [
        ("the lowest loss of ALL epochs was returned, including epochs after training stopped: Keras never "
         "sees them. Stop at the first epoch that ends `patience` epochs without improvement.",
         int(np.argmin(v))),
        ("a tie with the best loss is counted as an improvement; Keras needs a strictly lower loss (and keeps "
         "the first epoch with the best loss).", _variant(v, patience, ties_improve=True)),
        ("training waits one epoch too many: it stops when `patience` epochs in a row have not improved, "
         "i.e. at epoch best + patience.", _variant(v, patience, extra_wait=1)),
        ("this is the epoch where training stopped; with restore_best_weights=True Keras returns to the best "
         "epoch's weights.", _variant(v, patience, return_stop=True)),
        ("when training never stops early, Keras still restores the best weights at the end: return the best "
         "epoch, not the last one.", _variant(v, patience, on_no_stop_last=True)),
        ("epochs are numbered from 0 (the first epoch is epoch 0).", expected + 1),
    ]
    # Several mistakes can give the same wrong epoch on one curve: name all of them together.
    grouped = {}
    for text, value in candidates:
        if value != expected:
            grouped.setdefault(value, []).append(text)
    return [Mistake(" Or: ".join(texts), value) for value, texts in grouped.items()]


def _losses_text(val_losses):
    return "[" + ", ".join(f"{float(v):g}" for v in val_losses) + "]"


def _expect_epoch(got, expected, val_losses, patience, shown=None):
    call = f"early_stopping_epoch({shown or _losses_text(val_losses)}, patience={patience})"
    best, stop = _stop_trace(list(val_losses), patience)
    how = (f"Keras stops after epoch {stop} ({plural(patience, 'epoch')} without a strict improvement since epoch {best}) "
           f"and restores epoch {best}." if stop is not None else
           f"Keras never stops early here, and at the end restores the best epoch, {best}.")
    # Any whole number is an epoch: a Python or NumPy int, a float such as 3.0, or a 0-d array of one.
    integral = (np.ndim(got) == 0 and not isinstance(got, (bool, np.bool_, list, tuple))
                and np.asarray(got).dtype.kind in "iuf" and float(np.asarray(got)).is_integer())
    expect(integral, called=call, expected=f"a whole number, the epoch number {expected}", received=describe(got))
    expect_close(got, expected, call=f"{call}\n({how})", rtol=0.0, atol=0.0,
                 mistakes=_early_mistakes(val_losses, patience))


HAND_CASES = [
    ([1.0, 0.9, 0.95, 0.97, 0.85, 0.95, 0.96, 0.97, 0.5], 2, 1),  # stops at epoch best + patience
    ([1.0, 0.8, 0.9, 0.8, 0.9, 0.95, 0.97, 0.7], 3, 1),  # a tie is not an improvement
    ([3.0, 2.0, 1.5, 1.6, 1.7], 5, 2),            # never stops: the best is still restored
    ([1.0, 0.8, 0.9, 0.95, 0.7], 2, 1),           # a late minimum after the stop
    ([1.0, 0.8, 0.8, 0.9, 0.85], 3, 1),           # the first of tied minima
    ([1.0, 0.9, 0.95, 0.5], 0, 1),                # patience 0 stops at the first non-improvement
    ([0.9, 0.7, 0.6, 0.5, 0.4], 1, 4),            # always improving
    ([0.5], 3, 0),                                # one epoch
    ([0.6, 0.6, 0.6, 0.6], 2, 0),                 # flat: the first epoch
]


@exercise("early_stopping_epoch", weight=2)
def test_early_stopping_epoch_hand_cases(early_stopping_epoch):
    """hand-checkable cases: a late minimum after the stop, ties, patience 0, no early stop, one epoch"""
    for val_losses, patience, expected in HAND_CASES:
        _expect_epoch(early_stopping_epoch(list(val_losses), patience), expected, val_losses, patience)


def _random_curves(count=120, seed=80):
    """Validation curves that fall then rise (overfitting), noisy, rounded to 2 decimals so that ties occur."""
    rng = np.random.default_rng(seed)
    curves = []
    for _ in range(count):
        epochs = int(rng.integers(2, 21))
        turn = rng.uniform(0, epochs)
        t = np.arange(epochs)
        curve = 0.5 + 0.01 * (t - turn) ** 2 * rng.uniform(0.2, 1.0) + rng.normal(0, 0.03, epochs)
        curves.append((tuple(float(v) for v in np.round(curve, 2)), int(rng.integers(0, 7))))
    return tuple(curves)


@keras_result
def _keras_restored_epochs(curves):
    """The epoch EarlyStopping(patience, restore_best_weights=True) restores, driven directly with each curve."""
    keras = load_keras()
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    restored = []
    for val_losses, patience in curves:
        callback = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)
        callback.set_model(model)
        model.stop_training = False
        callback.on_train_begin()
        for epoch, value in enumerate(val_losses):
            # The kernel records the epoch: the restored weights tell which epoch Keras kept.
            model.set_weights([np.full((1, 1), epoch, np.float32), np.zeros(1, np.float32)])
            callback.on_epoch_end(epoch, {"val_loss": value})
            if model.stop_training:
                break
        callback.on_train_end()
        restored.append(int(round(float(model.get_weights()[0][0, 0]))))
    return tuple(restored)


@exercise("early_stopping_epoch", weight=2)
def test_early_stopping_epoch_matches_keras(early_stopping_epoch):
    """equals keras.callbacks.EarlyStopping(patience, restore_best_weights=True) on 120 noisy validation curves"""
    curves = HAND_CASES_FOR_KERAS + _random_curves()
    expected = _keras_restored_epochs(curves)
    for i, ((val_losses, patience), epoch) in enumerate(zip(curves, expected)):
        if i % 3 == 0:
            given, shown = np.array(val_losses, dtype=np.float32 if i % 2 else np.float64), None
            shown = f"np.array({_losses_text(val_losses)}, dtype={given.dtype})"
        else:
            given, shown = list(val_losses), None
        _expect_epoch(early_stopping_epoch(given, patience), epoch, val_losses, patience, shown)


HAND_CASES_FOR_KERAS = tuple((tuple(v), p) for v, p, _ in HAND_CASES)

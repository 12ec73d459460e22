"""Hidden checks of a01_perceptron: the perceptron and activation functions."""
import numpy as np

from solutions import a01_perceptron as ref

from ..student import StudentFailure, describe
from .kit import Mistake, exercise, expect_close, fail

LARGE = np.array([-1e4, -1000.0, -710.0, -50.0, 0.0, 50.0, 710.0, 1000.0, 1e4])
# float32 overflows where float64 does not: exp(z) is inf in float32 above about 88.7, so a formula
# made safe for float64 (clipping z to +/-500 or +/-709) still overflows here.
LARGE32 = np.array([-1e4, -1000.0, -100.0, -89.0, -88.8, 0.0, 88.8, 89.0, 100.0, 1000.0, 1e4],
                   dtype=np.float32)
SHAPES = [(), (1,), (7,), (3, 4), (2, 3, 5)]


def _random(shape, dtype, seed):
    return (np.random.default_rng(seed).normal(0, 4, size=shape)).astype(dtype)


def _compare_everywhere(function, reference, name, mistakes=lambda z: ()):
    """The student's function against the reference on every shape and both float dtypes."""
    for i, shape in enumerate(SHAPES):
        for dtype in (np.float64, np.float32):
            z = _random(shape, dtype, seed=100 + i)
            expect_close(function(z), reference(z), call=lambda: f"{name}({describe(z)})", mistakes=mistakes(z))


def _python_scalar(function, reference, name, value=0.7):
    """A Python float in, a number out (any 0-d value: a Python or NumPy number, a 0-d array)."""
    try:
        got = function(value)
    except StudentFailure as exc:
        if exc.type in ("NotImplementedError", "Timeout", "Stopped"):
            raise
        fail(called=f"{name}({value})", expected="a number, as for arrays: the contract accepts Python numbers",
             received=f"for a Python float input, your function raised {exc.type}: {exc.message}",
             hint="How to fix: convert the input first, z = np.asarray(z), before using .shape, .astype or masks.")
    expect_close(got, reference(value), call=f"{name}({value})")


def _extreme(function, reference, name, z=LARGE):
    """Very large |z| in float64 and float32: the reference's values, without overflow (no RuntimeWarning)."""
    for values in (z, LARGE32):
        expect_close(function(values), reference(values), call=f"{name}({describe(values)})")


# -- sigmoid ----------------------------------------------------------------------------------

def _sigmoid_mistakes(z):
    with np.errstate(all="ignore"):
        return (
            Mistake("the sign of the exponent is flipped: use exp(-z), not exp(z).", 1 / (1 + np.exp(z))),
            Mistake("the '1 +' in the denominator is missing: sigmoid(z) = 1 / (1 + exp(-z)).", np.exp(z)),
            Mistake("this is tanh(z), not the sigmoid.", np.tanh(z)),
        )


@exercise("sigmoid", weight=2)
def test_sigmoid_hand_values(sigmoid):
    """sigmoid at 0, ln 3 and -ln 3 is 0.5, 0.75 and 0.25"""
    z = np.array([0.0, np.log(3.0), -np.log(3.0)])
    expect_close(sigmoid(z), np.array([0.5, 0.75, 0.25]), call=f"sigmoid({describe(z)})", mistakes=_sigmoid_mistakes(z))


@exercise("sigmoid")
def test_sigmoid_large_inputs(sigmoid):
    """sigmoid of +/-710 to +/-1e4 (float64) and of +/-89 to +/-1e4 (float32) is 0 or 1, without overflow"""
    _extreme(sigmoid, ref.sigmoid, "sigmoid")


@exercise("sigmoid")
def test_sigmoid_shapes_and_dtypes(sigmoid):
    """sigmoid keeps the input's shape, for scalars, 0-d to 3-d arrays, float32 and float64"""
    _python_scalar(sigmoid, ref.sigmoid, "sigmoid")
    _compare_everywhere(sigmoid, ref.sigmoid, "sigmoid", _sigmoid_mistakes)


# -- sigmoid_derivative -----------------------------------------------------------------------

def _sigmoid_derivative_mistakes(z):
    s = ref.sigmoid(z)
    ss = ref.sigmoid(s)
    return (
        Mistake("the derivative was taken at sigmoid(z) instead of z: sigmoid'(z) = s * (1 - s) "
                "with s = sigmoid(z), computed once.", ss * (1 - ss)),
        Mistake("z * (1 - z) is the formula applied to z itself: apply it to s = sigmoid(z).", z * (1 - z)),
        Mistake("the (1 - sigmoid(z)) factor is missing.", s),
        Mistake("the sign is flipped.", -s * (1 - s)),
    )


@exercise("sigmoid_derivative", weight=2)
def test_sigmoid_derivative_hand_values(sigmoid_derivative):
    """sigmoid'(0) is 0.25 and sigmoid'(+/-ln 3) is 0.1875"""
    z = np.array([0.0, np.log(3.0), -np.log(3.0)])
    expect_close(sigmoid_derivative(z), np.array([0.25, 0.1875, 0.1875]), call=f"sigmoid_derivative({describe(z)})",
                 mistakes=_sigmoid_derivative_mistakes(z))


@exercise("sigmoid_derivative")
def test_sigmoid_derivative_large_inputs(sigmoid_derivative):
    """sigmoid' of +/-1000 and +/-1e4 is 0, without overflow, in float64 and float32"""
    _extreme(sigmoid_derivative, ref.sigmoid_derivative, "sigmoid_derivative")


@exercise("sigmoid_derivative")
def test_sigmoid_derivative_shapes_and_dtypes(sigmoid_derivative):
    """sigmoid' keeps the input's shape, for scalars, 0-d to 3-d arrays, float32 and float64"""
    _python_scalar(sigmoid_derivative, ref.sigmoid_derivative, "sigmoid_derivative")
    _compare_everywhere(sigmoid_derivative, ref.sigmoid_derivative, "sigmoid_derivative",
                        _sigmoid_derivative_mistakes)


# -- tanh -------------------------------------------------------------------------------------

def _tanh_mistakes(z):
    with np.errstate(all="ignore"):
        return (
            Mistake("this is the sigmoid, not tanh.", ref.sigmoid(z)),
            Mistake("the denominator is missing: that is sinh(z).", (np.exp(z) - np.exp(-z)) / 2),
            Mistake("the sign is flipped.", -np.tanh(z)),
        )


@exercise("tanh", weight=2)
def test_tanh_hand_values(tanh):
    """tanh(0) is 0 and tanh(+/-ln 2) is +/-0.6"""
    z = np.array([0.0, np.log(2.0), -np.log(2.0)])
    expect_close(tanh(z), np.array([0.0, 0.6, -0.6]), call=f"tanh({describe(z)})", mistakes=_tanh_mistakes(z))


@exercise("tanh")
def test_tanh_large_inputs(tanh):
    """tanh of +/-1000 and +/-1e4 is +/-1, without overflow (exp(1000) is inf, and inf/inf is nan), in float64 and float32"""
    _extreme(tanh, ref.tanh, "tanh")


@exercise("tanh")
def test_tanh_shapes_and_dtypes(tanh):
    """tanh keeps the input's shape, for scalars, 0-d to 3-d arrays, float32 and float64"""
    _python_scalar(tanh, ref.tanh, "tanh")
    _compare_everywhere(tanh, ref.tanh, "tanh", _tanh_mistakes)


# -- tanh_derivative --------------------------------------------------------------------------

def _tanh_derivative_mistakes(z):
    t = np.tanh(z)
    tt = np.tanh(t)
    return (
        Mistake("this is the lecture slide's typo, tanh(z) * (1 - tanh(z)); the derivative of tanh is "
                "1 - tanh(z)**2.", t * (1 - t)),
        Mistake("the square is missing: tanh'(z) = 1 - tanh(z)**2.", 1 - t),
        Mistake("the derivative was taken at tanh(z) instead of z.", 1 - tt * tt),
        Mistake("1 - z**2 is the formula applied to z itself: apply it to tanh(z).", 1 - z * z),
    )


@exercise("tanh_derivative", weight=2)
def test_tanh_derivative_hand_values(tanh_derivative):
    """tanh'(0) is 1 and tanh'(+/-ln 2) is 0.64"""
    z = np.array([0.0, np.log(2.0), -np.log(2.0)])
    expect_close(tanh_derivative(z), np.array([1.0, 0.64, 0.64]), call=f"tanh_derivative({describe(z)})",
                 mistakes=_tanh_derivative_mistakes(z))


@exercise("tanh_derivative")
def test_tanh_derivative_large_inputs(tanh_derivative):
    """tanh' of +/-1000 and +/-1e4 is 0, without overflow, in float64 and float32"""
    _extreme(tanh_derivative, ref.tanh_derivative, "tanh_derivative")


@exercise("tanh_derivative")
def test_tanh_derivative_shapes_and_dtypes(tanh_derivative):
    """tanh' keeps the input's shape, for scalars, 0-d to 3-d arrays, float32 and float64"""
    _python_scalar(tanh_derivative, ref.tanh_derivative, "tanh_derivative")
    _compare_everywhere(tanh_derivative, ref.tanh_derivative, "tanh_derivative", _tanh_derivative_mistakes)


# -- relu -------------------------------------------------------------------------------------

def _relu_mistakes(z):
    return (
        Mistake("negative inputs must become 0, not their absolute value.", np.abs(z)),
        Mistake("this is the mask (z > 0), the derivative; relu returns max(0, z) itself.", (z > 0).astype(float)),
        Mistake("this is min(0, z): use np.maximum(z, 0).", np.minimum(z, 0)),
    )


@exercise("relu", weight=2)
def test_relu_hand_values(relu):
    """relu of [-2, -0.5, 0, 0.5, 3] is [0, 0, 0, 0.5, 3]"""
    z = np.array([-2.0, -0.5, 0.0, 0.5, 3.0])
    expect_close(relu(z), np.array([0.0, 0.0, 0.0, 0.5, 3.0]), call=f"relu({describe(z)})", mistakes=_relu_mistakes(z),
                 shape_hint="np.max(z, 0) reduces along an axis; the elementwise maximum is np.maximum(z, 0).")


@exercise("relu")
def test_relu_shapes_and_dtypes(relu):
    """relu keeps the input's shape, for scalars, 0-d to 3-d arrays, float32 and float64, and large inputs"""
    _python_scalar(relu, ref.relu, "relu", value=-0.7)
    _compare_everywhere(relu, ref.relu, "relu", _relu_mistakes)
    _extreme(relu, ref.relu, "relu")


# -- relu_derivative --------------------------------------------------------------------------

def _relu_derivative_mistakes(z):
    return (
        Mistake("the derivative at exactly z = 0 must be 0, as in the lecture (z > 0, not z >= 0).",
                (z >= 0).astype(float)),
        Mistake("this is relu(z) itself, not its derivative.", np.maximum(z, 0)),
        Mistake("the mask is reversed: 1 where z > 0, 0 elsewhere.", (z <= 0).astype(float)),
    )


@exercise("relu_derivative", weight=2)
def test_relu_derivative_hand_values(relu_derivative):
    """relu' of [-2, 0, 1e-9, 3] is [0, 0, 1, 1]: 0 at z = 0"""
    z = np.array([-2.0, 0.0, 1e-9, 3.0])
    expect_close(relu_derivative(z), np.array([0.0, 0.0, 1.0, 1.0]), call=f"relu_derivative({describe(z)})",
                 mistakes=_relu_derivative_mistakes(z))


@exercise("relu_derivative")
def test_relu_derivative_shapes_and_dtypes(relu_derivative):
    """relu' keeps the input's shape, for scalars, 0-d to 3-d arrays, float32 and float64, and large inputs"""
    _python_scalar(relu_derivative, ref.relu_derivative, "relu_derivative")
    _python_scalar(relu_derivative, ref.relu_derivative, "relu_derivative", value=-0.7)
    _extreme(relu_derivative, ref.relu_derivative, "relu_derivative")
    _compare_everywhere(relu_derivative, ref.relu_derivative, "relu_derivative", _relu_derivative_mistakes)


# -- perceptron_forward -----------------------------------------------------------------------

def _perceptron_mistakes(X, w0, w, g=ref.sigmoid):
    z = np.asarray(X) @ w
    return (
        Mistake("the bias w0 is missing: z = w0 + X @ w.", g(z)),
        Mistake("the bias is subtracted: z = w0 + X @ w.", g(z - w0)),
        Mistake("the bias is added after the activation: y_hat = g(w0 + X @ w).", g(z) + w0),
        Mistake("the activation g is not applied: return g(z).", z + w0),
    )


@exercise("perceptron_forward", weight=2)
def test_perceptron_forward_lecture_example(perceptron_forward):
    """the lecture's example: w0 = 1, w = [3, -2], x = [-1, 2] gives sigmoid(-6), about 0.00247"""
    x, w = np.array([-1.0, 2.0]), np.array([3.0, -2.0])
    got = perceptron_forward(x, 1.0, w)
    expect_close(got, ref.sigmoid(-6.0), call=f"perceptron_forward({describe(x)}, 1.0, {describe(w)})",
                 mistakes=_perceptron_mistakes(x, 1.0, w))


@exercise("perceptron_forward", weight=2)
def test_perceptron_forward_batch(perceptron_forward):
    """a batch X of shape (5, 3) gives shape (5,)"""
    rng = np.random.default_rng(7)
    X, w = rng.normal(size=(5, 3)), rng.normal(size=3)
    expect_close(perceptron_forward(X, -0.5, w), ref.perceptron_forward(X, -0.5, w),
                 call=f"perceptron_forward(X of shape (5, 3), -0.5, {describe(w)})",
                 mistakes=_perceptron_mistakes(X, -0.5, w),
                 shape_hint="For a batch, X @ w has one entry per row of X.")
    X32, w32 = X.astype(np.float32), w.astype(np.float32)
    expect_close(perceptron_forward(X32, np.float32(0.25), w32), ref.perceptron_forward(X32, np.float32(0.25), w32),
                 call="perceptron_forward(X float32 of shape (5, 3), 0.25, w float32)")


def _double_plus_one(z):
    return 2 * np.asarray(z) + 1


@exercise("perceptron_forward", weight=2)
def test_perceptron_forward_other_activations(perceptron_forward):
    """perceptron_forward applies the g it is given (tanh, relu, and a linear g), not always the sigmoid"""
    rng = np.random.default_rng(11)
    X, w = rng.normal(size=(6, 4)), rng.normal(size=4)
    for g in (ref.tanh, ref.relu, _double_plus_one):
        expect_close(perceptron_forward(X, 0.3, w, g), ref.perceptron_forward(X, 0.3, w, g),
                     call=f"perceptron_forward(X of shape (6, 4), 0.3, w, g={g.__name__})",
                     mistakes=(Mistake("the sigmoid is always applied: use the g argument rather than calling sigmoid "
                                       "directly.", ref.perceptron_forward(X, 0.3, w, ref.sigmoid)),
                               *_perceptron_mistakes(X, 0.3, w, g)))
    expect_close(perceptron_forward(X, 0.3, w, g=ref.tanh), ref.perceptron_forward(X, 0.3, w, ref.tanh),
                 call="perceptron_forward(X, 0.3, w, g=tanh) with g passed by keyword")

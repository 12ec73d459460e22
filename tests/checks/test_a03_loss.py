"""The catalogue of a03 mistakes and correct alternatives, graded by the real hidden checks."""
from tests.catalogue import Catalogue, Finding

A = "a03_loss"


# (exercise, what the mistake is, the student's cell, words the feedback must contain)
MISTAKES = [
    ("binary_cross_entropy", "no clipping: log(0) at predictions 0 and 1", """
def binary_cross_entropy(y_true, y_pred, eps=1e-7):
    y, p = np.asarray(y_true), np.asarray(y_pred)
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
""", "Clip the predictions"),
    ("binary_cross_entropy", "clipped only from below", """
def binary_cross_entropy(y_true, y_pred, eps=1e-7):
    y, p = np.asarray(y_true), np.maximum(np.asarray(y_pred), eps)
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
""", "both ends"),
    ("binary_cross_entropy", "sign flipped", """
def binary_cross_entropy(y_true, y_pred, eps=1e-7):
    y, p = np.asarray(y_true), np.clip(y_pred, eps, 1 - eps)
    return np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
""", "sign is flipped"),
    ("binary_cross_entropy", "sum instead of mean", """
def binary_cross_entropy(y_true, y_pred, eps=1e-7):
    y, p = np.asarray(y_true), np.clip(y_pred, eps, 1 - eps)
    return -np.sum(y * np.log(p) + (1 - y) * np.log(1 - p))
""", "sum over the elements"),
    ("binary_cross_entropy", "y and 1 - y swapped", """
def binary_cross_entropy(y_true, y_pred, eps=1e-7):
    y, p = np.asarray(y_true), np.clip(y_pred, eps, 1 - eps)
    return -np.mean((1 - y) * np.log(p) + y * np.log(1 - p))
""", "swapped"),
    ("binary_cross_entropy", "the (1 - y) term missing", """
def binary_cross_entropy(y_true, y_pred, eps=1e-7):
    y, p = np.asarray(y_true), np.clip(y_pred, eps, 1 - eps)
    return -np.mean(y * np.log(p))
""", "term is missing"),
    ("binary_cross_entropy", "log10", """
def binary_cross_entropy(y_true, y_pred, eps=1e-7):
    y, p = np.asarray(y_true), np.clip(y_pred, eps, 1 - eps)
    return -np.mean(y * np.log10(p) + (1 - y) * np.log10(1 - p))
""", "natural logarithm"),
    ("binary_cross_entropy", "eps argument ignored", """
def binary_cross_entropy(y_true, y_pred, eps=1e-7):
    y, p = np.asarray(y_true), np.clip(y_pred, 1e-7, 1 - 1e-7)
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
""", "with the eps argument"),
    ("binary_cross_entropy", "(n,) against (n, 1) broadcast to a table", """
def binary_cross_entropy(y_true, y_pred, eps=1e-7):
    y, p = np.asarray(y_true), np.clip(y_pred, eps, 1 - eps)
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
""", "broadcast"),
    ("binary_cross_entropy", "mean over the last axis only", """
def binary_cross_entropy(y_true, y_pred, eps=1e-7):
    y, p = np.asarray(y_true), np.clip(y_pred, eps, 1 - eps)
    if y.ndim != p.ndim:
        y, p = y.reshape(-1), p.reshape(-1)
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p), axis=-1)
""", "last axis only"),
    ("binary_cross_entropy", "clips the caller's array in place", """
def binary_cross_entropy(y_true, y_pred, eps=1e-7):
    y = np.asarray(y_true)
    p = np.clip(y_pred, eps, 1 - eps, out=y_pred)
    if y.ndim != p.ndim:
        y, p = y.reshape(-1), p.reshape(-1)
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
""", "in place"),
    ("binary_cross_entropy_from_logits", "naive sigmoid then log overflows", """
def binary_cross_entropy_from_logits(y_true, z):
    y, z = np.asarray(y_true), np.asarray(z)
    s = 1 / (1 + np.exp(-z))
    return -np.mean(y * np.log(s) + (1 - y) * np.log(1 - s))
""", "stable form"),
    ("binary_cross_entropy_from_logits", "naive formula with warnings silenced", """
def binary_cross_entropy_from_logits(y_true, z):
    y, z = np.asarray(y_true), np.asarray(z)
    with np.errstate(all="ignore"):
        s = 1 / (1 + np.exp(-z))
        return -np.mean(y * np.log(s) + (1 - y) * np.log(1 - s))
""", "stable form"),
    ("binary_cross_entropy_from_logits", "sigmoid then the clipped loss", """
def binary_cross_entropy_from_logits(y_true, z):
    z = np.asarray(z)
    e = np.exp(-np.abs(z))
    return binary_cross_entropy(y_true, np.where(z >= 0, 1 / (1 + e), e / (1 + e)))
""", "caps each example's loss"),
    ("binary_cross_entropy_from_logits", "logits used as probabilities", """
def binary_cross_entropy_from_logits(y_true, z):
    return binary_cross_entropy(y_true, z)
""", "used as probabilities"),
    ("binary_cross_entropy_from_logits", "sign flipped", """
def binary_cross_entropy_from_logits(y_true, z):
    y, z = np.asarray(y_true), np.asarray(z)
    return -np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))
""", "sign is flipped"),
    ("binary_cross_entropy_from_logits", "labels flipped (z's sign flipped)", """
def binary_cross_entropy_from_logits(y_true, z):
    y, z = np.asarray(y_true), np.asarray(z)
    return np.mean(np.maximum(-z, 0) + z * y + np.log1p(np.exp(-np.abs(z))))
""", "labels are flipped"),
    ("binary_cross_entropy_from_logits", "max(z, 0) term missing", """
def binary_cross_entropy_from_logits(y_true, z):
    y, z = np.asarray(y_true), np.asarray(z)
    return np.mean(-z * y + np.log1p(np.exp(-np.abs(z))))
""", "max(z, 0) term is missing"),
    ("binary_cross_entropy_from_logits", "sum instead of mean", """
def binary_cross_entropy_from_logits(y_true, z):
    y, z = np.asarray(y_true), np.asarray(z)
    return np.sum(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))
""", "sum over the elements"),
    ("binary_cross_entropy_from_logits", "(n,) against (n, 1) broadcast to a table", """
def binary_cross_entropy_from_logits(y_true, z):
    y, z = np.asarray(y_true), np.asarray(z)
    return np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))
""", "broadcast"),
    ("mean_squared_error", "sum instead of mean", """
def mean_squared_error(y_true, y_pred):
    return np.sum((np.ravel(y_true) - np.ravel(y_pred)) ** 2)
""", "sum of the squared errors"),
    ("mean_squared_error", "half the mean", """
def mean_squared_error(y_true, y_pred):
    return 0.5 * np.mean((np.ravel(y_true) - np.ravel(y_pred)) ** 2)
""", "1/2 factor"),
    ("mean_squared_error", "mean absolute error", """
def mean_squared_error(y_true, y_pred):
    return np.mean(np.abs(np.ravel(y_true) - np.ravel(y_pred)))
""", "mean absolute error"),
    ("mean_squared_error", "root mean squared error", """
def mean_squared_error(y_true, y_pred):
    return np.sqrt(np.mean((np.ravel(y_true) - np.ravel(y_pred)) ** 2))
""", "root mean squared error"),
    ("mean_squared_error", "square of the mean error", """
def mean_squared_error(y_true, y_pred):
    return np.mean(np.ravel(y_true) - np.ravel(y_pred)) ** 2
""", "mean of the errors was squared"),
    ("mean_squared_error", "(n,) against (n, 1) broadcast to a table", """
def mean_squared_error(y_true, y_pred):
    return np.mean((np.asarray(y_true) - np.asarray(y_pred)) ** 2)
""", "broadcast"),
    ("mean_squared_error", "mean over the last axis only", """
def mean_squared_error(y_true, y_pred):
    y, p = np.asarray(y_true), np.asarray(y_pred)
    if y.ndim != p.ndim:
        y, p = y.reshape(-1), p.reshape(-1)
    return np.mean((y - p) ** 2, axis=-1)
""", "last axis only"),
    ("empirical_loss", "arguments of loss swapped", """
def empirical_loss(loss, predict, X, y):
    return loss(predict(X), y)
""", "swapped"),
    ("empirical_loss", "per-example losses summed", """
def empirical_loss(loss, predict, X, y):
    return sum(loss(y[i:i + 1], predict(X[i:i + 1])) for i in range(len(X)))
""", "summed"),
    ("empirical_loss", "divided by n twice", """
def empirical_loss(loss, predict, X, y):
    return loss(y, predict(X)) / len(X)
""", "divided by n twice"),
    ("empirical_loss", "the loss argument ignored", """
def empirical_loss(loss, predict, X, y):
    return binary_cross_entropy(y, predict(X))
""", "use the loss argument"),
    ("empirical_loss", "a list of per-example losses", """
def empirical_loss(loss, predict, X, y):
    return [loss(y[i:i + 1], predict(X[i:i + 1])) for i in range(len(X))]
""", "one number"),
]

# (exercise, how it differs from the reference, the student's cell)
ALTERNATIVES = [
    ("binary_cross_entropy", "flattened, float64, sums divided by the size", """
def binary_cross_entropy(y_true, y_pred, eps=1e-7):
    y = np.array(y_true, dtype=float).ravel()
    p = np.array(y_pred, dtype=float).ravel()
    np.clip(p, eps, 1 - eps, out=p)
    return -(np.sum(y * np.log(p)) + np.sum((1 - y) * np.log1p(-p))) / y.size
"""),
    ("binary_cross_entropy", "reshaped to the labels' shape, Keras' mean of row means", """
def binary_cross_entropy(y_true, y_pred, eps=1e-7):
    y = np.asarray(y_true)
    p = np.minimum(np.maximum(np.reshape(y_pred, np.shape(y)), eps), 1 - eps)
    per_row = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p), axis=-1)
    return np.mean(per_row)
"""),
    ("binary_cross_entropy_from_logits", "np.logaddexp", """
def binary_cross_entropy_from_logits(y_true, z):
    y = np.ravel(y_true)
    z = np.ravel(z)
    return np.mean(y * np.logaddexp(0, -z) + (1 - y) * np.logaddexp(0, z))
"""),
    ("binary_cross_entropy_from_logits", "piecewise by the sign of z", """
def binary_cross_entropy_from_logits(y_true, z):
    z = np.asarray(z, dtype=float)
    y = np.reshape(y_true, z.shape)
    linear = np.where(z >= 0, (1 - y) * z, -y * z)
    return float(np.mean(linear + np.log1p(np.exp(-np.abs(z)))))
"""),
    ("binary_cross_entropy_from_logits", "stable log-sigmoid", """
def binary_cross_entropy_from_logits(y_true, z):
    y, z = np.ravel(y_true), np.ravel(z)
    softplus = np.log1p(np.exp(-np.abs(z)))
    log_s = np.minimum(z, 0) - softplus        # log(sigmoid(z))
    log_1_minus_s = np.minimum(-z, 0) - softplus  # log(1 - sigmoid(z))
    return -np.mean(y * log_s + (1 - y) * log_1_minus_s)
"""),
    ("mean_squared_error", "flattened dot product", """
def mean_squared_error(y_true, y_pred):
    d = np.ravel(y_true) - np.ravel(y_pred)
    return d @ d / d.size
"""),
    ("mean_squared_error", "reshaped, Keras' mean of row means", """
def mean_squared_error(y_true, y_pred):
    y = np.asarray(y_true)
    p = np.reshape(y_pred, y.shape)
    return np.mean(np.mean(np.square(y - p), axis=-1))
"""),
    ("empirical_loss", "mean of one-example losses", """
def empirical_loss(loss, predict, X, y):
    return np.mean([loss(y[i:i + 1], predict(X[i:i + 1])) for i in range(len(X))])
"""),
    ("empirical_loss", "one row at a time, summed then divided by n", """
def empirical_loss(loss, predict, X, y):
    total = 0.0
    for x_i, y_i in zip(X, y):
        total += loss(y_i, predict(x_i))
    return total / len(X)
"""),
    ("empirical_loss", "predictions first, Python float", """
def empirical_loss(loss, predict, X, y):
    y_hat = predict(X)
    return float(loss(y, y_hat))
"""),
]


# One cause, one charge: pairing (n,) labels with (n, 1) predictions is one check of each loss,
# whatever the dtype (weights: see the check modules' docstrings).
FINDINGS = [
    Finding("binary_cross_entropy", "clipping in float32 (as Keras) keeps every point, 0 and 1 included", """
def binary_cross_entropy(y_true, y_pred, eps=1e-7):
    y, p = np.asarray(y_true), np.asarray(y_pred)
    if p.ndim == y.ndim + 1:
        p = p[..., 0]
    if y.ndim == p.ndim + 1:
        y = y[..., 0]
    p = np.clip(p, p.dtype.type(eps), p.dtype.type(1 - eps)) if p.dtype == np.float32 else np.clip(p, eps, 1 - eps)
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
""", kept=(3, 3)),
    Finding("binary_cross_entropy", "no clipping: log(0), charged by the one check of 0 and 1 predictions", """
def binary_cross_entropy(y_true, y_pred, eps=1e-7):
    y, p = np.asarray(y_true), np.asarray(y_pred)
    if p.ndim == y.ndim + 1:
        p = p[..., 0]
    if y.ndim == p.ndim + 1:
        y = y[..., 0]
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
""", kept=(2.25, 2.25), shows=("RuntimeWarning", "Clip the predictions")),
    Finding("binary_cross_entropy", "(n,) labels broadcast against (n, 1) predictions: charged once", """
def binary_cross_entropy(y_true, y_pred, eps=1e-7):
    p = np.clip(y_pred, eps, 1 - eps)
    return -np.mean(y_true * np.log(p) + (1 - y_true) * np.log(1 - p))
""", kept=(2.6, 2.99), shows=("broadcast",), mistake="broadcast"),
    Finding("binary_cross_entropy_from_logits", "(n,) labels broadcast against (n, 1) logits: charged once", """
def binary_cross_entropy_from_logits(y_true, z):
    return np.mean(np.maximum(z, 0) - z * y_true + np.log1p(np.exp(-np.abs(z))))
""", kept=(2.6, 2.99), shows=("broadcast",), mistake="broadcast"),
    Finding("mean_squared_error", "(n,) labels broadcast against (n, 1) predictions: charged once", """
def mean_squared_error(y_true, y_pred):
    return np.mean((y_true - y_pred) ** 2)
""", kept=(1.6, 1.99), shows=("broadcast",), mistake="broadcast"),
    Finding("empirical_loss", "the plain mean of per-batch means (batches of 32) loses points, named", """
def empirical_loss(loss, predict, X, y):
    means = [loss(y[i:i + 32], predict(X[i:i + 32])) for i in range(0, len(X), 32)]
    return np.mean(means)
""", kept=(0, 1.99), shows=("batch",), mistake="batch"),
    Finding("empirical_loss", "per-batch means weighted by batch size keep every point", """
def empirical_loss(loss, predict, X, y):
    total = 0.0
    for i in range(0, len(X), 32):
        total += loss(y[i:i + 32], predict(X[i:i + 32])) * len(X[i:i + 32])
    return total / len(X)
""", kept=(2, 2)),
    Finding("mean_squared_error", "a float32 sum instead of the mean: numbers shown once, rounded", """
def mean_squared_error(y_true, y_pred):
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_pred.ndim == y_true.ndim + 1:
        y_pred = y_pred[..., 0]
    if y_true.ndim == y_pred.ndim + 1:
        y_true = y_true[..., 0]
    return np.sum((y_true - y_pred) ** 2)
""", kept=(0, 0.5), hides=("np.float32(", "e+300"), mistake="sum"),
]


class TestCatalogue(Catalogue):
    assignment, mistakes, alternatives, findings = A, MISTAKES, ALTERNATIVES, FINDINGS

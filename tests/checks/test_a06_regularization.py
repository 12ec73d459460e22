"""The catalogue of a06 mistakes and correct alternatives, graded by the real hidden checks."""
from tests.catalogue import Catalogue, Finding

A = "a06_regularization"

# the classic mistake, in the catalogue and in its finding alike
RATE_AS_KEEP_FRACTION = """
def dropout_forward(A, rate, training=True, rng=None):
    A = np.asarray(A)
    if not training or rate == 0:
        return A.copy(), np.ones(A.shape, A.dtype)
    rng = np.random.default_rng() if rng is None else rng
    mask = (rng.random(A.shape) < rate).astype(A.dtype)
    return A * mask / (1 - rate), mask
"""

# (exercise, what the mistake is, the student's cell, words the feedback must contain)
MISTAKES = [
    ("dropout_forward", "not inverted: kept units not scaled", """
def dropout_forward(A, rate, training=True, rng=None):
    A = np.asarray(A)
    if not training or rate == 0:
        return A.copy(), np.ones(A.shape, A.dtype)
    rng = np.random.default_rng() if rng is None else rng
    mask = (rng.random(A.shape) >= rate).astype(A.dtype)
    return A * mask, mask
""", "not scaled"),
    ("dropout_forward", "rate used as the keep probability", RATE_AS_KEEP_FRACTION, "fraction DROPPED"),
    ("dropout_forward", "one mask shared by every row", """
def dropout_forward(A, rate, training=True, rng=None):
    A = np.asarray(A)
    if not training or rate == 0:
        return A.copy(), np.ones(A.shape, A.dtype)
    rng = np.random.default_rng() if rng is None else rng
    mask = np.broadcast_to(rng.random(A.shape[-1]) >= rate, A.shape).astype(A.dtype)
    return A * mask / (1 - rate), mask
""", "same mask is used for every row"),
    ("dropout_forward", "a fixed number of drops (permutation)", """
def dropout_forward(A, rate, training=True, rng=None):
    A = np.asarray(A)
    if not training or rate == 0:
        return A.copy(), np.ones(A.shape, A.dtype)
    rng = np.random.default_rng() if rng is None else rng
    flat = np.ones(A.size, A.dtype)
    flat[rng.permutation(A.size)[:int(round(rate * A.size))]] = 0
    mask = flat.reshape(A.shape)
    return A * mask / (1 - rate), mask
""", "fixed number of units"),
    ("dropout_forward", "a fixed number of drops in every row", """
def dropout_forward(A, rate, training=True, rng=None):
    A = np.asarray(A)
    if not training or rate == 0:
        return A.copy(), np.ones(A.shape, A.dtype)
    rng = np.random.default_rng() if rng is None else rng
    k = int(round(rate * A.shape[-1]))
    keys = rng.random(A.shape)
    mask = (np.argsort(np.argsort(keys, axis=-1), axis=-1) >= k).astype(A.dtype)
    return A * mask / (1 - rate), mask
""", "same number of units"),
    ("dropout_forward", "rng ignored: a fixed seed inside", """
def dropout_forward(A, rate, training=True, rng=None):
    A = np.asarray(A)
    if not training or rate == 0:
        return A.copy(), np.ones(A.shape, A.dtype)
    mask = (np.random.default_rng(0).random(A.shape) >= rate).astype(A.dtype)
    return A * mask / (1 - rate), mask
""", "rng argument is ignored"),
    ("dropout_forward", "NumPy's global random state", """
def dropout_forward(A, rate, training=True, rng=None):
    A = np.asarray(A)
    if not training or rate == 0:
        return A.copy(), np.ones(A.shape, A.dtype)
    mask = (np.random.random(A.shape) >= rate).astype(A.dtype)
    return A * mask / (1 - rate), mask
""", "global random state"),
    ("dropout_forward", "scales at inference too", """
def dropout_forward(A, rate, training=True, rng=None):
    A = np.asarray(A)
    rng = np.random.default_rng() if rng is None else rng
    if not training:
        return A / (1 - rate), np.ones(A.shape, A.dtype)
    mask = (rng.random(A.shape) >= rate).astype(A.dtype)
    return A * mask / (1 - rate), mask
""", "only happens in training"),
    ("dropout_forward", "the scaled mask returned", """
def dropout_forward(A, rate, training=True, rng=None):
    A = np.asarray(A)
    if not training or rate == 0:
        return A.copy(), np.ones(A.shape, A.dtype)
    rng = np.random.default_rng() if rng is None else rng
    mask = (rng.random(A.shape) >= rate) / (1 - rate)
    return A * mask, mask
""", "0/1 mask"),
    ("dropout_forward", "only out returned", """
def dropout_forward(A, rate, training=True, rng=None):
    A = np.asarray(A)
    if not training or rate == 0:
        return A.copy()
    rng = np.random.default_rng() if rng is None else rng
    return A * (rng.random(A.shape) >= rate) / (1 - rate)
""", "pair (out, mask)"),
    ("dropout_backward", "not scaled", """
def dropout_backward(dout, mask, rate):
    return dout * mask
""", "not scaled"),
    ("dropout_backward", "multiplied by (1 - rate)", """
def dropout_backward(dout, mask, rate):
    return dout * mask * (1 - rate)
""", "multiplied by (1 - rate)"),
    ("dropout_backward", "mask reversed", """
def dropout_backward(dout, mask, rate):
    return dout * (1 - mask) / (1 - rate)
""", "reversed"),
    ("dropout_backward", "mask missing", """
def dropout_backward(dout, mask, rate):
    return dout / (1 - rate)
""", "mask is missing"),
    ("dropout_backward", "divided by rate", """
def dropout_backward(dout, mask, rate):
    return dout * mask / rate
""", "divided by rate"),
    ("l2_penalty", "lam missing", """
def l2_penalty(kernels, lam):
    return float(sum(np.sum(np.square(k)) for k in kernels))
""", "lam is missing"),
    ("l2_penalty", "textbook 1/2 factor", """
def l2_penalty(kernels, lam):
    return 0.5 * lam * float(sum(np.sum(np.square(k)) for k in kernels))
""", "1/2"),
    ("l2_penalty", "L1 instead of L2", """
def l2_penalty(kernels, lam):
    return lam * float(sum(np.sum(np.abs(k)) for k in kernels))
""", "L1"),
    ("l2_penalty", "norm instead of squared norm", """
def l2_penalty(kernels, lam):
    return lam * float(np.sqrt(sum(np.sum(np.square(k)) for k in kernels)))
""", "SQUARED"),
    ("l2_penalty", "only the first kernel", """
def l2_penalty(kernels, lam):
    return lam * float(np.sum(np.square(kernels[0])))
""", "first kernel"),
    ("l2_penalty", "mean of the squares", """
def l2_penalty(kernels, lam):
    return lam * float(np.mean(np.concatenate([np.ravel(k) for k in kernels]) ** 2))
""", "mean"),
    ("l2_penalty", "one penalty per kernel", """
def l2_penalty(kernels, lam):
    return [lam * float(np.sum(np.square(k))) for k in kernels]
""", "one number"),
    ("early_stopping_epoch", "argmin over every epoch", """
def early_stopping_epoch(val_losses, patience):
    return int(np.argmin(val_losses))
""", "ALL epochs"),
    ("early_stopping_epoch", "ties count as improvements", """
def early_stopping_epoch(val_losses, patience):
    best = 0
    for epoch in range(1, len(val_losses)):
        if val_losses[epoch] <= val_losses[best]:
            best = epoch
        elif epoch - best >= patience:
            break
    return best
""", "tie"),
    ("early_stopping_epoch", "waits one epoch too many", """
def early_stopping_epoch(val_losses, patience):
    best = 0
    for epoch in range(1, len(val_losses)):
        if val_losses[epoch] < val_losses[best]:
            best = epoch
        elif epoch - best > patience:
            break
    return best
""", "one epoch too many"),
    ("early_stopping_epoch", "returns the stopping epoch", """
def early_stopping_epoch(val_losses, patience):
    best = 0
    for epoch in range(1, len(val_losses)):
        if val_losses[epoch] < val_losses[best]:
            best = epoch
        elif epoch - best >= patience:
            return epoch
    return best
""", "epoch where training stopped"),
    ("early_stopping_epoch", "last epoch when never stopped", """
def early_stopping_epoch(val_losses, patience):
    best = 0
    for epoch in range(1, len(val_losses)):
        if val_losses[epoch] < val_losses[best]:
            best = epoch
        elif epoch - best >= patience:
            return best
    return len(val_losses) - 1
""", "still restores"),
    ("early_stopping_epoch", "1-based epochs", """
def early_stopping_epoch(val_losses, patience):
    best = 0
    for epoch in range(1, len(val_losses)):
        if val_losses[epoch] < val_losses[best]:
            best = epoch
        elif epoch - best >= patience:
            break
    return best + 1
""", "numbered from 0"),
]

# (exercise, how it differs from the reference, the student's cell)
ALTERNATIVES = [
    ("dropout_forward", "binomial draw, float mask", """
def dropout_forward(A, rate, training=True, rng=None):
    A = np.asarray(A)
    if not training:
        return A.copy(), np.ones_like(A)
    if rng is None:
        rng = np.random.default_rng()
    mask = rng.binomial(1, 1 - rate, size=A.shape).astype(A.dtype)
    return A * mask * (1.0 / (1.0 - rate)), mask
"""),
    ("dropout_forward", "boolean mask from uniform, np.where", """
def dropout_forward(A, rate, training=True, rng=None):
    A = np.array(A, dtype=float) if np.asarray(A).dtype.kind != 'f' else np.asarray(A)
    rng = rng if rng is not None else np.random.default_rng()
    if training and rate > 0:
        keep = rng.uniform(0.0, 1.0, size=A.shape) > rate
    else:
        keep = np.ones(A.shape, dtype=bool)
    scale = 1.0 / (1.0 - rate) if training else 1.0
    return np.where(keep, A * scale, 0).astype(A.dtype), keep
"""),
    ("dropout_forward", "choice of 0 and 1 with probabilities", """
def dropout_forward(A, rate, training=True, rng=None):
    A = np.asarray(A)
    if not training or rate == 0:
        return np.copy(A), np.ones(np.shape(A))
    g = np.random.default_rng() if rng is None else rng
    mask = g.choice([0.0, 1.0], size=A.shape, p=[rate, 1 - rate])
    out = A * mask
    out = out / (1 - rate)
    return out, mask
"""),
    ("dropout_backward", "np.where on the mask", """
def dropout_backward(dout, mask, rate):
    dout = np.asarray(dout)
    return np.where(np.asarray(mask) == 1, dout / (1 - rate), np.zeros_like(dout))
"""),
    ("dropout_backward", "precomputed scale", """
def dropout_backward(dout, mask, rate):
    scale = 1.0 / (1.0 - rate)
    return np.multiply(dout, mask) * scale
"""),
    ("l2_penalty", "vdot", """
def l2_penalty(kernels, lam):
    return lam * sum(float(np.vdot(k, k)) for k in kernels)
"""),
    ("l2_penalty", "concatenated entries", """
def l2_penalty(kernels, lam):
    w = np.concatenate([np.ravel(np.asarray(k, dtype=np.float64)) for k in kernels])
    return lam * np.sum(w ** 2)
"""),
    ("l2_penalty", "squared Frobenius norms", """
def l2_penalty(kernels, lam):
    total = 0.0
    for k in kernels:
        total = total + np.linalg.norm(np.ravel(k).astype(np.float64)) ** 2
    return lam * total
"""),
    ("early_stopping_epoch", "a wait counter, as Keras", """
def early_stopping_epoch(val_losses, patience):
    best_value, best_epoch, wait = None, 0, 0
    for epoch, value in enumerate(val_losses):
        wait += 1
        if best_value is None or value < best_value:
            best_value, best_epoch, wait = value, epoch, 0
            continue
        if wait >= patience and epoch > 0:
            break
    return best_epoch
"""),
    ("early_stopping_epoch", "find the stop, then argmin of the seen epochs", """
def early_stopping_epoch(val_losses, patience):
    v = np.asarray(val_losses, dtype=float)
    stop = len(v) - 1
    for e in range(1, len(v)):
        if v[e] >= v[:e].min() and e - int(np.argmin(v[:e + 1])) >= patience:
            stop = e
            break
    return int(np.argmin(v[:stop + 1]))
"""),
]


FINDINGS = [
    Finding("early_stopping_epoch", "the epoch as a 0-d integer array keeps every point", """
_right_epoch = early_stopping_epoch

def early_stopping_epoch(val_losses, patience):
    return np.array(_right_epoch(val_losses, patience))
""", kept=(3, 3)),
    Finding("dropout_forward", "rate taken as the keep fraction: named as such, not as one mask for every row",
            RATE_AS_KEEP_FRACTION, kept=(0, 3.99), shows=("fraction DROPPED",),
            hides=("same mask is used for every row",), mistake="fraction DROPPED"),
    Finding("dropout_forward", "one mask for every row: named by its own prediction", """
def dropout_forward(A, rate, training=True, rng=None):
    A = np.asarray(A)
    if not training or rate == 0:
        return A.copy(), np.ones(A.shape, A.dtype)
    rng = np.random.default_rng() if rng is None else rng
    mask = np.broadcast_to(rng.random(A.shape[-1]) >= rate, A.shape).astype(A.dtype)
    return A * mask / (1 - rate), mask
""", kept=(0, 3.99), shows=("same mask is used for every row",), mistake="same mask"),
    Finding("dropout_forward", "a boolean mask keeps every point", """
def dropout_forward(A, rate, training=True, rng=None):
    A = np.asarray(A)
    if not training or rate == 0:
        return A.copy(), np.ones(A.shape, dtype=bool)
    rng = np.random.default_rng() if rng is None else rng
    mask = rng.random(A.shape) >= rate
    return A * mask / (1 - rate), mask
""", kept=(4, 4)),
]


class TestCatalogue(Catalogue):
    assignment, mistakes, alternatives, findings = A, MISTAKES, ALTERNATIVES, FINDINGS

"""The catalogue of a05 mistakes and correct alternatives, graded by the real hidden checks."""
from tests.catalogue import Catalogue, Finding

A = "a05_sgd"

# An exercise's grade also depends on the exercises whose functions it calls.
USED_BY = {"iterate_minibatches": {"train_minibatch_sgd"}, "sgd_update": {"train_minibatch_sgd"},
           "adam_init": {"adam_update"}}


# (exercise, what the mistake is, the student's cell, words the feedback must contain)
MISTAKES = [
    ("train_val_test_split", "one random cut, not stratified", """
def train_val_test_split(X, y, fractions=(0.6, 0.2, 0.2), seed=None):
    X, y = np.asarray(X), np.asarray(y)
    index = np.random.default_rng(seed).permutation(len(y))
    a = int(round(fractions[0] * len(y)))
    b = a + int(round(fractions[1] * len(y)))
    return X[index[:a]], y[index[:a]], X[index[a:b]], y[index[a:b]], X[index[b:]], y[index[b:]]
""", "not stratified"),
    ("train_val_test_split", "X and y permuted separately", """
def train_val_test_split(X, y, fractions=(0.6, 0.2, 0.2), seed=None):
    rng = np.random.default_rng(seed)
    out = _reference_split(X, y, fractions, seed)
    return tuple(part if k % 2 == 0 else rng.permutation(part) for k, part in enumerate(out))
""", "not paired"),
    ("train_val_test_split", "the seed is ignored", """
def train_val_test_split(X, y, fractions=(0.6, 0.2, 0.2), seed=None):
    return _reference_split(X, y, fractions, None)
""", "seed is not used"),
    ("train_val_test_split", "sizes truncated per class, rows lost", """
def train_val_test_split(X, y, fractions=(0.6, 0.2, 0.2), seed=None):
    X, y = np.asarray(X), np.asarray(y)
    rng = np.random.default_rng(seed)
    parts = [[], [], []]
    for c in np.unique(y):
        rows = rng.permutation(np.flatnonzero(y == c))
        a = int(fractions[0] * len(rows))
        b = a + int(fractions[1] * len(rows))
        e = b + int(fractions[2] * len(rows))
        for s, piece in enumerate((rows[:a], rows[a:b], rows[b:e])):
            parts[s].append(piece)
    out = []
    for p in parts:
        i = np.concatenate(p).astype(int)
        out += [X[i], y[i]]
    return tuple(out)
""", "rows are lost"),
    ("train_val_test_split", "the same split whatever the seed", """
def train_val_test_split(X, y, fractions=(0.6, 0.2, 0.2), seed=None):
    out = _reference_split(X, y, fractions, 0)
    X, y = np.asarray(X), np.asarray(y)
    # the same rows whatever the seed
    return out
""", "not shuffled"),
    ("train_val_test_split", "arrays returned in the wrong order", """
def train_val_test_split(X, y, fractions=(0.6, 0.2, 0.2), seed=None):
    Xtr, ytr, Xva, yva, Xte, yte = _reference_split(X, y, fractions, seed)
    return Xtr, Xva, Xte, ytr, yva, yte
""", "order"),
    ("iterate_minibatches", "the last partial batch dropped", """
def iterate_minibatches(X, y, batch_size, shuffle=True, seed=None):
    order = np.random.default_rng(seed).permutation(len(X)) if shuffle else np.arange(len(X))
    for start in range(0, len(X) - batch_size + 1, batch_size):
        yield X[order[start:start + batch_size]], y[order[start:start + batch_size]]
""", "last, partial batch was dropped"),
    ("iterate_minibatches", "X and y shuffled separately", """
def iterate_minibatches(X, y, batch_size, shuffle=True, seed=None):
    rng = np.random.default_rng(seed)
    a = rng.permutation(len(X)) if shuffle else np.arange(len(X))
    b = rng.permutation(len(X)) if shuffle else np.arange(len(X))
    for start in range(0, len(X), batch_size):
        yield X[a[start:start + batch_size]], y[b[start:start + batch_size]]
""", "not paired"),
    ("iterate_minibatches", "shuffles even with shuffle=False", """
def iterate_minibatches(X, y, batch_size, shuffle=True, seed=None):
    order = np.random.default_rng(seed).permutation(len(X))
    for start in range(0, len(X), batch_size):
        yield X[order[start:start + batch_size]], y[order[start:start + batch_size]]
""", "shuffled although shuffle=False"),
    ("iterate_minibatches", "the seed is ignored", """
def iterate_minibatches(X, y, batch_size, shuffle=True, seed=None):
    order = np.random.permutation(len(X)) if shuffle else np.arange(len(X))
    for start in range(0, len(X), batch_size):
        yield X[order[start:start + batch_size]], y[order[start:start + batch_size]]
""", "seed is not used"),
    ("iterate_minibatches", "rows drawn with replacement", """
def iterate_minibatches(X, y, batch_size, shuffle=True, seed=None):
    n = len(X)
    order = np.random.default_rng(seed).integers(0, n, size=n) if shuffle else np.arange(n)
    for start in range(0, n, batch_size):
        yield X[order[start:start + batch_size]], y[order[start:start + batch_size]]
""", "with replacement"),
    ("iterate_minibatches", "only the order of the batches shuffled", """
def iterate_minibatches(X, y, batch_size, shuffle=True, seed=None):
    starts = np.arange(0, len(X), batch_size)
    if shuffle:
        starts = np.random.default_rng(seed).permutation(starts)
    starts = sorted(starts, key=lambda s: s + batch_size > len(X))  # keep the partial batch last
    for start in starts:
        yield X[start:start + batch_size], y[start:start + batch_size]
""", "order of the batches"),
    ("sgd_update", "sign flipped", """
def sgd_update(weights, grads, lr):
    return [w + lr * g for w, g in zip(weights, grads)]
""", "sign is flipped"),
    ("sgd_update", "learning rate missing", """
def sgd_update(weights, grads, lr):
    return [w - g for w, g in zip(weights, grads)]
""", "learning rate is missing"),
    ("sgd_update", "gradient divided by the learning rate", """
def sgd_update(weights, grads, lr):
    return [w - g / lr for w, g in zip(weights, grads)]
""", "divided by the learning rate"),
    ("sgd_update", "weights and gradients swapped", """
def sgd_update(weights, grads, lr):
    return [g - lr * w for w, g in zip(weights, grads)]
""", "swapped"),
    ("sgd_update", "only the first weight returned", """
def sgd_update(weights, grads, lr):
    return weights[0] - lr * grads[0]
""", "a list of 2 arrays"),
    ("momentum_update", "momentum term missing", """
def momentum_update(weights, grads, velocities, lr, momentum=0.9):
    v = [-lr * g for g in grads]
    return [w + vi for w, vi in zip(weights, v)], v
""", "momentum term is missing"),
    ("momentum_update", "weights moved with the old velocity", """
def momentum_update(weights, grads, velocities, lr, momentum=0.9):
    new_w = [w + v for w, v in zip(weights, velocities)]
    new_v = [momentum * v - lr * g for v, g in zip(velocities, grads)]
    return new_w, new_v
""", "OLD velocity"),
    ("momentum_update", "velocity with the opposite sign convention", """
def momentum_update(weights, grads, velocities, lr, momentum=0.9):
    v = [momentum * v + lr * g for v, g in zip(velocities, grads)]
    return [w - vi for w, vi in zip(weights, v)], v
""", "opposite sign"),
    ("momentum_update", "velocity as an average with (1 - momentum)", """
def momentum_update(weights, grads, velocities, lr, momentum=0.9):
    v = [momentum * v - (1 - momentum) * lr * g for v, g in zip(velocities, grads)]
    return [w + vi for w, vi in zip(weights, v)], v
""", "average"),
    ("momentum_update", "weights and velocities returned swapped", """
def momentum_update(weights, grads, velocities, lr, momentum=0.9):
    v = [momentum * v - lr * g for v, g in zip(velocities, grads)]
    return v, [w + vi for w, vi in zip(weights, v)]
""", "not the velocities"),
    ("adam_init", "t starts at 1", """
def adam_init(weights):
    return {"m": [np.zeros_like(w) for w in weights], "v": [np.zeros_like(w) for w in weights], "t": 1}
""", "t counts the steps"),
    ("adam_init", "moments start at the weights", """
def adam_init(weights):
    return {"m": [np.array(w) for w in weights], "v": [np.array(w) for w in weights], "t": 0}
""", "start at zero"),
    ("adam_init", "one scalar per weight", """
def adam_init(weights):
    return {"m": [0.0 for w in weights], "v": [0.0 for w in weights], "t": 0}
""", "one array per weight"),
    ("adam_init", "a tuple instead of the documented dict", """
def adam_init(weights):
    return [np.zeros_like(w) for w in weights], [np.zeros_like(w) for w in weights], 0
""", "the keys"),
    ("adam_update", "no bias correction", """
def adam_update(weights, grads, state, lr=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m = [beta_1 * m + (1 - beta_1) * g for m, g in zip(state["m"], grads)]
    v = [beta_2 * v + (1 - beta_2) * g * g for v, g in zip(state["v"], grads)]
    w = [w - lr * mi / (np.sqrt(vi) + epsilon) for w, mi, vi in zip(weights, m, v)]
    return w, {"m": m, "v": v, "t": state["t"] + 1}
""", "bias correction is missing"),
    ("adam_update", "epsilon added to sqrt(v_hat), as in the paper", """
def adam_update(weights, grads, state, lr=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    t = state["t"] + 1
    m = [beta_1 * m + (1 - beta_1) * g for m, g in zip(state["m"], grads)]
    v = [beta_2 * v + (1 - beta_2) * g * g for v, g in zip(state["v"], grads)]
    w = [w - lr * (mi / (1 - beta_1 ** t)) / (np.sqrt(vi / (1 - beta_2 ** t)) + epsilon)
         for w, mi, vi in zip(weights, m, v)]
    return w, {"m": m, "v": v, "t": t}
""", "as in the paper"),
    ("adam_update", "epsilon inside the square root", """
def adam_update(weights, grads, state, lr=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    t = state["t"] + 1
    alpha = lr * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
    m = [beta_1 * m + (1 - beta_1) * g for m, g in zip(state["m"], grads)]
    v = [beta_2 * v + (1 - beta_2) * g * g for v, g in zip(state["v"], grads)]
    w = [w - alpha * mi / np.sqrt(vi + epsilon) for w, mi, vi in zip(weights, m, v)]
    return w, {"m": m, "v": v, "t": t}
""", "inside the square root"),
    ("adam_update", "beta_1 and beta_2 swapped", """
def adam_update(weights, grads, state, lr=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    return _reference_adam(weights, grads, state, lr, beta_2, beta_1, epsilon)
""", "swapped"),
    ("adam_update", "v averages |g| instead of g**2", """
def adam_update(weights, grads, state, lr=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    t = state["t"] + 1
    alpha = lr * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
    m = [beta_1 * m + (1 - beta_1) * g for m, g in zip(state["m"], grads)]
    v = [beta_2 * v + (1 - beta_2) * np.abs(g) for v, g in zip(state["v"], grads)]
    w = [w - alpha * mi / (np.sqrt(vi) + epsilon) for w, mi, vi in zip(weights, m, v)]
    return w, {"m": m, "v": v, "t": t}
""", "SQUARED"),
    ("adam_update", "the step count is not carried over", """
def adam_update(weights, grads, state, lr=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    w, new = _reference_adam(weights, grads, state, lr, beta_1, beta_2, epsilon)
    return w, {"m": new["m"], "v": new["v"], "t": state["t"]}
""", "not carried over"),
    ("train_minibatch_sgd", "history: plain mean of the batch losses", """
def train_minibatch_sgd(X, y, weights, activations, lr, epochs, batch_size, shuffle=False, seed=None):
    weights, history = [np.array(w) for w in weights], []
    for epoch in range(epochs):
        losses = []
        for Xb, yb in iterate_minibatches(X, y, batch_size, shuffle, None if seed is None else seed + epoch):
            loss, grads = loss_and_gradients(Xb, yb, weights, activations)
            weights = sgd_update(weights, grads, lr)
            losses.append(loss)
        history.append(float(np.mean(losses)))
    return weights, history
""", "plain mean"),
    ("train_minibatch_sgd", "last partial batch skipped", """
def train_minibatch_sgd(X, y, weights, activations, lr, epochs, batch_size, shuffle=False, seed=None):
    weights, history = [np.array(w) for w in weights], []
    for epoch in range(epochs):
        total, count = 0.0, 0
        for Xb, yb in iterate_minibatches(X, y, batch_size, shuffle, seed):
            if len(Xb) < batch_size:
                continue
            loss, grads = loss_and_gradients(Xb, yb, weights, activations)
            weights = sgd_update(weights, grads, lr)
            total, count = total + loss * len(Xb), count + len(Xb)
        history.append(total / count)
    return weights, history
""", "partial batch was dropped"),
    ("train_minibatch_sgd", "loss taken after the update", """
def train_minibatch_sgd(X, y, weights, activations, lr, epochs, batch_size, shuffle=False, seed=None):
    weights, history = [np.array(w) for w in weights], []
    for epoch in range(epochs):
        total = 0.0
        for Xb, yb in iterate_minibatches(X, y, batch_size, shuffle, seed):
            weights = sgd_update(weights, loss_and_gradients(Xb, yb, weights, activations)[1], lr)
            total += loss_and_gradients(Xb, yb, weights, activations)[0] * len(Xb)
        history.append(total / len(X))
    return weights, history
""", "after its update"),
    ("train_minibatch_sgd", "history of the last batch only", """
def train_minibatch_sgd(X, y, weights, activations, lr, epochs, batch_size, shuffle=False, seed=None):
    weights, history = [np.array(w) for w in weights], []
    for epoch in range(epochs):
        for Xb, yb in iterate_minibatches(X, y, batch_size, shuffle, seed):
            loss, grads = loss_and_gradients(Xb, yb, weights, activations)
            weights = sgd_update(weights, grads, lr)
        history.append(loss)
    return weights, history
""", "last batch's loss"),
    ("train_minibatch_sgd", "history: whole-set loss at the end of the epoch", """
def train_minibatch_sgd(X, y, weights, activations, lr, epochs, batch_size, shuffle=False, seed=None):
    weights, history = [np.array(w) for w in weights], []
    for epoch in range(epochs):
        for Xb, yb in iterate_minibatches(X, y, batch_size, shuffle, seed):
            weights = sgd_update(weights, loss_and_gradients(Xb, yb, weights, activations)[1], lr)
        history.append(loss_and_gradients(X, y, weights, activations)[0])
    return weights, history
""", "whole data set after the epoch"),
    ("train_minibatch_sgd", "one update per epoch", """
def train_minibatch_sgd(X, y, weights, activations, lr, epochs, batch_size, shuffle=False, seed=None):
    weights, history = [np.array(w) for w in weights], []
    for epoch in range(epochs):
        total, acc = 0.0, [np.zeros_like(w) for w in weights]
        for Xb, yb in iterate_minibatches(X, y, batch_size, shuffle, seed):
            loss, grads = loss_and_gradients(Xb, yb, weights, activations)
            acc = [a + g * len(Xb) / len(X) for a, g in zip(acc, grads)]
            total += loss * len(Xb)
        weights = sgd_update(weights, acc, lr)
        history.append(total / len(X))
    return weights, history
""", "once per epoch"),
    ("train_minibatch_sgd", "shuffle ignored", """
def train_minibatch_sgd(X, y, weights, activations, lr, epochs, batch_size, shuffle=False, seed=None):
    weights, history = [np.array(w) for w in weights], []
    for epoch in range(epochs):
        total = 0.0
        for Xb, yb in iterate_minibatches(X, y, batch_size, shuffle=False):
            loss, grads = loss_and_gradients(Xb, yb, weights, activations)
            weights = sgd_update(weights, grads, lr)
            total += loss * len(Xb)
        history.append(total / len(X))
    return weights, history
""", "shuffle is ignored"),
]

# Helpers some variants above call: the reference under another name.
PRELUDE = """
_reference_split = train_val_test_split
_reference_adam = adam_update
"""

# (exercise, how it differs from the reference, the student's cell)
ALTERNATIVES = [
    ("train_val_test_split", "per-class loops, lists and a different rounding fix-up", """
def train_val_test_split(X, y, fractions=(0.6, 0.2, 0.2), seed=None):
    import itertools
    X, y = np.asarray(X), np.asarray(y)
    rng = np.random.default_rng(seed)
    classes = sorted(set(y.tolist()))
    rows = {c: list(rng.permutation(np.flatnonzero(y == c))) for c in classes}
    # every class rounds each share down or up; search for roundings whose totals stay within one row
    options = []
    for c in classes:
        n = len(rows[c])
        lows = [int(np.floor(n * f + 1e-9)) for f in fractions]
        choice = []
        for ups in itertools.product((0, 1), repeat=3):
            counts = [lo + u for lo, u in zip(lows, ups)]
            if sum(counts) == n and all(abs(k - n * f) <= 1 for k, f in zip(counts, fractions)):
                choice.append(counts)
        options.append(choice)
    for pick in itertools.product(*options):
        totals = np.sum(pick, axis=0)
        if all(abs(t - len(y) * f) <= 1 for t, f in zip(totals, fractions)):
            break
    sets = [[], [], []]
    for c, counts in zip(classes, pick):
        start = 0
        for s in range(3):
            sets[s] += rows[c][start:start + counts[s]]
            start += counts[s]
    out = []
    for s in range(3):
        index = np.array(sets[s], dtype=int)
        rng.shuffle(index)
        out += [X[index], y[index]]
    return tuple(out)
"""),
    ("train_val_test_split", "random keys sorted by class, rounding up one row at a time", """
def train_val_test_split(X, y, fractions=(0.6, 0.2, 0.2), seed=None):
    X, y = np.asarray(X), np.asarray(y)
    rng = np.random.default_rng(seed)
    f = np.array(fractions, dtype=float)
    order = np.lexsort((rng.random(len(y)), y))          # by class, random within a class
    labels, first, sizes = np.unique(y[order], return_index=True, return_counts=True)
    assign = np.empty(len(y), dtype=int)
    floors = np.floor(np.outer(sizes, f) + 1e-9).astype(int)
    behind = len(y) * f - floors.sum(axis=0)   # what rounding every class down leaves missing
    for start, n, counts in zip(first, sizes, floors):
        want = n * f
        for _ in range(n - counts.sum()):
            s = int(np.argmax(np.where(want - counts > 1e-9, behind, -np.inf)))
            counts[s] += 1
            behind[s] -= 1
        assign[order[start:start + n]] = np.repeat(np.arange(3), counts)
    out = []
    for s in range(3):
        index = rng.permutation(np.flatnonzero(assign == s))
        out += [X[index], y[index]]
    return tuple(out)
"""),
    ("iterate_minibatches", "in-place shuffle of an index copy, batches listed first", """
def iterate_minibatches(X, y, batch_size, shuffle=True, seed=None):
    index = np.arange(len(X))
    if shuffle:
        np.random.default_rng(seed).shuffle(index)
    batches = [index[i:i + batch_size] for i in range(0, len(index), batch_size)]
    for b in batches:
        yield np.take(X, b, axis=0), np.take(y, b, axis=0)
"""),
    ("iterate_minibatches", "argsort of random keys, while loop", """
def iterate_minibatches(X, y, batch_size, shuffle=True, seed=None):
    X, y = np.asarray(X), np.asarray(y)
    n = len(X)
    order = np.argsort(np.random.default_rng(seed).random(n)) if shuffle else np.arange(n)
    start = 0
    while start < n:
        stop = min(start + batch_size, n)
        yield X[order[start:stop]], y[order[start:stop]]
        start = stop
"""),
    ("sgd_update", "explicit loop with np.subtract", """
def sgd_update(weights, grads, lr):
    new = []
    for i in range(len(weights)):
        new.append(np.subtract(weights[i], np.multiply(lr, grads[i])))
    return new
"""),
    ("sgd_update", "map over pairs, returned as a tuple", """
def sgd_update(weights, grads, lr):
    return tuple(map(lambda pair: pair[0] - pair[1] * lr, zip(weights, grads)))
"""),
    ("momentum_update", "one loop, negated form", """
def momentum_update(weights, grads, velocities, lr, momentum=0.9):
    new_w, new_v = [], []
    for w, g, v in zip(weights, grads, velocities):
        v = -(lr * g - momentum * v)
        new_v.append(v)
        new_w.append(np.add(w, v))
    return new_w, new_v
"""),
    ("momentum_update", "weights from the old velocity, algebraically the same", """
def momentum_update(weights, grads, velocities, lr, momentum=0.9):
    new_w = [w + momentum * v - lr * g for w, g, v in zip(weights, grads, velocities)]
    new_v = [nw - w for nw, w in zip(new_w, weights)]
    return new_w, [momentum * v - lr * g for v, g in zip(velocities, grads)]
"""),
    ("adam_init", "dict() with float64 zeros of each shape", """
def adam_init(weights):
    return dict(m=[np.zeros(np.shape(w)) for w in weights], v=[np.zeros(np.shape(w)) for w in weights], t=0)
"""),
    ("adam_init", "zeros by multiplication, keys in another order", """
def adam_init(weights):
    return {"t": 0, "v": [np.asarray(w) * 0 for w in weights], "m": [np.zeros_like(w) for w in weights]}
"""),
    ("adam_update", "bias-corrected m_hat, v_hat with a rescaled epsilon", """
def adam_update(weights, grads, state, lr=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    t = state["t"] + 1
    new_m, new_v, new_w = [], [], []
    for w, g, m, v in zip(weights, grads, state["m"], state["v"]):
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g ** 2
        m_hat, v_hat = m / (1 - beta_1 ** t), v / (1 - beta_2 ** t)
        new_w.append(w - lr * m_hat / (np.sqrt(v_hat) + epsilon / np.sqrt(1 - beta_2 ** t)))
        new_m.append(m)
        new_v.append(v)
    return new_w, {"m": new_m, "v": new_v, "t": t}
"""),
    ("adam_update", "Keras' own form m += (g - m)(1 - beta_1)", """
def adam_update(weights, grads, state, lr=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    t = state["t"] + 1
    alpha = lr * (1 - beta_2 ** t) ** 0.5 / (1 - beta_1 ** t)
    m = [m + (g - m) * (1 - beta_1) for m, g in zip(state["m"], grads)]
    v = [v + (np.square(g) - v) * (1 - beta_2) for v, g in zip(state["v"], grads)]
    return [w - m_ * alpha / (v_ ** 0.5 + epsilon) for w, m_, v_ in zip(weights, m, v)], dict(state, m=m, v=v, t=t)
"""),
    ("train_minibatch_sgd", "own slicing and permutations, weighted sum over N", """
def train_minibatch_sgd(X, y, weights, activations, lr, epochs, batch_size, shuffle=False, seed=None):
    X, y = np.asarray(X), np.asarray(y)
    rng = np.random.default_rng(seed)
    weights = [w.copy() for w in weights]
    history = []
    for _ in range(epochs):
        order = rng.permutation(len(X)) if shuffle else np.arange(len(X))
        total = 0.0
        for start in range(0, len(X), batch_size):
            rows = order[start:start + batch_size]
            loss, grads = loss_and_gradients(X[rows], y[rows], weights, activations)
            weights = [w - lr * g for w, g in zip(weights, grads)]
            total += loss * len(rows)
        history.append(total / len(X))
    return weights, history
"""),
    ("train_minibatch_sgd", "losses and sizes collected, np.average, history as an array", """
def train_minibatch_sgd(X, y, weights, activations, lr, epochs, batch_size, shuffle=False, seed=None):
    history, seeds = [], np.random.SeedSequence(seed).generate_state(epochs)
    for epoch in range(epochs):
        losses, sizes = [], []
        for Xb, yb in iterate_minibatches(X, y, batch_size, shuffle=shuffle, seed=int(seeds[epoch])):
            loss, grads = loss_and_gradients(Xb, yb, weights, activations)
            weights = sgd_update(weights, grads, lr)
            losses.append(loss)
            sizes.append(len(yb))
        history.append(np.average(losses, weights=sizes))
    return list(weights), np.array(history)
"""),
]


FINDINGS = [
    Finding("adam_update", "the paper's epsilon (added to sqrt(v_hat)): charged where sqrt(v) ~ epsilon only", """
def adam_update(weights, grads, state, lr=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    t = state["t"] + 1
    new_w, new_m, new_v = [], [], []
    for w, g, m, v in zip(weights, grads, state["m"], state["v"]):
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g * g
        m_hat, v_hat = m / (1 - beta_1 ** t), v / (1 - beta_2 ** t)
        new_w.append(w - lr * m_hat / (np.sqrt(v_hat) + epsilon))
        new_m.append(m)
        new_v.append(v)
    return new_w, {"m": new_m, "v": new_v, "t": t}
""", kept=(2.2, 2.3), shows=("paper",), mistake="as in the paper"),
]


class TestCatalogue(Catalogue):
    assignment, mistakes, alternatives, findings = A, MISTAKES, ALTERNATIVES, FINDINGS
    prelude = PRELUDE
    used_by = USED_BY

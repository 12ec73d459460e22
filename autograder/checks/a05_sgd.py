"""Hidden checks of a05_sgd: stochastic gradient descent and mini-batches.

Random exercises (the split, the mini-batches, shuffled training) are checked by properties
with fixed seeds, never against one particular draw. The optimizers and the training loop
are compared with Keras (`keras.optimizers.SGD`, `Adam`, `model.fit(shuffle=False)`), built
once per case and cached.
"""
from functools import lru_cache

import numpy as np

from solutions import a05_sgd as ref

from ..student import describe
from .kit import Mistake, exercise, expect, expect_close, fail, load_keras, plural
from .recorded import keras_result

# Keras in float64 still rounds lr, momentum and the betas to float32 (it casts them from float32
# tensors); hyper-parameters exact in float32 (0.125, 0.875, 1 - 2**-10) make it agree to ~1e-12.
KERAS64 = dict(rtol=1e-9, atol=1e-12)
# Keras in float32 against a float32 (or float64) implementation of the same steps.
KERAS32 = dict(rtol=1e-5, atol=1e-6)
# Several epochs of float32 training: rounding differences accumulate over ~30 steps.
TRAINING32 = dict(rtol=1e-4, atol=1e-5)

SHAPES = [(3, 2), (2,), (2, 1)]  # a kernel (inputs, units), a bias, a second kernel: non-square


def _rows(n, dtype=np.float64):
    """Index-encoded data: row i of X is [i, 1000 + i, -i] and y[i] = i + 0.25."""
    i = np.arange(n, dtype=dtype)
    return np.stack([i, 1000 + i, -i], axis=1), i + dtype(0.25)


def _is_array(value):
    """A NumPy array of real numbers (any real dtype, booleans included: the contract grades values)."""
    return isinstance(value, np.ndarray) and value.dtype.kind in "biuf"


def _expect_sequence(got, length, call, what):
    if not (isinstance(got, (list, tuple)) and len(got) == length):
        fail(called=call, expected=f"{what}, a list of {length} arrays",
             received=describe(got) + ("" if got is not None else "\nDid you forget to return?"))


# -- train_val_test_split ---------------------------------------------------------------------

def _labelled(counts, seed, dtype=np.float64):
    """Index-encoded X (column 0 is the row's id) with labels y grouped in classes of these sizes."""
    y = np.repeat(np.arange(len(counts)), counts)
    y = np.random.default_rng(seed).permutation(y)
    X, _ = _rows(len(y), dtype)
    return X, y


def _split_parts(got, call):
    # `if ... fail` rather than `expect`: the message (and its `describe`) only when it is needed
    if not (isinstance(got, (list, tuple)) and len(got) == 6):
        fail(called=call, expected="a tuple of 6 arrays (X_train, y_train, X_val, y_val, X_test, y_test)",
             received=describe(got))
    for i, part in enumerate(got):
        if not _is_array(part):
            fail(called=call, expected="6 arrays", received=f"item {i} is {describe(part)}")
    return got


def _check_split(got, X, y, fractions, call):
    """Partition, pairing, sizes and class shares of a split of the index-encoded (X, y)."""
    parts = _split_parts(got, call)
    n, names = len(y), ("training", "validation", "test")
    ids = []
    for s in range(3):
        Xs, ys = parts[2 * s], parts[2 * s + 1]
        expect(Xs.ndim == 2 and Xs.shape[1] == X.shape[1] and ys.shape == (len(Xs),),
               called=call, expected=f"the {names[s]} set as X of shape (k, {X.shape[1]}) and y of shape (k,)",
               received=f"X of shape {Xs.shape}, y of shape {ys.shape}",
               hint=("Hint: is the order (X_train, y_train, X_val, y_val, X_test, y_test)?"
                     if Xs.ndim == 1 or ys.ndim == 2 else None))
        expect(np.allclose(Xs[:, 1], 1000 + Xs[:, 0]) and np.allclose(Xs[:, 2], -Xs[:, 0])
               and np.allclose(Xs[:, 0], np.round(Xs[:, 0])) and np.all((Xs[:, 0] >= 0) & (Xs[:, 0] < n)),
               called=call, expected="whole rows of X (each row of this X is [i, 1000 + i, -i])",
               received=f"in the {names[s]} set, rows that are not rows of X",
               mistake="the rows were taken apart; index X with an array of row numbers, X[index].")
        row = Xs[:, 0].astype(int)
        expect(np.array_equal(ys, y[row]),
               called=call, expected=f"y_{names[s][:5]}[j] to be the label of the row X_{names[s][:5]}[j]",
               received="labels that no longer belong to their rows",
               mistake="X and y are not paired: select the rows of X and y with the same index array.")
        ids.append(row)
    every = np.concatenate(ids)
    unique, times = np.unique(every, return_counts=True)
    if np.any(times > 1):
        fail(called=call, expected="disjoint sets, every row in exactly one of them",
             received=f"{plural(int(np.sum(times > 1)), 'row')} in more than one set (or twice in one)",
             mistake="the sets overlap: split ONE permutation of the rows, or sample without replacement.")
    if len(unique) != n:
        fail(called=call, expected=f"together all {n} rows",
             received=f"{plural(len(unique), 'row')}; {plural(n - len(unique), 'row')} in no set",
             mistake="rows are lost: when the sizes are rounded, the last set must take the rows left over.")
    sizes, targets = [len(i) for i in ids], [f * n for f in fractions]
    # The sets' order is the likely cause only when the sizes are right but in another order.
    reordered = any(all(abs(sizes[k] - targets[j]) <= 1 + 1e-9 for k, j in enumerate(order))
                    for order in ((0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)))
    for s in range(3):
        if abs(sizes[s] - targets[s]) > 1 + 1e-9:
            fail(called=call, expected=f"a {names[s]} set of {targets[s]:g} rows, within one row",
                 received=plural(int(sizes[s]), "row"),
                 hint=f"Hint: the order is training, validation, test, with fractions {fractions}." if reordered else None)
    classes, totals = np.unique(y, return_counts=True)
    for s in range(3):
        for c, total in zip(classes, totals):
            have, target = int(np.sum(y[ids[s]] == c)), fractions[s] * total
            if abs(have - target) > 1 + 1e-9:
                fail(called=call,
                     expected=f"the {names[s]} set to hold {target:g} rows of class {c} "
                              f"(its share {fractions[s]:g} of the {total} rows of that class), within one row",
                     received=f"{plural(int(have), 'row')} of class {c}",
                     mistake="the split is not stratified: each set must have the same class distribution as "
                             "the whole data set. Split every class separately, then put the pieces together.")


SPLIT_CASES = [((12, 8), (0.6, 0.2, 0.2)), ((11, 7, 5), (0.6, 0.2, 0.2)), ((14, 6), (0.7, 0.0, 0.3)),
               ((30, 9, 4, 20), (0.5, 0.25, 0.25)), ((3, 3, 3, 3, 3), (0.6, 0.2, 0.2))]


@exercise("train_val_test_split", weight=2)
def test_split_partition_and_pairs(train_val_test_split):
    """the three sets are disjoint, together hold every row once, with X and y still paired"""
    for i, (counts, fractions) in enumerate(SPLIT_CASES[:3]):
        X, y = _labelled(counts, seed=i)
        call = f"train_val_test_split(X of shape {X.shape}, y, fractions={fractions}, seed={i})"
        got = _split_parts(train_val_test_split(X, y, fractions=fractions, seed=i), call)
        _check_split(got, X, y, fractions, call)


@exercise("train_val_test_split", weight=2)
def test_split_stratified(train_val_test_split):
    """every set keeps each class's share of the whole set (within one row), for 2 to 5 classes"""
    for i, (counts, fractions) in enumerate(SPLIT_CASES):
        X, y = _labelled(counts, seed=10 + i, dtype=np.float32 if i % 2 else np.float64)
        for seed in (0, 1):
            call = f"train_val_test_split(X of shape {X.shape}, y with classes of sizes {counts}, " \
                   f"fractions={fractions}, seed={seed})"
            _check_split(train_val_test_split(X, y, fractions=fractions, seed=seed), X, y, fractions, call)


@exercise("train_val_test_split")
def test_split_default_fractions(train_val_test_split):
    """without fractions, the split is the lecture's 60/20/20"""
    X, y = _labelled((15, 10), seed=3)
    got = train_val_test_split(X, y, seed=5)
    _check_split(got, X, y, (0.6, 0.2, 0.2), "train_val_test_split(X of shape (25, 3), y, seed=5)")


@exercise("train_val_test_split", weight=2)
def test_split_random_and_reproducible(train_val_test_split):
    """the same seed gives the same split; different seeds give different ones"""
    X, y = _labelled((20, 10), seed=4)
    call = "train_val_test_split(X of shape (30, 3), y, seed=7)"
    first, again = train_val_test_split(X, y, seed=7), train_val_test_split(X, y, seed=7)
    _split_parts(first, call), _split_parts(again, call)
    expect(all(np.array_equal(a, b) for a, b in zip(first, again)),
           called=f"{call} twice", expected="the same split both times", received="two different splits",
           mistake="the seed is not used: draw every random number from np.random.default_rng(seed).")
    train_sets = set()
    for seed in range(6):
        got = _split_parts(train_val_test_split(X, y, seed=seed), call.replace("7", str(seed)))
        train_sets.add(tuple(sorted(got[0][:, 0].astype(int))))
    expect(len(train_sets) > 1,
           called="train_val_test_split(X of shape (30, 3), y, seed=s) for seeds 0 to 5",
           expected="different training sets for different seeds (the rows are chosen at random)",
           received="the same training rows every time",
           mistake="the rows are not shuffled: pick each class's rows in a random order (rng.permutation).")


# -- iterate_minibatches ----------------------------------------------------------------------

def _epoch_ids(got, X, y, batch_size, call):
    """Check one epoch of index-encoded batches; returns the row ids in the order they came."""
    n = len(X)
    if not isinstance(got, (list, tuple)):
        fail(called=call, expected="a generator yielding (X_batch, y_batch) pairs", received=describe(got))
    ids = []
    for k, item in enumerate(got):
        if not (isinstance(item, (list, tuple)) and len(item) == 2 and _is_array(item[0]) and _is_array(item[1])):
            fail(called=call, expected="every item yielded to be a pair (X_batch, y_batch) of arrays",
                 received=f"item {k} is {describe(item)}", hint="Hint: yield X_batch, y_batch")
        Xb, yb = item
        expect(Xb.ndim == 2 and Xb.shape[1] == X.shape[1] and yb.shape[1:] == y.shape[1:] and len(yb) == len(Xb),
               called=call, expected=f"batch {k} as X_batch of shape (b, {X.shape[1]}) and y_batch of shape "
                                     f"(b{', ' + str(y.shape[1]) if y.ndim == 2 else ''},)",
               received=f"X_batch of shape {Xb.shape}, y_batch of shape {yb.shape}")
        expect(np.allclose(Xb[:, 1], 1000 + Xb[:, 0]) and np.allclose(Xb[:, 2], -Xb[:, 0]),
               called=call, expected="whole rows of X in every batch (row i of this X is [i, 1000 + i, -i])",
               received=f"in batch {k}, rows that are not rows of X",
               mistake="select rows with X[index], where index holds row numbers.")
        expect(np.allclose(np.ravel(yb), Xb[:, 0] + 0.25),
               called=call, expected="y_batch[j] to be the label of the row X_batch[j]",
               received=f"in batch {k}, labels that no longer belong to their rows",
               mistake="X and y are not paired: permute X and y with the same index array.")
        ids.append(np.round(Xb[:, 0]).astype(int))
    if not ids:
        fail(called=call, expected=plural(-(-n // batch_size), "batch", "batches"), received="nothing was yielded",
             mistake=("when N < batch_size, the epoch is one smaller batch of all N rows; it must not be dropped."
                      if n < batch_size else None))
    order = np.concatenate(ids)
    unique, times = np.unique(order, return_counts=True)
    if np.any(times > 1):
        fail(called=call, expected="every row exactly once per epoch",
             received=f"{plural(int(np.sum(times > 1)), 'row')} more than once",
             mistake="rows are drawn with replacement: shuffle a permutation of the row numbers instead.")
    if len(unique) < n:
        dropped = len(unique) == n - n % batch_size
        fail(called=call, expected=f"every one of the {n} rows once per epoch",
             received=f"{plural(len(unique), 'row')} in {plural(len(ids), 'batch', 'batches')}",
             mistake=(f"the last, partial batch was dropped: the last batch holds the {plural(n % batch_size, 'row')} left over."
                      if dropped else None),
             hint=None if dropped else "Hint: loop over the starts range(0, N, batch_size).")
    sizes = [len(i) for i in ids]
    expected = [batch_size] * (n // batch_size) + ([n % batch_size] if n % batch_size else [])
    expect(sizes == expected,
           called=call, expected=f"batches of sizes {expected} (all full but the last)", received=f"sizes {sizes}")
    return order


MINIBATCH_CASES = [(10, 3), (12, 4), (5, 8), (7, 1), (7, 7), (23, 5)]


@exercise("iterate_minibatches", weight=2)
def test_minibatches_in_order(iterate_minibatches):
    """with shuffle=False the rows come in their order, in full batches but the last (N < B, N = kB included)"""
    for n, b in MINIBATCH_CASES:
        X, y = _rows(n)
        call = f"iterate_minibatches(X of shape {X.shape}, y of shape {y.shape}, batch_size={b}, shuffle=False)"
        order = _epoch_ids(iterate_minibatches(X, y, b, shuffle=False), X, y, b, call)
        expect(np.array_equal(order, np.arange(n)),
               called=call, expected=f"the rows in their order 0, 1, ..., {n - 1}, as model.fit(shuffle=False)",
               received=f"the order {describe(order)}", mistake="the rows were shuffled although shuffle=False.")
    X, y = _rows(9, np.float32)
    y = y[:, None]
    call = "iterate_minibatches(X float32 of shape (9, 3), y of shape (9, 1), batch_size=4, shuffle=False)"
    order = _epoch_ids(iterate_minibatches(X, y, 4, shuffle=False), X, y, 4, call)
    expect(np.array_equal(order, np.arange(9)), called=call, expected="the rows in their order",
           received=describe(order))


@exercise("iterate_minibatches", weight=2)
def test_minibatches_shuffled_epoch(iterate_minibatches):
    """with shuffle=True every row comes once, paired, in full batches but the last, in a new order"""
    for n, b in MINIBATCH_CASES:
        X, y = _rows(n)
        call = f"iterate_minibatches(X of shape {X.shape}, y, batch_size={b}, shuffle=True, seed=3)"
        order = _epoch_ids(iterate_minibatches(X, y, b, shuffle=True, seed=3), X, y, b, call)
        if n >= 10:
            expect(not np.array_equal(order, np.arange(n)),
                   called=call, expected="the rows in a random order", received="the original order",
                   mistake="shuffle=True must shuffle the rows (np.random.default_rng(seed).permutation(N)).")
    # Only the order of contiguous batches shuffled leaves neighbours together: i is followed
    # by i + 1 in ~54 of 59 places, against about 1 in a uniform shuffle (at most 8 allowed, on average).
    X, y = _rows(60)
    neighbours = []
    for seed in range(5):
        call = f"iterate_minibatches(X of shape (60, 3), y, batch_size=6, shuffle=True, seed={seed})"
        order = _epoch_ids(iterate_minibatches(X, y, 6, shuffle=True, seed=seed), X, y, 6, call)
        neighbours.append(int(np.sum(np.diff(order) == 1)))
    expect(np.mean(neighbours) <= 8,
           called="iterate_minibatches(X of shape (60, 3), y, batch_size=6, shuffle=True, seed=s), seeds 0 to 4",
           expected="rows in a random order (row i followed by row i + 1 about once per epoch)",
           received=f"row i followed by row i + 1 in {neighbours} places of 59",
           mistake="only the order of the batches was shuffled; shuffle the rows themselves, then cut batches.")


@exercise("iterate_minibatches")
def test_minibatches_seed(iterate_minibatches):
    """the same seed gives the same batches, other seeds (and seed=None) other orders"""
    X, y = _rows(23)

    def order(seed):
        call = f"iterate_minibatches(X of shape (23, 3), y, batch_size=5, shuffle=True, seed={seed})"
        return _epoch_ids(iterate_minibatches(X, y, 5, shuffle=True, seed=seed), X, y, 5, call)

    expect(np.array_equal(order(11), order(11)),
           called="iterate_minibatches(X, y, batch_size=5, shuffle=True, seed=11) twice",
           expected="the same batches both times", received="different batches",
           mistake="the seed is not used: shuffle with np.random.default_rng(seed).")
    orders = {tuple(order(seed)) for seed in range(4)}
    expect(len(orders) > 1,
           called="iterate_minibatches(X, y, batch_size=5, shuffle=True, seed=s) for seeds 0 to 3",
           expected="different orders for different seeds", received="the same order every time",
           mistake="the seed is not used (or a fixed seed is): shuffle with np.random.default_rng(seed).")
    expect(not np.array_equal(order(None), order(None)),
           called="iterate_minibatches(X, y, batch_size=5, shuffle=True) twice, without a seed",
           expected="a fresh random order each epoch", received="the same order twice",
           mistake="with seed=None, np.random.default_rng(None) gives fresh randomness; do not fix a seed.")


@exercise("iterate_minibatches")
def test_minibatches_uniform(iterate_minibatches):
    """over 200 seeds, each row comes first (and last) about equally often: a uniform shuffle"""
    X, y = _rows(6)
    first, last = np.zeros(6, dtype=int), np.zeros(6, dtype=int)
    for seed in range(200):
        call = f"iterate_minibatches(X of shape (6, 3), y, batch_size=4, shuffle=True, seed={seed})"
        order = _epoch_ids(iterate_minibatches(X, y, 4, shuffle=True, seed=seed), X, y, 4, call)
        first[order[0]] += 1
        last[order[-1]] += 1
    # Expected 33.3 each, binomial standard deviation 5.3: [12, 58] is a band of more than 4 sigma.
    expect(np.all((first >= 12) & (first <= 58)) and np.all((last >= 12) & (last <= 58)),
           called="iterate_minibatches(X of shape (6, 3), y, batch_size=4, shuffle=True, seed=s), seeds 0 to 199",
           expected="each of the 6 rows first (and last) in about 33 of 200 epochs (allowed 12 to 58)",
           received=f"first {first.tolist()}, last {last.tolist()}",
           mistake="the shuffle is not uniform: use a full random permutation of the rows.")


# -- sgd_update -------------------------------------------------------------------------------

@lru_cache(maxsize=None)
def _optimizer_case(dtype_name, scale=1.0, steps=4, seed=0):
    """Weights and per-step gradients (read-only) for comparing with Keras' optimizers."""
    rng = np.random.default_rng(seed)
    weights = [rng.normal(size=s).astype(dtype_name) for s in SHAPES]
    grads = [[(scale * rng.normal(size=s)).astype(dtype_name) for s in SHAPES] for _ in range(steps)]
    for array in weights + [g for step in grads for g in step]:
        array.setflags(write=False)
    return weights, grads


@keras_result
def _keras_trajectory(kind, dtype_name, scale=1.0, **options):
    """Keras' weights (and optimizer slots) after each step, on _optimizer_case's data."""
    keras = load_keras()

    weights, grads = _optimizer_case(dtype_name, scale)
    variables = [keras.Variable(np.array(w), dtype=dtype_name) for w in weights]
    optimizer = {"sgd": keras.optimizers.SGD, "adam": keras.optimizers.Adam}[kind](**options)
    out = []
    for step in grads:
        optimizer.apply_gradients(zip([keras.ops.convert_to_tensor(g) for g in step], variables))
        slots = [np.array(v.numpy()) for v in getattr(optimizer, "momentums", [])] if kind == "sgd" else []
        out.append(([np.array(v.numpy()) for v in variables], slots))
    return out


def _sgd_mistakes(w, g, lr):
    return (
        Mistake("the sign is flipped: gradient DEscent subtracts, w - lr * g.", w + lr * g),
        Mistake("the learning rate is missing: w - lr * g.", w - g),
        Mistake("the gradient is divided by the learning rate: multiply, w - lr * g.", w - g / lr),
        Mistake("weights and gradients are swapped: the update is w - lr * g, with w from weights.", g - lr * w),
    )


def _compare_list(got, expected, call, what, mistakes=lambda i: (), **tolerances):
    _expect_sequence(got, len(expected), call, what)
    for i, (a, b) in enumerate(zip(got, expected)):
        expect_close(a, b, call=f"{call}, {what}[{i}]", mistakes=mistakes(i), **tolerances)


@exercise("sgd_update", weight=2)
def test_sgd_hand_values(sgd_update):
    """one step w - lr * g on a bias and a non-square kernel, by hand"""
    weights = [np.array([1.0, -2.0]), np.array([[0.5, -1.0, 2.0], [0.0, 3.0, -4.0]])]
    grads = [np.array([0.5, -1.0]), np.array([[1.0, 2.0, -2.0], [4.0, 0.0, 1.0]])]
    expected = [np.array([0.95, -1.9]), np.array([[0.4, -1.2, 2.2], [-0.4, 3.0, -4.1]])]
    call = "sgd_update([b (2,), W (2, 3)], [db, dW], lr=0.1)"
    _compare_list(sgd_update(weights, grads, 0.1), expected, call, "new weights",
                  lambda i: _sgd_mistakes(weights[i], grads[i], 0.1))


@exercise("sgd_update", weight=2)
def test_sgd_equals_keras(sgd_update):
    """several steps equal keras.optimizers.SGD(lr) on the same variables and gradients, float64 and float32"""
    for dtype_name, lr, tolerances in (("float64", 0.125, KERAS64), ("float32", 0.01, KERAS32)):
        weights, grads = _optimizer_case(dtype_name)
        expected = _keras_trajectory("sgd", dtype_name, learning_rate=lr)
        current = [np.array(w) for w in weights]
        for k, step in enumerate(grads):
            call = f"sgd_update(weights ({dtype_name}, shapes {SHAPES}), grads, lr={lr}), step {k + 1}"
            previous = current
            current = sgd_update(previous, [np.array(g) for g in step], lr)
            _compare_list(current, expected[k][0], call, "new weights",
                          lambda i: _sgd_mistakes(previous[i], step[i], lr), **tolerances)


# -- momentum_update --------------------------------------------------------------------------

def _momentum_mistakes(w, g, v, lr, momentum):
    v_new = momentum * v - lr * g
    return (
        (Mistake("the momentum term is missing: this is plain SGD, w - lr * g.", w - lr * g),
         Mistake("the weights moved with the OLD velocity: update v first, then w <- w + v.", w + v),
         Mistake("the sign is flipped: v <- momentum * v - lr * g, then w <- w + v.", w - v_new),
         Mistake("the velocity is an average: Keras uses v <- momentum * v - lr * g, without (1 - momentum).",
                 w + momentum * v - (1 - momentum) * lr * g)),
        (Mistake("the velocity has the opposite sign: Keras keeps v <- momentum * v - lr * g (then w <- w + v).",
                 -v_new),
         Mistake("the momentum term is missing from the velocity: v <- momentum * v - lr * g.", -lr * g),
         Mistake("the velocity is an average: Keras uses v <- momentum * v - lr * g, without (1 - momentum).",
                 momentum * v - (1 - momentum) * lr * g),
         Mistake("these are the new weights, not the velocities: return (new_weights, new_velocities).", w + v_new)),
    )


def _momentum_steps(momentum_update, dtype_name, lr, momentum, tolerances, pass_momentum=True):

    weights, grads = _optimizer_case(dtype_name)
    options = {"momentum": momentum} if pass_momentum else {}
    expected = _keras_trajectory("sgd", dtype_name, learning_rate=lr, momentum=momentum)
    w_cur, v_cur = [np.array(w) for w in weights], [np.zeros_like(w) for w in weights]
    for k, step in enumerate(grads):
        shown = f", momentum={momentum}" if pass_momentum else ""
        call = f"momentum_update(weights ({dtype_name}), grads, velocities, lr={lr}{shown}), step {k + 1}"
        got = momentum_update(w_cur, [np.array(g) for g in step], v_cur, lr, **options)
        if not (isinstance(got, (list, tuple)) and len(got) == 2):
            fail(called=call, expected="a pair (new_weights, new_velocities)", received=describe(got))
        mistakes = [_momentum_mistakes(w_cur[i], step[i], v_cur[i], lr, momentum) for i in range(len(SHAPES))]
        _compare_list(got[1], expected[k][1], call, "new velocities", lambda i: mistakes[i][1], **tolerances)
        _compare_list(got[0], expected[k][0], call, "new weights", lambda i: mistakes[i][0], **tolerances)
        w_cur, v_cur = list(got[0]), list(got[1])


@exercise("momentum_update")
def test_momentum_hand_values(momentum_update):
    """two steps by hand: v = -lr g, then v = momentum v - lr g, and w = w + v"""
    w, g1, g2 = [np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 0.5]])], [np.array([[1.0, -2.0, 0.0], [2.0, 1.0, -1.0]])], \
        [np.array([[0.0, 1.0, 1.0], [-2.0, 0.0, 1.0]])]
    v0 = [np.zeros((2, 3))]
    call = "momentum_update([W (2, 3)], [dW], [zeros], lr=0.5, momentum=0.5)"
    got = momentum_update(w, g1, v0, 0.5, momentum=0.5)
    if not (isinstance(got, (list, tuple)) and len(got) == 2):
        fail(called=call, expected="a pair (new_weights, new_velocities)", received=describe(got))
    v1, w1 = np.array([[-0.5, 1.0, 0.0], [-1.0, -0.5, 0.5]]), np.array([[0.5, 3.0, 3.0], [-1.0, -1.5, 1.0]])
    m = _momentum_mistakes(w[0], g1[0], v0[0], 0.5, 0.5)
    _compare_list(got[1], [v1], call, "new velocities", lambda i: m[1])
    _compare_list(got[0], [w1], call, "new weights", lambda i: m[0])
    call = "momentum_update([W1], [dW], [v1], lr=0.5, momentum=0.5) (the second step)"
    got = momentum_update([w1], g2, [v1], 0.5, momentum=0.5)
    if not (isinstance(got, (list, tuple)) and len(got) == 2):
        fail(called=call, expected="a pair (new_weights, new_velocities)", received=describe(got))
    v2 = np.array([[-0.25, 0.0, -0.5], [0.5, -0.25, -0.25]])
    m = _momentum_mistakes(w1, g2[0], v1, 0.5, 0.5)
    _compare_list(got[1], [v2], call, "new velocities", lambda i: m[1])
    _compare_list(got[0], [w1 + v2], call, "new weights", lambda i: m[0])


@exercise("momentum_update", weight=2)
def test_momentum_equals_keras(momentum_update):
    """four steps equal keras.optimizers.SGD(lr, momentum=...): weights and velocities, float64 and float32"""
    _momentum_steps(momentum_update, "float64", 0.125, 0.75, KERAS64)
    _momentum_steps(momentum_update, "float32", 0.01, 0.5, KERAS32)


@exercise("momentum_update")
def test_momentum_default(momentum_update):
    """without the momentum argument, momentum is 0.9 (as in the signature), as Keras' SGD(lr, momentum=0.9)"""
    _momentum_steps(momentum_update, "float32", 0.0625, 0.9, KERAS32, pass_momentum=False)


# -- adam_init --------------------------------------------------------------------------------

@exercise("adam_init")
def test_adam_init_state(adam_init):
    """the state is {"m": zeros like each weight, "v": zeros like each weight, "t": 0}"""
    for dtype_name in ("float64", "float32"):
        weights = [np.array(w) for w in _optimizer_case(dtype_name)[0]]
        call = f"adam_init(weights ({dtype_name}, shapes {SHAPES}))"
        state = adam_init(weights)
        expect(isinstance(state, dict) and {"m", "v", "t"} <= set(state),
               called=call, expected='a dict with the keys "m", "v" and "t" (as the docstring says)',
               received=describe(state))
        expect(np.ndim(state["t"]) == 0 and state["t"] == 0,
               called=call, expected='"t" = 0, the number of steps taken so far',
               received=f'"t" = {describe(state["t"])}',
               mistake="t counts the steps already taken: 0 before the first; adam_update adds 1 first.")
        for key in ("m", "v"):
            _expect_sequence(state[key], len(weights), call, f'state["{key}"]')
            for i, (a, w) in enumerate(zip(state[key], weights)):
                expect(_is_array(a) and a.shape == w.shape,
                       called=call, expected=f'state["{key}"][{i}] an array of zeros of shape {w.shape}',
                       received=describe(a) + (f" of shape {a.shape}" if isinstance(a, np.ndarray) else ""),
                       hint="Hint: one array per weight, with the weight's shape: np.zeros_like(w).")
                expect(not np.any(a),
                       called=call, expected=f'state["{key}"][{i}] all zeros', received=describe(a),
                       mistake="the moment estimates start at zero (np.zeros_like(w)), not at the weights or ones.")


# -- adam_update ------------------------------------------------------------------------------

# Exact in float32, so Keras in float64 agrees to ~1e-12 (the defaults are checked in float32).
EXACT_ADAM = {"learning_rate": 2.0 ** -7, "beta_1": 0.875, "beta_2": 1 - 2.0 ** -10, "epsilon": 1e-7}
# Adam's steps are compared as steps (new w - w), within 0.1% of Keras' step. Where epsilon is put
# (Keras: sqrt(v) + epsilon; the paper: sqrt(v_hat) + epsilon) changes a step by about
# epsilon / sqrt(v_hat), under 1e-3 for the gradients of 0.05 and more used here: that form is then
# as good as Keras', and only the tiny-gradient check (sqrt(v) ~ epsilon, weight 1 of 4) tells
# them apart, so the charge is in proportion to where it matters. Every other known mistake
# changes the steps by more than 1%.
ADAM_STEP = {"float64": {"rtol": 1e-3, "atol": 1e-12}, "float32": {"rtol": 1e-3, "atol": 1e-6}}


def _compare_steps(got, expected, before, call, mistakes, tolerances):
    """new_weights against Keras', each compared as its step new - before (see ADAM_STEP)."""
    _expect_sequence(got, len(expected), call, "new weights")
    for i, (a, b, w) in enumerate(zip(got, expected, before)):
        if not _is_array(a) or a.shape != b.shape:
            expect_close(a, b, call=f"{call}, new weights[{i}]", mistakes=mistakes(i))
        w = np.asarray(w, dtype=np.float64)
        expect_close(np.asarray(a, dtype=np.float64) - w, np.asarray(b, dtype=np.float64) - w,
                     call=f"{call}, its step new_weights[{i}] - weights[{i}]",
                     mistakes=[Mistake(m.explanation, m.value - w) for m in mistakes(i)], **tolerances)


def _adam_mistakes(w, g, m, v, t, lr, b1, b2, eps):
    t1 = t + 1
    m1, v1 = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
    m_hat, v_hat = m1 / (1 - b1 ** t1), v1 / (1 - b2 ** t1)
    alpha = lr * np.sqrt(1 - b2 ** t1) / (1 - b1 ** t1)
    m_s, v_s = b2 * m + (1 - b2) * g, b1 * v + (1 - b1) * g * g
    return (
        Mistake("the bias correction is missing: alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t).",
                w - lr * m1 / (np.sqrt(v1) + eps)),
        Mistake("epsilon is added to the bias-corrected sqrt(v_hat), as in the paper; Keras adds it to sqrt(v) "
                "before the correction: w -= alpha * m / (sqrt(v) + epsilon).", w - lr * m_hat / (np.sqrt(v_hat) + eps)),
        Mistake("epsilon is inside the square root: Keras divides by sqrt(v) + epsilon.",
                w - alpha * m1 / np.sqrt(v1 + eps)),
        Mistake("beta_1 and beta_2 are swapped: m uses beta_1, v uses beta_2.",
                w - lr * np.sqrt(1 - b1 ** t1) / (1 - b2 ** t1) * m_s / (np.sqrt(np.abs(v_s)) + eps)),
        Mistake("v must average the SQUARED gradient: v <- beta_2 * v + (1 - beta_2) * g**2.",
                w - alpha * m1 / (np.sqrt(b2 * v + (1 - b2) * np.abs(g)) + eps)),
        Mistake("the step count t is not carried over: return the new t in the state, so that the bias "
                "correction uses t = 1, 2, 3, ... (here it used t = 1 again).",
                w - lr * np.sqrt(1 - b2) / (1 - b1) * m1 / (np.sqrt(v1) + eps)),
        Mistake("the sign is flipped: Adam moves against the gradient, w -= alpha * m / (sqrt(v) + epsilon).",
                w + alpha * m1 / (np.sqrt(v1) + eps)),
    )


def _adam_steps(adam_init, adam_update, dtype_name, options, scale=1.0, label=""):
    weights, grads = _optimizer_case(dtype_name, scale)
    lr, b1, b2, eps = (options.get("learning_rate", 1e-3), options.get("beta_1", 0.9),
                       options.get("beta_2", 0.999), options.get("epsilon", 1e-7))
    expected = _keras_trajectory("adam", dtype_name, scale, **options)
    kwargs = {{"learning_rate": "lr"}.get(k, k): v for k, v in options.items()}
    shown = ", ".join(f"{k}={v:g}" for k, v in kwargs.items())
    w_cur = [np.array(w) for w in weights]
    state = adam_init(w_cur)
    ref_state = ref.adam_init(w_cur)
    for k, step in enumerate(grads):
        call = f"adam_update(weights ({dtype_name}{label}), grads, state{', ' + shown if shown else ''}), step {k + 1}"
        got = adam_update(w_cur, [np.array(g) for g in step], state, **kwargs)
        if not (isinstance(got, (list, tuple)) and len(got) == 2):
            fail(called=call, expected="a pair (new_weights, new_state)", received=describe(got))
        mistakes = [_adam_mistakes(w_cur[i].astype(float), step[i].astype(float), ref_state["m"][i].astype(float),
                                   ref_state["v"][i].astype(float), ref_state["t"], lr, b1, b2, eps)
                    for i in range(len(SHAPES))]
        _compare_steps(got[0], expected[k][0], w_cur, call, lambda i: mistakes[i], ADAM_STEP[dtype_name])
        _, ref_state = ref.adam_update(w_cur, [np.array(g) for g in step], ref_state, lr, b1, b2, eps)
        w_cur, state = list(got[0]), got[1]


@exercise("adam_update")
def test_adam_first_step_hand(adam_init, adam_update):
    """the first step moves each weight by lr * g / (|g| + epsilon / sqrt(1 - beta_2)): about lr, against g"""
    w, g = np.array([[1.0, -2.0, 3.0], [0.5, 0.0, -1.0]]), np.array([[0.5, -4.0, 2.0], [-1.0, 0.25, 3.0]])
    call = "adam_update([W (2, 3)], [dW], adam_init([W]), lr=0.01)"
    got = adam_update([w], [g], adam_init([w]), lr=0.01)
    if not (isinstance(got, (list, tuple)) and len(got) == 2):
        fail(called=call, expected="a pair (new_weights, new_state)", received=describe(got))
    expected = w - 0.01 * g / (np.abs(g) + 1e-7 / np.sqrt(1 - 0.999))
    _compare_steps(got[0], [expected], [w], call, lambda i: _adam_mistakes(w, g, 0 * w, 0 * w, 0, 0.01, 0.9, 0.999, 1e-7),
                   ADAM_STEP["float64"])
    state = got[1]
    expect(isinstance(state, dict) and {"m", "v", "t"} <= set(state) and np.ndim(state["t"]) == 0
           and state["t"] == 1,
           called=call, expected='new_state a dict with "t" = 1 after the first step', received=describe(state),
           hint="Hint: return the new m, v and t = t + 1 in the same format as adam_init.")


@exercise("adam_update", weight=2)
def test_adam_equals_keras(adam_init, adam_update):
    """four steps from adam_init equal keras.optimizers.Adam, with default and other hyper-parameters"""
    _adam_steps(adam_init, adam_update, "float64", EXACT_ADAM)
    _adam_steps(adam_init, adam_update, "float64", {"learning_rate": 0.0625, "beta_1": 0.75, "beta_2": 0.984375})
    _adam_steps(adam_init, adam_update, "float32", {})


@exercise("adam_update")
def test_adam_where_epsilon_matters(adam_init, adam_update):
    """where sqrt(v) is comparable to epsilon (gradients near 1e-8 with epsilon=1e-7, and epsilon=1e-4), the steps still equal Keras' Adam"""
    _adam_steps(adam_init, adam_update, "float64", EXACT_ADAM, scale=1e-8, label=", gradients about 1e-8")
    _adam_steps(adam_init, adam_update, "float64",
                {"learning_rate": 0.0625, "beta_1": 0.75, "beta_2": 0.984375, "epsilon": 1e-4})


# -- train_minibatch_sgd ----------------------------------------------------------------------

NETWORKS = {
    "tanh": ([3, 4, 1], ["tanh", "sigmoid"]),
    "relu-tanh": ([3, 5, 2, 1], ["relu", "tanh", "sigmoid"]),
}


@lru_cache(maxsize=None)
def _training_data(network, n=11, dtype_name="float32", seed=1):
    sizes, activations = NETWORKS[network]
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, sizes[0])).astype(dtype_name)
    y = (rng.random(n) < 0.5).astype(dtype_name)
    weights = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        weights += [(rng.normal(size=(a, b)) * 0.8).astype(dtype_name), (rng.normal(size=b) * 0.1).astype(dtype_name)]
    for array in [X, y] + weights:
        array.setflags(write=False)
    return X, y, weights, activations


@keras_result
def _keras_fit(network, batch_size, lr, epochs):
    """The weights and History.history["loss"] of model.fit(..., shuffle=False) from the same start."""
    keras = load_keras()

    X, y, weights, activations = _training_data(network)
    sizes = NETWORKS[network][0]
    model = keras.Sequential([keras.Input((sizes[0],))]
                             + [keras.layers.Dense(u, activation=a) for u, a in zip(sizes[1:], activations)])
    model.set_weights([np.array(w) for w in weights])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=lr), loss=keras.losses.BinaryCrossentropy())
    history = model.fit(np.array(X), np.array(y), batch_size=batch_size, epochs=epochs, shuffle=False, verbose=0)
    return [np.array(w) for w in model.get_weights()], np.array(history.history["loss"])


def _train_variant(X, y, weights, activations, lr, epochs, batch_size, variant):
    """The reference loop with one classic mistake, in float64, to name it in feedback."""
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    weights = [np.asarray(w, dtype=float) for w in weights]
    history = []
    for _ in range(epochs):
        losses, sizes, total_grads = [], [], [np.zeros_like(w) for w in weights]
        for start in range(0, len(X), batch_size):
            Xb, yb = X[start:start + batch_size], y[start:start + batch_size]
            if variant == "drop_last" and len(Xb) < batch_size:
                continue
            loss, grads = ref.loss_and_gradients(Xb, yb, weights, activations)
            if variant == "one_update":
                total_grads = [t + g * len(Xb) / len(X) for t, g in zip(total_grads, grads)]
            else:
                weights = ref.sgd_update(weights, grads, lr)
            if variant == "after_update":
                loss = ref.loss_and_gradients(Xb, yb, weights, activations)[0]
            losses.append(loss)
            sizes.append(len(Xb))
        if variant == "one_update":
            weights = ref.sgd_update(weights, total_grads, lr)
        if variant == "unweighted":
            history.append(float(np.mean(losses)))
        elif variant == "last_batch":
            history.append(losses[-1])
        elif variant == "epoch_end":
            history.append(ref.loss_and_gradients(X, y, weights, activations)[0])
        else:
            history.append(float(np.average(losses, weights=sizes)))
    return weights, np.array(history)


_VARIANTS = {
    "unweighted": "the epoch's loss is the plain mean of the batch losses; Keras weights each batch's loss by "
                  "its size, so a smaller last batch counts less: sum(loss_b * size_b) / N.",
    "drop_last": "the last, partial batch was dropped: it must be trained on too.",
    "after_update": "each batch's loss was computed after its update: record the loss of the forward pass that "
                    "gives the gradients, before the weights change.",
    "last_batch": "the history holds the last batch's loss, not the epoch's mean over all batches.",
    "epoch_end": "the history holds the loss on the whole data set after the epoch; Keras reports the mean of "
                 "the batch losses seen during the epoch, each taken before its update.",
    "one_update": "the weights were updated once per epoch (full-batch gradient descent): update after EVERY batch.",
}


def _check_training(train_minibatch_sgd, network, batch_size, lr, epochs, label):
    X, y, weights, activations = _training_data(network)
    expected_weights, expected_history = _keras_fit(network, batch_size, lr, epochs)
    call = (f"train_minibatch_sgd(X float32 of shape {X.shape}, y, weights of network {NETWORKS[network][0]}, "
            f"{activations}, lr={lr}, epochs={epochs}, batch_size={batch_size}, shuffle=False) ({label})")
    got = train_minibatch_sgd(np.array(X), np.array(y), [np.array(w) for w in weights], list(activations),
                              lr, epochs, batch_size, shuffle=False)
    if not (isinstance(got, (list, tuple)) and len(got) == 2):
        fail(called=call, expected="a pair (weights, history)", received=describe(got))
    variants = {name: _train_variant(X, y, weights, activations, lr, epochs, batch_size, name) for name in _VARIANTS}
    history = np.asarray(got[1], dtype=float) if isinstance(got[1], (list, tuple, np.ndarray)) else got[1]
    expect_close(history, expected_history, call=f"{call}, history (Keras' History.history['loss'])",
                 mistakes=[Mistake(_VARIANTS[n], v[1]) for n, v in variants.items()], **TRAINING32)
    _compare_list(got[0], expected_weights, call, "trained weights",
                  lambda i: [Mistake(_VARIANTS[n], v[0][i]) for n, v in variants.items()], **TRAINING32)


@exercise("train_minibatch_sgd", weight=2)
def test_training_pure_sgd(train_minibatch_sgd):
    """batch_size=1 (the lecture's pure SGD) equals model.fit(batch_size=1, shuffle=False): history and weights"""
    _check_training(train_minibatch_sgd, "tanh", 1, 0.5, 3, "pure SGD")


@exercise("train_minibatch_sgd", weight=2)
def test_training_minibatch_partial(train_minibatch_sgd):
    """batch_size=4 on 11 rows (a final partial batch of 3) equals model.fit(shuffle=False): history and weights"""
    _check_training(train_minibatch_sgd, "tanh", 4, 0.5, 3, "mini-batches, the last one partial")
    _check_training(train_minibatch_sgd, "relu-tanh", 4, 0.25, 4, "two hidden layers, the last batch partial")


@exercise("train_minibatch_sgd")
def test_training_full_batch(train_minibatch_sgd):
    """batch_size=N (full-batch gradient descent) equals model.fit(batch_size=N, shuffle=False)"""
    _check_training(train_minibatch_sgd, "relu-tanh", 11, 0.5, 5, "full batch")


@exercise("train_minibatch_sgd")
def test_training_float64_inputs_untouched(train_minibatch_sgd):
    """float64 training equals the reference, and the weights passed in are not changed"""
    X, y, weights, activations = _training_data("relu-tanh", n=13, dtype_name="float64", seed=5)
    weights = [np.array(w) for w in weights]
    call = "train_minibatch_sgd(X float64 of shape (13, 3), y, weights, ['relu', 'tanh', 'sigmoid'], lr=0.3, " \
           "epochs=2, batch_size=5)"
    got = train_minibatch_sgd(np.array(X), np.array(y), weights, list(activations), 0.3, 2, 5)
    if not (isinstance(got, (list, tuple)) and len(got) == 2):
        fail(called=call, expected="a pair (weights, history)", received=describe(got))
    expected = ref.train_minibatch_sgd(X, y, weights, activations, 0.3, 2, 5)
    expect_close(np.asarray(got[1], dtype=float) if isinstance(got[1], (list, tuple)) else got[1],
                 np.array(expected[1]), call=f"{call}, history")
    _compare_list(got[0], expected[0], call, "trained weights")


@exercise("train_minibatch_sgd")
def test_training_shuffle(train_minibatch_sgd):
    """shuffle=True: reproducible from the seed, different from shuffle=False, and irrelevant for a full batch"""
    X, y, weights, activations = _training_data("tanh", n=12, dtype_name="float64", seed=8)
    args = (np.array(X), np.array(y), [np.array(w) for w in weights], list(activations), 0.5, 3)
    base = "train_minibatch_sgd(X float64 of shape (12, 3), y, weights, ['tanh', 'sigmoid'], lr=0.5, epochs=3"
    first = train_minibatch_sgd(*args, 2, shuffle=True, seed=4)
    again = train_minibatch_sgd(*args, 2, shuffle=True, seed=4)
    ordered = train_minibatch_sgd(*args, 2, shuffle=False)
    for got in (first, again, ordered):
        expect(isinstance(got, (list, tuple)) and len(got) == 2 and isinstance(got[0], (list, tuple)),
               called=f"{base}, ...)", expected="a pair (weights, history)", received=describe(got))
    _compare_list(again[0], first[0], f"{base}, batch_size=2, shuffle=True, seed=4) twice",
                  "trained weights of the second run against the first (the same seed: the same shuffles)",
                  rtol=1e-12, atol=1e-12)
    expect(not all(np.allclose(a, b) for a, b in zip(first[0], ordered[0])),
           called=f"{base}, batch_size=2, shuffle=True, seed=4) and the same with shuffle=False",
           expected="different trained weights (shuffled batches differ from ordered ones)",
           received="the same weights", mistake="shuffle is ignored: pass it on to iterate_minibatches.")
    shuffled_full = train_minibatch_sgd(*args, 12, shuffle=True, seed=1)
    expected = ref.train_minibatch_sgd(*args, 12, shuffle=False)
    _compare_list(shuffled_full[0], expected[0], f"{base}, batch_size=12, shuffle=True, seed=1)",
                  "trained weights (a full batch sees every row whatever the order)", rtol=1e-9, atol=1e-12)

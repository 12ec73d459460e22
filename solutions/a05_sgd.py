"""Reference solutions of a05_sgd: stochastic gradient descent and mini-batches.

Each exercise below is, character for character, the solution cell of the same name in
source/a05_sgd/a05_sgd.ipynb (`python -m autograder sync` copies it there). The helpers
`activation`, `activation_derivative` and `loss_and_gradients` are given to the students as
plain code cells of the notebook (the network's forward and backward pass of a04), so that
`train_minibatch_sgd` can use them.
"""
import numpy as np


def activation(z, name):
    """An activation function by name, elementwise: "sigmoid", "tanh", "relu" or "linear"."""
    if name == "sigmoid":
        e = np.exp(-np.abs(z))
        return np.where(z >= 0, 1 / (1 + e), e / (1 + e))
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0)
    if name == "linear":
        return z
    raise ValueError(f"Expected an activation in sigmoid, tanh, relu, linear. Received: {name!r}")


def activation_derivative(z, name):
    """The derivative of `activation(z, name)` with respect to z, elementwise."""
    if name == "sigmoid":
        s = activation(z, "sigmoid")
        return s * (1 - s)
    if name == "tanh":
        return 1 - np.tanh(z) ** 2
    if name == "relu":
        return (z > 0).astype(z.dtype)
    if name == "linear":
        return np.ones_like(z)
    raise ValueError(f"Expected an activation in sigmoid, tanh, relu, linear. Received: {name!r}")


def loss_and_gradients(X, y, weights, activations):
    """Mean binary cross-entropy of a network with a sigmoid output, and its gradients.

    Args:
        X: a batch of inputs, shape (n, m).
        y: the labels (0 or 1), shape (n,) or (n, 1).
        weights: [W1, b1, W2, b2, ...] in Keras order, W_l of shape (inputs, units).
        activations: one name per layer; the last one is "sigmoid".

    Returns:
        (loss, grads): the loss, a float, and one gradient array per weight, in the same order.
    """
    A, inputs, zs = np.asarray(X), [], []
    for l, name in enumerate(activations):
        inputs.append(A)
        zs.append(A @ weights[2 * l] + weights[2 * l + 1])
        A = activation(zs[-1], name)
    z = zs[-1]
    y = np.asarray(y, dtype=z.dtype).reshape(z.shape)
    # BCE from the logit z, stably: max(z, 0) - z y + log(1 + exp(-|z|)).
    loss = float(np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))))
    dz = (A - y) / y.size  # the sigmoid's derivative and the BCE's cancel
    grads = [None] * len(weights)
    for l in range(len(activations) - 1, -1, -1):
        if l < len(activations) - 1:
            dz = dA * activation_derivative(zs[l], activations[l])
        grads[2 * l] = inputs[l].T @ dz
        grads[2 * l + 1] = dz.sum(axis=0)
        dA = dz @ weights[2 * l].T
    return loss, grads


def train_val_test_split(X, y, fractions=(0.6, 0.2, 0.2), seed=None):
    """Split a labelled data set at random into training, validation and test sets, stratified.

    Every split keeps the class distribution of the whole set (the lecture: "each set must
    have the same distribution as the whole labelled data set").

    Args:
        X: the inputs, shape (n, m).
        y: the labels, shape (n,).
        fractions: the shares of the training, validation and test sets, summing to 1
            (the lecture's 70/30 split is fractions=(0.7, 0.0, 0.3)).
        seed: seed of the random shuffle; the same seed gives the same split.

    Returns:
        (X_train, y_train, X_val, y_val, X_test, y_test): disjoint, together every row once,
        the rows of X and y still paired. Each split's size is within one row of
        fractions[s] * n, and each class's count in it within one row of fractions[s] * n_class.
    """
    ### BEGIN SOLUTION
    X, y = np.asarray(X), np.asarray(y)
    rng = np.random.default_rng(seed)
    f = np.asarray(fractions, dtype=float) / np.sum(fractions)
    _, label = np.unique(y, return_inverse=True)
    label = label.ravel()
    members = [rng.permutation(np.flatnonzero(label == c)) for c in range(label.max() + 1)]
    target = np.outer([len(m) for m in members], f)        # (classes, 3) ideal counts
    counts = np.floor(target + 1e-9).astype(int)
    short = len(y) * f - counts.sum(axis=0)                 # rows each split still lacks
    for c, m in enumerate(members):
        # Round up this class's counts where its split lacks the most rows, so that
        # both each class's counts and the split sizes stay within one row of the targets.
        extra = len(m) - counts[c].sum()
        candidates = [s for s in np.argsort(-short, kind="stable") if target[c, s] > counts[c, s]]
        for s in candidates[:extra]:
            counts[c, s] += 1
            short[s] -= 1
    splits = [[], [], []]
    for c, m in enumerate(members):
        ends = np.cumsum(counts[c])
        for s, part in enumerate(np.split(m, ends[:-1])):
            splits[s].append(part)
    out = []
    for parts in splits:
        index = rng.permutation(np.concatenate(parts).astype(int))
        out += [X[index], y[index]]
    return tuple(out)
    ### END SOLUTION


def iterate_minibatches(X, y, batch_size, shuffle=True, seed=None):
    """Yield the mini-batches of one epoch.

    Args:
        X: the inputs, shape (n, m).
        y: the labels, shape (n,) or (n, 1).
        batch_size: the number of rows B of a batch.
        shuffle: whether to visit the rows in a random order; False keeps their order,
            as `model.fit(..., shuffle=False)` does.
        seed: seed of the shuffle; the same seed gives the same batches.

    Yields:
        (X_batch, y_batch): every row exactly once per epoch, X and y rows still paired;
        every batch has B rows but the last, which has the n % B rows left over (if any).
    """
    ### BEGIN SOLUTION
    X, y = np.asarray(X), np.asarray(y)
    order = np.random.default_rng(seed).permutation(len(X)) if shuffle else np.arange(len(X))
    for start in range(0, len(X), batch_size):
        index = order[start:start + batch_size]
        yield X[index], y[index]
    ### END SOLUTION


def sgd_update(weights, grads, lr):
    """One step of (stochastic) gradient descent.

    Args:
        weights: a list of arrays (any shapes).
        grads: the gradients of the loss, one array per weight, same shapes.
        lr: the learning rate eta, a number.

    Returns:
        A new list of arrays (the inputs are left untouched).

    Formula:
        w <- w - lr * dJ/dw
    """
    ### BEGIN SOLUTION
    return [np.asarray(w) - lr * np.asarray(g) for w, g in zip(weights, grads)]
    ### END SOLUTION


def momentum_update(weights, grads, velocities, lr, momentum=0.9):
    """One step of gradient descent with momentum, as keras.optimizers.SGD(lr, momentum=...).

    Args:
        weights: a list of arrays (any shapes).
        grads: the gradients, one array per weight, same shapes.
        velocities: the velocities of the previous step, one array per weight (zeros at first).
        lr: the learning rate, a number.
        momentum: how much of the previous velocity is kept, a number in [0, 1).

    Returns:
        (new_weights, new_velocities): two new lists of arrays.

    Formula:
        v <- momentum * v - lr * g
        w <- w + v
    """
    ### BEGIN SOLUTION
    new_velocities = [momentum * np.asarray(v) - lr * np.asarray(g) for v, g in zip(velocities, grads)]
    new_weights = [np.asarray(w) + v for w, v in zip(weights, new_velocities)]
    return new_weights, new_velocities
    ### END SOLUTION


def adam_init(weights):
    """The initial state of Adam for these weights.

    Args:
        weights: a list of arrays (any shapes).

    Returns:
        A dict {"m": [...], "v": [...], "t": 0}: "m" and "v" the first and second moment
        estimates, one array of zeros per weight with its shape, "t" the number of steps taken.
    """
    ### BEGIN SOLUTION
    return {"m": [np.zeros_like(np.asarray(w)) for w in weights],
            "v": [np.zeros_like(np.asarray(w)) for w in weights],
            "t": 0}
    ### END SOLUTION


def adam_update(weights, grads, state, lr=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    """One step of Adam, exactly as keras.optimizers.Adam computes it.

    Args:
        weights: a list of arrays (any shapes).
        grads: the gradients, one array per weight, same shapes.
        state: the dict {"m", "v", "t"} of the previous step (adam_init(weights) at first).
        lr: the learning rate, a number.
        beta_1, beta_2: the decay rates of the first and second moment estimates.
        epsilon: keeps the division finite; Keras adds it to sqrt(v), before the bias correction.

    Returns:
        (new_weights, new_state): a new list of arrays and a new state dict (inputs untouched).

    Formula:
        t <- t + 1
        m <- beta_1 * m + (1 - beta_1) * g
        v <- beta_2 * v + (1 - beta_2) * g**2
        alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)
        w <- w - alpha * m / (sqrt(v) + epsilon)
    """
    ### BEGIN SOLUTION
    t = state["t"] + 1
    alpha = lr * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
    m = [beta_1 * np.asarray(m) + (1 - beta_1) * np.asarray(g) for m, g in zip(state["m"], grads)]
    v = [beta_2 * np.asarray(v) + (1 - beta_2) * np.square(g) for v, g in zip(state["v"], grads)]
    new_weights = [np.asarray(w) - alpha * mi / (np.sqrt(vi) + epsilon) for w, mi, vi in zip(weights, m, v)]
    return new_weights, {"m": m, "v": v, "t": t}
    ### END SOLUTION


def train_minibatch_sgd(X, y, weights, activations, lr, epochs, batch_size, shuffle=False, seed=None):
    """Train a network by mini-batch SGD on the mean binary cross-entropy.

    batch_size=1 is the lecture's pure stochastic gradient descent, batch_size=len(X) full-batch
    gradient descent. Uses iterate_minibatches, loss_and_gradients and sgd_update.

    Args:
        X: the inputs, shape (n, m).
        y: the labels (0 or 1), shape (n,).
        weights: the initial [W1, b1, W2, b2, ...] (left untouched).
        activations: one name per layer, the last one "sigmoid".
        lr: the learning rate.
        epochs: the number of passes over the data.
        batch_size: the number of rows per batch (the last batch may be smaller).
        shuffle: whether each epoch visits the rows in a new random order.
        seed: seed of the shuffles; the same seed gives the same training.

    Returns:
        (weights, history): the trained weights, a new list in the same order, and one loss per
        epoch: the mean of the epoch's batch losses weighted by the batch sizes, each batch's
        loss taken before its update (as Keras' History.history["loss"]).
    """
    ### BEGIN SOLUTION
    weights = [np.array(w) for w in weights]
    seeds = np.random.default_rng(seed).integers(0, 2**31, size=epochs)
    history = []
    for epoch in range(epochs):
        total, count = 0.0, 0
        for X_batch, y_batch in iterate_minibatches(X, y, batch_size, shuffle, int(seeds[epoch])):
            loss, grads = loss_and_gradients(X_batch, y_batch, weights, activations)
            weights = sgd_update(weights, grads, lr)
            total += loss * len(X_batch)
            count += len(X_batch)
        history.append(total / count)
    return weights, history
    ### END SOLUTION

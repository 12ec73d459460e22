"""Reference solutions of a06_regularization: overfitting, dropout, L2 and early stopping.

Each function below is, character for character, the solution cell of the same name in
source/a06_regularization/a06_regularization.ipynb (`python -m autograder sync` copies it
there; a test fails when they differ). The lines between the SOLUTION markers are what
nbgrader replaces by a stub in the students' notebook.
"""
import numpy as np


def dropout_forward(A, rate, training=True, rng=None):
    """Inverted dropout of a layer's activations: drop each unit with probability rate.

    Args:
        A: the activations, an array of any shape, e.g. (n, units) for a batch.
        rate: the fraction of units DROPPED, a number in [0, 1) (Keras' `Dropout(rate)`).
        training: True while training; False at inference, where dropout does nothing.
        rng: a `numpy.random.Generator` to draw the mask from (a fresh one if None).

    Returns:
        (out, mask): two arrays of A's shape. mask is 1.0 where the unit is kept and 0.0
        where it is dropped, each unit independently; out = A * mask / (1 - rate). At
        inference or with rate 0, out equals A and mask is all ones.

    Formula:
        mask_ij ~ Bernoulli(1 - rate);  out = A * mask / (1 - rate)
    """
    ### BEGIN SOLUTION
    A = np.asarray(A)
    dtype = np.result_type(A, 1.0)  # ints become float64, float32 stays float32
    if not 0 <= rate < 1:
        raise ValueError(f"Expected rate in [0, 1). Received: rate={rate}")
    if not training or rate == 0:
        return A.astype(dtype, copy=True), np.ones(A.shape, dtype=dtype)
    if rng is None:
        rng = np.random.default_rng()
    # A uniform draw in [0, 1) is below rate with probability rate: those units are dropped.
    mask = (rng.random(A.shape) >= rate).astype(dtype)
    # Dividing the kept units by (1 - rate) keeps every unit's expected value equal to A.
    return A * mask / (1 - rate), mask
    ### END SOLUTION


def dropout_backward(dout, mask, rate):
    """The gradient of the loss with respect to dropout's input, given its output's gradient.

    Args:
        dout: dJ/dout, the gradient with respect to dropout's output, shape (n, units) or any.
        mask: the mask dropout_forward returned in that forward pass, dout's shape.
        rate: the rate used in that forward pass, in [0, 1).

    Returns:
        dJ/dA, an array of dout's shape: zero for dropped units, dout / (1 - rate) for kept ones.

    Formula:
        dJ/dA = dout * mask / (1 - rate)
    """
    ### BEGIN SOLUTION
    # out = A * mask / (1 - rate) is linear in A: the same factor multiplies the gradient.
    return np.asarray(dout) * mask / (1 - rate)
    ### END SOLUTION


def l2_penalty(kernels, lam):
    """The L2 (weight decay) penalty that `keras.regularizers.L2(lam)` adds for these kernels.

    Args:
        kernels: a list of arrays of any shapes, e.g. Dense kernels (inputs, units).
        lam: the regularization factor lambda, a number >= 0.

    Returns:
        A number: lam times the sum of the squares of every entry of every kernel.

    Formula:
        penalty = lam * sum_k sum_ij W_k[i, j]**2
    """
    ### BEGIN SOLUTION
    total = 0.0
    for kernel in kernels:
        # Sum in float64 so that many float32 entries do not lose precision.
        kernel = np.asarray(kernel, dtype=np.float64)
        total += np.sum(kernel * kernel)
    return float(lam * total)
    ### END SOLUTION


def early_stopping_epoch(val_losses, patience):
    """The epoch whose weights `EarlyStopping(patience=..., restore_best_weights=True)` keeps.

    Args:
        val_losses: the validation loss at the end of each epoch, a list or array, shape (epochs,).
        patience: how many epochs without a strict improvement training waits before stopping.

    Returns:
        An int, 0-based: the first epoch with the lowest validation loss among the epochs run
        before training stopped (all of them if it never stopped).

    Formula:
        training stops at the first epoch e with e - best >= patience and no improvement at e,
        where best is the last epoch that strictly lowered the loss
    """
    ### BEGIN SOLUTION
    best = 0
    for epoch in range(1, len(val_losses)):
        if val_losses[epoch] < val_losses[best]:  # a tie is not an improvement
            best = epoch
        elif epoch - best >= patience:
            break  # training stops here: the later epochs are never run
    return best
    ### END SOLUTION

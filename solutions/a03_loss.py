"""Reference solutions of a03_loss: quantifying loss.

Each function below is, character for character, the solution cell of the same name in
source/a03_loss/a03_loss.ipynb (`python -m autograder sync` copies it there; a test fails
when they differ). The lines between the SOLUTION markers are what nbgrader replaces by a
stub in the students' notebook.

Shapes follow Keras: labels of shape (n,) against predictions of shape (n, 1), or the other
way round, are paired row by row (Keras' `squeeze_or_expand_to_same_rank`), never broadcast
to an (n, n) table; every loss is then the mean over all elements (Keras averages over the
last axis, then over the batch, which is the same number).
"""
import numpy as np


def binary_cross_entropy(y_true, y_pred, eps=1e-7):
    """The binary cross-entropy of predicted probabilities, averaged over all elements.

    Args:
        y_true: the labels, 0 or 1 (soft labels in [0, 1] work too), shape (n,) or (n, k).
        y_pred: the predicted probabilities, the same shape as y_true; (n,) against (n, 1)
            is paired row by row, as in Keras.
        eps: predictions are clipped to [eps, 1 - eps] first, as Keras does, so that
            predictions of exactly 0 or 1 give a large but finite loss.

    Returns:
        The mean loss, one number (a scalar or a 0-d array). Equals
        `keras.losses.BinaryCrossentropy()(y_true, y_pred)`.

    Formula:
        p = clip(y_pred, eps, 1 - eps)
        loss = -mean(y_true * log(p) + (1 - y_true) * log(1 - p))
    """
    ### BEGIN SOLUTION
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    # (n,) against (n, 1): drop the extra axis, otherwise NumPy broadcasts to an (n, n) table.
    if y_pred.ndim == y_true.ndim + 1 and y_pred.shape[-1] == 1:
        y_pred = y_pred[..., 0]
    if y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    p = np.clip(y_pred, eps, 1 - eps)  # log(0) would be -inf
    return -np.mean(y_true * np.log(p) + (1 - y_true) * np.log(1 - p))
    ### END SOLUTION


def binary_cross_entropy_from_logits(y_true, z):
    """The binary cross-entropy of logits z (predicted probabilities sigmoid(z)), computed stably.

    Args:
        y_true: the labels, 0 or 1 (soft labels in [0, 1] work too), shape (n,) or (n, k).
        z: the logits (the output layer's values before the sigmoid), the same shape as
            y_true; (n,) against (n, 1) is paired row by row, as in Keras.

    Returns:
        The mean loss, one number (a scalar or a 0-d array), finite and without overflow
        for |z| up to 1e4. Equals `keras.losses.BinaryCrossentropy(from_logits=True)`.

    Formula:
        loss = -mean(y * log(sigmoid(z)) + (1 - y) * log(1 - sigmoid(z)))
             = mean(max(z, 0) - z * y + log(1 + exp(-|z|)))
    """
    ### BEGIN SOLUTION
    y_true, z = np.asarray(y_true), np.asarray(z)
    # (n,) against (n, 1): drop the extra axis, otherwise NumPy broadcasts to an (n, n) table.
    if z.ndim == y_true.ndim + 1 and z.shape[-1] == 1:
        z = z[..., 0]
    if y_true.ndim == z.ndim + 1 and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    # The two forms agree; this one only ever takes exp of a number <= 0, so it never overflows.
    return np.mean(np.maximum(z, 0) - z * y_true + np.log1p(np.exp(-np.abs(z))))
    ### END SOLUTION


def mean_squared_error(y_true, y_pred):
    """The mean squared error, averaged over all elements (a mean: not a sum, not a half).

    Args:
        y_true: the true values, shape (n,) or (n, k).
        y_pred: the predicted values, the same shape as y_true; (n,) against (n, 1) is
            paired row by row, as in Keras.

    Returns:
        The mean squared error, one number (a scalar or a 0-d array). Equals
        `keras.losses.MeanSquaredError()(y_true, y_pred)`.

    Formula:
        loss = mean((y_true - y_pred) ** 2)
    """
    ### BEGIN SOLUTION
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    # (n,) against (n, 1): drop the extra axis, otherwise NumPy broadcasts to an (n, n) table.
    if y_pred.ndim == y_true.ndim + 1 and y_pred.shape[-1] == 1:
        y_pred = y_pred[..., 0]
    if y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return np.mean((y_true - y_pred) ** 2)
    ### END SOLUTION


def empirical_loss(loss, predict, X, y):
    """The empirical loss J(W) of a model over a data set: its mean loss on every example.

    Args:
        loss: a loss function loss(y_true, y_pred) that returns the mean over its inputs,
            such as binary_cross_entropy or mean_squared_error.
        predict: the model, a function from a batch X to its predictions y_hat = f(X; W).
        X: the inputs, shape (n, m): one row per example.
        y: the true outputs, shape (n,) or (n, k).

    Returns:
        J(W), one number (a scalar or a 0-d array).

    Formula:
        J(W) = 1/n * sum_i loss(y_i, f(x_i; W)) = loss(y, predict(X))
    """
    ### BEGIN SOLUTION
    # The loss functions already average over the batch: one call on all of X is J(W).
    return loss(y, predict(X))
    ### END SOLUTION

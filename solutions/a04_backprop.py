"""Reference solutions of a04_backprop: gradient descent and backpropagation.

Each exercise function below is, character for character, the solution cell of the same name
in source/a04_backprop/a04_backprop.ipynb (`python -m autograder sync` copies it there). The
helpers `sigmoid`, `activate` and `activation_derivative` are not exercises: the notebook gives
them to the students in a plain code cell (they wrote them in a01 and a02).
"""
import numpy as np


def sigmoid(z):
    """The logistic sigmoid 1 / (1 + exp(-z)), elementwise, without overflow."""
    z = np.asarray(z, dtype=np.result_type(np.asarray(z), 1.0))
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def activate(Z, activation):
    """activation(Z) for activation "sigmoid", "tanh", "relu" or "linear"."""
    Z = np.asarray(Z, dtype=np.result_type(np.asarray(Z), 1.0))
    if activation == "sigmoid":
        return sigmoid(Z)
    if activation == "tanh":
        return np.tanh(Z)
    if activation == "relu":
        return np.maximum(Z, 0)
    if activation == "linear":
        return Z
    raise ValueError(f'Expected activation in "sigmoid", "tanh", "relu", "linear". Received: {activation!r}')


def activation_derivative(Z, activation):
    """g'(Z), the derivative of the activation at the pre-activation Z (not at the output)."""
    Z = np.asarray(Z, dtype=np.result_type(np.asarray(Z), 1.0))
    if activation == "sigmoid":
        s = sigmoid(Z)
        return s * (1 - s)
    if activation == "tanh":
        t = np.tanh(Z)
        return 1 - t * t
    if activation == "relu":
        return (Z > 0).astype(Z.dtype)
    if activation == "linear":
        return np.ones_like(Z)
    raise ValueError(f'Expected activation in "sigmoid", "tanh", "relu", "linear". Received: {activation!r}')


def perceptron_gradients(X, y, w0, w):
    """The gradients of the mean binary cross-entropy of the sigmoid perceptron.

    Args:
        X: a batch of examples, shape (n, m).
        y: the labels, 0 or 1, shape (n,).
        w0: the bias, a number.
        w: the weights, shape (m,).

    Returns:
        (dJ_dw0, dJ_dw): a number and an array of shape (m,).

    Formula:
        y_hat = sigmoid(z) with z = w0 + X w, J = -mean(y log y_hat + (1 - y) log(1 - y_hat));
        chain rule: dJ/dz_i = dJ/dy_hat_i * dy_hat_i/dz_i = (y_hat_i - y_i) / n,
        dJ/dw0 = sum_i dJ/dz_i and dJ/dw = X^T dJ/dz.
    """
    ### BEGIN SOLUTION
    X, y = np.asarray(X), np.asarray(y)
    y_hat = sigmoid(w0 + X @ np.asarray(w))
    # dJ/dy_hat = (y_hat - y) / (n y_hat (1 - y_hat)) and dy_hat/dz = y_hat (1 - y_hat): their
    # product simplifies, which also avoids dividing by y_hat (1 - y_hat) when it is 0.
    dz = (y_hat - y) / len(y)
    return dz.sum(), X.T @ dz
    ### END SOLUTION


def dense_backward(dA, X, W, b, activation):
    """One dense layer's backward step: the chain rule through A = activation(X @ W + b).

    Args:
        dA: dJ/dA, the gradient of the loss with respect to the layer's output, shape (n, d).
        X: the layer's input, shape (n, m).
        W: the kernel, shape (m, d).
        b: the bias, shape (d,).
        activation: "sigmoid", "tanh", "relu" or "linear".

    Returns:
        (dX, dW, db): dJ/dX of shape (n, m), dJ/dW of shape (m, d), dJ/db of shape (d,).

    Formula:
        Z = X W + b, dZ = dA * g'(Z) (elementwise, g' taken at Z),
        dX = dZ W^T, dW = X^T dZ, db = sum of dZ over the batch.
    """
    ### BEGIN SOLUTION
    X, W = np.asarray(X), np.asarray(W)
    Z = X @ W + b
    dZ = np.asarray(dA) * activation_derivative(Z, activation)
    # dA already holds the loss's 1/n: the batch is summed here, not averaged again.
    return dZ @ W.T, X.T @ dZ, dZ.sum(axis=0)
    ### END SOLUTION


def mlp_gradients(X, y, weights, activations):
    """The gradients of the mean binary cross-entropy of a network with a sigmoid output.

    Args:
        X: a batch of examples, shape (n, m).
        y: the labels, 0 or 1, shape (n,) or (n, 1) (the network has one output unit).
        weights: [W1, b1, W2, b2, ...] in Keras order, Wk of shape (inputs_k, units_k), bk (units_k,).
        activations: one per layer, each "sigmoid", "tanh", "relu" or "linear"; the last is "sigmoid".

    Returns:
        A list of arrays [dJ/dW1, dJ/db1, dJ/dW2, dJ/db2, ...], each of its weight's shape.

    Formula:
        forward: A0 = X, Ak = g_k(A(k-1) Wk + bk), y_hat = AL;
        J = -mean(y log y_hat + (1 - y) log(1 - y_hat)), so dJ/dZL = (y_hat - y) / n;
        backward, from the last layer to the first: dWk = A(k-1)^T dZk, dbk = sum of dZk,
        dA(k-1) = dZk Wk^T and dZ(k-1) = dA(k-1) * g'(Z(k-1)).
    """
    ### BEGIN SOLUTION
    A = np.asarray(X)
    inputs, pre_activations = [], []
    for k, activation in enumerate(activations):
        inputs.append(A)
        pre_activations.append(A @ weights[2 * k] + weights[2 * k + 1])
        A = activate(pre_activations[-1], activation)
    y = np.reshape(y, A.shape)
    grads = [None] * len(weights)
    dA = None
    for k in reversed(range(len(activations))):
        if k == len(activations) - 1:
            dZ = (A - y) / A.size   # sigmoid output + mean BCE: the chain rule simplifies
        else:
            dZ = dA * activation_derivative(pre_activations[k], activations[k])
        grads[2 * k] = inputs[k].T @ dZ
        grads[2 * k + 1] = dZ.sum(axis=0)
        dA = dZ @ np.asarray(weights[2 * k]).T
    return grads
    ### END SOLUTION


def numerical_gradient(f, x, h=1e-5):
    """The gradient of a scalar function f at x, estimated by central differences.

    Args:
        f: a function of an array of x's shape, returning a number.
        x: the point, an array of any shape.
        h: the step, a small positive number.

    Returns:
        An array of x's shape; x is left unchanged.

    Formula:
        grad_i = (f(x + h e_i) - f(x - h e_i)) / (2 h), with e_i the i-th unit vector.
    """
    ### BEGIN SOLUTION
    x = np.array(x, dtype=np.result_type(np.asarray(x), 1.0))   # a copy: the caller's x is never touched
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        original = x[i]
        x[i] = original + h
        f_plus = f(x)
        x[i] = original - h
        f_minus = f(x)
        x[i] = original
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad
    ### END SOLUTION


def gradient_descent(grad, w_init, lr, n_steps, tol=None):
    """The lecture's gradient descent: repeat w <- w - lr * grad(w).

    Args:
        grad: a function returning dJ/dw, an array of w's shape, at w.
        w_init: the initial weights, an array of any shape (left unchanged).
        lr: the learning rate eta, a positive number.
        n_steps: the largest number of steps.
        tol: stop after the first step whose norm ||lr * grad(w)|| is below tol (None: never).

    Returns:
        (w, history): the final weights, and the list of the weights after each step
        (a separate array per step; the last is w; an empty list for n_steps = 0).
    """
    ### BEGIN SOLUTION
    w = np.array(w_init, dtype=np.result_type(np.asarray(w_init), 1.0))
    history = []
    for _ in range(n_steps):
        step = lr * np.asarray(grad(w))
        w = w - step              # a new array: the entries already in history keep their values
        history.append(w)
        if tol is not None and np.linalg.norm(step) < tol:
            break
    return w, history
    ### END SOLUTION

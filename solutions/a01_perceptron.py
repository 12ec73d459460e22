"""Reference solutions of a01_perceptron: the perceptron and activation functions.

Each function below is, character for character, the solution cell of the same name in
source/a01_perceptron/a01_perceptron.ipynb (`python -m autograder sync` copies it there; a
test fails when they differ). The lines between the SOLUTION markers are what nbgrader
replaces by a stub in the students' notebook.
"""
import numpy as np


def sigmoid(z):
    """The logistic sigmoid, elementwise.

    Args:
        z: a number or an array of any shape.

    Returns:
        An array of z's shape (a scalar for a scalar z), every entry in [0, 1].

    Formula:
        sigmoid(z) = 1 / (1 + exp(-z))
    """
    ### BEGIN SOLUTION
    z = np.asarray(z, dtype=np.result_type(np.asarray(z), 1.0))  # ints become float64
    # exp of a negative number never overflows: use exp(-|z|) on both sides of 0.
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))
    ### END SOLUTION


def sigmoid_derivative(z):
    """The derivative of the sigmoid with respect to z, elementwise.

    Args:
        z: a number or an array of any shape (the pre-activation, not sigmoid(z)).

    Returns:
        An array of z's shape.

    Formula:
        sigmoid'(z) = sigmoid(z) * (1 - sigmoid(z))
    """
    ### BEGIN SOLUTION
    s = sigmoid(z)
    return s * (1 - s)
    ### END SOLUTION


def tanh(z):
    """The hyperbolic tangent, elementwise.

    Args:
        z: a number or an array of any shape.

    Returns:
        An array of z's shape, every entry in [-1, 1].

    Formula:
        tanh(z) = (exp(z) - exp(-z)) / (exp(z) + exp(-z))
    """
    ### BEGIN SOLUTION
    z = np.asarray(z, dtype=np.result_type(np.asarray(z), 1.0))  # ints become float64
    # Divide through by exp(|z|) so that only exp of a negative number is computed.
    e = np.exp(-2 * np.abs(z))
    return np.sign(z) * (1 - e) / (1 + e)
    ### END SOLUTION


def tanh_derivative(z):
    """The derivative of tanh with respect to z, elementwise.

    Args:
        z: a number or an array of any shape.

    Returns:
        An array of z's shape.

    Formula:
        tanh'(z) = 1 - tanh(z)**2
    """
    ### BEGIN SOLUTION
    t = tanh(z)
    return 1 - t * t
    ### END SOLUTION


def relu(z):
    """The rectified linear unit, elementwise.

    Args:
        z: a number or an array of any shape.

    Returns:
        An array of z's shape.

    Formula:
        relu(z) = max(0, z)
    """
    ### BEGIN SOLUTION
    z = np.asarray(z, dtype=np.result_type(np.asarray(z), 1.0))  # ints become float64
    return np.maximum(z, 0)
    ### END SOLUTION


def relu_derivative(z):
    """The derivative of ReLU with respect to z, elementwise (0 at z = 0, as in the lecture).

    Args:
        z: a number or an array of any shape.

    Returns:
        An array of z's shape: 1 where z > 0, else 0.
    """
    ### BEGIN SOLUTION
    z = np.asarray(z, dtype=np.result_type(np.asarray(z), 1.0))  # ints become float64
    return (z > 0).astype(z.dtype)
    ### END SOLUTION


def perceptron_forward(X, w0, w, g=sigmoid):
    """The perceptron's output y_hat = g(w0 + X w).

    Args:
        X: one example, shape (m,), or a batch of examples, shape (n, m).
        w0: the bias, a number.
        w: the weights, shape (m,).
        g: the activation function (sigmoid by default).

    Returns:
        A scalar for one example, an array of shape (n,) for a batch.

    Formula:
        y_hat = g(w0 + sum_i x_i w_i)
    """
    ### BEGIN SOLUTION
    z = w0 + np.asarray(X) @ np.asarray(w)
    return g(z)
    ### END SOLUTION

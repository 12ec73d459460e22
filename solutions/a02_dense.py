"""Reference solutions of a02_dense: dense layers and deep networks.

Each exercise below is, character for character, the solution cell of the same name in
source/a02_dense/a02_dense.ipynb (`python -m autograder sync` copies it there; a test fails
when they differ). The lines between the SOLUTION markers are what nbgrader replaces by a
stub in the students' notebook.

`sigmoid`, `tanh` and `relu` are not exercises here (the students wrote them in
a01_perceptron): the notebook gives them in a plain code cell, and the exercises use them.
"""
import numpy as np


def sigmoid(z):
    """The logistic sigmoid 1 / (1 + exp(-z)), elementwise, without overflow."""
    z = np.asarray(z, dtype=np.result_type(np.asarray(z), 1.0))
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def tanh(z):
    """The hyperbolic tangent, elementwise."""
    return np.tanh(np.asarray(z, dtype=np.result_type(np.asarray(z), 1.0)))


def relu(z):
    """The rectified linear unit max(0, z), elementwise."""
    z = np.asarray(z, dtype=np.result_type(np.asarray(z), 1.0))
    return np.maximum(z, 0)


def dense_forward(X, W, b, activation):
    """The output of a dense (fully connected) layer for a batch of examples.

    Args:
        X: the inputs, shape (n, m): n examples with m features each.
        W: the kernel, shape (m, d): column j holds the weights of output unit j.
        b: the bias, shape (d,): one per output unit.
        activation: "sigmoid", "tanh", "relu", "linear" (no activation), or a function
            applied elementwise to the pre-activations.

    Returns:
        The activations, shape (n, d).

    Formula:
        A = g(Z) with Z = X W + b, that is z_ij = b_j + sum_k x_ik w_kj
    """
    ### BEGIN SOLUTION
    if isinstance(activation, str):
        functions = {"sigmoid": sigmoid, "tanh": tanh, "relu": relu, "linear": lambda z: z}
        if activation not in functions:
            raise ValueError(f"Expected activation in {sorted(functions)} or a function. "
                             f"Received: activation={activation!r}")
        activation = functions[activation]
    Z = np.asarray(X) @ np.asarray(W) + np.asarray(b)
    return activation(Z)
    ### END SOLUTION


class DenseLayer:
    """A dense layer in NumPy, like the lecture's `MydenseLayer` and Keras' `Dense`.

    Args:
        input_dim: the number of inputs m.
        output_dim: the number of outputs (units) d.
        activation: as in `dense_forward` ("sigmoid" by default).
        seed: the seed of the random initialisation (None: a different one every time).

    Attributes:
        W: the kernel, shape (input_dim, output_dim), Glorot-uniform: drawn uniformly from
            [-limit, limit] with limit = sqrt(6 / (input_dim + output_dim)).
        b: the bias, shape (output_dim,), zeros.
    """

    def __init__(self, input_dim, output_dim, activation="sigmoid", seed=None):
        ### BEGIN SOLUTION
        rng = np.random.default_rng(seed)
        limit = np.sqrt(6 / (input_dim + output_dim))
        self.W = rng.uniform(-limit, limit, size=(input_dim, output_dim))
        self.b = np.zeros(output_dim)
        self.activation = activation
        ### END SOLUTION

    def __call__(self, X):
        """The layer's output dense_forward(X, W, b, activation), shape (n, output_dim)."""
        ### BEGIN SOLUTION
        return dense_forward(X, self.W, self.b, self.activation)
        ### END SOLUTION

    def get_weights(self):
        """The list [W, b], in Keras' order."""
        ### BEGIN SOLUTION
        return [self.W.copy(), self.b.copy()]
        ### END SOLUTION

    def set_weights(self, weights):
        """Replace W and b by the arrays of the list [W, b] (copied), in Keras' order."""
        ### BEGIN SOLUTION
        W, b = weights
        self.W, self.b = np.array(W), np.array(b)
        ### END SOLUTION


def mlp_forward(X, weights, activations):
    """The forward pass of a deep network of dense layers.

    Args:
        X: the inputs, shape (n, m).
        weights: [W1, b1, W2, b2, ...] in Keras' order: layer l has the kernel W_l of
            shape (d_{l-1}, d_l) and the bias b_l of shape (d_l,), with d_0 = m.
        activations: one activation per layer, as in `dense_forward`.

    Returns:
        The last layer's output, shape (n, d_L).

    Formula:
        A_0 = X;  A_l = g_l(A_{l-1} W_l + b_l) for l = 1 ... L;  y_hat = A_L
    """
    ### BEGIN SOLUTION
    A = X
    for l, activation in enumerate(activations):
        A = dense_forward(A, weights[2 * l], weights[2 * l + 1], activation)
    return A
    ### END SOLUTION

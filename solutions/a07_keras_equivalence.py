"""Reference solution of a07_keras_equivalence: a NumPy network equivalent to a Keras model.

The class below is, character for character, the solution cell of the same name in
source/a07_keras_equivalence/a07_keras_equivalence.ipynb (`python -m autograder sync` copies
it there). The lines between the SOLUTION markers are what nbgrader replaces by a stub.
"""
import numpy as np


class NumpyMLP:
    """A multi-layer perceptron in NumPy that computes what a Keras Sequential model computes.

    The Keras twin is `keras.Sequential([Dense(layer_sizes[1], activation=activations[0]),
    Dropout(dropout_rate), ..., Dense(layer_sizes[-1], activation=activations[-1])])` with
    a Dropout after every hidden layer when dropout_rate > 0, trained with
    `keras.optimizers.SGD(lr)` on `keras.losses.BinaryCrossentropy()`.

    Args:
        layer_sizes: [inputs, hidden units..., outputs], e.g. [2, 8, 1].
        activations: one per layer, each "sigmoid", "tanh", "relu" or "linear"; the last one
            is "sigmoid" (a probability), which loss, gradients and training need.
        dropout_rate: the fraction of hidden units dropped in training, in [0, 1).
        seed: seed of the generator that draws the initial weights and the dropout masks.
    """

    def __init__(self, layer_sizes, activations, dropout_rate=0.0, seed=None):
        ### BEGIN SOLUTION
        self.layer_sizes = [int(s) for s in layer_sizes]
        self.activations = list(activations)
        if len(self.activations) != len(self.layer_sizes) - 1:
            raise ValueError(f"Expected one activation per layer ({len(self.layer_sizes) - 1}). "
                             f"Received: {len(self.activations)} activations")
        if not 0 <= dropout_rate < 1:
            raise ValueError(f"Expected dropout_rate in [0, 1). Received: dropout_rate={dropout_rate}")
        self.dropout_rate = float(dropout_rate)
        self.rng = np.random.default_rng(seed)
        self.weights = []
        for inputs, units in zip(self.layer_sizes[:-1], self.layer_sizes[1:]):
            limit = np.sqrt(6.0 / (inputs + units))  # Glorot uniform, as Keras' Dense
            self.weights.append(self.rng.uniform(-limit, limit, size=(inputs, units)))
            self.weights.append(np.zeros(units))
        ### END SOLUTION

    @staticmethod
    def _activate(z, name):
        """The activation `name` applied to the pre-activation z, elementwise."""
        ### BEGIN SOLUTION
        if name == "sigmoid":
            e = np.exp(-np.abs(z))  # never overflows
            return np.where(z >= 0, 1 / (1 + e), e / (1 + e))
        if name == "tanh":
            return np.tanh(z)
        if name == "relu":
            return np.maximum(z, 0)
        if name == "linear":
            return z
        raise ValueError(f"Expected an activation in sigmoid, tanh, relu, linear. Received: {name!r}")
        ### END SOLUTION

    @staticmethod
    def _derivative(z, name):
        """The derivative of the activation `name` at the pre-activation z (not at its output)."""
        ### BEGIN SOLUTION
        if name == "sigmoid":
            s = NumpyMLP._activate(z, "sigmoid")
            return s * (1 - s)
        if name == "tanh":
            return 1 - np.tanh(z) ** 2
        if name == "relu":
            return (z > 0).astype(z.dtype)
        if name == "linear":
            return np.ones_like(z)
        raise ValueError(f"Expected an activation in sigmoid, tanh, relu, linear. Received: {name!r}")
        ### END SOLUTION

    def get_weights(self):
        """The weights in Keras order: [W1, b1, W2, b2, ...], each W of shape (inputs, units).

        Returns:
            A list of copies of the weight arrays.
        """
        ### BEGIN SOLUTION
        return [w.copy() for w in self.weights]
        ### END SOLUTION

    def set_weights(self, weights):
        """Replace the weights by copies of `weights`, given in Keras order and shapes.

        Args:
            weights: [W1, b1, W2, b2, ...], W of shape (inputs, units), b of shape (units,).
        """
        ### BEGIN SOLUTION
        if len(weights) != len(self.weights):
            raise ValueError(f"Expected {len(self.weights)} arrays. Received: {len(weights)}")
        new = [np.array(w) for w in weights]
        for old, w in zip(self.weights, new):
            if old.shape != w.shape:
                raise ValueError(f"Expected a weight of shape {old.shape}. Received: shape {w.shape}")
        self.weights = new
        ### END SOLUTION

    def _forward_pass(self, X, training):
        """Every layer's pre-activation z, output a and dropout mask (None without dropout)."""
        ### BEGIN SOLUTION
        a = np.asarray(X)
        inputs, zs, masks = [a], [], []
        last = len(self.activations) - 1
        for i, name in enumerate(self.activations):
            z = a @ self.weights[2 * i] + self.weights[2 * i + 1]
            a = self._activate(z, name)
            mask = None
            if training and self.dropout_rate > 0 and i < last:
                # Inverted dropout: keep with probability 1 - rate, scale the kept units up.
                mask = (self.rng.random(a.shape) >= self.dropout_rate) / (1 - self.dropout_rate)
                a = a * mask.astype(a.dtype)
            zs.append(z)
            masks.append(mask)
            inputs.append(a)
        return inputs, zs, masks
        ### END SOLUTION

    def forward(self, X, training=False):
        """The network's output for a batch.

        Args:
            X: inputs, shape (n, layer_sizes[0]).
            training: apply dropout (True) or not (False, inference).

        Returns:
            The output, shape (n, layer_sizes[-1]).
        """
        ### BEGIN SOLUTION
        return self._forward_pass(X, training)[0][-1]
        ### END SOLUTION

    @staticmethod
    def _loss_from_logits(y, z):
        """Mean binary cross-entropy of the sigmoid of z, computed stably from the logits z."""
        ### BEGIN SOLUTION
        y = np.asarray(y, dtype=z.dtype).reshape(z.shape)
        return np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))
        ### END SOLUTION

    def loss(self, X, y):
        """Mean binary cross-entropy of the network's output (inference mode), as Keras computes it.

        Args:
            X: inputs, shape (n, layer_sizes[0]).
            y: labels in {0, 1}, shape (n,) or (n, layer_sizes[-1]).

        Returns:
            A float.

        Formula:
            J = -mean(y log(y_hat) + (1 - y) log(1 - y_hat)), computed from the output
            layer's logits z, with y_hat = sigmoid(z), like Keras for a sigmoid output.
        """
        ### BEGIN SOLUTION
        z = self._forward_pass(X, training=False)[1][-1]
        return float(self._loss_from_logits(y, z))
        ### END SOLUTION

    def _backward(self, X, y, training):
        """(loss, gradients) of the mean BCE over the batch, by backpropagation."""
        ### BEGIN SOLUTION
        inputs, zs, masks = self._forward_pass(X, training)
        z_out = zs[-1]
        y = np.asarray(y, dtype=z_out.dtype).reshape(z_out.shape)
        loss = float(self._loss_from_logits(y, z_out))
        # dJ/dz of the sigmoid output and BCE, averaged over every element of the batch.
        delta = (self._activate(z_out, "sigmoid") - y) / y.size
        grads = [None] * len(self.weights)
        for i in range(len(self.activations) - 1, -1, -1):
            grads[2 * i] = inputs[i].T @ delta
            grads[2 * i + 1] = delta.sum(axis=0)
            if i > 0:
                da = delta @ self.weights[2 * i].T
                if masks[i - 1] is not None:
                    da = da * masks[i - 1]
                delta = da * self._derivative(zs[i - 1], self.activations[i - 1])
        return loss, grads
        ### END SOLUTION

    def gradients(self, X, y):
        """The gradients of `loss(X, y)` with respect to every weight (inference mode).

        Args:
            X: inputs, shape (n, layer_sizes[0]).
            y: labels in {0, 1}, shape (n,) or (n, layer_sizes[-1]).

        Returns:
            [dJ/dW1, dJ/db1, dJ/dW2, ...], one array per weight, in get_weights()' order and shapes.
        """
        ### BEGIN SOLUTION
        return self._backward(X, y, training=False)[1]
        ### END SOLUTION

    def train_step(self, X, y, lr):
        """One step of SGD on one batch, with dropout active, as Keras' `train_on_batch`.

        Args:
            X: the batch's inputs, shape (b, layer_sizes[0]).
            y: the batch's labels, shape (b,) or (b, layer_sizes[-1]).
            lr: the learning rate.

        Returns:
            The batch's loss before the step (a float).

        Formula:
            w <- w - lr * dJ/dw for every weight w
        """
        ### BEGIN SOLUTION
        loss, grads = self._backward(X, y, training=True)
        self.weights = [w - lr * g for w, g in zip(self.weights, grads)]
        return loss
        ### END SOLUTION

    def fit(self, X, y, epochs, batch_size, lr, shuffle=False):
        """Mini-batch SGD over the data set, as `model.fit(X, y, epochs, batch_size)`.

        Args:
            X: inputs, shape (n, layer_sizes[0]).
            y: labels, shape (n,) or (n, layer_sizes[-1]).
            epochs: passes over the data.
            batch_size: rows per batch; the last batch of an epoch may be smaller.
            lr: the learning rate.
            shuffle: visit the rows in a new random order each epoch (False keeps their order).

        Returns:
            The history: one loss per epoch, the mean of the batches' losses (each taken before
            its update) weighted by the batches' sizes, like `History.history["loss"]`.
        """
        ### BEGIN SOLUTION
        X, y = np.asarray(X), np.asarray(y)
        n = len(X)
        history = []
        for _ in range(epochs):
            order = self.rng.permutation(n) if shuffle else np.arange(n)
            total = 0.0
            for start in range(0, n, batch_size):
                rows = order[start:start + batch_size]
                total += self.train_step(X[rows], y[rows], lr) * len(rows)
            history.append(total / n)
        return history
        ### END SOLUTION

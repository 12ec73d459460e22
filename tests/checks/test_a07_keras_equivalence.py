"""The catalogue of a07 mistakes and correct alternatives, graded by the real hidden checks.

A mistake is the reference NumpyMLP with one classic error edited in; an alternative is a
whole NumpyMLP class written differently. The Keras references are built once per process.
"""
import inspect
import re

import numpy as np
import pytest

from solutions import a07_keras_equivalence as ref
from autograder.config import load_course
from autograder.engine import run_checks
from autograder.student import LocalBackend
from tests.catalogue import Catalogue, Finding, results, variant_namespace

A = "a07_keras_equivalence"
REFERENCE = inspect.getsource(ref.NumpyMLP)


def edit(*pairs):
    """The reference class with each (old, new) replacement made once; `old` must be present."""
    code = REFERENCE
    for old, new in pairs:
        assert code.count(old) == 1, f"not exactly once in the reference: {old!r}"
        code = code.replace(old, new)
    return code


# (exercise, what the mistake is, the student's cell, words the feedback must contain)
MISTAKES = [
    ("NumpyMLP", "gradients not averaged over the batch", edit(
        ('delta = (self._activate(z_out, "sigmoid") - y) / y.size', 'delta = self._activate(z_out, "sigmoid") - y'),
    ), "not averaged"),
    ("NumpyMLP", "activation derivative taken of the output", edit(
        ("delta = da * self._derivative(zs[i - 1], self.activations[i - 1])",
         "delta = da * self._derivative(inputs[i], self.activations[i - 1])"),
    ), "output a = g(z)"),
    ("NumpyMLP", "kernels stored as (out, in)", edit(
        ("size=(inputs, units)", "size=(units, inputs)"),
        ("z = a @ self.weights[2 * i] + self.weights[2 * i + 1]", "z = a @ self.weights[2 * i].T + self.weights[2 * i + 1]"),
        ("grads[2 * i] = inputs[i].T @ delta", "grads[2 * i] = delta.T @ inputs[i]"),
        ("da = delta @ self.weights[2 * i].T", "da = delta @ self.weights[2 * i]"),
    ), "(out, in)"),
    ("NumpyMLP", "last partial batch dropped", edit(
        ("for start in range(0, n, batch_size):", "for start in range(0, n - batch_size + 1, batch_size):"),
        ("history.append(total / n)", "history.append(total / (n - n % batch_size))"),
    ), "last, partial batch is dropped"),
    ("NumpyMLP", "history taken after each update", edit(
        ("total += self.train_step(X[rows], y[rows], lr) * len(rows)",
         "self.train_step(X[rows], y[rows], lr)\n                total += self.loss(X[rows], y[rows]) * len(rows)"),
    ), "after its update"),
    ("NumpyMLP", "history averaged without batch-size weights", edit(
        ("total += self.train_step(X[rows], y[rows], lr) * len(rows)", "total += self.train_step(X[rows], y[rows], lr)"),
        ("history.append(total / n)", "history.append(total / -(-n // batch_size))"),
    ), "without weights"),
    ("NumpyMLP", "history is the whole-set loss after each epoch", edit(
        ("history.append(total / n)", "history.append(self.loss(X, y))"),
    ), "whole data set"),
    ("NumpyMLP", "history has one loss per batch", edit(
        ("total += self.train_step(X[rows], y[rows], lr) * len(rows)",
         "history.append(self.train_step(X[rows], y[rows], lr))"),
        ("            history.append(total / n)\n", ""),
    ), "one per batch"),
    ("NumpyMLP", "dropout active at inference", edit(
        ("if training and self.dropout_rate > 0 and i < last:", "if self.dropout_rate > 0 and i < last:"),
    ), "dropout is active at inference"),
    ("NumpyMLP", "dropout not rescaled", edit(
        ("mask = (self.rng.random(a.shape) >= self.dropout_rate) / (1 - self.dropout_rate)",
         "mask = (self.rng.random(a.shape) >= self.dropout_rate) * 1.0"),
    ), "not rescaled"),
    ("NumpyMLP", "rate used as the keep probability", edit(
        ("mask = (self.rng.random(a.shape) >= self.dropout_rate) / (1 - self.dropout_rate)",
         "mask = (self.rng.random(a.shape) < self.dropout_rate) / (1 - self.dropout_rate)"),
    ), "fraction DROPPED"),
    ("NumpyMLP", "dropout after the first hidden layer only", edit(
        ("if training and self.dropout_rate > 0 and i < last:", "if training and self.dropout_rate > 0 and i == 0:"),
    ), "only the first hidden layer"),
    ("NumpyMLP", "loss summed instead of averaged", edit(
        ("return np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))",
         "return np.sum(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))"),
    ), "summed instead of averaged"),
    ("NumpyMLP", "labels (n,) broadcast against outputs (n, 1)", edit(
        ("y = np.asarray(y, dtype=z.dtype).reshape(z.shape)\n        return", "y = np.asarray(y, dtype=z.dtype)\n        return"),
    ), "broadcast"),
    ("NumpyMLP", "naive log of the sigmoid overflows to log(0)", edit(
        ("return np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))",
         "p = NumpyMLP._activate(z, 'sigmoid')\n        return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))"),
    ), "RuntimeWarning"),
    ("NumpyMLP", "biases not added", edit(
        ("z = a @ self.weights[2 * i] + self.weights[2 * i + 1]", "z = a @ self.weights[2 * i]"),
    ), "biases are not added"),
    ("NumpyMLP", "sigmoid in every layer", edit(
        ("a = self._activate(z, name)", "a = self._activate(z, 'sigmoid')"),
    ), "sigmoid is applied in every layer"),
    ("NumpyMLP", "SGD step uphill", edit(
        ("self.weights = [w - lr * g for w, g in zip(self.weights, grads)]",
         "self.weights = [w + lr * g for w, g in zip(self.weights, grads)]"),
    ), "uphill"),
    ("NumpyMLP", "train_step returns the loss after the step", edit(
        ("self.weights = [w - lr * g for w, g in zip(self.weights, grads)]\n        return loss",
         "self.weights = [w - lr * g for w, g in zip(self.weights, grads)]\n        return self.loss(X, y)"),
    ), "after the update"),
    ("NumpyMLP", "kernels drawn from a standard normal", edit(
        ("self.rng.uniform(-limit, limit, size=(inputs, units))", "self.rng.normal(size=(inputs, units))"),
    ), "Glorot"),
]

FLOAT32 = '''
class NumpyMLP:
    """Computes everything in float32, with a list of layer dicts and logaddexp for the loss."""

    def __init__(self, layer_sizes, activations, dropout_rate=0.0, seed=None):
        self.rate, self.gen, self.layers = dropout_rate, np.random.default_rng(seed), []
        for fan_in, fan_out, act in zip(layer_sizes[:-1], layer_sizes[1:], activations):
            r = np.sqrt(6.0 / (fan_in + fan_out))
            self.layers.append({"W": self.gen.uniform(-r, r, (fan_in, fan_out)).astype(np.float32),
                                "b": np.zeros(fan_out, np.float32), "act": act})

    def get_weights(self):
        return [np.copy(l[k]) for l in self.layers for k in ("W", "b")]

    def set_weights(self, weights):
        for j, l in enumerate(self.layers):
            l["W"], l["b"] = np.array(weights[2 * j], np.float32), np.array(weights[2 * j + 1], np.float32)

    @staticmethod
    def _g(z, act):
        if act == "sigmoid":
            return (0.5 * (1 + np.tanh(0.5 * z))).astype(np.float32)
        return {"tanh": np.tanh, "relu": lambda v: np.maximum(v, np.float32(0)), "linear": lambda v: v}[act](z)

    @staticmethod
    def _dg(z, act):
        if act == "sigmoid":
            s = 0.5 * (1 + np.tanh(0.5 * z))
            return s * (1 - s)
        if act == "tanh":
            return 1 - np.tanh(z) ** 2
        return (z > 0).astype(np.float32) if act == "relu" else np.ones_like(z)

    def _run(self, X, training):
        h, cache = np.asarray(X, np.float32), []
        for j, l in enumerate(self.layers):
            z = h @ l["W"] + l["b"]
            a = self._g(z, l["act"])
            keep = None
            if training and self.rate and j < len(self.layers) - 1:
                keep = (self.gen.random(a.shape) > self.rate).astype(np.float32) / np.float32(1 - self.rate)
                a = a * keep
            cache.append((h, z, keep))
            h = a
        return h, cache

    def forward(self, X, training=False):
        return self._run(X, training)[0]

    def _loss_grads(self, X, y, training):
        out, cache = self._run(X, training)
        z = cache[-1][1]
        t = np.asarray(y, np.float32).reshape(z.shape)
        loss = float(np.mean(np.logaddexp(np.float32(0), z) - t * z))
        d = (out - t) / np.float32(t.size)
        grads = []
        for j in reversed(range(len(self.layers))):
            h, _, _ = cache[j]
            grads = [h.T @ d, d.sum(0)] + grads
            if j:
                _, zp, keep = cache[j - 1]
                d = d @ self.layers[j]["W"].T
                if keep is not None:
                    d = d * keep
                d = d * self._dg(zp, self.layers[j - 1]["act"])
        return loss, grads

    def loss(self, X, y):
        return self._loss_grads(X, y, False)[0]

    def gradients(self, X, y):
        return self._loss_grads(X, y, False)[1]

    def train_step(self, X, y, lr):
        loss, grads = self._loss_grads(X, y, True)
        self.set_weights([w - np.float32(lr) * g for w, g in zip(self.get_weights(), grads)])
        return loss

    def fit(self, X, y, epochs, batch_size, lr, shuffle=False):
        X, y, out = np.asarray(X), np.asarray(y), []
        for _ in range(epochs):
            idx = self.gen.permutation(len(X)) if shuffle else np.arange(len(X))
            losses, sizes = [], []
            for chunk in [idx[i:i + batch_size] for i in range(0, len(X), batch_size)]:
                losses.append(self.train_step(X[chunk], y[chunk], lr))
                sizes.append(len(chunk))
            out.append(float(np.average(losses, weights=sizes)))
        return out
'''

CHAIN_RULE = '''
class NumpyMLP:
    """Kernels and biases in two lists; loss from clipped probabilities; full chain rule through dJ/dy_hat."""

    def __init__(self, layer_sizes, activations, dropout_rate=0.0, seed=None):
        rng = np.random.default_rng(seed)
        self.kernels, self.biases = [], []
        for m, d in zip(layer_sizes, layer_sizes[1:]):
            lim = (6 / (m + d)) ** 0.5
            self.kernels.append(rng.uniform(-lim, lim, size=(m, d)))
            self.biases.append(np.zeros(d))
        self.acts, self.p, self.rng = list(activations), dropout_rate, rng

    def get_weights(self):
        out = []
        for W, b in zip(self.kernels, self.biases):
            out += [W.copy(), b.copy()]
        return out

    def set_weights(self, weights):
        self.kernels = [np.array(w, dtype=float) for w in weights[0::2]]
        self.biases = [np.array(b, dtype=float) for b in weights[1::2]]

    def _layers(self, X, training):
        a, zs, As, masks = np.asarray(X, dtype=float), [], [np.asarray(X, dtype=float)], []
        for k, (W, b, act) in enumerate(zip(self.kernels, self.biases, self.acts)):
            z = a @ W + b
            if act == "sigmoid":
                a = np.exp(-np.logaddexp(0, -z))
            elif act == "tanh":
                a = np.tanh(z)
            elif act == "relu":
                a = np.where(z > 0, z, 0.0)
            else:
                a = z.copy()
            m = np.ones_like(a)
            if training and self.p > 0 and k + 1 < len(self.kernels):
                m = self.rng.binomial(1, 1 - self.p, size=a.shape) / (1 - self.p)
            a = a * m
            zs.append(z); As.append(a); masks.append(m)
        return zs, As, masks

    def forward(self, X, training=False):
        return self._layers(X, training)[1][-1]

    @staticmethod
    def _bce(y, p):
        p = np.clip(p, 1e-7, 1 - 1e-7)
        return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))

    def loss(self, X, y):
        p = self.forward(X)
        return float(self._bce(np.reshape(y, p.shape), p))

    def _grads(self, X, y, training):
        zs, As, masks = self._layers(X, training)
        p = As[-1]
        y = np.reshape(np.asarray(y, dtype=float), p.shape)
        pc = np.clip(p, 1e-7, 1 - 1e-7)
        dA = (pc - y) / (pc * (1 - pc)) / y.size        # dJ/dy_hat
        gW, gb = [], []
        for k in reversed(range(len(self.kernels))):
            dA = dA * masks[k]
            act, z = self.acts[k], zs[k]
            if act == "sigmoid":
                s = np.exp(-np.logaddexp(0, -z)); dz = dA * s * (1 - s)
            elif act == "tanh":
                dz = dA / np.cosh(np.clip(z, -300, 300)) ** 2
            elif act == "relu":
                dz = dA * (z > 0)
            else:
                dz = dA
            gW.insert(0, As[k].T @ dz)
            gb.insert(0, dz.sum(axis=0))
            dA = dz @ self.kernels[k].T
        return self._bce(y, p), [g for pair in zip(gW, gb) for g in pair]

    def gradients(self, X, y):
        return self._grads(X, y, False)[1]

    def train_step(self, X, y, lr):
        loss, grads = self._grads(X, y, True)
        self.set_weights([w - lr * g for w, g in zip(self.get_weights(), grads)])
        return float(loss)

    def fit(self, X, y, epochs, batch_size, lr, shuffle=False):
        n, history = len(X), []
        for _ in range(epochs):
            order = self.rng.permutation(n) if shuffle else np.arange(n)
            weighted = sum(self.train_step(X[order[s:s + batch_size]], y[order[s:s + batch_size]], lr)
                           * len(order[s:s + batch_size]) for s in range(0, n, batch_size))
            history.append(weighted / n)
        return history
'''

# (exercise, how it differs from the reference, the student's cell)
ALTERNATIVES = [
    ("NumpyMLP", "computes in float32 with layer dicts and logaddexp", FLOAT32),
    ("NumpyMLP", "separate kernel and bias lists, clipped-probability loss, chain rule through dJ/dy_hat", CHAIN_RULE),
]


def graded(code: str) -> tuple[float, str]:
    """(points, feedback) of a NumpyMLP cell, graded once (the checks run the Keras twin's cases)."""
    assignment = load_course().assignment(A)
    (result,) = run_checks(assignment, LocalBackend(variant_namespace(A, code)), {"NumpyMLP"})
    return result.score, "\n".join(c.feedback for c in result.checks if not c.passed)


def stub(code: str) -> str:
    """What nbgrader leaves of a solution: each SOLUTION region becomes raise NotImplementedError()."""
    return re.sub(r"( *)### BEGIN SOLUTION\n.*?### END SOLUTION",
                  lambda m: f"{m.group(1)}# YOUR CODE HERE\n{m.group(1)}raise NotImplementedError()", code, flags=re.S)


def test_reference_equals_keras_to_1e_10():
    """Does the reference itself agree with the float64 Keras twin to 1e-10 (forward, loss, tape gradients, one SGD step)?"""
    from autograder.checks import a07_keras_equivalence as checks

    for arch, (sizes, activations) in checks.ARCHS.items():
        X, y, weights = checks._data(arch)
        net = ref.NumpyMLP(list(sizes), list(activations))
        net.set_weights(weights)
        output, loss, grads = checks._keras_eval(arch)
        np.testing.assert_allclose(net.forward(X), output, rtol=1e-10, atol=1e-12)
        assert abs(net.loss(X, y) - loss) <= 1e-10 * abs(loss)
        for g, e in zip(net.gradients(X, y), grads, strict=True):
            np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12)
        if arch in ("tanh", "tanh-relu"):
            net.train_step(X, y, checks.LR)
            for w, e in zip(net.get_weights(), checks._keras_step(arch), strict=True):
                np.testing.assert_allclose(w, e, rtol=1e-10, atol=1e-12)


def test_reference_fit_equals_keras_history():
    """Does the reference's fit equal Keras' History (a float32 metric) and final weights, to 1e-6?"""
    from autograder.checks import a07_keras_equivalence as checks

    for arch in ("tanh", "relu-sigmoid"):
        sizes, activations = checks.ARCHS[arch]
        X, y, weights = checks._data(arch)
        net = ref.NumpyMLP(list(sizes), list(activations))
        net.set_weights(weights)
        history = net.fit(X, y, checks.EPOCHS, checks.BATCH, checks.LR)
        expected, final, snapshots = checks._keras_fit(arch, checks.EPOCHS, checks.BATCH)
        assert len(snapshots) == checks.EPOCHS * 3  # batches of 4, 4 and a final partial batch of 2
        np.testing.assert_allclose(history, expected, rtol=1e-6)
        # model.fit (compiled, not eager) ends within ~5e-8 of the exact float64 trajectory, not 1e-10.
        for w, e in zip(net.get_weights(), final, strict=True):
            np.testing.assert_allclose(w, e, rtol=1e-6, atol=1e-9)
        # Keras' history is NOT the unweighted mean of the batches' losses (the partial batch counts less).
        assert not np.allclose(checks._fit_mistakes(arch)["unweighted"][0], expected, rtol=1e-4, atol=1e-5)


FLOAT32_CLIPPED = FLOAT32.replace(old_loss := "        loss = float(np.mean(np.logaddexp(np.float32(0), z) - t * z))\n", (
    "        p = np.clip(out, np.float32(1e-7), np.float32(1 - 1e-7))\n"
    "        loss = float(-np.mean(t * np.log(p) + (1 - t) * np.log(1 - p)))\n"))
assert old_loss in FLOAT32

TANH_TYPO = edit(("return 1 - np.tanh(z) ** 2", "t = np.tanh(z)\n            return t * (1 - t)"))
NOT_AVERAGED = edit(
    ('delta = (self._activate(z_out, "sigmoid") - y) / y.size', 'delta = self._activate(z_out, "sigmoid") - y'))
UPHILL = edit(("self.weights = [w - lr * g for w, g in zip(self.weights, grads)]",
               "self.weights = [w + lr * g for w, g in zip(self.weights, grads)]"))
LOSS_AFTER_STEP = edit(("self.weights = [w - lr * g for w, g in zip(self.weights, grads)]\n        return loss",
                        "self.weights = [w - lr * g for w, g in zip(self.weights, grads)]\n        return self.loss(X, y)"))
# gradients' checks are 3 of the 26 weights of NumpyMLP's 20 points; train_step's 2; set_weights' copy rule 1
GRADIENTS_ONLY, TRAIN_STEP_ONLY, COPY_RULE_ONLY = 20 - 20 * 3 / 26, 20 - 20 * 2 / 26, 20 - 20 * 1 / 26
KEEPS_ARRAYS = edit(("        self.weights = new\n", "        self.weights = list(weights)\n"),
                    ("self.weights = [w - lr * g for w, g in zip(self.weights, grads)]",
                     "for w, g in zip(self.weights, grads):\n            w -= lr * g"))
MISTAKES.append(("NumpyMLP", "set_weights keeps the caller's arrays", KEEPS_ARRAYS, "not a copy"))

FINDINGS = [
    Finding("NumpyMLP", "float32 throughout, probabilities clipped in float32 (Keras' own float32 value)",
            FLOAT32_CLIPPED, kept=(20, 20)),
    # one wrong method costs its own checks only: train_step, fit and dropout at inference did what
    # they should with the student's own gradients (before: 10.4/20, 5 of 12 checks failed)
    Finding("NumpyMLP", "the slide's tanh typo: charged in gradients' check only, named as in a01, without a "
            "dropout hint", TANH_TYPO, kept=(GRADIENTS_ONLY, GRADIENTS_ONLY), shows=("typo",),
            hides=("no dropout", "dropout only when", "applies dropout", "dropout is active"), mistake="typo"),
    Finding("NumpyMLP", "gradients not averaged: charged in gradients' check only, named, without a dropout hint",
            NOT_AVERAGED, kept=(GRADIENTS_ONLY, GRADIENTS_ONLY), shows=("not averaged",),
            hides=("no dropout", "dropout only when", "applies dropout", "dropout is active"), mistake="not averaged"),
    # a wrong method that is the only bug is still charged, in its own checks
    Finding("NumpyMLP", "an uphill step: charged in train_step's check only (fit did its loop with it)", UPHILL,
            kept=(TRAIN_STEP_ONLY, TRAIN_STEP_ONLY), shows=("uphill",), mistake="uphill"),
    # the contract's copy rule: before, 20/20 (the caller's arrays changed with each in-place step)
    Finding("NumpyMLP", "set_weights keeps the caller's arrays, train_step updates them in place: charged once",
            KEEPS_ARRAYS, kept=(COPY_RULE_ONLY, COPY_RULE_ONLY), shows=("kept the caller's weights[0] itself",)),
    Finding("NumpyMLP", "train_step returns the loss after the step: charged in train_step's check only",
            LOSS_AFTER_STEP, kept=(TRAIN_STEP_ONLY, TRAIN_STEP_ONLY), shows=("after the update",)),
]


@pytest.mark.parametrize("code, cause, charged", [
    (TANH_TYPO, "gradients", {"test_gradients_equal_gradient_tape"}),
    (NOT_AVERAGED, "gradients", {"test_gradients_equal_gradient_tape"}),
    (UPHILL, "train_step", {"test_train_step_equals_keras_sgd"}),
], ids=["tanh typo", "missing 1/n", "uphill step"])
def test_one_wrong_method_is_charged_in_its_own_checks(code, cause, charged):
    """Does one wrong method of NumpyMLP fail its own checks only, the others that use it passing
    with a note that names it as the cause?"""
    (result,) = results(A, code, frozenset({"NumpyMLP"})).values()
    assert {c.name for c in result.checks if not c.passed} == charged
    notes = [c.feedback for c in result.checks if c.passed and c.feedback]
    assert notes and all(f"the failure came from your {cause}" in n or "from your train_step" in n for n in notes), notes
    assert any(f"Passed given your {cause}" in n for n in notes), notes
    assert not any(c.mistake for c in result.checks if c.passed)


class TestCatalogue(Catalogue):
    assignment, mistakes, alternatives, findings = A, MISTAKES, ALTERNATIVES, FINDINGS

"""What hidden checks are written with: the `exercise` tag and comparisons whose failure
messages teach (what was called, what was expected, what came back, the likely mistake).

A check is a plain pytest test function tagged with `@exercise(name, weight=...)`. Its
parameters name the student's definitions it needs (``def test_x(sigmoid): ...``); the
engine passes the student's versions in through the ``student`` fixture. Each check
compares with the reference in `solutions/` using `expect_close` and friends.
"""
from __future__ import annotations

import inspect
import os
from functools import lru_cache
from typing import Callable, NamedTuple

import numpy as np

from ..config import load_course
from ..student import StudentObject, describe


class CheckFailure(AssertionError):
    """A check's finding, phrased for the student, with its parts kept as fields.

    Args:
        message: free text, for findings that are not a call compared with an expectation.
        called: the call, as the student would write it ("sigmoid(array([0.0]))").
        expected: what the contract or the reference gives.
        received: what the student's code gave.
        mistake: the classic mistake whose own prediction the received value matched (the one
            field the class summary counts); None when no known mistake explains the value.
        hint: how to fix it, when that is known without naming a mistake.
    """

    def __init__(self, message: str | None = None, *, called: str | None = None, expected: str | None = None,
                 received: str | None = None, mistake: str | None = None, hint: str | None = None):
        self.message, self.called, self.expected, self.received = message, called, expected, received
        self.mistake, self.hint = mistake, hint
        super().__init__(self.render())

    def render(self) -> str:
        lines = [self.message] if self.message else []
        for label, value in (("Called", self.called), ("Expected", self.expected), ("Received", self.received)):
            if value:
                lines.append(f"{label}: {value}")
        if self.mistake:
            lines.append(f"Likely mistake: {self.mistake}")
        if self.hint:
            lines.append(self.hint)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()


class CausedBy(CheckFailure):
    """A check's failure that its own method did not cause: the method did what it should with what
    another method of the student's class returned (train_step with the student's own gradients).

    The engine charges it once (`engine._charge_within`): the check passes, with `note`, when a check
    of every method in `causes` failed too (so the mistake costs its own method's checks); otherwise
    the failure stands as it is.

    Args:
        failure: the check's own finding, kept as it is.
        causes: the methods (as the checks' `method` tags name them) whose results explain it.
        note: what the student reads when the check passes for that reason.
    """

    def __init__(self, failure: CheckFailure, causes: tuple[str, ...], note: str):
        self.causes, self.note, self.failure = tuple(causes), note, failure
        super().__init__(failure.message, called=failure.called, expected=failure.expected,
                         received=failure.received, mistake=failure.mistake, hint=failure.hint)


class Mistake(NamedTuple):
    """A known wrong variant: what a classic mistake would have returned, and its explanation."""

    explanation: str
    value: object


def load_keras():
    """Keras (with TensorFlow), imported on first use, TensorFlow's C++ log silenced.

    The level is set before TensorFlow's first import (later it has no effect) and only if the
    user has not chosen one: nbgrader scores a hidden test cell with anything on stderr as zero,
    and TensorFlow's C++ start-up lines (oneDNN banners, "Not handling type DT_DOUBLE") go there.

    Returns:
        The `keras` module; `keras.ops` and the TensorFlow backend come with it.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras as module

    return module


def load_tensorflow():
    """TensorFlow (for `tf.GradientTape`), imported after `load_keras()` has silenced its log."""
    load_keras()
    import tensorflow as module

    return module


def exercise(name: str, weight: float = 1.0, method: str | None = None):
    """Tag a check with its exercise; its parameters name the student's definitions it uses.

    Args:
        name: the exercise (a function or class of the curriculum).
        weight: the check's share of the exercise's points, relative to its other checks.
        method: for a class, the method (or the behaviour, such as "dropout") the check grades; a
            `CausedBy` failure of another check names it as the cause.
    """

    def decorate(check):
        wanted = list(inspect.signature(check).parameters)

        def test(student):
            return check(*[student.get(name) for name in wanted])

        test.__name__, test.__doc__, test.__module__ = check.__name__, check.__doc__, check.__module__
        test.__qualname__ = check.__qualname__
        test.exercise, test.weight, test.method = name, float(weight), method
        return test

    return decorate


@lru_cache(maxsize=1)
def _tolerances():
    return load_course().tolerances


def tolerance(*values, keras: bool = False) -> tuple[float, float]:
    """(rtol, atol) for comparing these values: float32 tolerances if any of them is float32."""
    t = _tolerances()
    if keras:
        return t.keras_rtol, t.keras_atol
    low = any(np.asarray(v).dtype in (np.float32, np.float16) for v in values if _numeric(v))
    return (t.float32_rtol, t.float32_atol) if low else (t.rtol, t.atol)


def _numeric(value) -> bool:
    """Real numbers the contract grades by value: any real dtype, booleans included (0/1 results)."""
    if isinstance(value, (bool, int, float, np.bool_, np.integer, np.floating)):
        return True
    return isinstance(value, np.ndarray) and value.dtype.kind in "biuf"


def _unreadable(got) -> str | None:
    """Why `got` cannot be graded as real numbers (what it is and how to fix it), or None when it can."""
    if _numeric(got):
        return None
    if got is None:
        return "nothing (None): did you forget to return?"
    if isinstance(got, StudentObject):
        return f"a {got._type} object: return a NumPy array or a number"
    if isinstance(got, np.ndarray):
        if got.dtype.kind == "c":
            return (f"{describe(got)}, an array of dtype {got.dtype}: the values must be real numbers "
                    "(a float dtype); do not make them complex")
        if got.dtype.kind == "O":
            return (f"{describe(got)}, an array of dtype object (mixed or nested values): return one numeric "
                    "array, for example np.asarray(values, dtype=float)")
        return f"{describe(got)}, an array of dtype {got.dtype}: return numbers (a float array)"
    if isinstance(got, (complex, np.complexfloating)):
        return f"{describe(got)}, a complex number: the value must be real"
    if isinstance(got, (list, tuple)):
        return (f"a {type(got).__name__}, {describe(got)}: return a NumPy array (np.asarray(...)), "
                "whose shape can be checked")
    return f"{describe(got)}, a {type(got).__name__}: return a NumPy array or a number"


def fail(message: str | None = None, *, called: str | None = None, expected: str | None = None,
         received: str | None = None, mistake: str | None = None, hint: str | None = None):
    """Fail the check with its finding as fields, rendered alike for every check by `CheckFailure`.

    Args:
        message: free text, for a finding that is not a call compared with an expectation.
        called: the call, as the student would write it.
        expected: what the contract or the reference gives.
        received: what the student's code gave.
        mistake: the known mistake whose own prediction the received value matched (the field the class
            summary counts); never a hint or a guess.
        hint: how to fix it, shown as written (with its own "Hint: " or "How to fix: ").

    Raises:
        CheckFailure: always.
    """
    raise CheckFailure(message, called=called, expected=expected, received=received, mistake=mistake, hint=hint)


def close(got, expected, rtol: float, atol: float) -> bool:
    """Same shape and every entry within tolerance (NaN only where NaN is expected)."""
    if not _numeric(got):
        return False
    got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    return got.shape == expected.shape and bool(np.allclose(got, expected, rtol=rtol, atol=atol, equal_nan=True))


def matching_mistake(got, expected, mistakes, rtol: float = 0.0, atol: float = 0.0) -> str | None:
    """The explanation of the first mistake whose own prediction `got` matches, or None.

    A mistake is named only where its prediction differs from the correct value (a linear layer
    has no "missing activation", a bias no "transposed kernel"), and only when the received value
    equals that prediction, within the comparison's tolerances (at least rtol 1e-6, atol 1e-9).
    """
    if not _numeric(got):
        return None
    rtol, atol = max(rtol, 1e-6), max(atol, 1e-9)
    for mistake in mistakes:
        if not _numeric(mistake.value) or close(mistake.value, expected, rtol, atol):
            continue
        if close(got, mistake.value, rtol, atol):
            return mistake.explanation
    return None


def raised_as_predicted(exc, predictions) -> str | None:
    """The explanation of the first known mistake that raises exactly the student's exception, or None.

    Args:
        exc: the `StudentFailure` of the student's call.
        predictions: (explanation, compute) pairs; compute() runs the mistake on the same inputs.
    """
    for explanation, compute in predictions:
        try:
            with np.errstate(all="ignore"):
                compute()
        except Exception as predicted:  # the mistake's own error, to compare with the student's
            if type(predicted).__name__ == exc.type and str(predicted) == exc.message:
                return explanation
    return None


def shown_digits(got, expected) -> int:
    """Digits to show so that two values that differ read differently (6 unless they agree that far)."""
    g, e = np.ravel(np.asarray(got, dtype=float)), np.ravel(np.asarray(expected, dtype=float))
    if g.shape != e.shape:
        return 6
    for digits in range(6, 18):
        if any(f"{a:.{digits}g}" != f"{b:.{digits}g}" for a, b in zip(g, e)):
            return digits
    return 17


def expect_close(got, expected, *, call: str | Callable[[], str], rtol: float | None = None, atol: float | None = None,
                 mistakes=(), keras: bool = False, shape_hint: str = "") -> None:
    """Fail unless `got` has `expected`'s shape and values, within tolerance.

    The contract grades values and shape: any real dtype passes when the values are right (booleans
    or integers for 0/1 results, float64 for float32 inputs), and any 0-d value (a Python or NumPy
    number, a 0-d array) where a number is expected.

    Args:
        got: what the student's code returned (plain data).
        expected: the reference's result.
        call: how the call reads, for the message (e.g. "sigmoid(z)" with z shown); or a function
            returning it, when showing the arguments costs time and is only needed on failure.
        rtol, atol: tolerances; by default from course.yaml, by the values' dtypes.
        mistakes: `Mistake`s; the one whose prediction `got` matches is named (see `matching_mistake`).
        keras: use the tolerances for comparisons with Keras.
        shape_hint: a sentence added when the shape is wrong (and only then).

    Raises:
        CheckFailure: with called, expected, received and the matched mistake as fields.
    """
    default_rtol, default_atol = tolerance(got, expected, keras=keras)
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    expected_arr = np.asarray(expected, dtype=float)
    called = call if callable(call) else lambda: call
    wanted = ("a number (a Python number, a NumPy scalar or a 0-d array)" if expected_arr.ndim == 0
              else f"an array of shape {expected_arr.shape}")
    reason = _unreadable(got)
    if reason:
        if isinstance(got, (list, tuple)) and expected_arr.ndim == 0:
            reason = f"a {type(got).__name__} of {len(got)} values, {describe(got)}: return one number"
        fail(called=called(), expected=wanted, received=reason,
             hint=shape_hint if isinstance(got, (list, tuple)) and shape_hint else None)
    got_arr = np.asarray(got, dtype=float)
    if got_arr.shape == expected_arr.shape and close(got_arr, expected_arr, rtol, atol):
        return
    # a failure from here on: only now is it worth finding which known mistake it is
    mistake = matching_mistake(got, expected, mistakes, rtol, atol)
    if got_arr.shape != expected_arr.shape:
        hints = [h for h in (_shape_hint(got_arr.shape, expected_arr.shape), shape_hint) if h]
        received = ("an array of shape " + str(got_arr.shape) if got_arr.ndim else "a number") + f", {describe(got)}"
        fail(called=called(), expected=wanted if expected_arr.ndim == 0 else f"shape {expected_arr.shape}",
             received=received, mistake=mistake, hint="\n".join(hints) or None)
    digits = shown_digits(got_arr, expected_arr)
    shown, back = describe(expected, digits=digits), describe(got, digits=digits)
    if shown == back:   # large arrays are summarised alike: show the first entry that differs
        index, e, g, entry_digits = _first_difference(got_arr, expected_arr, rtol, atol)
        shown, back = (f"{shown[:-1]}, whose entry {index} is {e:.{entry_digits}g}>",
                       f"{back[:-1]}, whose entry {index} is {g:.{entry_digits}g}>")
    fail(called=called(), expected=shown, received=f"{back}\n{_difference(got_arr, expected_arr, rtol, atol)}",
         mistake=mistake)


def _first_difference(got, expected, rtol: float, atol: float):
    """(index, expected entry, received entry, digits that tell them apart) of the first entry out of tolerance."""
    bad = ~np.isclose(got, expected, rtol=rtol, atol=atol, equal_nan=True)
    index = tuple(int(i) for i in np.argwhere(bad)[0]) if got.ndim else ()
    return index, expected[index], got[index], shown_digits(got[index], expected[index])


def _difference(got, expected, rtol: float, atol: float) -> str:
    """Where the first difference is and how large, rounded for reading (no relative error against 0)."""
    bad = ~np.isclose(got, expected, rtol=rtol, atol=atol, equal_nan=True)
    index, e, g, digits = _first_difference(got, expected, rtol, atol)
    where = f"at index {index}" if got.ndim else "in the value"
    count = f"{int(bad.sum())} of {bad.size} entries differ; " if got.ndim else ""
    with np.errstate(all="ignore"):
        size = f"absolute error {abs(g - e):.3g}" + (f", relative error {abs(g - e) / abs(e):.3g}" if e else "")
    if not (np.isfinite(g) and np.isfinite(e)):
        size = "not a finite number" if not np.isfinite(g) else "expected a non-finite value"
    return (f"First difference {where}: expected {e:.{digits}g}, received {g:.{digits}g} ({count}{size}; "
            f"tolerance rtol={rtol:g}, atol={atol:g})")


def _shape_hint(got, expected) -> str:
    if len(got) == len(expected) == 2 and got == expected[::-1]:
        return "Hint: the shape is transposed."
    if got == expected + (1,) or got + (1,) == expected:
        return "Hint: a trailing axis of length 1 is extra or missing (compare (n,) with (n, 1))."
    if np.prod(got, dtype=int) == np.prod(expected, dtype=int):
        return "Hint: the values may be right but arranged in the wrong shape."
    return ""


def expect(condition: bool, message: str | None = None, **fields) -> None:
    """Fail unless `condition` holds: `expect(ok, called=..., expected=..., received=..., mistake=..., hint=...)`.

    Args:
        condition: whether the check's finding holds.
        message: free text, for a finding that is not a call compared with an expectation.
        **fields: the `CheckFailure` fields (called, expected, received, mistake, hint).

    Raises:
        CheckFailure: when `condition` is false.
    """
    if not condition:
        fail(message, **fields)

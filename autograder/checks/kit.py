"""What hidden checks are written with: the `exercise` tag and comparisons whose failure
messages teach (what was called, what was expected, what came back, the likely mistake).

A check is a plain pytest test function tagged with `@exercise(name, weight=...)`. Its
parameters name the student's definitions it needs (``def test_x(sigmoid): ...``); the
engine passes the student's versions in through the ``student`` fixture. Each check
compares with the reference in `solutions/` using `expect_close` and friends.
"""
from __future__ import annotations

import inspect
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


class Mistake(NamedTuple):
    """A known wrong variant: what a classic mistake would have returned, and its explanation."""

    explanation: str
    value: object


def exercise(name: str, weight: float = 1.0):
    """Tag a check with its exercise; its parameters name the student's definitions it uses."""

    def decorate(check):
        wanted = list(inspect.signature(check).parameters)

        def test(student):
            return check(*[student.get(name) for name in wanted])

        test.__name__, test.__doc__, test.__module__ = check.__name__, check.__doc__, check.__module__
        test.__qualname__ = check.__qualname__
        test.exercise, test.weight = name, float(weight)
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
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (int, float, np.number)):
        return True
    return isinstance(value, np.ndarray) and value.dtype.kind in "iuf"


def fail(message: str | None = None, **fields):
    """Fail the check: `fail(called=..., expected=..., received=..., mistake=..., hint=...)`."""
    raise CheckFailure(message, **fields)


def close(got, expected, rtol: float, atol: float) -> bool:
    """Same shape and every entry within tolerance (NaN only where NaN is expected)."""
    if not (_numeric(got) or (isinstance(got, np.ndarray) and got.dtype.kind == "b")):
        return False
    got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    return got.shape == expected.shape and bool(np.allclose(got, expected, rtol=rtol, atol=atol, equal_nan=True))


def _named(got, mistakes, rtol, atol) -> str:
    for mistake in mistakes:
        if close(got, mistake.value, max(rtol, 1e-6), max(atol, 1e-9)):
            return f"\nLikely mistake: {mistake.explanation}"
    return ""


def expect_close(got, expected, *, call: str | Callable[[], str], rtol: float | None = None, atol: float | None = None,
                 mistakes=(), keras: bool = False, hint: str = "") -> None:
    """Fail unless `got` has `expected`'s shape and values, within tolerance.

    Args:
        got: what the student's code returned (plain data).
        expected: the reference's result.
        call: how the call reads, for the message (e.g. "sigmoid(z)" with z shown); or a function
            returning it, when showing the arguments costs time and is only needed on failure.
        rtol, atol: tolerances; by default from course.yaml, by the values' dtypes.
        mistakes: `Mistake`s whose value, if matched, names the error in the message.
        keras: use the tolerances for comparisons with Keras.
        hint: a sentence added to any failure.
    """
    default_rtol, default_atol = tolerance(got, expected, keras=keras)
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    expected_arr = np.asarray(expected, dtype=float)
    extra = f"\n{hint}" if hint else ""
    called = call if callable(call) else lambda: call
    if not _numeric(got):
        kind = "nothing (None): did you forget to return?" if got is None else describe(got)
        if isinstance(got, StudentObject):
            kind = f"a {got._type} object"
        fail(f"Called: {called()}\nExpected: a number or an array of shape {expected_arr.shape}\n"
             f"Received: {kind}{_named(got, mistakes, rtol, atol)}{extra}")
    got_arr = np.asarray(got, dtype=float)
    if got_arr.shape != expected_arr.shape:
        fail(f"Called: {called()}\nExpected: shape {expected_arr.shape}\nReceived: shape {got_arr.shape}, "
             f"{describe(got)}{_named(got, mistakes, rtol, atol)}"
             f"{_shape_hint(got_arr.shape, expected_arr.shape)}{extra}")
    if not close(got_arr, expected_arr, rtol, atol):
        bad = ~np.isclose(got_arr, expected_arr, rtol=rtol, atol=atol, equal_nan=True)
        index = tuple(int(i) for i in np.argwhere(bad)[0]) if got_arr.ndim else ()
        with np.errstate(all="ignore"):
            abs_err = np.abs(got_arr - expected_arr)
            rel_err = abs_err / np.maximum(np.abs(expected_arr), 1e-300)
        where = f"at index {index}" if index else "in the value"
        fail(f"Called: {called()}\nExpected: {describe(expected)}\nReceived: {describe(got)}\n"
             f"First difference {where}: expected {expected_arr[index]:.8g}, received {got_arr[index]:.8g} "
             f"(max absolute error {np.nanmax(np.where(np.isnan(abs_err), np.inf, abs_err)):.3g}, "
             f"max relative error {np.nanmax(np.where(np.isnan(rel_err), np.inf, rel_err)):.3g}; "
             f"tolerance rtol={rtol:g}, atol={atol:g})"
             f"{_named(got, mistakes, rtol, atol)}{extra}")


def _shape_hint(got, expected) -> str:
    if len(got) == len(expected) == 2 and got == expected[::-1]:
        return "\nHint: the shape is transposed."
    if got == expected + (1,) or got + (1,) == expected:
        return "\nHint: a trailing axis of length 1 is extra or missing (compare (n,) with (n, 1))."
    if np.prod(got, dtype=int) == np.prod(expected, dtype=int):
        return "\nHint: the values may be right but arranged in the wrong shape."
    return ""


def expect(condition: bool, message: str) -> None:
    """Fail with `message` unless `condition` holds."""
    if not condition:
        fail(message)

"""What a student reads about a call: the failures' types and the rendering of values and calls."""
from __future__ import annotations

import numpy as np

from ..sandbox.launcher import StudentFailure


class Missing(AssertionError):
    """The notebook does not define the name a check needs."""


class ContractViolation(AssertionError):
    """The call broke a general rule of the curriculum (a warning, a mutated input, a kept argument).

    Attributes:
        rule: which one: "framework", "warning", "mutated" or "kept".
    """

    def __init__(self, message: str, rule: str = "", mistake: str | None = None):
        super().__init__(message)
        self.rule, self.mistake = rule, mistake


# The named mistake of a RuntimeWarning, by the warning's kind: one text per kind, so that the class
# summary counts the students who made it (the call and its values are in the feedback, not here).
WARNING_MISTAKES = {
    "overflow": "a formula overflows for large inputs (RuntimeWarning: overflow), as the naive 1 / (1 + np.exp(-z)) "
                "does for z below about -710 (-89 in float32): compute it so that no intermediate value overflows.",
    "divide by zero": "a division by zero or a log(0) on saturated values (RuntimeWarning: divide by zero): "
                      "simplify the formula (dJ/dz = (y_hat - y) / n needs no division) or use a stable form.",
    "invalid value": "an invalid operation such as 0/0 or inf - inf on saturated values (RuntimeWarning: invalid "
                     "value): simplify the formula or use a stable form.",
}


def warning_mistake(warning: str) -> str:
    """The named mistake of a RuntimeWarning's text ("RuntimeWarning: overflow encountered in exp")."""
    return next((text for kind, text in WARNING_MISTAKES.items() if kind in warning),
                "a RuntimeWarning on finite inputs: the formula must avoid it, not silence it.")


def describe(value, limit: int = 160, digits: int = 6) -> str:
    """A short readable rendering of an argument or a result, for feedback: one line.

    An array reads as its shape, then its values: "shape (2, 2): [[1, 2], [3, 4]]", or for more than
    12 entries its first and last ones, "shape (4, 5): [0, 1, 2, ..., 19]"; a dtype other than float64
    is named ("shape (3,) float32: ..."). Every number is shown once, without a NumPy wrapper
    ("19.7384", not "np.float32(19.7384)"), integers as integers.

    Args:
        value: plain data (arrays, NumPy or Python numbers, lists, tuples, callables, anything else by repr).
        limit: the longest text returned; longer texts end in "...".
        digits: significant digits shown per number (more when two values differ only far down).

    Returns:
        The text, one line, numbers rounded for reading.
    """
    if isinstance(value, np.ndarray):
        kind = "" if value.dtype == np.float64 else f" {value.dtype}"
        if value.ndim == 0:
            return _entry(value[()], digits)
        if value.size <= 12:
            shown = _nested(value, digits)
        else:
            flat = value.ravel()
            shown = "[" + ", ".join(_entry(v, digits) for v in flat[:3]) + ", ..., " + _entry(flat[-1], digits) + "]"
        text = f"shape {value.shape}{kind}: {shown}"
        return text if len(text) <= limit else text[:limit - 3] + "..."
    if isinstance(value, (np.generic, float, int)) and not isinstance(value, bool):
        return _entry(value, digits)
    if isinstance(value, (list, tuple)):
        inner = ", ".join(describe(v, 60, digits) for v in value[:6]) + (", ..." if len(value) > 6 else "")
        text = f"[{inner}]" if isinstance(value, list) else f"({inner}{',' if len(value) == 1 else ''})"
    elif callable(value) and hasattr(value, "__name__"):
        text = value.__name__
    else:
        text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _nested(array: np.ndarray, digits: int) -> str:
    if array.ndim == 1:
        return "[" + ", ".join(_entry(v, digits) for v in array) + "]"
    return "[" + ", ".join(_nested(row, digits) for row in array) + "]"


def _entry(x, digits: int) -> str:
    """One number of any NumPy or Python kind, as plain text: booleans and integers exactly."""
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (float, np.floating, complex, np.complexfloating)):
        return format_number(x, digits)
    return repr(x)


def format_number(x, digits: int) -> str:
    """A float (Python or NumPy) with `digits` significant digits, or its shortest exact form when
    shorter; a whole number below 1e16 without its ".0" only when it is exact ("3", but "2433.33")."""
    if isinstance(x, (complex, np.complexfloating)):
        return str(complex(x))
    x = x.item() if isinstance(x, np.generic) and not isinstance(x, np.float32) else x
    short = str(x)   # the shortest text that reads back as x, in x's own precision
    if short.endswith(".0") and abs(float(x)) < 1e16:
        return short[:-2]
    mantissa = short.split("e")[0].replace("-", "").replace(".", "").lstrip("0")
    if 0 < abs(float(x)) < 1e-100:   # an underflow's residue (4.476286e-309): its size is what matters
        digits = min(digits, 3)
    return short if len(mantissa) <= digits else f"{float(x):.{digits}g}"


def call_text(name: str, args, kwargs) -> str:
    """The call as the student would write it: a small array as `np.array([...])` (one line, which they
    can paste), a large one by its shape."""
    parts = [_argument(a) for a in args] + [f"{k}={_argument(v)}" for k, v in kwargs.items()]
    return f"{name}({', '.join(parts)})"


def _argument(value) -> str:
    if isinstance(value, np.ndarray) and value.ndim and value.size <= 12:
        kind = "" if value.dtype in (np.float64, np.int64, np.bool_) else f", dtype=np.{value.dtype}"
        return f"np.array({_nested(value, 6)}{kind})"
    if isinstance(value, np.ndarray) and value.ndim:
        kind = "" if value.dtype == np.float64 else f" {value.dtype}"
        return f"<array of shape {value.shape}{kind}>"
    return describe(value, 80)


_SCALAR_PRONE = ("AttributeError", "TypeError", "IndexError")


def attributed(failure: StudentFailure, label: str, args, kwargs) -> StudentFailure:
    """`failure` with the call that raised it and, when only a Python number can explain it, the hint."""
    # only when the error is about the Python number itself ('float' object has no attribute 'shape')
    scalars = [type(v).__name__ for v in [*args, *kwargs.values()]
               if type(v) in (float, int, bool) and f"'{type(v).__name__}'" in failure.message]
    hint = ""
    if scalars and failure.type in _SCALAR_PRONE:
        hint = (f"for a Python {scalars[0]} input, your function raised {failure.type}: {failure.message}; "
                "Python numbers are valid inputs too: convert with np.asarray(z) first (for each argument that "
                "may be a number) before using array attributes or methods")
    return StudentFailure(failure.type, failure.message, failure.traceback, call=call_text(label, args, kwargs),
                          hint=hint)

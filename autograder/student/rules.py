"""The curriculum's general rules, judged on every call the same way on both paths: no forbidden
framework, no RuntimeWarning, no argument changed in place, bounded replies and probes."""
from __future__ import annotations

import numpy as np

from ..sandbox import protocol, wire
from ..sandbox.launcher import StudentFailure
from .feedback import ContractViolation, call_text, warning_mistake


# Methods whose contract says they copy their argument (docs/curriculum.md): keeping it is a mistake.
COPYING_METHODS = {"set_weights": "replaces the weights by copies of the arrays it is given"}


def bounded_text(value, limit: int) -> str:
    """A string from the student's side, as a bounded plain str (whatever was sent)."""
    return value[:limit] if type(value) is str else ""


def _texts(values) -> list[str]:
    return [v[:500] for v in values[:20] if type(v) is str] if type(values) is list else []


def refuse_forbidden(forbidden: dict[str, str], label: str) -> None:
    """A name that used a forbidden framework once is not run again: it gets 0 (the engine zeroes
    its exercise's earlier checks too)."""
    owner = label.split(".")[0]
    if owner in forbidden:
        raise ContractViolation(forbidden[owner], rule="framework")


def judge_call(forbidden: dict[str, str], label: str, args, kwargs, captured: dict) -> None:
    """The verdict on what `protocol.call` captured during one call of `label`, the same on both
    paths: `captured` is the worker's reply (untrusted data) or the local capture.

    Raises:
        ContractViolation: the call used a forbidden framework or switched off the watch that sees
            them (`forbidden` then remembers its owner: it is not run again), emitted a
            RuntimeWarning, or changed an argument in place.
    """
    owner = label.split(".")[0]
    found = captured.get("frameworks") if isinstance(captured.get("frameworks"), dict) else {}
    used = [(name, bounded_text(where, 200)) for name, where in found.items() if name in protocol.FRAMEWORKS]
    tampered = bounded_text(captured.get("tampered"), 200)
    if used:
        name, where = used[0]
        where = f"{where}" if where.startswith("imported") else f"at {where}" if where else "during the call"
        forbidden[owner] = (
            f"Your {owner} used {protocol.FRAMEWORKS[name]} ({name}, {where}): the graded functions must use NumPy "
            "only, not TensorFlow, Keras, PyTorch, JAX, scipy or scikit-learn.\nHow to fix: rewrite it with NumPy "
            "operations (np.matmul, np.exp, np.maximum, ...); until then this exercise gets 0.")
        raise ContractViolation(forbidden[owner], rule="framework")
    if tampered:
        forbidden[owner] = (
            f"Your {owner} switched off the profiler of its process ({tampered}): the grader watches every call "
            "to see that the graded functions use NumPy only, and a graded function must not turn that off.\n"
            "How to fix: remove the sys.setprofile, sys.settrace or threading.setprofile call; until then "
            "this exercise gets 0.")
        raise ContractViolation(forbidden[owner], rule="framework")
    warnings_seen, mutated = _texts(captured.get("warnings")), _texts(captured.get("mutated"))
    runtime = [w for w in warnings_seen if w.startswith("RuntimeWarning")]
    if runtime:
        raise ContractViolation(
            f"{call_text(label, args, kwargs)} emitted {runtime[0]}.\nExpected: no RuntimeWarning for finite inputs "
            "(overflow, division by zero and invalid values must be avoided, not silenced).\n"
            "How to fix: rewrite the formula so that no intermediate value overflows, divides by zero or takes "
            "log(0), for example with np.exp(-np.abs(z)), which never overflows (treat z >= 0 and z < 0 "
            "separately).", rule="warning", mistake=warning_mistake(runtime[0])
        )
    kept, method = _texts(captured.get("kept")), label.rsplit(".", 1)[-1]
    if kept and method in COPYING_METHODS and "." in label:
        argument = kept[0].replace("#1", "weights", 1)
        raise ContractViolation(
            f"{call_text(label, args, kwargs)} kept the caller's {argument} itself, not a copy.\nExpected: "
            f"{method} {COPYING_METHODS[method]}: changing the caller's arrays afterwards, or updating yours in "
            "place (W -= lr * dW), must not change the other.\n"
            "How to fix: store a copy of each array (np.array(w, dtype=float)) in a new list.", rule="kept")
    if mutated:
        raise ContractViolation(
            f"{call_text(label, args, kwargs)} changed its argument {mutated[0]} in place.\nExpected: inputs left untouched.\n"
            "How to fix: work on a copy (np.array(x, dtype=float)) or build new arrays instead of "
            "using in-place operators (+=, *=, x[...] = ...) on the arguments.", rule="mutated"
        )


def refuse_too_many_items(data, label: str) -> None:
    """A value of more than `wire.MAX_ITEMS` items in lists, tuples and dicts is refused: a check
    would loop over it (after the call's clock stopped) for as long as the student liked."""
    if wire.count_items(data) > wire.MAX_ITEMS:
        raise StudentFailure("Unreadable", f"it holds more than {wire.MAX_ITEMS} items in its lists, tuples and "
                                           "dicts together (return an array rather than a long list)", call=label)


# A grader's function (a probe: `loss`, `predict`, `f`, `grad`, an activation) called by the
# student's code takes arrays no larger than this many entries, or than 4 times what the check
# passed to the call: so the grader never computes on (or allocates for) a size the student chose.
PROBE_MIN_ENTRIES = 65_536


def _extent(value) -> int:
    """Entries an array would have if every empty axis had one: what a computation on its shape costs."""
    shape = np.shape(value)
    return int(np.prod([max(int(n), 1) for n in shape], dtype=object)) if shape else 1


def _walk_arrays(values):
    todo = list(values)
    while todo:
        value = todo.pop()
        if isinstance(value, np.ndarray):
            yield value
        elif isinstance(value, (list, tuple)):
            todo.extend(value)
        elif isinstance(value, dict):
            todo.extend(value.values())


def probe_bound(args, kwargs) -> int:
    """The most entries an argument of a probe may have during a call with these arguments."""
    passed = sum(_extent(a) for a in _walk_arrays([*args, *kwargs.values()]))
    return max(PROBE_MIN_ENTRIES, 4 * passed)


def bounded_probe(function, bound: int, args, kwargs):
    """Call the grader's `function` if no argument is over `bound` entries.

    Raises:
        ValueError: an argument is larger (the student's code sees this message).
    """
    name = getattr(function, "__name__", "the grader's function")
    for value in _walk_arrays([*args, *kwargs.values()]):
        if _extent(value) > bound:
            raise ValueError(f"{name} was called with an array of shape {value.shape}; the functions the check "
                             f"passes take arrays of at most {bound} entries here (a few times what the check "
                             "itself passed). Call it with the data you were given.")
    return function(*args, **kwargs)

"""The call protocol: what one call of the student's code is, wherever that code runs.

Both places that run a student's definitions use this module, so both capture the same things in
the same way and the two grading paths score alike by construction: the sandbox's worker (this file
is copied next to it, like `wire.py`) and the in-kernel `student.LocalBackend`. For one call it
captures the warnings emitted, the arguments changed in place, and the forbidden frameworks used
(or an attempt to switch off the watch that sees them). The grader judges what was captured
(`student.judge_call`); this side only records.

It imports only the standard library, NumPy and `wire`.
"""
from __future__ import annotations

import sys
import threading
import warnings

import numpy as np

try:
    from . import wire
except ImportError:   # in the sandbox, next to the worker
    import wire

# The curriculum's rule: a graded function uses NumPy, not these (their top-level package names).
FRAMEWORKS = {"tensorflow": "TensorFlow", "keras": "Keras", "tf_keras": "Keras", "torch": "PyTorch", "jax": "JAX",
              "jaxlib": "JAX", "scipy": "scipy", "sklearn": "scikit-learn"}
_FRAMEWORK_PREFIXES = tuple(FRAMEWORKS)


def lookup(namespace: dict, name: str) -> dict:
    """What `name` is in the student's namespace: {"kind": "missing" | "class" | "callable" | "value",
    "type": its type's name}."""
    if name not in namespace:
        return {"kind": "missing", "type": ""}
    value = namespace[name]
    kind = "class" if isinstance(value, type) else ("callable" if callable(value) else "value")
    return {"kind": kind, "type": type(value).__name__}


_ABSENT = object()


def lend(spaces, functions: dict):
    """Put `functions` (the grader's, by name) in place of the student's in each namespace of
    `spaces` (a check run again to see whether an earlier function's mistake is the cause).

    Returns:
        A function that puts back what each namespace held (or removes a name it did not hold).
    """
    saved = [(space, name, space.get(name, _ABSENT)) for space in spaces for name in functions]
    for space, name, _ in saved:
        space[name] = functions[name]

    def restore() -> None:
        for space, name, value in reversed(saved):
            if value is _ABSENT:
                space.pop(name, None)
            else:
                space[name] = value
    return restore


def call(function, args, kwargs):
    """Call the student's `function` and capture what the grader judges.

    NumPy's error handling is its default for the call (the notebook may have silenced it): warn on
    overflow, division by zero and invalid values, not on underflow. The student's exception
    propagates unchanged.

    Returns:
        (value, captured): the function's value as it returned it (the caller encodes it), and
        {"warnings": ["RuntimeWarning: ...", ...], "mutated": labels of arguments changed in place,
         "frameworks": {package: where}, "tampered": where the watch was switched off, or ""}.
    """
    before = wire.snapshot_arrays(args, kwargs)
    with warnings.catch_warnings(record=True) as caught, np.errstate(over="warn", divide="warn", invalid="warn",
                                                                      under="ignore"):
        warnings.simplefilter("always")
        with FrameworkWatch() as watch:
            value = function(*args, **kwargs)
    return value, {"warnings": [f"{w.category.__name__}: {w.message}" for w in caught][:20],
                   "mutated": wire.changed_arrays(before), "frameworks": watch.found, "tampered": watch.tampered,
                   "kept": kept_arguments(function, args, kwargs)}


def kept_arguments(function, args, kwargs, limit: int = 10_000) -> list[str]:
    """The arguments (arrays, or the lists, tuples and dicts holding them) that the object of a bound
    method still holds after the call, itself or through a view of its memory: what a method that
    must copy its argument (`set_weights`) kept instead. [] for a plain function.

    Labels are `wire.snapshot_arrays`' ("#1[0]": the first entry of the first argument)."""
    owner = getattr(function, "__self__", None)
    state = getattr(owner, "__dict__", None)
    if not isinstance(state, dict) or isinstance(owner, type):
        return []
    arrays, containers, todo = [], set(), [(v, 0) for v in list(state.values())[:limit]]
    while todo and len(arrays) + len(containers) < limit:
        value, depth = todo.pop()
        if isinstance(value, np.ndarray):
            arrays.append(value)
        elif isinstance(value, (list, tuple, dict)) and depth < 4:
            containers.add(id(value))
            items = value.values() if isinstance(value, dict) else value
            todo.extend((item, depth + 1) for item in list(items)[:limit])
    kept = []

    def walk(value, label, depth=0):
        if len(kept) >= 20 or depth > 4:
            return
        if isinstance(value, np.ndarray):
            if any(np.may_share_memory(value, held) for held in arrays):
                kept.append(label)
        elif isinstance(value, (list, tuple, dict)):
            if id(value) in containers and not isinstance(value, tuple):
                kept.append(label)
                return
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                walk(item, f"{label}[{key!r}]" if isinstance(value, dict) else f"{label}[{key}]", depth + 1)

    for i, value in enumerate(args):
        walk(value, f"#{i + 1}")
    for key, value in kwargs.items():
        walk(value, str(key))
    return kept


class FrameworkWatch:
    """Which of the forbidden frameworks the code run inside ``with FrameworkWatch() as watch:``
    used: a function of theirs called (a profile hook sees every Python and C function call of
    this thread and of the threads it starts, and records the first entry into each framework with
    the student's line that made it), or a module of theirs imported meanwhile. A framework imported
    before (a lesson cell's ``import tensorflow`` for a plot) counts only if the call uses it.

    The profile hook costs time on every call the student's function makes, so it is set only when
    a framework could be called: one was imported in this process at some point (an audit hook,
    which cannot be removed, remembers every such import, even of a module later deleted from
    `sys.modules`). A call that switches the hook off (`sys.setprofile`, `sys.settrace`) is recorded
    as `tampered`.

    Attributes:
        found: {package: where}, e.g. {"tensorflow": "cell 3, line 4"}.
        tampered: the student's line that replaced the hook, or "".
    """

    active: "FrameworkWatch | None" = None   # the watch of the call running now

    def __init__(self):
        self.found: dict[str, str] = {}
        self.tampered = ""
        self._hooked = False

    def __enter__(self):
        self._modules = set(sys.modules)
        self._hooked = bool(_IMPORTED) or any(name in sys.modules for name in FRAMEWORKS)
        if self._hooked:
            self._previous = sys.getprofile(), threading.getprofile()
            self._bound = self._hook   # one bound method, to recognise it at the end
            _set_profiles(self._bound, self._bound)
        FrameworkWatch.active = self
        return self

    def _hook(self, frame, event, arg):
        if event == "call":
            name, caller = frame.f_globals.get("__name__"), frame.f_back
        elif event == "c_call":
            name, caller = getattr(arg, "__module__", None), frame
        else:
            return
        if type(name) is str and name.startswith(_FRAMEWORK_PREFIXES):
            top = name.partition(".")[0]
            if top in FRAMEWORKS and top not in self.found:
                self.found[top] = _student_line(caller)

    def __exit__(self, *exc):
        FrameworkWatch.active = None
        if self._hooked:
            if threading.getprofile() is not self._bound and not self.tampered:   # it raises no audit event
                self.tampered = "threading.setprofile"
            _set_profiles(*self._previous)
        for name in set(sys.modules) - self._modules:
            top = name.partition(".")[0]
            if top in FRAMEWORKS:
                self.found.setdefault(top, "imported during the call")
        return False


_IMPORTED: set[str] = set()        # the frameworks ever imported in this process
_own_calls = threading.local()     # set while the watch itself calls sys.setprofile


def _set_profiles(this_thread, new_threads) -> None:
    """Set the profile function of this thread and of the threads started from now on, as the
    watch itself (so that the audit hook does not take it for the student's tampering)."""
    _own_calls.active = True
    try:
        sys.setprofile(this_thread)
        threading.setprofile(new_threads)
    finally:
        _own_calls.active = False


def _audit(event: str, args) -> None:
    """Every import of a framework (remembered for good), and any change of the profile or trace
    function while a call is watched that the watch did not make itself."""
    if event == "import":
        top = args[0].partition(".")[0] if type(args[0]) is str else ""
        if top in FRAMEWORKS:
            _IMPORTED.add(top)
            watch = FrameworkWatch.active
            if watch is not None and top not in watch.found:
                watch.found[top] = "imported during the call"
    elif event in ("sys.setprofile", "sys.settrace"):
        watch = FrameworkWatch.active
        if watch is not None and not getattr(_own_calls, "active", False) and not watch.tampered:
            watch.tampered = f"{event.partition('.')[2]}, at {_student_line(sys._getframe(1))}"


sys.addaudithook(_audit)


def _student_line(frame) -> str:
    """The innermost line of the student's code (a notebook cell) among `frame` and its callers."""
    while frame is not None:
        name = frame.f_globals.get("__name__")
        if not (type(name) is str and name.startswith(_FRAMEWORK_PREFIXES)) and name != __name__:
            where = frame.f_code.co_filename
            cell = f"cell {where[6:-1]}, " if where.startswith("<cell ") else ""
            return f"{cell}line {frame.f_lineno}, in {frame.f_code.co_name}"
        frame = frame.f_back
    return ""

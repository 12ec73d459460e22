"""The student's definitions, as the checks see them.

A check receives `StudentCallable`s: calling one runs the student's function (in the sandbox
on the isolated path, in the kernel on the nbgrader path) and returns plain data only:
NumPy arrays and scalars, Python numbers, strings, lists, tuples, dicts, or a
`StudentObject` standing for an instance that lives on the student's side. Every call
enforces the curriculum's general rules: no RuntimeWarning, no input mutated.
"""
from __future__ import annotations

import contextlib
import copy
import io
import traceback

import numpy as np

from .sandbox import protocol, wire
from .sandbox.launcher import CallTimeout, Sandbox, SandboxError, StudentFailure

__all__ = ["Missing", "StudentCallable", "StudentObject", "LocalBackend", "RemoteBackend",
           "StudentFailure", "SandboxError", "ContractViolation", "describe"]


class Missing(AssertionError):
    """The notebook does not define the name a check needs."""


class ContractViolation(AssertionError):
    """The call broke a general rule of the curriculum (a warning, a mutated input, a kept argument).

    Attributes:
        rule: which one: "framework", "warning", "mutated" or "kept".
    """

    def __init__(self, message: str, rule: str = ""):
        super().__init__(message)
        self.rule = rule


# Methods whose contract says they copy their argument (docs/curriculum.md): keeping it is a mistake.
COPYING_METHODS = {"set_weights": "replaces the weights by copies of the arrays it is given"}


def describe(value, limit: int = 160, digits: int = 6) -> str:
    """A short readable rendering of an argument or a result, for feedback.

    Args:
        value: plain data (arrays, NumPy or Python numbers, lists, tuples, callables, anything else by repr).
        limit: the longest text returned; longer texts end in "...".
        digits: digits shown per number (more when two values differ only far down).

    Returns:
        The text, one line, numbers rounded for reading.
    """
    if isinstance(value, np.ndarray):
        if value.size <= 12:
            text = np.array2string(value, precision=digits, separator=", ", threshold=12)
            return f"array({text}, dtype={value.dtype})" if value.dtype != np.float64 else f"array({text})"
        return f"<array of shape {value.shape}, dtype {value.dtype}>"
    if isinstance(value, np.generic):
        # repr() of a NumPy 2 scalar is already "np.float32(0.5)": show the number once, rounded.
        shown = _number(value, digits) if value.dtype.kind in "fc" else str(value.item())
        return shown if isinstance(value, np.float64) else f"np.{type(value).__name__}({shown})"
    if isinstance(value, float):
        return _number(value, digits)
    if isinstance(value, (list, tuple)):
        inner = ", ".join(describe(v, 60, digits) for v in value[:6]) + (", ..." if len(value) > 6 else "")
        text = f"[{inner}]" if isinstance(value, list) else f"({inner}{',' if len(value) == 1 else ''})"
    elif callable(value) and hasattr(value, "__name__"):
        text = value.__name__
    else:
        text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _number(x, digits: int) -> str:
    """A float (Python or NumPy) with `digits` significant digits, or its shortest exact form when shorter."""
    if isinstance(x, (complex, np.complexfloating)):
        return str(complex(x))
    short = str(x)   # the shortest text that reads back as x, in x's own precision
    mantissa = short.split("e")[0].replace("-", "").replace(".", "").lstrip("0")
    return short if len(mantissa) <= digits else f"{float(x):.{digits}g}"


def call_text(name: str, args, kwargs) -> str:
    parts = [describe(a, 80) for a in args] + [f"{k}={describe(v, 80)}" for k, v in kwargs.items()]
    return f"{name}({', '.join(parts)})"


class StudentCallable:
    """A function or class of the student's; calling it returns plain data."""

    def __init__(self, backend, target, name: str):
        self._backend, self._target, self.__name__ = backend, target, name

    def __call__(self, *args, **kwargs):
        return self._backend.call(self._target, None, args, kwargs, self.__name__)

    def __repr__(self):
        return f"<student's {self.__name__}>"

    def __deepcopy__(self, memo):
        return self   # a reference to the student's side: copying the arguments keeps it as it is


class StudentObject:
    """An object that lives on the student's side: attributes and method calls travel as plain data."""

    def __init__(self, backend, target, type_name: str, label: str):
        object.__setattr__(self, "_backend", backend)
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_type", type_name)
        object.__setattr__(self, "_label", label)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return self._backend.getattr(self._target, name, f"{self._label}.{name}")

    def __call__(self, *args, **kwargs):
        return self._backend.call(self._target, None, args, kwargs, self._label)

    def call_method(self, method: str, *args, **kwargs):
        return self._backend.call(self._target, method, args, kwargs, f"{self._label}.{method}")

    def __repr__(self):
        return f"<student's {self._type} object>"

    def __deepcopy__(self, memo):
        return self   # a reference to the student's side: copying the arguments keeps it as it is


class BoundMethod:
    """`obj.method` of a student's object: calling it calls the method on the student's side."""

    def __init__(self, obj: StudentObject, method: str):
        self._obj, self._method = obj, method
        self.__name__ = f"{obj._label}.{method}"

    def __call__(self, *args, **kwargs):
        return self._obj.call_method(self._method, *args, **kwargs)


class LocalBackend:
    """The student's definitions in this process (the nbgrader kernel, or tests of the reference).

    Values still cross the same plain-data conversion as on the isolated path, so checks see
    the same types either way and an object's own comparison methods never run.
    """

    def __init__(self, namespace: dict):
        self.namespace = namespace
        self._objects: dict[int, object] = {}
        self.forbidden: dict[str, str] = {}   # owner -> why it gets 0 (it used a forbidden framework)

    def lookup(self, name: str):
        _require_callable(name, protocol.lookup(self.namespace, name))
        return StudentCallable(self, self.namespace[name], name)

    def _refer(self, value):
        key = id(value)
        self._objects[key] = value
        return {"__ref__": key, "side": "student", "type": type(value).__name__,
                "kind": "callable" if callable(value) else "object"}

    def _plain(self, value, label):
        data = wire.encode(value, self._refer_iter)
        _refuse_too_many_items(data, label)
        return wire.decode(data, lambda ref: self._stand_in(ref, label))

    def _refer_iter(self, value):
        if hasattr(value, "__next__"):
            return wire.iterated(value, self._refer_iter)
        return self._refer(value)

    def _stand_in(self, ref, label):
        return StudentObject(self, self._objects[ref["__ref__"]], ref["type"], label)

    def call(self, target, method, args, kwargs, label):
        _refuse_forbidden(self.forbidden, label)
        function = getattr(target, method) if method else target
        sent_args, sent_kwargs = copy.deepcopy(args), copy.deepcopy(kwargs)
        sent_args = [_unwrap(a) for a in sent_args]
        sent_kwargs = {k: _unwrap(v) for k, v in sent_kwargs.items()}
        sink = io.StringIO()
        try:
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                value, captured = protocol.call(function, sent_args, sent_kwargs)
                result = self._plain(value, label)
        except StudentFailure:
            raise
        except Exception as exc:  # the student's own AssertionError too: it is their failure, not a check's
            frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename != protocol.__file__][1:]
            failure = StudentFailure(type(exc).__name__, str(exc), "".join(traceback.format_list(frames[-5:])))
            raise _attributed(failure, label, args, kwargs) from None
        judge_call(self.forbidden, label, args, kwargs, captured)
        return result

    @contextlib.contextmanager
    def substituted(self, functions: dict):
        """The student's code sees `functions` (the reference's, by name) in place of its own
        while inside: in the namespace and in the globals of every function defined there."""
        spaces = {id(self.namespace): self.namespace}
        for value in list(self.namespace.values()):
            space = getattr(value, "__globals__", None)
            if isinstance(space, dict):
                spaces.setdefault(id(space), space)
        restore = protocol.lend(spaces.values(), {name: _as_lent(function) for name, function in functions.items()})
        try:
            yield
        finally:
            restore()

    def getattr(self, target, name, label):
        try:
            value = getattr(target, name)
        except Exception as exc:
            raise StudentFailure(type(exc).__name__, str(exc)) from None
        if callable(value) and not isinstance(value, type):
            return BoundMethod(StudentObject(self, target, type(target).__name__, label.rsplit(".", 1)[0]), name)
        return self._plain(value, label)


def _as_lent(function):
    """A reference function as the student's code gets it when lent: its values cross the same
    plain-data conversion as on the isolated path (a generator arrives as the tuple of its items)."""
    def lent(*args, **kwargs):
        return wire.decode(wire.encode(function(*args, **kwargs), wire.items_only))
    lent.__name__ = lent.__qualname__ = getattr(function, "__name__", "function")
    return lent


def _unwrap(value, depth: int = 0):
    """Arguments that name a generator travel as `wire.Rng`; locally they become the real thing,
    and the student's own objects (anywhere in a list, tuple or dict) become themselves again."""
    if isinstance(value, wire.Rng):
        return np.random.default_rng(value.seed)
    if isinstance(value, (StudentCallable, StudentObject)):
        return value._target
    if depth < 64 and type(value) in (list, tuple):
        return type(value)(_unwrap(v, depth + 1) for v in value)
    if depth < 64 and type(value) is dict:
        return {k: _unwrap(v, depth + 1) for k, v in value.items()}
    return value


def _text(value, limit: int) -> str:
    """A string from the student's side, as a bounded plain str (whatever was sent)."""
    return value[:limit] if type(value) is str else ""


def _texts(values) -> list[str]:
    return [v[:500] for v in values[:20] if type(v) is str] if type(values) is list else []


_SCALAR_PRONE = ("AttributeError", "TypeError", "IndexError")


def _attributed(failure: StudentFailure, label: str, args, kwargs) -> StudentFailure:
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


def _refuse_forbidden(forbidden: dict[str, str], label: str) -> None:
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
    used = [(name, _text(where, 200)) for name, where in found.items() if name in protocol.FRAMEWORKS]
    tampered = _text(captured.get("tampered"), 200)
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
            "How to fix: rewrite the formula so that no intermediate value overflows, for example by "
            "treating positive and negative inputs separately or by clipping."
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
            "using in-place operators (+=, *=, x[...] = ...) on the arguments."
        )


def _refuse_too_many_items(data, label: str) -> None:
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


def _probe_bound(args, kwargs) -> int:
    """The most entries an argument of a probe may have during a call with these arguments."""
    passed = sum(_extent(a) for a in _walk_arrays([*args, *kwargs.values()]))
    return max(PROBE_MIN_ENTRIES, 4 * passed)


def _bounded_probe(function, bound: int, args, kwargs):
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


def _require_callable(name: str, found: dict) -> None:
    """Raise `Missing` unless `protocol.lookup` found `name` defined as a function or class."""
    if found.get("kind") == "missing":
        raise Missing(f"{name} is not defined in your notebook.\nExpected: the cell that defines {name} "
                      "(keep its name and signature as given), run without errors before it.")
    if found.get("kind") not in ("class", "callable"):
        raise Missing(f"{name} is defined in your notebook, but as a {found.get('type')}, not a "
                      f"function or class. Expected: def {name}(...) or class {name}.")


EXTRA_RESTARTS = 3   # a notebook's process is restarted at most once per exercise plus this, whatever the cause


def restart_limit(exercises: int) -> int:
    """The most restarts of a notebook's process with `exercises` graded exercises (docs/threat-model.md)."""
    return exercises + EXTRA_RESTARTS


class RemoteBackend:
    """The student's definitions in a sandboxed process, reached through the plain-data channel.

    If the process dies or times out, the notebook's cells are run again in a fresh one for
    the next check, at most `max_restarts` times in all (`restart_limit`).
    """

    def __init__(self, start_sandbox, run_cells, max_restarts: int = 3, *, max_cell_restarts: int = 0,
                 budgets=None, costs=None):
        self._start, self._run_cells, self.max_restarts = start_sandbox, run_cells, max_restarts
        self.max_cell_restarts = max_cell_restarts
        self.budgets, self.costs = budgets, costs   # `timing.Budgets` (None: the ceilings), `timing.Costs`
        self.sandbox: Sandbox | None = None
        self.generation = 0
        self.restarts = 0
        self.cell_restarts = 0
        self._probes: dict[int, object] = {}
        self._lent: dict[int, object] = {}   # the reference's functions the student's code may call now
        self._names: dict[tuple[int, str], dict] = {}
        self._broken: dict[str, str] = {}   # name -> how a call of it stopped the process
        self.forbidden: dict[str, str] = {}  # owner -> why it gets 0 (it used a forbidden framework)

    def ensure(self) -> Sandbox:
        """The running sandbox, started (or restarted after a failed call) with the cells run.

        A cell that breaks the process makes `run_cells` skip it and raise; the cells are then
        run again in a fresh process, so each bad cell costs one restart and only what it defines:
        at most one restart per cell (`max_cell_restarts`), all runs sharing the notebook's one
        `notebook_timeout`. A call that stops the process costs one restart too (its function is
        not called again). Restarts of either cause count against one `max_restarts`: a notebook
        of many cells that stop the process cannot buy itself a start-up per cell.

        Raises:
            SandboxError: the process stopped more often than those bounds allow.
        """
        if self.sandbox is not None and self.sandbox.alive:
            return self.sandbox
        cell_failed = False
        while True:
            if self.sandbox is not None:
                self.sandbox.close()
                if self.restarts + self.cell_restarts >= self.max_restarts:
                    raise SandboxError(f"your notebook's process stopped {self.restarts + self.cell_restarts + 1} "
                                       f"times, and is restarted at most {self.max_restarts} times (once per exercise "
                                       f"plus {EXTRA_RESTARTS}); the remaining checks were not run")
                if cell_failed:
                    if self.cell_restarts >= self.max_cell_restarts:
                        raise SandboxError("your notebook's cells stopped its process too many times; the remaining "
                                           "checks were not run")
                    self.cell_restarts += 1
                else:
                    self.restarts += 1
            self.generation += 1
            self.sandbox = self._start()
            try:
                self._run_cells(self.sandbox)
                return self.sandbox
            except SandboxError:
                cell_failed = True

    def close(self):
        if self.sandbox is not None:
            self.sandbox.close()

    def lookup(self, name: str):
        self._ref_of_name(name)
        return StudentCallable(self, ("name", name), name)

    def _ref_of_name(self, name: str) -> dict:
        """The reference to a top-level name in the current process (looked up once per process)."""
        self.ensure()
        key = (self.generation, name)
        if key not in self._names:
            reply = self._request({"op": "lookup", "name": name})
            found = {"kind": reply.get("kind"), "type": _text(reply.get("type"), 100)}
            if found["kind"] != "missing" and type(reply.get("ref")) is not dict:
                found["kind"] = "value"   # nothing the grader could call
            _require_callable(name, found)
            self._names[key] = reply["ref"]
        return self._names[key]

    def budget(self, label: str):
        """The `timing.Budget` of one call of `label` (course.yaml's call_timeout without budgets)."""
        if self.budgets is None:
            from .timing import Budgets

            self.budgets = Budgets(self.ensure().limits, None)
        return self.budgets.call(label)

    def _request(self, message, callbacks=None, label: str | None = None):
        sandbox = self.ensure()
        budget = self.budget(label or "")
        reply = sandbox.request(message, budget.wall, callbacks, cpu=budget.cpu)
        if self.costs is not None and label:
            self.costs.call(label, reply["cost"])
        if reply.get("ok") is not True:
            error = reply.get("error")
            error = error if isinstance(error, dict) else {}
            raise StudentFailure(_text(error.get("type"), 100) or "Error", _text(error.get("message"), 2000),
                                 _text(error.get("traceback"), 4000))
        return reply

    def _target(self, target):
        self.ensure()
        if target[0] == "name":
            return self._ref_of_name(target[1])
        generation, ref = target
        if generation != self.generation:
            raise SandboxError("this object was created in a process that has since been stopped")
        return ref

    def _grader_ref(self, value):
        # the student's own functions and objects (in a list or dict the check passes back, such as
        # an Adam state holding an object) go back as themselves, never as a grader's function
        if isinstance(value, (StudentCallable, StudentObject)):
            return self._target(value._target)
        if callable(value):
            self._probes[id(value)] = value
            return {"__ref__": id(value), "side": "grader", "type": getattr(value, "__name__", "function"),
                    "kind": "callable"}
        raise wire.WireError(f"cannot send a {type(value).__name__} to the student's code")

    def _encode_arg(self, value):
        if isinstance(value, (StudentCallable, StudentObject)):
            return self._target(value._target)
        return wire.encode(value, self._grader_ref)

    def _unless_broken(self, label: str, refusal) -> str:
        """The owner of `label` (the student's name before any dot). A name whose call stopped the
        process once is not run again: it would cost a restart (and the notebook's other exercises
        their time) on every remaining check; `refusal()` then says what was not done."""
        owner = label.split(".")[0]
        if owner in self._broken:
            raise StudentFailure("Stopped", f"{refusal()}: an earlier call of {owner} {self._broken[owner]}")
        return owner

    @contextlib.contextmanager
    def _stopping(self, owner: str):
        """Remember `owner` as broken if what runs inside stops the student's process."""
        try:
            yield
        except SandboxError as exc:
            self._broken[owner] = f"stopped your notebook's process ({exc})"
            raise

    def call(self, target, method, args, kwargs, label):
        _refuse_forbidden(self.forbidden, label)
        owner = self._unless_broken(label, lambda: f"{call_text(label, args, kwargs)} was not called")
        ref = self._target(target)
        message = {"op": "call", "target": ref, "method": method,
                   "args": [self._encode_arg(a) for a in args],
                   "kwargs": {k: self._encode_arg(v) for k, v in kwargs.items()}}
        bound = _probe_bound(args, kwargs)

        def probe(ref):
            function = self._lent[ref] if ref in self._lent else self._probes[ref]
            return lambda *a, **k: _bounded_probe(function, bound, a, k)

        with self._stopping(owner):
            try:
                reply = self._request(message, callbacks=probe, label=label)
            except StudentFailure as exc:
                raise _attributed(exc, label, args, kwargs) from None
            except CallTimeout as exc:
                if self.sandbox.limit_hit() == "memory":
                    # under load, a tree that allocates without bound runs out of time near its memory
                    self._broken[owner] = f"stopped your notebook's process ({self.sandbox.died})"
                    raise StudentFailure("MemoryLimit", f"{call_text(label, args, kwargs)}: "
                                         f"{self.sandbox.died or self.sandbox.memory_message()}") from None
                self._broken[owner] = f"did not return within {exc.limit}"
                where = f" at {exc.where}" if exc.where else ""
                stopped = (f"was interrupted{where}" if exc.interrupted
                           else "did not stop when interrupted, so your notebook's process was stopped")
                used, limit = self.sandbox.memory_used_mb(), self.sandbox.limits.memory_mb
                growing = (f", using {used:.0f} MiB of its {limit} MiB memory limit by then. Look for a loop that "
                           "never ends or keeps allocating" if used >= limit / 2 else ". Look for a loop that never ends")
                raise StudentFailure(
                    "Timeout", f"{call_text(label, args, kwargs)} did not return within {exc.limit} and {stopped}"
                    f"{growing}.") from None
        judge_call(self.forbidden, label, args, kwargs, reply)
        return self._decode(reply, label)

    @contextlib.contextmanager
    def substituted(self, functions: dict):
        """The student's code sees `functions` (the reference's, by name) in place of its own while
        inside. They stay here: the student's process gets functions that ask the grader, which
        answers them only until the block ends."""
        refs = {}
        for name, function in functions.items():
            self._lent[id(function)] = function
            refs[name] = {"__ref__": id(function), "side": "grader", "type": name, "kind": "callable"}
        try:
            self._forget_names(functions)
            self._request({"op": "lend", "names": refs})
            yield
        finally:
            self._forget_names(functions)
            self._lent.clear()
            if self.sandbox is not None and self.sandbox.alive:
                self._request({"op": "unlend"})

    def _forget_names(self, names) -> None:
        """Look these names up again on their next call: a check that calls a lent name itself
        (adam_update's checks call adam_init) then gets the lent function, as in-kernel."""
        for name in names:
            self._names.pop((self.generation, name), None)

    def _decode(self, reply, label):
        _refuse_too_many_items(reply.get("value"), label)
        try:
            return wire.decode(reply.get("value"), lambda r: self._stand_in(r, label))
        except wire.WireError as exc:
            raise StudentFailure("Unreadable", str(exc), call=label) from None

    def _stand_in(self, ref, label):
        return StudentObject(self, (self.generation, ref), _text(ref.get("type"), 100) or "object", label)

    def getattr(self, target, name, label):
        owner = self._unless_broken(label, lambda: f"{label} was not read")
        with self._stopping(owner):
            try:
                reply = self._request({"op": "getattr", "target": self._target(target), "name": name}, label=label)
            except CallTimeout as exc:
                self._broken[owner] = f"did not answer within {exc.limit}"
                raise StudentFailure("Timeout", f"reading {label} did not finish within {exc.limit}.") from None
        value = self._decode(reply, label)
        if isinstance(value, StudentObject) and value._type == "method":
            return BoundMethod(StudentObject(self, target, "object", label.rsplit(".", 1)[0]), name)
        return value

"""The student's definitions in this process: the nbgrader kernel, or tests of the reference."""
from __future__ import annotations

import contextlib
import copy
import io
import traceback
import numpy as np

from ..sandbox import protocol, wire
from ..sandbox.launcher import StudentFailure
from .feedback import attributed
from .proxies import BoundMethod, StudentCallable, StudentObject, require_callable
from .rules import judge_call, refuse_forbidden, refuse_too_many_items


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
        require_callable(name, protocol.lookup(self.namespace, name))
        return StudentCallable(self, self.namespace[name], name)

    def _refer(self, value):
        key = id(value)
        self._objects[key] = value
        return {"__ref__": key, "side": "student", "type": type(value).__name__,
                "kind": "callable" if callable(value) else "object"}

    def _plain(self, value, label):
        data = wire.encode(value, self._refer_iter)
        refuse_too_many_items(data, label)
        return wire.decode(data, lambda ref: self._stand_in(ref, label))

    def _refer_iter(self, value):
        if hasattr(value, "__next__"):
            return wire.iterated(value, self._refer_iter)
        return self._refer(value)

    def _stand_in(self, ref, label):
        return StudentObject(self, self._objects[ref["__ref__"]], ref["type"], label)

    def call(self, target, method, args, kwargs, label):
        refuse_forbidden(self.forbidden, label)
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
            raise attributed(failure, label, args, kwargs) from None
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

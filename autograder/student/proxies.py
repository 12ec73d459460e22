"""The student's functions, classes and objects as the checks hold them: calls go through a backend."""
from __future__ import annotations

from .feedback import Missing


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


def require_callable(name: str, found: dict) -> None:
    """Raise `Missing` unless `protocol.lookup` found `name` defined as a function or class."""
    if found.get("kind") == "missing":
        raise Missing(f"{name} is not defined in your notebook.\nExpected: the cell that defines {name} "
                      "(keep its name and signature as given), run without errors before it.")
    if found.get("kind") not in ("class", "callable"):
        raise Missing(f"{name} is defined in your notebook, but as a {found.get('type')}, not a "
                      f"function or class. Expected: def {name}(...) or class {name}.")

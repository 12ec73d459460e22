"""nbgrader's stock `Execute`: what a source notebook's hidden test cell calls inside the kernel.

`nbgrader autograde` with the derived config never runs it (`nbgrader_preprocessor` grades in
isolation instead); it serves `nbgrader validate` on a source notebook and configs that keep
nbgrader's own `Execute` (the benchmark's stock timing).

`grade_exercise` runs the same hidden checks as the isolated grader, against the functions
the student's cells defined in this kernel, prints the feedback to stdout and returns the
points earned as the cell's value: nbgrader reads a numeric output as partial credit (and an
error, or anything on stderr, as zero, so nothing here writes to stderr).

Student code shares this kernel: see docs/threat-model.md for what stock `Execute` cannot
promise; grade with the derived config, `grade` or `grade-all`.
"""
from __future__ import annotations

import builtins
import contextlib
import os
import sys
import types
from pathlib import Path

import numpy as np

from .config import COURSE_ROOT, load_course
from .engine import run_checks
from .report import exercise_feedback
from .student import LocalBackend

# What the checks rely on in the kernel, which the student's cells share (see docs/threat-model.md).
_NUMPY_NAMES = ("allclose", "isclose", "array_equal", "asarray", "array", "shape", "ndim", "abs", "absolute",
                "maximum", "minimum", "any", "all", "where", "isnan", "isfinite", "errstate", "prod", "argwhere",
                "nanmax", "zeros", "ones", "float64", "float32", "ndarray", "random")
_BUILTIN_NAMES = ("isinstance", "type", "len", "abs", "float", "int", "bool", "sum", "max", "min", "all", "any",
                  "round", "repr", "str", "getattr", "callable", "iter", "next", "print", "__import__")
_PACKAGES = {"autograder": COURSE_ROOT / "autograder", "solutions": COURSE_ROOT / "solutions",
             "numpy": Path(np.__file__).resolve().parent}


def grade_exercise(assignment_id: str, exercise: str, namespace: dict) -> float:
    """Run the hidden checks of one exercise against `namespace`; print feedback; return the points.

    Args:
        assignment_id: e.g. "a01_perceptron".
        exercise: the exercise's name in course.yaml.
        namespace: the kernel's globals, where the student's definitions live.

    Returns:
        The points earned, between 0 and the exercise's points.
    """
    problems = tampering()
    if problems:
        print(f"{exercise}: 0 points: your notebook replaced {problems[0]}, which the grader relies on.\n"
              "Do not patch numpy, builtins, pytest or the grader's modules; remove that cell and submit again.")
        return 0.0
    assignment = load_course().assignment(assignment_id)
    # the checks, Keras' recorded results and the reference are imported afresh from their files,
    # never from sys.modules entries a student's cell could have planted or filled
    fresh = (f"autograder.checks.{assignment_id}", "autograder.checks.recorded")
    for name in [m for m in sys.modules if m in fresh or m.split(".")[0] == "solutions"]:
        del sys.modules[name]
    with _no_native_stderr():
        (result,) = run_checks(assignment, LocalBackend(dict(namespace)), {exercise})
    print(exercise_feedback(result))
    return result.score


def tampering() -> list[str]:
    """What a student's cell replaced among the things the checks use in this kernel: NumPy's
    functions, builtins, pytest, the grader's own modules. Empty when all look genuine.

    This raises the bar; it is no guarantee (a cell runs with the kernel's full powers before the
    hidden cell). The isolated path (`python -m autograder grade`) is the guarantee.
    """
    found = []
    numpy_dir = _PACKAGES["numpy"]
    for name in _NUMPY_NAMES:
        value = getattr(np, name, None)
        if not _genuine(value, name, numpy_dir, "numpy"):
            found.append(f"np.{name}")
    for name in _BUILTIN_NAMES:
        value = builtins.__dict__.get(name)
        if not (isinstance(value, type) and value.__module__ == "builtins" and value.__name__ == name) and not (
                type(value) is types.BuiltinFunctionType and getattr(value, "__name__", None) == name
                and getattr(value, "__self__", None) is builtins):
            found.append(f"builtins.{name}")
    for module_name, module in list(sys.modules.items()):
        top = module_name.split(".")[0]
        if top in ("autograder", "solutions", "pytest", "_pytest", "pluggy", "numpy") and module is not None:
            path = getattr(module, "__file__", None)
            home = _PACKAGES.get(top) or _site_of(top)
            if path is not None and home is not None and not _inside(Path(path), home):
                found.append(f"the module {module_name}")
            elif path is None and top in ("autograder", "pytest", "_pytest") and not hasattr(module, "__path__"):
                found.append(f"the module {module_name}")
    return found


def _site_of(top: str) -> Path | None:
    import importlib.util

    spec = importlib.util.find_spec(top) if top not in sys.modules else getattr(sys.modules[top], "__spec__", None)
    origin = getattr(spec, "origin", None)
    return Path(origin).resolve().parent if origin else None


def _inside(path: Path, home: Path) -> bool:
    try:
        return path.resolve().is_relative_to(home.resolve())
    except (OSError, ValueError):
        return False


def _genuine(value, name: str, home: Path, package: str) -> bool:
    if value is None:
        return False
    if isinstance(value, types.FunctionType):
        return _inside(Path(value.__code__.co_filename), home)
    if isinstance(value, types.ModuleType):
        return _inside(Path(getattr(value, "__file__", "") or "/"), home)
    if isinstance(value, np.ufunc):
        return value.__name__ == {"abs": "absolute"}.get(name, name)
    module = getattr(value, "__module__", "") or ""
    return module.split(".")[0] == package


@contextlib.contextmanager
def _no_native_stderr():
    """Keep native libraries' messages (TensorFlow's start-up logs) off the cell's stderr, which
    nbgrader would read as an error worth zero points."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)

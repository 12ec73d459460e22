"""course.yaml, loaded into one typed and validated configuration.

Every key has a type, a default and a description (the `field` metadata below); a bad
file gets a `ConfigError` that names the key, says what was expected and what was found.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

COURSE_ROOT = Path(__file__).resolve().parent.parent
COURSE_FILE = COURSE_ROOT / "course.yaml"


class ConfigError(ValueError):
    """course.yaml is missing, unreadable or does not match the schema."""


def _key(default: Any, description: str, *, minimum: float | None = None):
    return field(default=default, metadata={"description": description, "minimum": minimum})


@dataclass(frozen=True)
class Limits:
    startup_timeout: float = _key(60, "seconds for the sandbox to start before the first cell", minimum=1)
    cell_timeout: float = _key(60, "seconds for one notebook cell, at most (the ceiling of its budget)", minimum=1)
    notebook_timeout: float = _key(300, "seconds for all of a notebook's cells together, over every restart",
                                   minimum=1)
    call_timeout: float = _key(20, "seconds for one call of a student's function by a check, at most (the ceiling "
                                   "of its budget)", minimum=0.1)
    reference_factor: float = _key(5, "a cell or a call may use this many times the CPU time the reference "
                                      "solution's took (reference_timing.json), within the ceilings", minimum=1)
    cpu_floor: float = _key(2, "seconds of CPU time every cell and call may use, whatever the reference took",
                            minimum=0.1)
    interrupt_grace: float = _key(5, "seconds an interrupted cell or call has to stop before its process is "
                                     "killed and started again", minimum=0.5)
    memory_mb: int = _key(4096, "resident memory of the student's process tree, in MiB", minimum=64)
    output_kb: int = _key(256, "what the student's code may print, in KiB; the rest is counted, not kept", minimum=1)


@dataclass(frozen=True)
class Tolerances:
    rtol: float = _key(1e-6, "relative tolerance of float64 results against the reference", minimum=0)
    atol: float = _key(1e-9, "absolute tolerance of float64 results against the reference", minimum=0)
    float32_rtol: float = _key(1e-4, "relative tolerance of float32 results", minimum=0)
    float32_atol: float = _key(1e-6, "absolute tolerance of float32 results", minimum=0)
    keras_rtol: float = _key(1e-5, "relative tolerance of float32 results against Keras", minimum=0)
    keras_atol: float = _key(1e-6, "absolute tolerance of float32 results against Keras", minimum=0)


@dataclass(frozen=True)
class NbgraderSettings:
    cell_timeout: int = _key(180, "nbgrader's per-cell execution timeout in seconds", minimum=1)


# -- Gradescope: the bundle's settings (autograder/gradescope.py) --------------------------------
GRADESCOPE_VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")   # Gradescope's own values


@dataclass(frozen=True)
class GradescopeSettings:
    visibility: str = _key("after_due_date", "when students see each hidden check's result and feedback on "
                                             "Gradescope: hidden (never), after_due_date, after_published (when "
                                             "grades are published) or visible (at once); the total score and "
                                             "the submission's summary show at once")

    def __post_init__(self) -> None:
        if self.visibility not in GRADESCOPE_VISIBILITIES:
            raise ConfigError(f"gradescope.visibility: expected one of {', '.join(GRADESCOPE_VISIBILITIES)}. "
                              f"Received: {self.visibility!r}.")


@dataclass(frozen=True)
class Exercise:
    name: str = _key("", "the graded function or class, as named in curriculum.md")
    points: float = _key(1, "points the exercise is worth", minimum=0)


@dataclass(frozen=True)
class Assignment:
    id: str = _key("", "assignment id, e.g. a01_perceptron; names source/<id>/<id>.ipynb")
    title: str = _key("", "title shown to students")
    exercises: tuple[Exercise, ...] = _key((), "the graded exercises, in notebook order")

    @property
    def max_score(self) -> float:
        return sum(e.points for e in self.exercises)

    def exercise(self, name: str) -> Exercise:
        for e in self.exercises:
            if e.name == name:
                return e
        raise KeyError(f"{self.id} has no exercise {name!r}; it has {[e.name for e in self.exercises]}")


@dataclass(frozen=True)
class Course:
    course_id: str = _key("intro-deep-learning", "nbgrader course id")
    title: str = _key("Introduction to Deep Learning", "course title")
    limits: Limits = _key(Limits(), "grading limits of the isolated path")
    tolerances: Tolerances = _key(Tolerances(), "numerical tolerances of the checks")
    nbgrader: NbgraderSettings = _key(NbgraderSettings(), "settings passed on to nbgrader")
    gradescope: GradescopeSettings = _key(GradescopeSettings(), "settings of the Gradescope bundle")
    assignments: tuple[Assignment, ...] = _key((), "the course's assignments, in order")

    def assignment(self, assignment_id: str) -> Assignment:
        for a in self.assignments:
            if a.id == assignment_id:
                return a
        known = ", ".join(a.id for a in self.assignments)
        raise ConfigError(f"Unknown assignment {assignment_id!r}. Expected one of: {known}.")


def describe(cls=Course, prefix: str = "") -> list[tuple[str, str, Any]]:
    """Every key of the schema as (dotted name, description, default), for docs and tests."""
    rows = []
    for f in dataclasses.fields(cls):
        name = prefix + f.name
        rows.append((name, f.metadata["description"], f.default))
        if dataclasses.is_dataclass(f.default):
            rows.extend(describe(type(f.default), name + "."))
    return rows


def _build(cls, data: Any, where: str):
    if not isinstance(data, dict):
        raise ConfigError(f"{where or 'course.yaml'}: expected a mapping, received {type(data).__name__}.")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(
            f"{where + '.' if where else ''}{unknown[0]}: unknown key. Expected one of: {', '.join(fields)}."
        )
    values = {}
    for name, f in fields.items():
        key = f"{where}.{name}" if where else name
        if name not in data:
            if f.default in ("", ()):
                raise ConfigError(f"{key}: missing. Expected {f.metadata['description']}.")
            continue
        values[name] = _convert(f, data[name], key)
    return cls(**values)


def _convert(f: dataclasses.Field, value: Any, key: str):
    default = f.default
    if dataclasses.is_dataclass(default):
        return _build(type(default), value, key)
    if f.name == "assignments":
        return tuple(_build(Assignment, item, f"{key}[{i}]") for i, item in enumerate(_list(value, key)))
    if f.name == "exercises":
        return tuple(_build(Exercise, item, f"{key}[{i}]") for i, item in enumerate(_list(value, key)))
    if isinstance(default, str):
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{key}: expected a non-empty string ({f.metadata['description']}). Received: {value!r}.")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{key}: expected a number ({f.metadata['description']}). Received: {value!r}.")
    minimum = f.metadata["minimum"]
    if minimum is not None and value < minimum:
        raise ConfigError(f"{key}: expected a number >= {minimum}. Received: {value!r}.")
    return type(default)(value) if isinstance(default, int) and float(value).is_integer() else value


def _list(value: Any, key: str) -> list:
    if not isinstance(value, list):
        raise ConfigError(f"{key}: expected a list. Received: {type(value).__name__}.")
    return value


def _validate(course: Course) -> Course:
    seen = set()
    for a in course.assignments:
        if a.id in seen:
            raise ConfigError(f"assignments: {a.id!r} is listed twice. Expected each id once.")
        seen.add(a.id)
        names = [e.name for e in a.exercises]
        duplicated = {n for n in names if names.count(n) > 1}
        if duplicated:
            raise ConfigError(f"assignments.{a.id}.exercises: {sorted(duplicated)} listed twice.")
    return course


def load_course(path: str | Path = COURSE_FILE) -> Course:
    """Read and validate course.yaml.

    Args:
        path: the YAML file; the repository's course.yaml by default.

    Returns:
        The validated `Course`.

    Raises:
        ConfigError: the file is missing, not YAML, or does not match the schema.
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"Cannot read {path}: {exc.strerror}.") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}".splitlines()[0]) from None
    return _validate(_build(Course, data if data is not None else {}, ""))

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
    # Who runs the student's code where no namespaces can be made and the grader is root
    # (isolation unprivileged-user): each sandbox running at once gets a uid of its own from this range.
    student_uid_first: int = _key(64000, "the first uid (and gid) the sandboxes may run students' code as where "
                                         "namespaces are unavailable and the grader is root; uids a user or group "
                                         "of the machine has are skipped", minimum=1000)
    student_uids: int = _key(1000, "how many uids from student_uid_first: at least the number of sandboxes "
                                   "running at once on one machine", minimum=1)


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


# -- late work (grade-all; nbgrader's LateSubmissionPlugin meaning) --------------------------------
PENALTY_METHODS = ("none", "zero", "per_hour", "per_day")


@dataclass(frozen=True)
class DueDate:
    assignment: str = _key("", "assignment id")
    due: str = _key("", "due date, as nbgrader writes timestamps: '2026-12-01 23:59:00 Europe/Berlin' (a time zone "
                        "name or offset; none: UTC)")


@dataclass(frozen=True)
class LatePolicy:
    penalty_method: str = _key("none", "what a late submission costs: 'none' (nothing), 'zero' (its whole score, as "
                                       "nbgrader's LateSubmissionPlugin), 'per_hour' or 'per_day' (penalty_points for "
                                       "each started hour or day late, at most the score)")
    penalty_points: float = _key(1, "points per started hour or day late ('per_hour', 'per_day')", minimum=0)
    due_dates: tuple[DueDate, ...] = _key((), "each assignment's due date; an assignment without one is never late")

    def due_date(self, assignment_id: str | None) -> str:
        """The assignment's due date as written in course.yaml ("" if it has none)."""
        return next((d.due for d in self.due_dates if d.assignment == assignment_id), "")


def parse_timestamp(text: str):
    """A timestamp as nbgrader reads timestamp.txt and due dates (`nbgrader.utils.parse_utc`): a naive
    datetime in UTC; a time without a zone is UTC.

    Raises:
        ValueError: `text` is not a date and time.
    """
    try:
        from nbgrader.utils import parse_utc
    except ImportError:  # nbgrader's own parser, when nbgrader is not installed (e.g. on Gradescope)
        parse_utc = _parse_utc
    try:
        return parse_utc(text.strip())
    except (ValueError, OverflowError, TypeError) as exc:
        raise ValueError(f"{text.strip()!r} is not a date and time ({exc})") from None


def _parse_utc(text: str):
    """nbgrader.utils.parse_utc's algorithm: 'DATE TIME ZONE' with a zone name or numeric offset."""
    import dateutil.parser
    import dateutil.tz

    parts = text.split(" ")
    if len(parts) == 3:
        try:
            zone = int(parts[2])
        except ValueError:
            zone = dateutil.tz.gettz(parts[2])
        moment = dateutil.parser.parse(" ".join(parts[:2] + ["TZ"]), tzinfos={"TZ": zone})
    else:
        moment = dateutil.parser.parse(text)
    if moment.tzinfo is not None:
        moment = (moment - moment.utcoffset()).replace(tzinfo=None)
    return moment
# -- end of late work ----------------------------------------------------------------------------------


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
    late: LatePolicy = _key(LatePolicy(), "late work: due dates and the penalty (grade-all)")


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
    if f.name == "due_dates":
        return _due_dates(value, key)
    if f.name == "penalty_method" and value not in PENALTY_METHODS:
        raise ConfigError(f"{key}: expected one of {', '.join(PENALTY_METHODS)}. Received: {value!r}.")
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


def _due_dates(value: Any, key: str) -> tuple[DueDate, ...]:
    """late.due_dates: a mapping of assignment id to due date, each date checked as nbgrader parses it."""
    if not isinstance(value, dict):
        raise ConfigError(f"{key}: expected a mapping of assignment id to due date, e.g. "
                          f"{{a01_perceptron: '2026-12-01 23:59:00 Europe/Berlin'}}. Received: {type(value).__name__}.")
    dates = []
    for assignment, due in value.items():
        if not isinstance(due, str):   # YAML reads an unquoted 2026-12-01 23:59:00 as a datetime: quote it
            raise ConfigError(f"{key}.{assignment}: expected a quoted date and time with its zone, e.g. "
                              f"'2026-12-01 23:59:00 Europe/Berlin'. Received: {due!r}.")
        parts = due.split()
        if len(parts) == 3 and parts[2].lstrip("+-").isdigit():
            # nbgrader's parse_utc reads "-0500" as 500 seconds: a due date would be off by hours
            raise ConfigError(f"{key}.{assignment}: expected a time zone's name (Europe/Berlin, UTC), as nbgrader "
                              f"reads a numeric offset as seconds. Received: {due!r}.")
        try:
            parse_timestamp(due)
        except ValueError as exc:
            raise ConfigError(f"{key}.{assignment}: expected a date and time such as '2026-12-01 23:59:00 "
                              f"Europe/Berlin'. Received: {exc}.") from None
        dates.append(DueDate(str(assignment), due))
    return tuple(dates)


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
    unknown = [d.assignment for d in course.late.due_dates if d.assignment not in seen]
    if unknown:
        raise ConfigError(f"late.due_dates.{unknown[0]}: unknown assignment. Expected one of: {', '.join(seen)}.")
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

"""The grading engine: runs an assignment's hidden checks (with pytest) against a student's
definitions, and scores them. Both grading paths use it: `grade.py` (isolated) passes a
`RemoteBackend`, the nbgrader bridge a `LocalBackend`.
"""
from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

import pytest

from .config import Assignment
from .results import CheckResult, ExerciseResult, exercise_score  # noqa: F401 (the model's home)
from .sandbox.launcher import SandboxError, StudentFailure
from .student import Missing

CHECKS_DIR = Path(__file__).resolve().parent / "checks"


def check_file(assignment_id: str) -> Path:
    return CHECKS_DIR / f"{assignment_id}.py"


class StudentNamespace:
    """The `student` fixture: `get(name)` looks a definition up once per run, failures included."""

    def __init__(self, backend):
        self.backend = backend
        self._cache = {}

    def get(self, name: str):
        if name not in self._cache:
            try:
                self._cache[name] = self.backend.lookup(name)
            except (Missing, StudentFailure, SandboxError) as exc:
                self._cache[name] = exc
        found = self._cache[name]
        if isinstance(found, Exception):
            raise found
        return found


# Failures the grader itself names (the student's code raised nothing of these names).
_GRADER_MADE = {"Timeout", "Stopped", "MemoryLimit"}


def feedback_for(exc: BaseException) -> str:
    """Turn what a check raised into the student's feedback."""
    if isinstance(exc, StudentFailure):
        if exc.type == "NotImplementedError":
            return "Not implemented yet: the function still raises NotImplementedError."
        if exc.type in _GRADER_MADE:
            return exc.message
        if exc.type == "Unreadable":
            return (f"What {exc.call or 'your function'} returned cannot be checked: {exc.message}. Expected: numbers, "
                    "NumPy arrays of numbers or booleans, or lists, tuples and dicts of them (as the docstring says).")
        trace = _student_frames(exc.traceback)
        if exc.hint:
            return f"{exc.call}: {exc.hint}.{trace}"
        return f"{exc.call or 'Your code'} raised {exc}{trace}"
    if isinstance(exc, SandboxError):
        return f"Your notebook's process stopped: {exc}"
    if isinstance(exc, AssertionError):
        return str(exc)
    return (f"The check could not use what your code returned ({type(exc).__name__}: {exc}). "
            "Check the type and shape of your return value against the docstring.")


def _student_frames(traceback_text: str) -> str:
    """The traceback's frames as the student's lines: `File "<cell 3>", line 2, in sigmoid` reads
    `at cell 3, line 2, in sigmoid`, with the line's code below it where known."""
    if not traceback_text:
        return ""
    text = re.sub(r'File "<cell ([^>]*)>", line', r"at cell \1, line", traceback_text.rstrip())
    text = re.sub(r'File "[^"]*", line', "at line", text)
    return f"\n{text}"


def _mistake_of(exc: BaseException) -> str | None:
    """The named mistake of a check's own failure; a student's exception never names one."""
    from .checks.kit import CheckFailure

    mistake = getattr(exc, "mistake", None) if isinstance(exc, CheckFailure) else None
    return mistake if isinstance(mistake, str) else None


def _caused_by(exc: BaseException) -> tuple | None:
    """(causes, note) of a check's `CausedBy` failure, else None."""
    from .checks.kit import CausedBy

    return (exc.causes, exc.note) if isinstance(exc, CausedBy) else None


class _Collector:
    def __init__(self, namespace: StudentNamespace, exercises: set[str] | None, names: set[str] | None = None):
        self.namespace = namespace
        self.exercises = exercises
        self.names = names          # only these checks (a retry), all by default
        self.results: list[CheckResult] = []
        self.unfinished: set[str] = set()   # checks whose function is missing, unwritten or stopped
        self.errors: list[str] = []          # why the checks module could not be collected
        self.methods: dict[str, str] = {}    # check -> the method of a class it grades (its `method` tag)
        self.causes: dict[str, tuple] = {}   # check -> (methods, note) of a `CausedBy` failure

    def pytest_collectreport(self, report):
        if report.failed:
            self.errors.append(report.longreprtext)

    @pytest.fixture
    def student(self):
        return self.namespace

    def pytest_collection_modifyitems(self, session, config, items):
        keep = [i for i in items if (self.exercises is None or getattr(i.function, "exercise", None) in self.exercises)
                and (self.names is None or i.name in self.names)]
        dropped = [i for i in items if i not in keep]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
        items[:] = keep

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_makereport(self, item, call):
        """Record the check's result; give pytest a plain report of it. The feedback comes from
        `feedback_for`: pytest need not render the failure's traceback (it did so for every failed
        check, shown or not)."""
        failed = call.excinfo is not None
        if call.when == "call" or failed:
            self._record(item, call)
        return pytest.TestReport(item.nodeid, item.location, {}, "failed" if failed else "passed",
                          call.excinfo.typename if failed else None, call.when, [], call.duration, call.start,
                          call.stop)

    def _record(self, item, call):
        function = item.function
        question = (function.__doc__ or function.__name__).strip().splitlines()[0]
        passed = call.excinfo is None and call.when == "call"
        feedback = "" if passed else feedback_for(call.excinfo.value)
        mistake = _mistake_of(call.excinfo.value) if not passed else None
        if call.excinfo and _unfinished(call.excinfo.value):
            self.unfinished.add(item.name)
        if getattr(function, "method", None):
            self.methods[item.name] = function.method
        caused = _caused_by(call.excinfo.value) if not passed else None
        if caused:
            self.causes.setdefault(item.name, caused)
        existing = [r for r in self.results if r.name == item.name]
        if existing:
            existing[0].passed = existing[0].passed and passed
            existing[0].feedback = existing[0].feedback or feedback
            existing[0].mistake = existing[0].mistake or mistake
            return
        self.results.append(CheckResult(item.name, question, function.exercise, function.weight, passed, feedback,
                                        mistake))


def _unfinished(exc: BaseException) -> bool:
    """A failure no other exercise can cause: the function is missing, still raises
    NotImplementedError, or was not run again after it stopped the process."""
    if isinstance(exc, (Missing, SandboxError)):
        return True
    return isinstance(exc, StudentFailure) and exc.type in ("NotImplementedError", "Stopped")


def run_checks(assignment: Assignment, backend, exercises: set[str] | None = None) -> list[ExerciseResult]:
    """Run the hidden checks of `assignment` against the student's definitions, then charge each
    mistake once (`_charge_once`).

    Args:
        assignment: from course.yaml.
        backend: where the student's definitions live (`LocalBackend` or `RemoteBackend`).
        exercises: only these exercises' checks (all by default).

    Returns:
        One `ExerciseResult` per exercise of course.yaml (in its order), with its checks.

    Raises:
        FileNotFoundError: the assignment has no checks module.
    """
    collector = _run(assignment, backend, exercises)
    _charge_once(assignment, backend, collector, exercises)
    results = []
    forbidden = getattr(backend, "forbidden", {})
    for ex in assignment.exercises:
        if exercises is not None and ex.name not in exercises:
            continue
        checks = [r for r in collector.results if r.exercise == ex.name]
        if ex.name in forbidden:  # the curriculum's rule: using a framework costs the whole exercise
            for check in checks:
                check.passed, check.feedback = False, forbidden[ex.name] if check.passed else check.feedback
        results.append(ExerciseResult(ex.name, ex.points, checks))
    return results


def _charge_once(assignment: Assignment, backend, collector: "_Collector", exercises: set[str] | None) -> None:
    """One mistake is charged once: a failed check of an exercise whose code calls an earlier
    exercise's function (sigmoid_derivative calling the student's sigmoid, mlp_forward calling
    dense_forward) is run again with the reference's function in place of each earlier one that
    failed a check. If it passes then, the failure came from that earlier function, whose own checks
    charge it: the check passes here, with a note naming the cause.

    The reference's function stays on the grader's side: the student's code reaches it only during
    that one check, as a function the grader answers (`backend.substituted`), with the check's own
    bounds on the arguments. Nothing is retried for a function that is missing, unwritten or stopped.
    """
    _charge_within(collector)
    order = [ex.name for ex in assignment.exercises]
    failed = {r.exercise for r in collector.results if not r.passed}
    retry = {r.name: r for r in collector.results
             if not r.passed and r.name not in collector.unfinished and r.exercise not in getattr(backend, "forbidden", {})}
    if not retry:
        return
    if exercises is not None:   # one exercise at a time (the in-kernel bridge): which earlier ones fail?
        earlier = {name for ex in exercises if ex in order for name in order[:order.index(ex)]} - exercises
        if earlier:
            failed |= {r.exercise for r in _run(assignment, backend, earlier).results if not r.passed}
    functions = _reference_functions(assignment.id)

    def passes_with(check: CheckResult, names: list[str]) -> bool:
        with backend.substituted({name: functions[name] for name in names}):
            again = _run(assignment, backend, {check.exercise}, names={check.name}).results
        return bool(again) and again[0].passed

    # In the course's order: a reference is lent only once every check of its own exercise is final,
    # so nothing the student's code kept of it (values in a global, a file) can serve that exercise.
    for check in sorted(retry.values(), key=lambda r: order.index(r.exercise)):
        causes = [name for name in order[:order.index(check.exercise)] if name in failed and name in functions]
        if not causes or not passes_with(check, causes):
            continue   # not even with every earlier function replaced: this function's own mistake
        # the one that is the cause, when one alone explains it
        cause = next(([name] for name in causes if len(causes) > 1 and passes_with(check, [name])), causes)
        named = " and ".join(cause)
        check.passed, check.mistake = True, None
        check.feedback = (f"Passed with the reference {named} in place of yours: the failure came from your "
                          f"{named}, charged in {'its' if len(cause) == 1 else 'their'} own checks.")


def _charge_within(collector: "_Collector") -> None:
    """One mistake is charged once within a class: a check that failed only through another method
    of the student's class (its `CausedBy` failure: train_step did what it should with the student's
    own wrong gradients) passes, with its note, when a check of each such method failed before it
    (in the checks' order, so that two checks never excuse each other). So a wrong method costs its
    own checks, and a failure nothing else explains stays charged."""
    failed_methods: set[str] = set()
    for check in collector.results:   # in the order the checks ran
        if check.passed:
            continue
        caused = collector.causes.get(check.name)
        if caused and all(cause in failed_methods for cause in caused[0]):
            check.passed, check.mistake, check.feedback = True, None, caused[1]
        if collector.methods.get(check.name):
            failed_methods.add(collector.methods[check.name])   # charged here, or through its causes


def _reference_functions(assignment_id: str) -> dict:
    """The reference solution's plain functions, by exercise name (classes cannot be lent)."""
    import importlib
    import inspect

    from .registry import solution_module

    module = importlib.import_module(solution_module(assignment_id))
    return {name: value for name, value in vars(module).items() if inspect.isfunction(value)}


def _run(assignment: Assignment, backend, exercises: set[str] | None, names: set[str] | None = None) -> "_Collector":
    """One pytest session over the assignment's checks (these exercises', these checks')."""
    path = check_file(assignment.id)
    if not path.exists():
        raise FileNotFoundError(f"No hidden checks for {assignment.id}: expected {path}.")
    collector = _Collector(StudentNamespace(backend), exercises, names)
    args = [str(path), "-c", str(CHECKS_DIR / "pytest.ini"), "--rootdir", str(CHECKS_DIR.parent.parent),
            "-p", "no:cacheprovider", "-p", "no:faulthandler",
            # these two call gc.collect() around every check: seconds per run once TensorFlow is loaded
            "-p", "no:unraisableexception", "-p", "no:threadexception",
            *[a for name in _UNUSED_PLUGINS for a in ("-p", f"no:{name}")],
            # the feedback comes from `feedback_for`: nothing of pytest's is shown (its terminal
            # reporter summarised every session, failures included: a third of the session's time)
            "-p", "no:terminal", "-s", "-W", "ignore::pytest.PytestAssertRewriteWarning"]
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), _quiet_env():
        code = pytest.main(args, plugins=[collector])
    if code not in (0, 1, 5):
        why = "\n".join([*collector.errors, sink.getvalue()])
        raise RuntimeError(f"pytest could not run the checks of {assignment.id} (exit {code}):\n{why[-3000:]}")
    return collector


# Built-in plugins the checks never use; each one costs time on every run.
_UNUSED_PLUGINS = ("doctest", "junitxml", "pastebin", "legacypath", "stepwise", "setuponly", "setupplan",
                   "unittest", "logging", "tmpdir", "monkeypatch", "recwarn", "debugging")
# The checks' environment: no options from the caller's shell, and no third-party plugins (their
# discovery through package metadata alone cost a third of pytest's time per notebook).
_ENVIRONMENT = {"PYTEST_ADDOPTS": None, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}


@contextlib.contextmanager
def _quiet_env():
    old = {name: os.environ.get(name) for name in _ENVIRONMENT}
    for name, value in _ENVIRONMENT.items():
        _set_env(name, value)
    try:
        yield
    finally:
        for name, value in old.items():
            _set_env(name, value)


def _set_env(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value

"""Record Keras' results for the hidden checks, so that grading need not import TensorFlow.

`python -m autograder record-keras [ID ...] [--stale]` runs each assignment's hidden checks on the
reference solution (`solutions/`) with every `@keras_result` call computed by Keras, and writes
what the calls returned to `autograder/checks/recorded/<ID>.json` (`checks/recorded.py` says how
grading reads it). Run it after a change to a checks module, Keras, TensorFlow or NumPy: a record
made for other code is not used, and grading falls back to Keras itself (correct, but slower).
A Gradescope image runs it with `--stale` at setup, for the versions its Python installs.
"""
from __future__ import annotations

import importlib
from pathlib import Path

from .checks import recorded
from .config import Course, load_course
from .engine import check_file, run_checks
from .registry import solution_module
from .student import LocalBackend


def record_keras_results(assignment_ids: list[str], *, stale_only: bool = False,
                         course: Course | None = None) -> list[Path]:
    """Run each assignment's checks on its reference solution and record their Keras results.

    Args:
        assignment_ids: the assignments to (re)record; the others keep their records.
        stale_only: only those whose record is missing or was made for other code or versions
            (and whose checks are here: a Gradescope bundle holds one assignment's).
        course: the configuration (course.yaml by default).

    Returns:
        The record files written (none for an assignment whose checks use no Keras result).

    Raises:
        RuntimeError: the reference solution failed a check (its record would be wrong).
    """
    course = course or load_course()
    if stale_only:
        assignment_ids = [a for a in assignment_ids if _unusable_record(a)]
    recorded.start_recording()
    try:
        for assignment_id in assignment_ids:
            namespace = dict(vars(importlib.import_module(solution_module(assignment_id))))
            failed = [c.name for r in run_checks(course.assignment(assignment_id), LocalBackend(namespace))
                      for c in r.checks if not c.passed]
            if failed:
                raise RuntimeError(f"the reference of {assignment_id} failed {', '.join(failed)}: "
                                   "fix it before recording its Keras results")
    finally:
        seen = recorded.stop_recording()
    return recorded.write_records(seen, assignment_ids)


def stale_records(assignment_ids) -> list[str]:
    """A line for the instructor per assignment whose checks use Keras results that grading could
    not read from a record (missing, or made for other code or versions), saying how to fix it.

    Args:
        assignment_ids: the assignments just graded.

    Returns:
        The lines (none when every record is current).
    """
    lines = []
    for assignment_id in sorted(set(assignment_ids)):
        state = _unusable_record(assignment_id)
        if state:
            why = "missing" if state == "missing" else "made for other code or versions"
            lines.append(f"note: the record of Keras' results for {assignment_id} is {why}, so its checks computed "
                         f"them with Keras (the same grades, about 5 s more per process); to record them: "
                         f"python -m autograder record-keras {assignment_id}")
    return lines


def _unusable_record(assignment_id: str) -> str | None:
    """"missing" or "stale" when the assignment's checks (here: a Gradescope bundle holds one
    assignment's) use Keras results that their record cannot give; None otherwise."""
    if not check_file(assignment_id).exists():
        return None
    module = importlib.import_module(f"{recorded.__package__}.{assignment_id}")
    if not recorded.uses_keras_results(module):
        return None
    state = recorded.record_state(module.__name__)
    return None if state == "current" else state


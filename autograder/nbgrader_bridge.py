"""The nbgrader path: what a source notebook's hidden test cell calls inside the kernel.

`grade_exercise` runs the same hidden checks as the isolated grader, against the functions
the student's cells defined in this kernel, prints the feedback to stdout and returns the
points earned as the cell's value: nbgrader reads a numeric output as partial credit (and an
error, or anything on stderr, as zero, so nothing here writes to stderr).

Student code shares this kernel: see docs/threat-model.md for what the nbgrader path
cannot promise, and use `python -m autograder grade`, the isolated path, where that matters.
"""
from __future__ import annotations

import contextlib
import os

from .config import load_course
from .engine import run_checks
from .student import LocalBackend


def grade_exercise(assignment_id: str, exercise: str, namespace: dict) -> float:
    """Run the hidden checks of one exercise against `namespace`; print feedback; return the points.

    Args:
        assignment_id: e.g. "a01_perceptron".
        exercise: the exercise's name in course.yaml.
        namespace: the kernel's globals, where the student's definitions live.

    Returns:
        The points earned, between 0 and the exercise's points.
    """
    assignment = load_course().assignment(assignment_id)
    with _no_native_stderr():
        (result,) = run_checks(assignment, LocalBackend(dict(namespace)), {exercise})
    print(f"{exercise}: {result.score:g} / {result.points:g} points")
    for check in result.checks:
        mark = "passed" if check.passed else "FAILED"
        print(f"- {mark}: {check.question}")
        if not check.passed:
            print("  " + check.feedback.replace("\n", "\n  "))
    return result.score


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

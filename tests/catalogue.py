"""Grading a variant of the reference in-process: the catalogue of mistakes and alternatives.

A variant is the reference solution module with some definitions replaced by other code,
as a student's notebook would have them; it is graded by the real checks through the
`LocalBackend` (the in-kernel path), which is fast enough to try hundreds of variants.
"""
from __future__ import annotations

import importlib
import inspect
import textwrap

from autograder.config import load_course
from autograder.engine import run_checks
from autograder.student import LocalBackend


def variant_namespace(assignment_id: str, code: str = "") -> dict:
    """The reference module's definitions, then `code` run on top (replacing some of them)."""
    module = importlib.import_module(f"solutions.{assignment_id}")
    namespace = {"__name__": "__main__"}
    exec(compile(inspect.getsource(module), f"solutions/{assignment_id}.py", "exec"), namespace)
    exec(compile(textwrap.dedent(code), "<variant>", "exec"), namespace)
    return namespace


def scores(assignment_id: str, code: str = "", exercises=None) -> dict[str, float]:
    """Exercise name -> points earned by the variant."""
    assignment = load_course().assignment(assignment_id)
    results = run_checks(assignment, LocalBackend(variant_namespace(assignment_id, code)), exercises)
    return {r.name: r.score for r in results}


def feedback(assignment_id: str, exercise: str, code: str) -> str:
    """All failure messages of one exercise for the variant, joined."""
    assignment = load_course().assignment(assignment_id)
    results = run_checks(assignment, LocalBackend(variant_namespace(assignment_id, code)), {exercise})
    return "\n".join(c.feedback for r in results for c in r.checks if not c.passed)


def full_marks(assignment_id: str, exercise: str) -> float:
    return load_course().assignment(assignment_id).exercise(exercise).points

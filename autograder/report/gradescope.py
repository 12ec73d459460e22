"""Gradescope's results.json object: the `grade --format json` interface (docs: design.md)."""
from __future__ import annotations

from ..results import GradeResult
from .text import headline


def to_gradescope(result: GradeResult) -> dict:
    """The Gradescope `results.json` object: score, max_score, execution_time, output, tests.

    Each check is one test; its `max_score` is its share of its exercise's points, so the tests'
    scores add up to `score`. Values are exact (a reader rounds them).
    """
    tests = [{
        "name": f"{ex.name}: {check.question}",
        "exercise": ex.name,
        "score": check.score,
        "max_score": check.points,
        "status": check.status,
        "output": ("passed" + (f"\n{check.feedback}" if check.feedback else "")) if check.passed else check.feedback,
        "visibility": "visible",
    } for ex in result.exercises for check in ex.checks]
    return {
        "score": result.score,
        "max_score": result.max_score,
        "execution_time": result.execution_time,
        "output": headline(result, safe=False),
        "tests": tests,
        "assignment": result.assignment,
        "isolation": result.isolation,
    }

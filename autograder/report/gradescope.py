"""Gradescope's results.json object: the `grade --format json` interface (docs: design.md), and the
bundle's results.json (autograder/gradescope.py: course.yaml's visibility, the notebook's output)."""
from __future__ import annotations

from ..results import GradeResult
from .text import OUTPUT_TITLE, headline, student_output


def to_gradescope(result: GradeResult, *, visibility: str = "visible", student_output_test: bool = False) -> dict:
    """The Gradescope `results.json` object: score, max_score, execution_time, output, tests.

    Each check is one test; its `max_score` is its share of its exercise's points, so the tests'
    scores add up to `score`. Values are exact (a reader rounds them).

    Args:
        result: the graded notebook.
        visibility: the checks' tests' visibility (Gradescope's values; course.yaml's
            `gradescope.visibility` in the bundle).
        student_output_test: add a test worth 0 points, "hidden" (instructors only), holding what the
            notebook printed, made printable and bounded (`student_output`), when it printed anything.

    Returns:
        The object, ready for `json.dumps`.
    """
    tests = [{
        "name": f"{ex.name}: {check.question}",
        "exercise": ex.name,
        "score": check.score,
        "max_score": check.points,
        "status": check.status,
        "output": ("passed" + (f"\n{check.feedback}" if check.feedback else "")) if check.passed else check.feedback,
        "visibility": visibility,
    } for ex in result.exercises for check in ex.checks]
    if student_output_test and result.output:
        tests.append({"name": f"{OUTPUT_TITLE} (instructors only)", "score": 0.0, "max_score": 0.0,
                      "status": "passed", "output": student_output(result), "output_format": "text",
                      "visibility": "hidden"})
    return {
        "score": result.score,
        "max_score": result.max_score,
        "execution_time": result.execution_time,
        "output": headline(result, safe=False),
        "output_format": "text",
        "tests": tests,
        "assignment": result.assignment,
        "isolation": result.isolation,
    }

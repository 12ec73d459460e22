"""Reports of a graded notebook: Gradescope's results.json shape, and plain text."""
from __future__ import annotations

from .grade import GradeResult


def to_gradescope(result: GradeResult) -> dict:
    """The Gradescope `results.json` object: score, max_score, execution_time, output, tests.

    Each check is one test; its `max_score` is its share of its exercise's points, so the
    tests' scores add up to `score`.
    """
    tests = []
    for ex in result.exercises:
        total = sum(c.weight for c in ex.checks)
        for check in ex.checks:
            share = ex.points * check.weight / total if total else 0.0
            tests.append({
                "name": f"{ex.name}: {check.question}",
                "exercise": ex.name,
                "score": share if check.passed else 0.0,
                "max_score": share,
                "status": "passed" if check.passed else "failed",
                "output": "passed" if check.passed else check.feedback,
                "visibility": "visible",
            })
    return {
        "score": result.score,
        "max_score": result.max_score,
        "execution_time": result.execution_time,
        "output": _summary(result),
        "tests": tests,
        "assignment": result.assignment,
        "isolation": result.isolation,
    }


def _summary(result: GradeResult) -> str:
    lines = [f"{result.assignment}: {result.score:g} / {result.max_score:g} points "
             f"(graded in isolation: {result.isolation})"]
    lines += [f"Note: {note}" for note in result.notes]
    return "\n".join(lines)


def to_text(result: GradeResult) -> str:
    """A readable report: per exercise its points, then each failed check's feedback."""
    lines = [_summary(result), ""]
    for ex in result.exercises:
        lines.append(f"{ex.name}: {ex.score:g} / {ex.points:g}")
        for check in ex.checks:
            if check.passed:
                lines.append(f"  passed: {check.question}")
            else:
                lines.append(f"  FAILED: {check.question}")
                lines.append("    " + check.feedback.replace("\n", "\n    "))
    return "\n".join(lines)

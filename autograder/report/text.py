"""The readable report of a graded notebook (`grade`), and one exercise's feedback (the gradebook's
hidden test cells). Student-controlled text in them is made printable: they reach terminals."""
from __future__ import annotations

from ..results import ExerciseResult, GradeResult
from .safe import printable, score_text


def headline(result: GradeResult, *, safe: bool = True) -> str:
    """The result's first lines: assignment, score, isolation, notes and the reason it was not graded.

    Args:
        result: the graded notebook.
        safe: escape control characters (False for JSON, whose encoder escapes them).
    """
    lines = [f"{result.assignment or 'unknown assignment'}: {score_text(result.score, result.max_score)} points "
             f"(graded in isolation: {result.isolation})"]
    if result.error:
        lines.append(f"Not graded: {result.error}")
    lines += [f"Note: {note}" for note in result.notes]
    text = "\n".join(lines)
    return printable(text) if safe else text


def to_text(result: GradeResult) -> str:
    """A readable report: per exercise its points, then each failed check's feedback."""
    lines = [headline(result), ""]
    for ex in result.exercises:
        lines.append(f"{ex.name}: {score_text(ex.score, ex.points)}")
        for check in ex.checks:
            if check.passed:
                lines.append(f"  passed: {check.question}")
                if check.feedback:   # a note: passed once another function's mistake was set aside
                    lines.append("    " + printable(check.feedback).replace("\n", "\n    "))
            else:
                lines.append(f"  FAILED: {check.question}")
                lines.append("    " + printable(check.feedback).replace("\n", "\n    "))
    return "\n".join(lines)


def exercise_feedback(exercise: ExerciseResult, *, error: str = "") -> str:
    """A hidden test cell's feedback: the exercise's points, then each check, passed or failed, with a
    failed check's message (the gradebook's autograded copies; meant for nbgrader's own path too).

    Args:
        exercise: the exercise's result.
        error: why the notebook was not graded, if it was not.

    Returns:
        The text, without a trailing newline.
    """
    lines = [f"{exercise.name}: {score_text(exercise.score, exercise.points)} points"]
    for check in exercise.checks:
        lines.append(f"- {'passed' if check.passed else 'FAILED'}: {check.question}")
        if check.feedback:   # why it failed; or, for a passed check, a note
            lines.append("  " + printable(check.feedback).replace("\n", "\n  "))
    if error:
        lines.append(f"Not graded: {printable(error)}")
    return "\n".join(lines)

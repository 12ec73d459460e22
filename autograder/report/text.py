"""The readable report of a graded notebook (`grade`), and one exercise's feedback (the gradebook's
hidden test cells). Student-controlled text in them is made printable: they reach terminals."""
from __future__ import annotations

from ..results import ExerciseResult, GradeResult
from .safe import printable, score_text


OUTPUT_TITLE = "Your notebook's own output"
OUTPUT_SHOWN = 20_000   # characters of it a report shows (grading kept up to course.yaml's limits.output_kb)
_TEXT_LINES = 40        # lines of it the text report shows

# What each isolation level means, in plain words (isolation.py's levels).
ISOLATION_WORDS = {
    "namespaces": "Your notebook ran in a sealed sandbox: no network, none of the course's or other students' "
                  "files, and limits on time and memory.",
    "unprivileged-user": "Your notebook ran in a sandbox as a separate user with no rights to the course's files, "
                         "no network, and limits on time and memory.",
    "process": "Your notebook ran in a separate process with limits on time and memory (this machine cannot seal "
               "it further: see docs/threat-model.md).",
    "none": "Your notebook did not run.",
}


def isolation_words(isolation: str) -> str:
    """How the notebook ran, in plain words."""
    return ISOLATION_WORDS.get(isolation, f"Your notebook ran in a sandbox ({isolation}).")


def headline(result: GradeResult, *, safe: bool = True) -> str:
    """The result's first lines: assignment, score, how it ran, notes and the reason it was not graded.

    Args:
        result: the graded notebook.
        safe: escape control characters (False for JSON, whose encoder escapes them).
    """
    lines = [f"{result.assignment or 'unknown assignment'}: {score_text(result.score, result.max_score)} points",
             isolation_words(result.isolation)]
    if result.error:
        lines.append(f"Not graded: {result.error}")
    lines += [f"Note: {note}" for note in result.notes]
    text = "\n".join(lines)
    return printable(text) if safe else text


def student_output(result: GradeResult, *, limit: int = OUTPUT_SHOWN) -> str:
    """What the notebook printed, for a report: made printable, its first `limit` characters and how
    many more there were."""
    text = result.output
    if len(text) > limit:
        text = text[:limit] + f"\n[... {len(text) - limit} more characters not shown]"
    return printable(text)


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
    if result.output:
        lines += ["", _output_text(result)]
    return "\n".join(lines)


def _output_text(result: GradeResult) -> str:
    """The notebook's output, collapsed: its first lines, each marked as the notebook's ("| ")."""
    shown = student_output(result, limit=4000).split("\n")
    total = len(result.output.splitlines())
    lines = [f"{OUTPUT_TITLE} ({total} line{'s' if total != 1 else ''}; what its cells printed):"]
    lines += [f"  | {line}" for line in shown[:_TEXT_LINES]]
    if len(shown) > _TEXT_LINES or total > len(shown):
        lines.append(f"  [... {total - min(len(shown), _TEXT_LINES)} more lines not shown]")
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

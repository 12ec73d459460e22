"""What a class got wrong: the scores' mean and median, each exercise's full-marks rate, and the
named mistakes worth re-teaching, counted in students."""
from __future__ import annotations

import statistics
from collections import Counter

from ..results import GradeResult
from .safe import number, printable


def class_summary(results: list[GradeResult]) -> str:
    """One `summary` per assignment, each under its id's heading: scores out of different totals are
    never pooled (a01 out of 12 and a06 out of 11)."""
    if not results:
        return "No submissions found."
    by_assignment: dict[str | None, list[GradeResult]] = {}
    for result in results:
        by_assignment.setdefault(result.assignment, []).append(result)
    return "\n\n".join(f"== {printable(a or 'unknown assignment', newlines=False)} ==\n{summary(r)}"
                       for a, r in by_assignment.items())


def summary(results: list[GradeResult]) -> str:
    """One assignment's summary (several assignments': use `class_summary`). Scores are final scores,
    after any late penalty; late submissions are counted with the points they lost.

    The named mistakes come from the checks' own `mistake` fields, never from feedback text (which
    may quote a student's exception), and each counts the students who made it, whatever the number
    of checks it failed. Student-controlled text (ids, reasons) is made printable.
    """
    if not results:
        return "No submissions found."
    scores = [r.final_score for r in results]
    lines = [f"{len(results)} submission{'s' if len(results) != 1 else ''}: mean {statistics.mean(scores):.2f}, "
             f"median {statistics.median(scores):.2f} (of {number(max(r.max_score for r in results))})"]
    late = [r for r in results if r.timestamp and r.duedate and r.timestamp > r.duedate]   # ISO 8601, both UTC
    if late:
        taken = sum(r.late_penalty for r in late)
        lines.append(f"{len(late)} late (after the due date): {number(taken)} points taken off in all; "
                     f"mean before penalties {statistics.mean(r.score for r in results):.2f}")
    errors = [r for r in results if r.error]
    if errors:
        lines.append(f"{len(errors)} could not be graded (zero):")
        lines += [f"  {printable(r.student, newlines=False)}: {printable(r.error, newlines=False)[:300]}"
                  for r in errors[:10]]
        if len(errors) > 10:
            lines.append(f"  ... and {len(errors) - 10} more (see each student's result)")
    full_marks: dict[str, list[bool]] = {}
    for result in results:
        for ex in result.exercises:
            if ex.checks:
                full_marks.setdefault(ex.name, []).append(ex.passed)
    if full_marks:
        lines.append("\nFull marks per exercise:")
        width = max(len(e) for e in full_marks)
        for exercise, passes in full_marks.items():
            lines.append(f"  {exercise:<{width}}  {100 * sum(passes) / len(passes):5.1f}%")
    mistakes = Counter(named for r in results for named in
                       {(ex.name, c.mistake) for ex in r.exercises for c in ex.checks if c.mistake and not c.passed})
    if mistakes:
        lines.append("\nMost common named mistakes (students who made them; worth re-teaching):")
        for (exercise, mistake), count in mistakes.most_common(5):
            lines.append(f"  {count:3d} x {exercise}: {printable(mistake, newlines=False)}")
    return "\n".join(lines)

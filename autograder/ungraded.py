"""The result of a submission that was not graded (refused, broken, or lost with its worker): one
source for grade-all's local pool and the Dask cluster alike, so that both zero it the same way."""
from __future__ import annotations

from .config import Course
from .results import ExerciseResult, GradeResult
from .submissions import Submission


def ungraded_result(submission: Submission, course: Course, reason: str) -> dict:
    """Every exercise of the submission's assignment at zero, no check run, and why.

    Args:
        submission: the submission not graded.
        course: the configuration (its assignment's exercises and points).
        reason: why it was not graded (the result's `error`).

    Returns:
        The `GradeResult` as plain data (`GradeResult.to_dict`), with the student's id.
    """
    assignment = submission.assignment
    known = {a.id: a for a in course.assignments}
    exercises = [ExerciseResult(e.name, e.points) for e in known[assignment].exercises] if assignment in known else []
    return GradeResult(str(submission.path), assignment, exercises, isolation="none", student=submission.student,
                       error=reason).to_dict()

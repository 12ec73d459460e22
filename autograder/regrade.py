"""Changing an assignment's points or tolerances mid-term: `python -m autograder regrade AID --course DIR`.

After course.yaml changes, an nbgrader course's release and gradebook still hold the old points,
and `nbgrader autograde --force` alone is refused (`nbgrader_preprocessor.stale_points`) before
it removes anything. `regrade` does the whole sequence with nbgrader's own commands:

1. `build` the assignment (the source notebook's hidden cells take the new points; assignments/ and
   the sample class follow);
2. copy the source notebook into the course's source/;
3. `nbgrader generate_assignment --force`: nbgrader's release, and its gradebook's max points
   per cell (nbgrader keeps the submissions: the cells' ids do not change);
4. `nbgrader autograde --force` of every submission of the assignment in submitted/, with the new
   points and tolerances (instructors' manual grades stay: nbgrader keeps them over the autograde);
5. `nbgrader generate_feedback --force`, when the course had feedback for the assignment.

`nbgrader export` then shows the new scores.
"""
from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import registry
from .build import build
from .config import ConfigError, Course, load_course
from .release import nbgrader


@dataclass(frozen=True)
class Regraded:
    """What `regrade` changed: project files rebuilt, max score and each student's score, before and after."""

    assignment: str
    rebuilt: list[Path] = field(default_factory=list)
    max_before: float | None = None
    max_after: float | None = None
    before: dict[str, float] = field(default_factory=dict)
    after: dict[str, float] = field(default_factory=dict)
    feedback: bool = False


def regrade(assignment_id: str, *, course_dir: str | Path, course: Course | None = None,
            progress: Callable[[str], None] | None = None) -> Regraded:
    """Release an assignment again into an nbgrader course and autograde every submission again.

    Args:
        assignment_id: the assignment of course.yaml whose points or tolerances changed.
        course_dir: the nbgrader course directory (with its gradebook.db and nbgrader_config.py).
        course: the configuration; course.yaml by default.
        progress: called with one line per step, before the step.

    Returns:
        What changed (`Regraded`).

    Raises:
        ConfigError: an assignment course.yaml does not have, or `course_dir` is not an nbgrader course
            directory where this assignment was released.
        ReleaseError: an nbgrader command failed (its error line is in the message).
    """
    course = course or load_course()
    assignment_id = course.assignment(assignment_id).id
    course_dir = Path(course_dir).resolve()
    say = progress or (lambda line: None)
    if not (course_dir / "nbgrader_config.py").is_file() or not (course_dir / "gradebook.db").is_file():
        raise ConfigError(
            f"Expected an nbgrader course directory (with nbgrader_config.py and gradebook.db); received {course_dir}. "
            f"Create it with: python -m autograder nbgrader-config {course_dir}, then nbgrader generate_assignment "
            f"{assignment_id}.")
    max_before, before = _gradebook(course_dir, assignment_id)
    if max_before is None:
        raise ConfigError(
            f"{assignment_id} was never released in {course_dir} (its gradebook does not have it): nothing to "
            f"regrade. Release it with: nbgrader generate_assignment {assignment_id} (in {course_dir}).")

    say(f"building {assignment_id} (source notebook, assignments/, samples) from course.yaml and solutions/")
    rebuilt = [o.path for o in build([assignment_id], course=course)]
    target = registry.course_notebook(course_dir, "source", assignment_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(registry.source_notebook(assignment_id), target)
    say(f"nbgrader generate_assignment {assignment_id} --force (release/ and the gradebook's max points)")
    nbgrader(["generate_assignment", assignment_id, "--force"], course_dir)
    submitted = sorted(p.parent.parent.name for p in (course_dir / "submitted").glob(f"*/{assignment_id}/*.ipynb"))
    if submitted:
        say(f"nbgrader autograde {assignment_id} --force ({len(submitted)} submissions)")
        nbgrader(["autograde", assignment_id, "--force", "--create"], course_dir,
                 echo=lambda line: say(f"  {line}"))
    feedback = any((course_dir / "feedback").glob(f"*/{assignment_id}"))
    if feedback and submitted:
        say(f"nbgrader generate_feedback {assignment_id} --force")
        nbgrader(["generate_feedback", assignment_id, "--force"], course_dir)
    max_after, after = _gradebook(course_dir, assignment_id)
    return Regraded(assignment_id, rebuilt, max_before, max_after, before, after, feedback and bool(submitted))


def _gradebook(course_dir: Path, assignment_id: str) -> tuple[float | None, dict[str, float]]:
    """(the assignment's max score, {student: score}) from nbgrader's gradebook; (None, {}) if absent."""
    from nbgrader.api import Gradebook, MissingEntry

    # nbgrader runs `alembic` from PATH when it meets a gradebook without its tables: this environment's
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join([bin_dir, os.environ.get("PATH", "")])
    with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}") as gradebook:
        try:
            assignment = gradebook.find_assignment(assignment_id)
        except MissingEntry:
            return None, {}
        return assignment.max_score, {s.student.id: s.score for s in gradebook.assignment_submissions(assignment_id)}

"""Every place of one exercise: contract, reference, checks, cells, course.yaml entry, catalogue.

`python -m autograder where NAME` prints them. The path rules are `registry`'s; the contract is
read by `curriculum`, which itself reads its files through `registry`.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from .config import COURSE_ROOT, Assignment, Course, Exercise, load_course
from .curriculum import Contract, read_contracts
from .registry import (Cell, Place, catalogue_places, check_places, course_entry, course_file, curriculum_file,
                       definition, exercise_cells, relative, released_notebook, solution_file, source_notebook)


@dataclass(frozen=True)
class ExercisePlaces:
    """Everywhere one exercise is: its contract, reference, checks, cells, points and catalogue."""

    assignment: Assignment
    exercise: Exercise
    contract: Contract | None   # None when the curriculum lacks it
    reference: Place | None
    checks: list[Place]
    source_cells: list[Cell]
    released_cells: list[Cell]
    course_entry: Place | None
    catalogue: list[Place]


class UnknownExercise(LookupError):
    """No assignment of course.yaml has an exercise of that name."""


def find_exercise(name: str, course: Course) -> tuple[Assignment, Exercise]:
    """The assignment and exercise of that name.

    Raises:
        UnknownExercise: no such exercise; the message lists the closest names.
    """
    for assignment in course.assignments:
        for exercise in assignment.exercises:
            if exercise.name == name:
                return assignment, exercise
    names = [e.name for a in course.assignments for e in a.exercises]
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
    hint = f"Did you mean: {', '.join(close)}?" if close else f"Expected one of: {', '.join(names)}."
    raise UnknownExercise(f"No exercise named {name!r} in course.yaml. {hint}")


def exercise_places(name: str, course: Course | None = None, root: Path = COURSE_ROOT) -> ExercisePlaces:
    """Everywhere one exercise is.

    Args:
        name: the exercise, as named in course.yaml and the curriculum (``adam_update``).
        course: the course; `root`'s course.yaml by default.
        root: the repository.

    Returns:
        Its `ExercisePlaces`.

    Raises:
        UnknownExercise: no exercise of that name (the message suggests close ones).
    """
    course = course or load_course(course_file(root))
    assignment, exercise = find_exercise(name, course)
    aid = assignment.id
    contract = next((c for c in read_contracts(curriculum_file(root)) if c.name == name and c.assignment == aid), None)
    return ExercisePlaces(
        assignment=assignment, exercise=exercise, contract=contract,
        reference=definition(solution_file(aid, root), name),
        checks=check_places(aid, name, root),
        source_cells=exercise_cells(source_notebook(aid, root), name),
        released_cells=exercise_cells(released_notebook(aid, root), name),
        course_entry=course_entry(name, root),
        catalogue=catalogue_places(aid, name, root))


def describe(places: ExercisePlaces, root: Path = COURSE_ROOT) -> str:
    """The places as text, one heading per kind and one line per place (file:line first)."""
    p = places
    missing = "(none)"
    lines = [f"{p.exercise.name}  ({p.assignment.id}: {p.assignment.title})", "", "contract:"]
    if p.contract is None:
        lines.append(f"  {missing}: add it to {relative(curriculum_file(root), root)}")
    else:
        lines.append(f"  {relative(curriculum_file(root), root)}:{p.contract.line}  {p.contract.signature}")
        lines += [f"      .{call}" for call in p.contract.methods.values()]
        lines.append(f"      {p.contract.meaning}")
    lines += ["reference:", f"  {p.reference.show(root) if p.reference else missing}"]
    lines.append(f"checks ({len(p.checks)}):")
    lines += [f"  {c.show(root)}" for c in p.checks] or [f"  {missing}"]
    for label, cells in (("source", p.source_cells), ("released", p.released_cells)):
        where = relative(cells[0].notebook, root) if cells else missing
        lines.append(f"{label} notebook cells: {where}")
        lines += [f"  cell {c.index}: {c.grade_id}" for c in cells]
    lines += ["course.yaml:", f"  {p.course_entry.show(root) if p.course_entry else missing}"
              f"  points: {p.exercise.points:g}"]
    lines.append(f"catalogue ({len(p.catalogue)}):")
    lines += [f"  {c.show(root)}" for c in p.catalogue] or [f"  {missing}"]
    return "\n".join(lines)

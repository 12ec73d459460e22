"""Filling nbgrader's gradebook with the fast path's results, through nbgrader's own API, so that
formgrader, `nbgrader generate_feedback` and `nbgrader export` work on them unchanged.

The autograded copy of a submission is the student's notebook with its outputs cleared (as nbgrader's
ClearOutput does: nothing the student stored reaches the feedback), the source's hidden test cells
put back, and the grader's feedback as their outputs. A submission that was not graded (unreadable,
a symbolic link, ...) never gets the source notebook in its place: its copy is the released one.
"""
from __future__ import annotations


import copy
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .notebook import NotebookError, read_notebook
from .report import exercise_feedback, printable
from .results import GradeResult
from .submissions import refusal


@dataclass
class Filled:
    """What `fill_gradebook` did."""

    recorded: int = 0                                    # submissions recorded
    problems: list[str] = field(default_factory=list)    # one line per student whose recording failed


def _nbgrader_meta(cell) -> dict:
    """A cell's nbgrader metadata, or {} where it is missing or not a mapping (a student can write anything)."""
    meta = cell.get("metadata")
    meta = meta.get("nbgrader") if isinstance(meta, dict) else None
    return meta if isinstance(meta, dict) else {}


def _grade_id(cell) -> str | None:
    grade_id = _nbgrader_meta(cell).get("grade_id")
    return grade_id if isinstance(grade_id, str) else None


def _names(path: Path) -> int:
    try:
        return os.lstat(path).st_nlink
    except OSError:
        return 1


def _students_notebook(course_dir: Path, result: GradeResult) -> nbformat.NotebookNode:
    """The submission with its outputs cleared; the released notebook where it was not graded or cannot be read."""
    assignment = result.assignment
    notebook = None
    path = Path(result.notebook)
    # graded (no error): a hard link was then one whose every name is in the class
    if not result.error and not refusal(path, links=_names(path)):
        try:
            notebook = read_notebook(result.notebook)
        except NotebookError:
            notebook = None
    if notebook is None:
        notebook = nbformat.read(course_dir / "release" / assignment / f"{assignment}.ipynb", as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            for key in ("collapsed", "scrolled"):
                cell.metadata.pop(key, None)
        cell.pop("attachments", None)   # images a student embedded are not the grader's to show
    return notebook


def _autograded_notebook(course_dir: Path, result: GradeResult) -> nbformat.NotebookNode:
    """The student's notebook with the source's hidden cells and the fast path's results as their outputs."""
    assignment = result.assignment
    source = nbformat.read(course_dir / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    hidden = {_grade_id(c): c for c in source.cells if _nbgrader_meta(c).get("grade") and _grade_id(c)}
    exercises = {e.name: e for e in result.exercises}
    notebook = _students_notebook(course_dir, result)
    for i, cell in enumerate(notebook.cells):
        grade_id = _grade_id(cell)
        exercise = exercises.get(grade_id.removesuffix("_hidden")) if grade_id in hidden else None
        if exercise is None:
            continue
        restored = copy.deepcopy(hidden[grade_id])
        restored.outputs = [
            nbformat.v4.new_output("stream", name="stdout",
                                   text=exercise_feedback(exercise, error=result.error) + "\n"),
            nbformat.v4.new_output("execute_result", data={"text/plain": repr(float(exercise.score))},
                                   execution_count=1),
        ]
        notebook.cells[i] = restored
    return notebook


def fill_gradebook(course_dir: str | Path, results: list[dict]) -> Filled:
    """Record each result as the autograded submission of its student in nbgrader's gradebook.

    One student whose recording fails (an odd notebook, a database error) is reported in
    `Filled.problems` and the others are still recorded.

    Args:
        course_dir: an nbgrader course directory whose assignments were generated
            (`python -m autograder release` or `nbgrader generate_assignment`).
        results: what `grade_all` returned (`GradeResult.to_dict` data).

    Returns:
        How many submissions were recorded, and the problems of those that were not.
    """
    from nbgrader.api import Gradebook, MissingEntry

    course_dir = Path(course_dir).resolve()
    filled = Filled()
    # nbgrader's add_submission itself trips SQLAlchemy's autoflush warnings; they are not ours to fix.
    warnings.filterwarnings("ignore", module="nbgrader.api")
    with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}") as gradebook:
        for result in map(GradeResult.from_dict, results):
            assignment, student = result.assignment, result.student
            if not assignment:
                continue
            if student in ("", ".", "..") or "/" in student or "\0" in student:
                # nbgrader makes folders of student ids: this one would land outside autograded/
                filled.problems.append(f"{printable(student, newlines=False)}: not recorded (not usable as an "
                                       "nbgrader student id: rename the submission's folder)")
                continue
            try:
                gradebook.update_or_create_student(student)
                try:
                    gradebook.remove_submission(assignment, student)
                except MissingEntry:
                    pass
                gradebook.add_submission(assignment, student)
                submission = gradebook.find_submission_notebook(assignment, assignment, student)
                scores = {e.name: e.score for e in result.exercises}
                for grade in submission.grades:
                    grade.auto_score = scores.get(grade.name.removesuffix("_hidden"), 0.0)
                gradebook.db.commit()
                target = course_dir / "autograded" / student / assignment / f"{assignment}.ipynb"
                target.parent.mkdir(parents=True, exist_ok=True)
                nbformat.write(_autograded_notebook(course_dir, result), target)
                filled.recorded += 1
            except Exception as exc:  # one student's odd data must not cost the others their grades
                gradebook.db.rollback()
                filled.problems.append(f"{printable(student, newlines=False)}: not recorded "
                                       f"({type(exc).__name__}: {printable(exc, newlines=False)[:300]})")
    return filled

"""Filling nbgrader's gradebook with the fast path's results, through nbgrader's own API, so that
formgrader, `nbgrader generate_feedback` and `nbgrader export` work on them unchanged."""
from __future__ import annotations

import copy
import warnings
from pathlib import Path

import nbformat

from .report import exercise_feedback
from .results import GradeResult


def _autograded_notebook(course_dir: Path, result: GradeResult) -> nbformat.NotebookNode:
    """The submitted notebook with the source's hidden cells and the fast path's results as their outputs."""
    assignment = result.assignment
    source = nbformat.read(course_dir / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    hidden = {c.metadata["nbgrader"]["grade_id"]: c for c in source.cells
              if c.metadata.get("nbgrader", {}).get("grade")}
    try:
        notebook = nbformat.read(result.notebook, as_version=4)
    except Exception:
        notebook = copy.deepcopy(source)
    exercises = {e.name: e for e in result.exercises}
    for i, cell in enumerate(notebook.cells):
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in hidden:
            restored = copy.deepcopy(hidden[grade_id])
            exercise = exercises.get(grade_id.removesuffix("_hidden"))
            if exercise is None:
                continue
            restored.outputs = [
                nbformat.v4.new_output("stream", name="stdout", text=exercise_feedback(result, exercise)),
                nbformat.v4.new_output("execute_result", data={"text/plain": repr(float(exercise.score))},
                                       execution_count=1),
            ]
            notebook.cells[i] = restored
    return notebook


def fill_gradebook(course_dir: str | Path, results: list[dict]) -> int:
    """Record each result as the autograded submission of its student in nbgrader's gradebook.

    Args:
        course_dir: an nbgrader course directory whose assignments were generated
            (`python -m autograder release` or `nbgrader generate_assignment`).
        results: what `grade_all` returned.

    Returns:
        How many submissions were recorded.
    """
    from nbgrader.api import Gradebook, MissingEntry

    course_dir = Path(course_dir).resolve()
    count = 0
    # nbgrader's add_submission itself trips SQLAlchemy's autoflush warnings; they are not ours to fix.
    warnings.filterwarnings("ignore", module="nbgrader.api")
    with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}") as gradebook:
        for result in map(GradeResult.from_dict, results):
            assignment, student = result.assignment, result.student
            if not assignment:
                continue
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
            count += 1
    return count

"""Filling nbgrader's gradebook with the fast path's results, through nbgrader's own API, so that
formgrader, `nbgrader generate_feedback` and `nbgrader export` work on them unchanged."""
from __future__ import annotations

import copy
import warnings
from pathlib import Path

import nbformat


def _feedback_text(data: dict, exercise: str) -> str:
    tests = [t for t in data["tests"] if t["exercise"] == exercise]
    lines = [f"{exercise}: {sum(t['score'] for t in tests):g} / {sum(t['max_score'] for t in tests):g} points"]
    for test in tests:
        lines.append(f"- {'passed' if test['status'] == 'passed' else 'FAILED'}: {test['name']}")
        if test["status"] != "passed":
            lines.append("  " + test["output"].replace("\n", "\n  "))
    if data.get("error"):
        lines.append(f"Not graded: {data['error']}")
    return "\n".join(lines) + "\n"


def _autograded_notebook(course_dir: Path, data: dict) -> nbformat.NotebookNode:
    """The submitted notebook with the source's hidden cells and the fast path's results as their outputs."""
    assignment = data["assignment"]
    source = nbformat.read(course_dir / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    hidden = {c.metadata["nbgrader"]["grade_id"]: c for c in source.cells
              if c.metadata.get("nbgrader", {}).get("grade")}
    try:
        notebook = nbformat.read(data["notebook"], as_version=4)
    except Exception:
        notebook = copy.deepcopy(source)
    for i, cell in enumerate(notebook.cells):
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in hidden:
            restored = copy.deepcopy(hidden[grade_id])
            exercise = grade_id.removesuffix("_hidden")
            score = sum(t["score"] for t in data["tests"] if t["exercise"] == exercise)
            restored.outputs = [
                nbformat.v4.new_output("stream", name="stdout", text=_feedback_text(data, exercise)),
                nbformat.v4.new_output("execute_result", data={"text/plain": repr(float(score))}, execution_count=1),
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
        for data in results:
            assignment, student = data.get("assignment"), data["student"]
            if not assignment:
                continue
            gradebook.update_or_create_student(student)
            try:
                gradebook.remove_submission(assignment, student)
            except MissingEntry:
                pass
            gradebook.add_submission(assignment, student)
            submission = gradebook.find_submission_notebook(assignment, assignment, student)
            for grade in submission.grades:
                exercise = grade.name.removesuffix("_hidden")
                grade.auto_score = sum(t["score"] for t in data["tests"] if t["exercise"] == exercise)
            gradebook.db.commit()
            target = course_dir / "autograded" / student / assignment / f"{assignment}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(_autograded_notebook(course_dir, data), target)
            count += 1
    return count

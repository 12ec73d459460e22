"""Source notebooks: keeping their generated cells in sync with solutions/ and course.yaml.

A source notebook (`source/<aid>/<aid>.ipynb`) has, per exercise of course.yaml, three cells:

1. the solution cell (``grade_id: <name>``): generated, the source of the function or class of
   the same name in `solutions/<aid>.py`, character for character;
2. the visible checks cell (``grade_id: <name>_visible``, locked): written by the author, small
   and self-contained (NumPy only), ending with ``print("<name>: visible checks passed")``;
3. the hidden test cell (``grade_id: <name>_hidden``, graded, locked): generated. With the
   derived nbgrader config its code never runs: `nbgrader_preprocessor.IsolatedGrading` finds
   the exercise by the cell's grade_id and writes the feedback and the points as its outputs.
   Its code (a call of `autograder.nbgrader_bridge` in the kernel) serves only nbgrader's stock
   `Execute`: `nbgrader validate` on a source notebook, and the benchmark's stock timing.

Everything else (the lesson's markdown, set-up and plot cells, the visible checks) is the author's,
written in Jupyter (docs/authoring.md). `python -m autograder build` rewrites the generated cells
from solutions/ and course.yaml (its first step, `sync`, also a command of its own); a test fails when a notebook is out of sync.
"""
from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import nbformat

from . import registry
from .config import COURSE_ROOT, Assignment, load_course

HIDDEN_TEMPLATE = '''# The hidden checks of {name} run here when your notebook is graded.
### BEGIN HIDDEN TESTS
from autograder.nbgrader_bridge import grade_exercise
grade_exercise("{aid}", "{name}", globals())
### END HIDDEN TESTS'''


HELPERS_CELL_ID = "visible-checks-helpers"   # the visible checks' helper cell, the same in every notebook


def cell_metadata(grade_id: str, *, grade: bool, solution: bool, locked: bool, points: float | None = None) -> dict:
    """A cell's nbgrader metadata (schema 3)."""
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": solution}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def solution_source(assignment_id: str, name: str) -> str:
    """The solution cell's text: the definition of `name` in solutions/<aid>.py."""
    module = importlib.import_module(registry.solution_module(assignment_id))
    return inspect.getsource(getattr(module, name)).rstrip("\n")


def solution_cell(assignment_id: str, name: str):
    return nbformat.v4.new_code_cell(solution_source(assignment_id, name),
                                     metadata=cell_metadata(name, grade=False, solution=True, locked=False))


def hidden_cell(assignment_id: str, name: str, points: float):
    return nbformat.v4.new_code_cell(HIDDEN_TEMPLATE.format(aid=assignment_id, name=name),
                                     metadata=cell_metadata(f"{name}_hidden", grade=True, solution=False, locked=True,
                                                    points=points))


def _check_complete(notebook, assignment: Assignment) -> None:
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in notebook.cells]
    for ex in assignment.exercises:
        for suffix in ("", "_visible", "_hidden"):
            if ids.count(ex.name + suffix) != 1:
                raise ValueError(f"{assignment.id}: expected exactly one cell with grade_id "
                                 f"{ex.name + suffix!r}, found {ids.count(ex.name + suffix)}")


def synced(notebook, assignment: Assignment) -> nbformat.NotebookNode:
    """The notebook with its generated cells rewritten from solutions/ and course.yaml."""
    notebook = nbformat.from_dict(notebook)
    points = {e.name: e.points for e in assignment.exercises}
    for i, cell in enumerate(notebook.cells):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in points:
            notebook.cells[i] = solution_cell(assignment.id, grade_id)
            notebook.cells[i].id = cell.get("id", notebook.cells[i].id)
        elif grade_id and grade_id.endswith("_hidden") and grade_id[:-7] in points:
            name = grade_id[:-7]
            notebook.cells[i] = hidden_cell(assignment.id, name, points[name])
            notebook.cells[i].id = cell.get("id", notebook.cells[i].id)
        if cell.cell_type == "code":
            notebook.cells[i].outputs, notebook.cells[i].execution_count = [], None
    _check_complete(notebook, assignment)
    return notebook


def sync(assignment_id: str, *, check: bool = False, root: Path = COURSE_ROOT) -> bool:
    """Rewrite the generated cells of one source notebook.

    Args:
        assignment_id: the assignment of course.yaml.
        check: only report whether the notebook is in sync; write nothing.

    Returns:
        True if the notebook was already in sync.
    """
    assignment = load_course(registry.course_file(root)).assignment(assignment_id)
    path = registry.source_notebook(assignment_id, root)
    current = nbformat.read(path, as_version=4)
    updated = synced(current, assignment)
    same = nbformat.writes(updated) == nbformat.writes(current)
    if not same and not check:
        nbformat.write(updated, path)
    return same

"""Reading a submitted notebook: what to run, which assignment it is, and clear refusals."""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

# nbformat's validator imports jsonschema, which imports rfc3987_syntax if installed: that
# module compiles a grammar at import (about 1.7 s, a third of grading one notebook) to check
# IRI formats no notebook schema uses. Marking it absent makes jsonschema skip that format.
sys.modules.setdefault("rfc3987_syntax", None)

import nbformat  # noqa: E402

from .config import Course, ConfigError

# Parsing has its own budget, bounded by what it reads: the file's size, then (once the stored
# outputs, which grading never uses, are dropped) its number of cells and its JSON's nesting.
MAX_NOTEBOOK_BYTES = 50 * 1024 * 1024
MAX_CELLS = 20_000
MAX_DEPTH = 64


class NotebookError(ValueError):
    """The file is not a notebook this course can grade; the message is one line."""


@dataclass(frozen=True)
class Cell:
    index: int
    source: str


def read_notebook(path: str | Path) -> nbformat.NotebookNode:
    """Read a notebook file, or raise `NotebookError` saying in one line why it cannot be read."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise NotebookError(f"{path} is not a file.")
        if size == 0:
            raise NotebookError(f"{path} is empty. Expected a Jupyter notebook (.ipynb).")
        if size > MAX_NOTEBOOK_BYTES:
            raise NotebookError(f"{path} is {size >> 20} MiB, over the {MAX_NOTEBOOK_BYTES >> 20} MiB limit "
                                "(clear the outputs and submit again).")
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise NotebookError(f"{path} does not exist.") from None
    except OSError as exc:
        raise NotebookError(f"{path} cannot be read: {exc.strerror}.") from None
    except UnicodeDecodeError:
        raise NotebookError(f"{path} is not UTF-8 text. Expected a Jupyter notebook (.ipynb).") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookError(f"{path} is not valid JSON (line {exc.lineno}: {exc.msg}). "
                            "Expected a Jupyter notebook (.ipynb); re-download it from Jupyter.") from None
    except RecursionError:
        raise NotebookError(f"{path} is JSON nested thousands of levels deep, not a Jupyter notebook.") from None
    if not isinstance(data, dict) or not (isinstance(data.get("cells"), list)
                                          or isinstance(data.get("worksheets"), list)):  # nbformat 3
        raise NotebookError(f"{path} is JSON but not a Jupyter notebook (no list of cells).")
    cells = _drop_outputs(data)
    if cells > MAX_CELLS:
        raise NotebookError(f"{path} has {cells} cells, over the {MAX_CELLS} a notebook may have.")
    if _depth(data) > MAX_DEPTH:
        raise NotebookError(f"{path} has JSON nested more than {MAX_DEPTH} levels deep, not a Jupyter notebook.")
    try:
        notebook = nbformat.reads(json.dumps(data), as_version=4)
    except Exception as exc:  # nbformat raises many kinds on malformed input; all mean "not a notebook"
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise NotebookError(f"{path} is not a notebook nbformat can read: {reason}") from None
    if not isinstance(notebook.get("cells"), list) or not isinstance(notebook.get("metadata"), dict):
        raise NotebookError(f"{path} is JSON but not a Jupyter notebook (no list of cells).")
    for i, cell in enumerate(notebook.cells):
        if not isinstance(cell, dict) or not isinstance(cell.get("cell_type"), str):
            raise NotebookError(f"{path}: cell {i} is not a notebook cell (no cell_type).")
        if not isinstance(cell.get("source"), str):
            raise NotebookError(f"{path}: cell {i} has no source text.")
        if not isinstance(cell.get("metadata", {}), dict):
            raise NotebookError(f"{path}: cell {i} has malformed metadata.")
    return notebook


def _drop_outputs(data: dict) -> int:
    """Empty every cell's stored outputs (a submission's outputs are never graded, and validating
    tens of MiB of them would cost the grader seconds); return the number of cells."""
    sheets = data.get("worksheets") if isinstance(data.get("worksheets"), list) else [data]
    count = 0
    for sheet in sheets:
        cells = sheet.get("cells") if isinstance(sheet, dict) else None
        for cell in cells if isinstance(cells, list) else []:
            count += 1
            if isinstance(cell, dict) and "outputs" in cell:
                cell["outputs"] = []
    return count


def _depth(data) -> int:
    """How deeply the JSON value nests (iteratively: no recursion for hostile input to exhaust)."""
    deepest, todo = 0, [(data, 1)]
    while todo:
        value, depth = todo.pop()
        deepest = max(deepest, depth)
        if depth > MAX_DEPTH:
            return depth
        if isinstance(value, dict):
            todo.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            todo.extend((v, depth + 1) for v in value)
    return deepest


def is_check_cell(cell) -> bool:
    """A cell of the course's checks: an nbgrader test cell (graded, not a solution) or a locked
    visible-checks cell. They define nothing the grading needs, so the isolated grader skips them."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    if not isinstance(meta, dict):
        return False
    return not meta.get("solution") and bool(meta.get("grade") or meta.get("locked"))


def code_cells(notebook) -> list[Cell]:
    """The cells the isolated grader runs: every code cell but the course's check cells."""
    return [Cell(i, cell.source) for i, cell in enumerate(notebook.cells)
            if cell.cell_type == "code" and not is_check_cell(cell)]


def assignment_of(notebook, path: str | Path, course: Course, given: str | None = None) -> str:
    """The assignment id: given explicitly, else the notebook's metadata, else its file name.

    Raises:
        NotebookError: none of them names an assignment of course.yaml, or they disagree.
    """
    known = {a.id for a in course.assignments}
    meta = notebook.metadata.get("autograder")
    declared = meta.get("assignment") if isinstance(meta, dict) else None
    declared = declared if isinstance(declared, str) else None
    stem = Path(path).stem
    if given:
        if given not in known:
            raise NotebookError(f"Unknown assignment {given!r}. Expected one of: {', '.join(sorted(known))}.")
        if declared in known and declared != given:
            raise NotebookError(f"{Path(path).name} is a notebook of {declared}, not {given}. "
                                "Submit the notebook of the assignment being graded.")
        return given
    if declared in known:
        return declared
    matches = [a for a in known if stem == a or stem.startswith(a)]
    if len(matches) == 1:
        return matches[0]
    raise NotebookError(f"Cannot tell which assignment {Path(path).name} is: its metadata names none and its "
                        f"file name matches none of {', '.join(sorted(known))}. Pass --assignment.")


__all__ = ["Cell", "NotebookError", "read_notebook", "code_cells", "assignment_of", "is_check_cell", "ConfigError"]

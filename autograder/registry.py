"""The course's registry: where every file of an assignment lives, and where each exercise is
defined, checked, taught and catalogued.

Every path of the course is made here, from two rules:

- an assignment ``<aid>`` of course.yaml is five files in the repository: its reference
  `solutions/<aid>.py`, its hidden checks `autograder/checks/<aid>.py`, its source notebook
  `source/<aid>/<aid>.ipynb`, its released notebook `assignments/<aid>/<aid>.ipynb` and its
  catalogue of mistakes `tests/checks/test_<aid>.py`;
- a notebook in nbgrader's layout is ``<folder>/[<student>/]<aid>/<aid>.ipynb``: the repository's
  source/ and assignments/, the sample class (samples/<aid>/submitted/) and every nbgrader
  course directory (source/, release/, submitted/, autograded/) follow it.

`where.exercise_places` finds one exercise in all of them (`python -m autograder where NAME`).
"""
from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path

from .config import COURSE_ROOT

# nbgrader's course directory: the steps whose notebooks are per assignment, and those per student too.
NBGRADER_STEPS = {"source": False, "release": False, "submitted": True, "autograded": True}


def notebook_in(folder: str | Path, assignment_id: str, student: str | None = None) -> Path:
    """A notebook in nbgrader's layout: ``<folder>/[<student>/]<aid>/<aid>.ipynb``."""
    folder = Path(folder) / student if student is not None else Path(folder)
    return folder / assignment_id / f"{assignment_id}.ipynb"


def course_notebook(course_dir: str | Path, step: str, assignment_id: str, student: str | None = None) -> Path:
    """An assignment's notebook in an nbgrader course directory.

    Args:
        course_dir: the nbgrader course directory.
        step: "source" or "release" (one notebook per assignment), "submitted" or "autograded"
            (one per student).
        assignment_id: the assignment.
        student: the student's id; required for "submitted" and "autograded", refused otherwise.

    Returns:
        ``<course_dir>/<step>/[<student>/]<aid>/<aid>.ipynb``.

    Raises:
        ValueError: an unknown step, or a student given where none belongs (or missing).
    """
    if step not in NBGRADER_STEPS:
        raise ValueError(f"Expected an nbgrader step in {list(NBGRADER_STEPS)}. Received: step={step!r}.")
    if NBGRADER_STEPS[step] != (student is not None):
        needs = "needs a student id" if NBGRADER_STEPS[step] else "has no per-student folder"
        raise ValueError(f"nbgrader's {step}/ {needs}. Received: student={student!r}.")
    return notebook_in(Path(course_dir) / step, assignment_id, student)


def source_notebook(assignment_id: str, root: Path = COURSE_ROOT) -> Path:
    """The nbgrader source notebook (solutions and hidden tests): source/<aid>/<aid>.ipynb."""
    return notebook_in(root / "source", assignment_id)


def released_notebook(assignment_id: str, root: Path = COURSE_ROOT) -> Path:
    """The student notebook nbgrader generated, committed: assignments/<aid>/<aid>.ipynb."""
    return notebook_in(root / "assignments", assignment_id)


def sample_class(assignment_id: str, root: Path = COURSE_ROOT) -> Path:
    """The bundled sample class of an assignment, a folder grade-all takes: samples/<aid>."""
    return root / "samples" / assignment_id


def sample_notebook(assignment_id: str, student: str, root: Path = COURSE_ROOT) -> Path:
    """A bundled sample submission: samples/<aid>/submitted/<student>/<aid>/<aid>.ipynb."""
    return notebook_in(sample_class(assignment_id, root) / "submitted", assignment_id, student)


def solution_file(assignment_id: str, root: Path = COURSE_ROOT) -> Path:
    """The reference implementations: solutions/<aid>.py (module `solution_module(aid)`)."""
    return root / "solutions" / f"{assignment_id}.py"


def solution_module(assignment_id: str) -> str:
    """The reference's import name: solutions.<aid>."""
    return f"solutions.{assignment_id}"


def checks_file(assignment_id: str, root: Path = COURSE_ROOT) -> Path:
    """The hidden checks: autograder/checks/<aid>.py."""
    return root / "autograder" / "checks" / f"{assignment_id}.py"


def checks_module(assignment_id: str) -> str:
    """The hidden checks' import name: autograder.checks.<aid>."""
    return f"autograder.checks.{assignment_id}"


def catalogue_file(assignment_id: str, root: Path = COURSE_ROOT) -> Path:
    """The catalogue of mistakes and alternatives: tests/checks/test_<aid>.py."""
    return root / "tests" / "checks" / f"test_{assignment_id}.py"


def catalogue_module(assignment_id: str) -> str:
    """The catalogue's import name: tests.checks.test_<aid>."""
    return f"tests.checks.test_{assignment_id}"


def course_file(root: Path = COURSE_ROOT) -> Path:
    """course.yaml."""
    return root / "course.yaml"


def curriculum_file(root: Path = COURSE_ROOT) -> Path:
    """The contract of names, signatures and meanings: docs/curriculum.md."""
    return root / "docs" / "curriculum.md"


CURRICULUM_FILE = curriculum_file()


def assignment_files(assignment_id: str, root: Path = COURSE_ROOT) -> dict[str, Path]:
    """The five files of an assignment, by their role."""
    return {"solutions": solution_file(assignment_id, root), "checks": checks_file(assignment_id, root),
            "source": source_notebook(assignment_id, root), "released": released_notebook(assignment_id, root),
            "catalogue": catalogue_file(assignment_id, root)}


def relative(path: Path, root: Path = COURSE_ROOT) -> str:
    """`path` as shown to people: relative to the repository when inside it."""
    path = Path(path)
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


# ---- an exercise's places ------------------------------------------------------------------------

@dataclass(frozen=True)
class Place:
    """A line of a file, and what stands there."""

    path: Path
    line: int
    what: str = ""

    def location(self, root: Path = COURSE_ROOT) -> str:
        """``file:line``, the file relative to the repository."""
        return f"{relative(self.path, root)}:{self.line}"

    def show(self, root: Path = COURSE_ROOT) -> str:
        """``file:line  what``."""
        return self.location(root) + (f"  {self.what}" if self.what else "")


@dataclass(frozen=True)
class Cell:
    """A notebook cell that belongs to an exercise."""

    notebook: Path
    index: int
    grade_id: str


def _module(path: Path) -> ast.Module:
    """A Python file's syntax tree; an empty module for a file not written yet."""
    return ast.parse(path.read_text(encoding="utf-8")) if path.exists() else ast.Module(body=[], type_ignores=[])


def definition(path: Path, name: str) -> Place | None:
    """The top-level ``def``/``class`` of `name` in a Python file, or None."""
    for node in _module(path).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == name:
            return Place(path, node.lineno, f"{'class' if isinstance(node, ast.ClassDef) else 'def'} {name}")
    return None


def _exercise_tag(decorator: ast.expr) -> tuple[str, float] | None:
    """(exercise, weight) of an ``@exercise("name", weight=...)`` decorator; None for others."""
    if not (isinstance(decorator, ast.Call) and decorator.args and isinstance(decorator.args[0], ast.Constant)):
        return None
    func = decorator.func
    if (func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)) != "exercise":
        return None
    given = [*decorator.args[1:2], *(k.value for k in decorator.keywords if k.arg == "weight")]
    weight = given[0].value if given and isinstance(given[0], ast.Constant) else 1.0
    return decorator.args[0].value, weight


def check_places(assignment_id: str, name: str, root: Path = COURSE_ROOT) -> list[Place]:
    """Each hidden check tagged ``@exercise(name)``, at its ``def`` line, with its weight."""
    path = checks_file(assignment_id, root)
    places = []
    for node in _module(path).body:
        if isinstance(node, ast.FunctionDef):
            for tag in filter(None, map(_exercise_tag, node.decorator_list)):
                if tag[0] == name:
                    places.append(Place(path, node.lineno, f"{node.name} (weight {tag[1]:g})"))
    return places


def catalogue_places(assignment_id: str, name: str, root: Path = COURSE_ROOT) -> list[Place]:
    """Each catalogue entry of the exercise: a tuple ``(name, "what", cell[, words])``.

    Mistakes have four items (the words their feedback must contain), alternatives three.
    """
    path = catalogue_file(assignment_id, root)
    places = []
    for node in ast.walk(_module(path)):
        if (isinstance(node, ast.Tuple) and len(node.elts) in (3, 4)
                and all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts[:2])
                and node.elts[0].value == name):
            kind = "mistake" if len(node.elts) == 4 else "alternative"
            places.append(Place(path, node.lineno, f"{kind}: {node.elts[1].value}"))
    return sorted(places, key=lambda p: p.line)


def exercise_cells(notebook: Path, name: str) -> list[Cell]:
    """The cells of one exercise in a notebook: its solution, visible checks and hidden tests."""
    if not notebook.exists():
        return []
    ids = {name, f"{name}_visible", f"{name}_hidden"}
    return [Cell(notebook, i, grade_id) for i, grade_id in enumerate(grade_ids(notebook)) if grade_id in ids]


def grade_ids(notebook: Path, *, solutions_only: bool = False) -> list[str | None]:
    """Each cell's nbgrader grade_id (None for cells nbgrader does not track), in cell order.

    Args:
        notebook: an .ipynb file.
        solutions_only: only the solution cells' (the students' answers).
    """
    # Plain JSON: the cells' metadata is all that is needed, and nbformat takes seconds to import.
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    metas = [c.get("metadata", {}).get("nbgrader", {}) for c in cells]
    return [m.get("grade_id") for m in metas if m.get("solution") or not solutions_only]


def course_entry(name: str, root: Path = COURSE_ROOT) -> Place | None:
    """The line of course.yaml that lists the exercise (``- {name: NAME, points: P}``)."""
    path = course_file(root)
    pattern = re.compile(rf"\bname:\s*['\"]?{re.escape(name)}['\"]?\s*(,|\}}|$)")
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if pattern.search(text):
            return Place(path, number)
    return None

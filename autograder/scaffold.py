"""A new assignment's first files: `python -m autograder new-assignment AID --title T --exercise NAME`.

It writes what `build` needs, with one exercise (docs/authoring.md, "A new assignment"):

- its entry in course.yaml (kept as it is when the author wrote it already: then every exercise
  listed there is scaffolded);
- `solutions/<aid>.py`: a placeholder reference per exercise, between nbgrader's SOLUTION markers;
- `autograder/checks/<aid>.py`: one hidden check per exercise, comparing with the reference;
- `source/<aid>/<aid>.ipynb`: the lesson's first cells, the visible checks' helper cell (the same
  as every notebook's), and per exercise its solution, visible checks and hidden test cells;

then runs `build` for it (the generated cells, and assignments/<aid>/ with nbgrader), so that
`build --check` accepts it. It overwrites nothing.
"""
from __future__ import annotations

import keyword
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from . import registry
from .authoring import HELPERS_CELL_ID, cell_metadata
from .build import build
from .config import COURSE_FILE, ConfigError, load_course

_ID = re.compile(r"^[a-z][a-z0-9_]*$")

SOLUTION = '''

def {name}(x):
    """TODO: what {name} computes, in one line.

    Args:
        x: a number or an array of any shape.

    Returns:
        An array of x's shape.
    """
    ### BEGIN SOLUTION
    return np.asarray(x, dtype=float)
    ### END SOLUTION
'''

CHECK = '''

@exercise("{name}")
def test_{name}_matches_the_reference({name}):
    """{name} agrees with the reference on a small array"""
    x = np.linspace(-1.0, 1.0, 6).reshape(2, 3)
    expect_close({name}(x), ref.{name}(x), call=f"{name}({{describe(x)}})")
'''

VISIBLE = '''# Visible checks for {name} (the grader runs more).
expect_close(run({name}, np.zeros(3)), np.zeros(3), "{name}(np.zeros(3))")
print("{name}: visible checks passed")'''


@dataclass(frozen=True)
class Scaffolded:
    """What `new_assignment` wrote (course.yaml included when it added the entry)."""

    assignment: str
    written: list[Path]


def new_assignment(assignment_id: str, *, title: str = "", exercise: str = "", points: float = 1) -> Scaffolded:
    """Write a new assignment's files and build it.

    Args:
        assignment_id: the new id (lower case, digits and underscores, e.g. a08_cnn).
        title: the title students see; needed when course.yaml does not list the assignment yet.
        exercise: its first exercise's name (a Python identifier); needed likewise.
        points: that exercise's points.

    Returns:
        The files written (`Scaffolded`).

    Raises:
        ConfigError: a malformed id or name, a title or exercise missing, or one of the files exists
            already (nothing is written then).
    """
    if not _ID.match(assignment_id):
        raise ConfigError(f"Expected an assignment id of lower-case letters, digits and underscores, starting with a "
                          f"letter (e.g. a08_cnn); received {assignment_id!r}.")
    course = load_course()
    files = [registry.solution_file(assignment_id), registry.checks_file(assignment_id),
             registry.source_notebook(assignment_id)]
    existing = [registry.relative(p) for p in files if p.exists()]
    if existing:
        raise ConfigError(f"{assignment_id} already has {', '.join(existing)}; nothing was written. Edit those files, "
                          f"or choose a new id.")
    written = []
    if assignment_id in [a.id for a in course.assignments]:
        assignment = course.assignment(assignment_id)
    else:
        if not title or not exercise:
            raise ConfigError(f"{assignment_id} is not in course.yaml: give its title and first exercise, e.g. "
                              f"python -m autograder new-assignment {assignment_id} --title 'Convolutions' "
                              f"--exercise conv2d")
        if not exercise.isidentifier() or keyword.iskeyword(exercise):
            raise ConfigError(f"Expected the exercise's name as a Python function name; received {exercise!r}.")
        taken = {e.name: a.id for a in course.assignments for e in a.exercises}
        if exercise in taken:
            raise ConfigError(f"{exercise} is already an exercise of {taken[exercise]}; exercise names are unique "
                              f"in the course. Choose another name.")
        _add_to_course_yaml(assignment_id, title, exercise, points)
        written.append(COURSE_FILE)
        assignment = load_course().assignment(assignment_id)
    names = [e.name for e in assignment.exercises]
    solution, checks, notebook = files
    solution.write_text(f'"""Reference solutions of {assignment_id}: {assignment.title}."""\nimport numpy as np\n'
                        + "".join(SOLUTION.format(name=n) for n in names), encoding="utf-8")
    checks.write_text(f'"""Hidden checks of {assignment_id}: {assignment.title}."""\nimport numpy as np\n\n'
                      f"from solutions import {assignment_id} as ref\n\nfrom ..student import describe\n"
                      f"from .kit import exercise, expect_close\n" + "".join(CHECK.format(name=n) for n in names),
                      encoding="utf-8")
    notebook.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(_source_notebook(assignment_id, assignment.title, names), notebook)
    written += files
    build([assignment_id], steps=["sync", "release"])
    written.append(registry.released_notebook(assignment_id))
    return Scaffolded(assignment_id, written)


def _add_to_course_yaml(assignment_id: str, title: str, exercise: str, points: float) -> None:
    """Append the entry at the end of course.yaml's `assignments:` list, keeping the file's comments;
    the result is validated before it is written."""
    lines = COURSE_FILE.read_text(encoding="utf-8").splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.startswith("assignments:")), None)
    if start is None:
        raise ConfigError("course.yaml has no `assignments:` list; add one (see autograder/config.py).")
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or lines[end][0] in " \t#-"):
        end += 1
    # blank lines and top-level comments at the block's end introduce the next key: the entry goes before them
    while end > start + 1 and (not lines[end - 1].strip() or lines[end - 1].startswith("#")):
        end -= 1
    entry = (f"  - id: {assignment_id}\n    title: {_yaml_string(title)}\n    exercises:\n"
             f"      - {{name: {exercise}, points: {points:g}}}\n")
    text = "".join(lines[:end]) + ("" if not lines[end - 1:end] or lines[end - 1].endswith("\n") else "\n") \
        + entry + "".join(lines[end:])
    with tempfile.TemporaryDirectory(prefix="course-yaml-") as tmp:   # validated before anything is written
        (Path(tmp) / "course.yaml").write_text(text, encoding="utf-8")
        load_course(Path(tmp) / "course.yaml")
    COURSE_FILE.write_text(text, encoding="utf-8")


def _yaml_string(text: str) -> str:
    return text if re.fullmatch(r"[A-Za-z][A-Za-z0-9 ,.()'/-]*", text) else '"' + text.replace('"', '\\"') + '"'


def _source_notebook(assignment_id: str, title: str, names: list[str]) -> nbformat.NotebookNode:
    """The source notebook: title, imports, the helper cell, and three cells per exercise (the
    solution and hidden test cells left empty: `build`'s sync step fills them)."""
    helpers = _helpers_cell()
    cells = [nbformat.v4.new_markdown_cell(f"# {title}\n\nTODO: what this assignment teaches, and how its "
                                           "notebook works (see the first cell of a01_perceptron)."),
             nbformat.v4.new_code_cell("import numpy as np"),
             helpers]
    for name in names:
        cells += [nbformat.v4.new_markdown_cell(f"## {name}\n\nTODO: explain {name}."),
                  nbformat.v4.new_code_cell("", metadata=cell_metadata(name, grade=False, solution=True, locked=False)),
                  nbformat.v4.new_code_cell(VISIBLE.format(name=name),
                                            metadata=cell_metadata(f"{name}_visible", grade=False, solution=False,
                                                                        locked=True)),
                  nbformat.v4.new_code_cell("", metadata=cell_metadata(f"{name}_hidden", solution=False, locked=True,
                                                                grade=True, points=0))]
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata = {"autograder": {"assignment": assignment_id},
                         "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
                         "language_info": {"name": "python"}}
    return notebook


def _helpers_cell():
    """The visible checks' helper cell, copied from the course's first source notebook (every
    notebook has the same, a test keeps them identical)."""
    for assignment in load_course().assignments:
        path = registry.source_notebook(assignment.id)
        if path.exists():
            for cell in nbformat.read(path, as_version=4).cells:
                if cell.get("id") == HELPERS_CELL_ID:
                    return nbformat.v4.new_code_cell(cell.source, id=HELPERS_CELL_ID)
    raise ConfigError(f"No source notebook has the visible checks' helper cell (id {HELPERS_CELL_ID}) to copy.")


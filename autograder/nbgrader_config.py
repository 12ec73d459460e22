"""nbgrader's configuration, derived from course.yaml in this one place."""
from __future__ import annotations

from pathlib import Path

from .config import Course

TEMPLATE = '''# Generated from course.yaml by `python -m autograder nbgrader-config`; edit course.yaml instead.
c = get_config()  # noqa: F821 (nbgrader provides it)
c.CourseDirectory.course_id = {course_id!r}
c.CourseDirectory.root = {root!r}
# TensorFlow cells need more than nbgrader's default 30 s per cell.
c.Execute.timeout = {cell_timeout}
c.ClearSolutions.code_stub = {{"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
# Students' feedback shows each hidden cell's output (the checks' feedback), never its code.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
c.ClearHiddenTests.enforce_metadata = False
'''


def render(course: Course, root: str | Path) -> str:
    """The text of nbgrader_config.py for a course directory at `root`."""
    return TEMPLATE.format(course_id=course.course_id, root=str(Path(root).resolve()),
                           cell_timeout=int(course.nbgrader.cell_timeout))


def write(course: Course, root: str | Path) -> Path:
    """Write nbgrader_config.py into the course directory `root` (created if needed)."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    path = root / "nbgrader_config.py"
    path.write_text(render(course, root), encoding="utf-8")
    return path

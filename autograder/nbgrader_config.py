"""nbgrader's configuration, derived from course.yaml in this one place."""
from __future__ import annotations

from pathlib import Path

from .config import COURSE_ROOT, Course

ISOLATED = '''# nbgrader imports the grader from the project's checkout when it is not installed.
if {project!r} not in sys.path:
    sys.path.append({project!r})
# `nbgrader autograde` grades with the isolated engine, in place of nbgrader's Execute: the
# student's cells run in the sandbox, the hidden checks in the grader, and each hidden test cell
# receives the feedback and the points. The rest of nbgrader's list is its own (its metadata check
# with the schema compiled once per run: autograder/nbgrader_metadata.py).
c.Autograde.autograde_preprocessors = [
    "autograder.nbgrader_preprocessor.IsolatedGrading",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "autograder.nbgrader_metadata.CheckCellMetadata",
]
# nbgrader's own sanitizing list, with its metadata check's schema compiled once per run (same checks).
c.Autograde.sanitize_preprocessors = [
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "nbgrader.preprocessors.OverwriteCells",
    "autograder.nbgrader_metadata.CheckCellMetadata",
]
# A submission nbgrader cannot read still reaches the engine, which records why it is a zero.
c.Autograde.exporter_class = "autograder.nbgrader_preprocessor.SubmissionExporter"
'''

TEMPLATE = '''# Generated from course.yaml by `python -m autograder nbgrader-config`; edit course.yaml instead.
import os
import sys

c = get_config()  # noqa: F821 (nbgrader provides it)
c.CourseDirectory.course_id = {course_id!r}
c.CourseDirectory.root = {root!r}
{isolated}# Only nbgrader's own Execute uses this (`nbgrader validate`, or a config without the lines above):
# TensorFlow cells need more than its default 30 s per cell.
c.Execute.timeout = {cell_timeout}
c.ClearSolutions.code_stub = {{"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
# Students' feedback shows each hidden cell's output (the checks' feedback), never its code.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    "autograder.report.mathml.MathMLPreprocessor",
]
# The feedback page reads offline: its maths are MathML (above), and its template (nbgrader's, with
# long lines wrapped) loads no MathJax from a CDN (autograder/report/templates/offline_feedback).
if {project!r} not in sys.path:
    sys.path.append({project!r})
import nbgrader as _nbgrader
c.HTMLExporter.template_name = "offline_feedback"
c.HTMLExporter.extra_template_basedirs = [
    {templates!r}, os.path.join(os.path.dirname(_nbgrader.__file__), "server_extensions", "formgrader", "templates")]
c.ClearHiddenTests.enforce_metadata = False
'''


def render(course: Course, root: str | Path, *, stock: bool = False) -> str:
    """The text of nbgrader_config.py for a course directory at `root`.

    Args:
        course: the configuration.
        root: the nbgrader course directory.
        stock: leave nbgrader's own Execute in autograde (the student's code and the hidden checks
            share a kernel: see docs/threat-model.md); only for comparisons such as the benchmark.
    """
    isolated = "" if stock else ISOLATED.format(project=str(COURSE_ROOT))
    return TEMPLATE.format(course_id=course.course_id, root=str(Path(root).resolve()), isolated=isolated,
                           cell_timeout=int(course.nbgrader.cell_timeout), project=str(COURSE_ROOT),
                           templates=str(COURSE_ROOT / "autograder" / "report" / "templates"))


def write(course: Course, root: str | Path, *, stock: bool = False) -> Path:
    """Write nbgrader_config.py into the course directory `root` (created if needed); `stock` as
    for `render`."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    path = root / "nbgrader_config.py"
    path.write_text(render(course, root, stock=stock), encoding="utf-8")
    return path

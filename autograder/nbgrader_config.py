"""nbgrader's configuration, derived from course.yaml in this one place."""
from __future__ import annotations

from pathlib import Path

from .config import COURSE_FILE, COURSE_ROOT, ConfigError, Course

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
# nbgrader's own sanitizing list, with its metadata check's schema compiled once per run (same checks),
# and the untouched hidden test cells restored before OverwriteCells checks them: it warned "checksum
# has changed" for every one (autograder/nbgrader_hidden.py), and now only for cells a student changed.
c.Autograde.sanitize_preprocessors = [
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "autograder.nbgrader_hidden.RestoreHiddenTests",
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
{validate}c.ClearSolutions.code_stub = {{"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}}
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
{late}'''

# course.yaml's late policy, the same in nbgrader autograde as in grade-all (the due dates are
# nbgrader's own: `nbgrader db assignment add ID --duedate=...` or formgrader).
LATE = '''# Late work costs what course.yaml's `late` block says (autograder/nbgrader_late.py).
c.AssignLatePenalties.plugin_class = "autograder.nbgrader_late.CourseLatePolicy"
c.CourseLatePolicy.course_file = {course_file!r}
'''

# `nbgrader validate` and Jupyter's Validate button read these lines (students' Jupyter must see them too:
# docs/authoring.md, "The Validate button").
VALIDATE = '''# Validate: the released hidden test cells are comments (their checks run only when grading), so
# nbgrader's default, which judges the graded cells alone, passes every notebook. Judge every cell: a
# visible check that fails raises CheckFailed, and validate shows its message. A cell of the student's
# own that raises fails validation too: the Validate button runs the notebook from the top as the
# grader does, and an error there is worth the student's attention (the warning below says so).
c.Validator.validate_all = True
c.Validator.failed_warning = (
    "VALIDATION FAILED ON {num_failed} CELL(S): each cell below raised an error (or wrote to stderr) when "
    "your notebook ran from the top, as the grader runs it. A failed visible check means the grader's "
    "checks of that exercise fail too: as it is, your notebook WILL NOT receive full credit. An error in "
    "a cell of your own costs nothing by itself, but fix or delete that cell.")
# validate_all counts any output on stderr as a failure: native libraries' start-up logs (TensorFlow's)
# go to the kernel's own stderr (the terminal or Jupyter's log), not into the cell.
c.Execute.extra_arguments = ["--IPKernelApp.capture_fd_output=False"]
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
                           validate=VALIDATE, cell_timeout=int(course.nbgrader.cell_timeout), project=str(COURSE_ROOT),
                           templates=str(COURSE_ROOT / "autograder" / "report" / "templates"),
                           late="" if course.late.penalty_method == "none" else LATE.format(course_file=str(COURSE_FILE)))


STUDENTS = '''# Students' nbgrader_config.py, generated from course.yaml by `python -m autograder nbgrader-config
# --students`: what Jupyter's Validate button needs (put it where the students' Jupyter reads its
# config, e.g. /etc/jupyter/ on a JupyterHub). It names no course folder and no grader.
c = get_config()  # noqa: F821 (nbgrader provides it)
c.Execute.timeout = {cell_timeout}
{validate}'''


def render_students(course: Course) -> str:
    """The text of the students' nbgrader_config.py: the Validate button's settings only."""
    return STUDENTS.format(cell_timeout=int(course.nbgrader.cell_timeout), validate=VALIDATE)


def write(course: Course, root: str | Path, *, stock: bool = False, students: bool = False) -> Path:
    """Write nbgrader_config.py into the course directory `root` (created if needed); `stock` as
    for `render`; `students`: the students' config (`render_students`) instead.

    Raises:
        ConfigError: `students`, and `root` holds an instructor's nbgrader_config.py (never overwritten by it).
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    path = root / "nbgrader_config.py"
    if students:
        if path.is_file() and "c.CourseDirectory.root" in path.read_text(encoding="utf-8", errors="replace"):
            raise ConfigError(f"{path} is a course's own nbgrader config: the students' config would replace it. "
                              "Write the students' config into another folder (e.g. /etc/jupyter).")
        path.write_text(render_students(course), encoding="utf-8")
        return path
    path.write_text(render(course, root, stock=stock), encoding="utf-8")
    return path

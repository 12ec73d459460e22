"""Filling nbgrader's gradebook with the fast path's results, through nbgrader's own API, so that
formgrader, `nbgrader generate_feedback` and `nbgrader export` work on them unchanged.

Only what grading recomputes is written, as `nbgrader autograde` writes it: each grade cell's
`auto_score` and `needs_manual_grade` (SaveAutoGrades: set where an instructor's manual score exists),
the submission's timestamp where the class folder has a timestamp.txt, and the late penalty,
recomputed on the new score as AssignLatePenalties does. An instructor's manual scores, extra
credit and comments, the student's names and an earlier timestamp are kept.

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

from . import late
from .config import Course, LatePolicy, load_course, parse_timestamp
from .notebook import NotebookError, read_notebook
from .report import exercise_feedback, printable
from .results import GradeResult
from .submissions import refusal


@dataclass
class Filled:
    """What `fill_gradebook` did."""

    recorded: int = 0                                    # submissions recorded
    problems: list[str] = field(default_factory=list)    # one line per student whose recording failed
    notes: list[str] = field(default_factory=list)       # what the instructor should know (a penalty kept)


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


def late_plugin(course_dir: Path, policy: LatePolicy):
    """The late-penalty plugin for this course, as nbgrader would choose it: the one the course's
    nbgrader_config.py sets (`AssignLatePenalties.plugin_class`, `LateSubmissionPlugin.penalty_method`),
    else course.yaml's `late` policy (`autograder.late.penalty`), as an nbgrader plugin.

    Returns:
        (an `AssignLatePenalties` preprocessor with its plugin started, a description of the policy)
    """
    import sys

    from nbgrader.plugins import BasePlugin
    from nbgrader.preprocessors import AssignLatePenalties
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    config = Config()
    if (course_dir / "nbgrader_config.py").is_file():
        config = PyFileConfigLoader("nbgrader_config.py", path=str(course_dir)).load_config()
    own = ("plugin_class" in config.AssignLatePenalties or "penalty_method" in config.LateSubmissionPlugin)
    if not own:
        class CoursePolicy(BasePlugin):
            def late_submission_penalty(self, student_id, score, total_seconds_late):
                return late.penalty(policy, score, total_seconds_late)

        config.AssignLatePenalties.plugin_class = CoursePolicy
    assign = AssignLatePenalties(config=config)
    sys.path.insert(0, str(course_dir))   # nbgrader imports a plugin module ("late.SubMarks") from the course
    try:
        assign.init_plugin()
    finally:
        sys.path.remove(str(course_dir))
    described = ("nbgrader_config.py's" if own else f"course.yaml's late.penalty_method {policy.penalty_method!r}")
    return assign, described


def fill_gradebook(course_dir: str | Path, results: list[dict], *, course: Course | None = None) -> Filled:
    """Record each result as the autograded submission of its student in nbgrader's gradebook.

    Writes what `nbgrader autograde` writes and keeps the rest (see the module's docstring). The late
    penalty is recomputed on the new score with the plugin `late_plugin` chooses; where that plugin
    gives none but nbgrader had recorded one for a submission that is still late (a policy given on
    nbgrader's command line, say), nbgrader's penalty is kept, at most the new score, and a note says so.

    One student whose recording fails (an odd notebook, a database error) is reported in
    `Filled.problems` and the others are still recorded.

    Args:
        course_dir: an nbgrader course directory whose assignments were generated
            (`python -m autograder release` or `nbgrader generate_assignment`).
        results: what `grade_all` returned (`GradeResult.to_dict` data).
        course: the configuration (course.yaml by default): its late policy.

    Returns:
        How many submissions were recorded, the problems of those that were not, and notes.
    """
    from nbgrader.api import Gradebook

    course = course or load_course()
    course_dir = Path(course_dir).resolve()
    filled = Filled()
    assign, described = late_plugin(course_dir, course.late)
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
                _record(gradebook, result, assign, described, filled)
                target = course_dir / "autograded" / student / assignment / f"{assignment}.ipynb"
                target.parent.mkdir(parents=True, exist_ok=True)
                nbformat.write(_autograded_notebook(course_dir, result), target)
                filled.recorded += 1
            except Exception as exc:  # one student's odd data must not cost the others their grades
                gradebook.db.rollback()
                filled.problems.append(f"{printable(student, newlines=False)}: not recorded "
                                       f"({type(exc).__name__}: {printable(exc, newlines=False)[:300]})")
    return filled


def _record(gradebook, result: GradeResult, assign, described: str, filled: Filled) -> None:
    """Write one result's scores, timestamp and late penalty as `nbgrader autograde` does, keeping the rest."""
    assignment, student = result.assignment, result.student
    gradebook.update_or_create_student(student)       # no keyword: the student's names are kept
    # Autograde.init_assignment: a timestamp.txt sets the submission's time; without one the recorded time stays
    timestamp = {"timestamp": parse_timestamp(result.timestamp)} if result.timestamp else {}
    submission = gradebook.update_or_create_submission(assignment, student, **timestamp)
    notebook = gradebook.find_submission_notebook(assignment, assignment, student)
    kept_penalty = notebook.late_submission_penalty or 0.0
    scores = {e.name: e.score for e in result.exercises}
    for grade in notebook.grades:
        # SaveAutoGrades._add_score: the autograder's score; a manual score stays and is flagged for review
        grade.auto_score = scores.get(grade.name.removesuffix("_hidden"), 0.0)
        grade.needs_manual_grade = grade.manual_score is not None
    gradebook.db.commit()
    # AssignLatePenalties.preprocess, on the score just written (manual scores and extra credit included)
    notebook.late_submission_penalty = None
    seconds_late = submission.total_seconds_late
    if seconds_late > 0:
        penalty = assign.plugin_inst.late_submission_penalty(student, notebook.score, seconds_late)
        if penalty is not None:   # AssignLatePenalties._check_late_penalty: 0 <= penalty <= score
            notebook.late_submission_penalty = min(max(penalty, 0.0), notebook.score)
        if not notebook.late_submission_penalty and kept_penalty > 0:
            # nbgrader had a penalty this plugin cannot recompute: keeping it loses nothing, and is said
            notebook.late_submission_penalty = min(kept_penalty, notebook.score)
            filled.notes.append(
                f"{printable(student, newlines=False)}: kept nbgrader's late penalty "
                f"{late.points_text(notebook.late_submission_penalty)} ({late.points_text(seconds_late / 3600)} h late; "
                f"{described} gives none): set the policy in course.yaml's late block, or "
                "c.LateSubmissionPlugin.penalty_method in the course's nbgrader_config.py, to recompute it")
    gradebook.db.commit()

"""A real nbgrader course directory: release, collect, autograde, feedback, export, gradebook."""
from __future__ import annotations

import shutil
from pathlib import Path

from . import nbgrader_config
from .config import Course, load_course
from .registry import course_notebook, source_notebook
from .release import nbgrader


def create(course_dir: Path, assignment_ids: list[str], course: Course | None = None) -> Path:
    """An nbgrader course directory with the derived nbgrader_config.py and the assignments
    released (source/, release/, gradebook.db), by one `nbgrader generate_assignment` run."""
    course = course or load_course()
    course_dir = Path(course_dir)
    nbgrader_config.write(course, course_dir)
    for assignment_id in assignment_ids:
        course.assignment(assignment_id)
        target = course_notebook(course_dir, "source", assignment_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source_notebook(assignment_id), target)
    # one nbgrader start-up for all of them: "*" releases every assignment of source/
    pattern = assignment_ids[0] if len(assignment_ids) == 1 else "*"
    nbgrader(["generate_assignment", pattern, "--force"], course_dir)
    return course_dir


def submit(course_dir: Path, assignment_id: str, student: str, notebook: Path) -> Path:
    """Place a student's notebook where `nbgrader collect` would: submitted/<student>/<aid>/."""
    target = course_notebook(course_dir, "submitted", assignment_id, student)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(notebook, target)
    return target


def autograde(course_dir: Path, assignment_id: str = "*", options: tuple[str, ...] = ()) -> None:
    """`nbgrader autograde` (creating unknown students), then `generate_feedback` and `export`.

    Args:
        course_dir: the nbgrader course directory.
        assignment_id: one assignment, or "*" for all of them in one run.
        options: more of nbgrader's command-line options for autograde
            (e.g. "--LateSubmissionPlugin.penalty_method=zero").
    """
    nbgrader(["autograde", assignment_id, "--create", "--force", *options], course_dir)
    nbgrader(["generate_feedback", assignment_id, "--force"], course_dir)
    nbgrader(["export", "--to", str(Path(course_dir) / "grades.csv")], course_dir)


def gradebook_scores(course_dir: Path, assignment_id: str) -> dict[str, float]:
    """Student id -> total score of the assignment, read through nbgrader's own Gradebook API."""
    from nbgrader.api import Gradebook

    db_url = f"sqlite:///{Path(course_dir).resolve() / 'gradebook.db'}"
    with Gradebook(db_url) as gradebook:
        return {s.student.id: s.score for s in gradebook.assignment_submissions(assignment_id)}


def gradebook_grades(course_dir: Path, assignment_id: str) -> dict[str, dict[str, float]]:
    """Student id -> {grade cell id (e.g. "relu_hidden"): points}, from nbgrader's Gradebook API."""
    from nbgrader.api import Gradebook

    db_url = f"sqlite:///{Path(course_dir).resolve() / 'gradebook.db'}"
    with Gradebook(db_url) as gradebook:
        return {s.student.id: {g.name: g.score for n in s.notebooks for g in n.grades}
                for s in gradebook.assignment_submissions(assignment_id)}


def feedback_files(course_dir: Path, assignment_id: str) -> dict[str, Path]:
    """Student id -> the HTML feedback nbgrader generated."""
    root = Path(course_dir) / "feedback"
    return {p.parts[-3]: p for p in root.glob(f"*/{assignment_id}/*.html")}

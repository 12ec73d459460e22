"""course.yaml's late policy as an nbgrader late-submission plugin, so that `nbgrader autograde` and
grade-all charge a late submission the same points (`autograder.late.penalty`). In the course's
nbgrader_config.py:

    c.AssignLatePenalties.plugin_class = "autograder.nbgrader_late.CourseLatePolicy"
    c.CourseLatePolicy.course_file = "/path/to/course.yaml"    # optional: the repository's by default
"""
from __future__ import annotations

from nbgrader.plugins import BasePlugin
from traitlets import Unicode

from . import late
from .config import COURSE_FILE, load_course


class CourseLatePolicy(BasePlugin):
    """The penalty of course.yaml's `late` block (penalty_method none, zero, per_hour or per_day)."""

    course_file = Unicode(str(COURSE_FILE), help="the course.yaml whose late policy applies").tag(config=True)

    def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float) -> float:
        """nbgrader's plugin API: the points a submission `total_seconds_late` late loses of `score`."""
        return late.penalty(load_course(self.course_file).late, score, total_seconds_late)

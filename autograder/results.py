"""The one result model: what grading a notebook found, carried unchanged to every output.

A `GradeResult` holds the assignment's `ExerciseResult`s, each holding its `CheckResult`s; every
total (a check's points, an exercise's score, the notebook's score) is computed here and nowhere
else. The renderers in `autograder.report` (Gradescope JSON, text, HTML, CSV, the class summary,
the gradebook's feedback, the demo's table) only read it. `to_dict`/`from_dict` carry it as plain
JSON-able data (between processes, and in the files grade-all keeps), exact values included.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class CheckResult:
    """One hidden check's outcome."""

    name: str          # the check's function name
    question: str      # its docstring's first line
    exercise: str
    weight: float
    passed: bool
    feedback: str = ""             # why it failed; for a passed check, a note (its failure came from another function)
    mistake: str | None = None     # the named mistake a check matched (never text from the student's side)
    points: float = 0.0            # its share of its exercise's points (set by its `ExerciseResult`)

    @property
    def status(self) -> str:
        return "passed" if self.passed else "failed"

    @property
    def score(self) -> float:
        return self.points if self.passed else 0.0


@dataclass
class ExerciseResult:
    """One exercise (a graded function or class) and its checks."""

    name: str
    points: float
    checks: list[CheckResult] = field(default_factory=list)

    def __post_init__(self) -> None:
        total = sum(c.weight for c in self.checks)
        for check in self.checks:
            check.points = self.points * check.weight / total if total else 0.0

    @property
    def score(self) -> float:
        return exercise_score(self.points, self.checks)

    @property
    def passed(self) -> bool:
        """Full marks: every check passed (an exercise without checks was not graded)."""
        return bool(self.checks) and all(c.passed for c in self.checks)


def exercise_score(points: float, checks: list[CheckResult]) -> float:
    """Points earned: the exercise's points times the passed share of its checks' weights."""
    total = sum(c.weight for c in checks)
    if total == 0:
        return 0.0
    return points * sum(c.weight for c in checks if c.passed) / total


@dataclass
class GradeResult:
    """The outcome of grading one notebook (or of failing to: `error` says why, with no checks run)."""

    notebook: str
    assignment: str | None
    exercises: list[ExerciseResult]
    notes: list[str] = field(default_factory=list)      # cells that failed, limits hit
    output: str = ""                                     # what the student's code printed (capped)
    isolation: str = "namespaces"
    execution_time: float = 0.0
    student: str = ""                                    # set by grade-all
    error: str = ""                                      # why it was not graded (a zero)
    # late work (set by grade-all from nbgrader's timestamp.txt and course.yaml's late policy)
    timestamp: str = ""                                  # when it was submitted, UTC, ISO 8601 ("" unknown)
    duedate: str = ""                                    # its assignment's due date, UTC, ISO 8601 ("" none)
    late_penalty: float = 0.0                            # points taken off `score` (0 <= late_penalty <= score)

    @property
    def score(self) -> float:
        """The raw score: the checks' points, before any late penalty."""
        return sum(e.score for e in self.exercises)

    @property
    def final_score(self) -> float:
        """The score after the late penalty (nbgrader's `score`; its `raw_score` is `score` here)."""
        return max(0.0, self.score - self.late_penalty)

    @property
    def max_score(self) -> float:
        return sum(e.points for e in self.exercises)

    def to_dict(self) -> dict:
        """Plain JSON-able data from which `from_dict` rebuilds this result; `score` and `max_score`
        (and each exercise's and check's) are included for readers and ignored when read back."""
        return {
            "student": self.student, "assignment": self.assignment, "notebook": self.notebook,
            "score": self.score, "max_score": self.max_score, "error": self.error, "notes": list(self.notes),
            "output": self.output, "isolation": self.isolation, "execution_time": self.execution_time,
            "timestamp": self.timestamp, "duedate": self.duedate, "late_penalty": self.late_penalty,
            "final_score": self.final_score,
            "exercises": [{"name": e.name, "points": e.points, "score": e.score, "checks": [
                {"name": c.name, "question": c.question, "weight": c.weight, "passed": c.passed,
                 "points": c.points, "feedback": c.feedback, "mistake": c.mistake} for c in e.checks]}
                for e in self.exercises],
        }

    @classmethod
    def from_dict(cls, data: dict) -> GradeResult:
        """The result `to_dict` gave.

        Raises:
            KeyError, TypeError: `data` is not what `to_dict` returns.
        """
        exercises = [ExerciseResult(e["name"], float(e["points"]), [
            CheckResult(c["name"], c["question"], e["name"], float(c["weight"]), bool(c["passed"]),
                        c.get("feedback") or "", c.get("mistake")) for c in e["checks"]])
            for e in data["exercises"]]
        return cls(data["notebook"], data.get("assignment"), exercises, list(data.get("notes") or []),
                   data.get("output") or "", data.get("isolation") or "none",
                   float(data.get("execution_time") or 0.0), data.get("student") or "", data.get("error") or "",
                   data.get("timestamp") or "", data.get("duedate") or "", float(data.get("late_penalty") or 0.0))

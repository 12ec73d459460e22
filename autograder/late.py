"""Late work: when a submission was handed in (nbgrader's timestamp.txt), how late it is against its
assignment's due date (course.yaml's `late.due_dates`), and what that costs (`late.penalty_method`),
with nbgrader's meaning: the penalty is taken off the raw score, never below zero
(nbgrader's AssignLatePenalties: 0 <= penalty <= score).

- 'none': no penalty (nbgrader's LateSubmissionPlugin default);
- 'zero': the whole score (nbgrader's LateSubmissionPlugin, penalty_method = 'zero');
- 'per_hour', 'per_day': `penalty_points` for each started hour or day late (nbgrader's docs' example
  plugin charges one point per hour, rounded; a minute late is charged here as an instructor expects).
"""
from __future__ import annotations

import math
import os
import stat
from datetime import datetime
from pathlib import Path

from .config import LatePolicy, parse_timestamp
from .results import GradeResult

TIMESTAMP_FILE = "timestamp.txt"   # written by `nbgrader collect` / `submit` beside the notebook
_MAX_TIMESTAMP_BYTES = 200


def read_timestamp(folder: Path) -> tuple[datetime | None, str]:
    """The time in `folder`/timestamp.txt, parsed as nbgrader does (UTC), and a problem ("" if none).

    Returns:
        (None, "") when there is no timestamp.txt; (None, why) when it is not a readable timestamp.
    """
    path = Path(folder) / TIMESTAMP_FILE
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None, ""
    except OSError as exc:
        return None, f"{TIMESTAMP_FILE} cannot be read ({exc.strerror})"
    if not stat.S_ISREG(info.st_mode):   # a symbolic link may point anywhere: never read through it
        return None, f"{TIMESTAMP_FILE} is not a regular file"
    try:
        with open(path, "rb") as f:
            text = f.read(_MAX_TIMESTAMP_BYTES).decode("utf-8", "replace").strip()
    except OSError as exc:
        return None, f"{TIMESTAMP_FILE} cannot be read ({exc.strerror})"
    if not text:
        return None, f"{TIMESTAMP_FILE} is empty"
    try:
        return parse_timestamp(text), ""
    except ValueError:
        return None, f"{TIMESTAMP_FILE} does not hold a date and time such as '2026-12-01 23:59:00 UTC'"


def penalty(policy: LatePolicy, score: float, seconds_late: float) -> float:
    """Points taken off a raw `score` handed in `seconds_late` after the due date (0 if on time)."""
    if seconds_late <= 0 or policy.penalty_method == "none":
        return 0.0
    if policy.penalty_method == "zero":
        taken = score
    else:
        unit = 3600 if policy.penalty_method == "per_hour" else 86400
        taken = policy.penalty_points * math.ceil(seconds_late / unit)
    return float(min(max(taken, 0.0), score))   # nbgrader's clamp (AssignLatePenalties._check_late_penalty)


def apply(data: dict, folder: Path | None, policy: LatePolicy) -> dict:
    """`data` (a `GradeResult.to_dict`) with its submission's timestamp, due date and late penalty,
    and a note that says how late it was and what that cost.

    Args:
        data: one result of grade-all.
        folder: the submission's folder (where nbgrader keeps timestamp.txt); None for a flat layout.
        policy: course.yaml's `late` block.
    """
    result = GradeResult.from_dict(data)
    due_text = policy.due_date(result.assignment)
    due = parse_timestamp(due_text) if due_text else None
    submitted, problem = read_timestamp(folder) if folder is not None else (None, "")
    result.timestamp = submitted.isoformat(sep=" ") if submitted else ""
    result.duedate = due.isoformat(sep=" ") if due else ""
    result.late_penalty = 0.0
    if problem:
        result.notes.append(f"Late work: {problem}; the submission was treated as on time.")
    elif submitted and due and submitted > due:
        seconds = (submitted - due).total_seconds()
        result.late_penalty = penalty(policy, result.score, seconds)
        result.notes.append(f"Late work: submitted {result.timestamp} UTC, {_duration(seconds)} after the due date "
                            f"({result.duedate} UTC): late penalty {points_text(result.late_penalty)} "
                            f"(course.yaml late.penalty_method: {policy.penalty_method}), so "
                            f"{points_text(result.final_score)} of {points_text(result.max_score)} "
                            f"(raw score {points_text(result.score)}).")
    return result.to_dict()


def points_text(value: float) -> str:
    """Points as people read them: 12, 8.33."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _duration(seconds: float) -> str:
    days, rest = divmod(math.ceil(seconds / 60), 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [(days, "day"), (hours, "hour"), (minutes, "minute")]
    text = ", ".join(f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in parts if n)
    return text or "less than a minute"

"""Tables of a class: the grades CSV in `nbgrader export`'s columns, and the demo's grade table."""
from __future__ import annotations

import csv
import io

from ..results import GradeResult
from .safe import csv_cell, number, printable, score_text

CSV_COLUMNS = ["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email",
               "raw_score", "late_submission_penalty", "score", "max_score"]


def csv_text(results: list[GradeResult]) -> str:
    """The grades CSV: one row per result, exact scores (raw, late penalty, final: nbgrader's meaning;
    times in UTC as nbgrader exports them), text cells neutralised for spreadsheets
    (a student id starting with "=", "+", "-", "@", a tab or CR gets a leading "'")."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS)  # CRLF rows: a CR inside a cell is then quoted
    writer.writeheader()
    for result in results:
        row = {"assignment": result.assignment or "", "duedate": result.duedate, "timestamp": result.timestamp,
               "student_id": result.student, "last_name": "", "first_name": "", "email": "",
               "raw_score": result.score, "late_submission_penalty": result.late_penalty,
               "score": result.final_score, "max_score": result.max_score}
        writer.writerow({key: csv_cell(value) for key, value in row.items()})
    return buffer.getvalue()


def grade_table(results: list[GradeResult]) -> str:
    """A plain-text table: one row per student, one column per exercise, then the total."""
    if not results:
        return "(no submissions)"
    exercises = list(dict.fromkeys(e.name for r in results for e in r.exercises))
    widths = [max(len(e), 5) for e in exercises]
    names = [printable(r.student, newlines=False) for r in results]
    first = max(16, *(len(n) + 1 for n in names))
    header = f"{'student':<{first}}" + "".join(f" {e:>{w}}" for e, w in zip(exercises, widths)) + "   total"
    lines = [header, "-" * len(header)]
    for name, result in zip(names, results):
        per = {e.name: number(e.score) for e in result.exercises}
        cells = "".join(f" {per.get(e, '-'):>{w}}" for e, w in zip(exercises, widths))
        lines.append(f"{name:<{first}}{cells}   {score_text(result.score, result.max_score)}")
    return "\n".join(lines)

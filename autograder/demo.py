"""The README's first command, after the install: release a01 with nbgrader, grade the bundled
sample class in isolation, write each student's results and print the grade table."""
from __future__ import annotations

import json
from pathlib import Path

from .config import COURSE_ROOT, load_course
from .grade import grade_notebook
from .release import release
from .report import to_gradescope, to_text
from .samples import CLASSES, submission_path


def grade_table(rows: list[tuple[str, dict]]) -> str:
    """A plain-text table: one row per student, one column per exercise, then the total."""
    if not rows:
        return "(no submissions)"
    exercises = [t["exercise"] for t in rows[0][1]["tests"]]
    exercises = list(dict.fromkeys(exercises))
    widths = [max(len(e), 5) for e in exercises]
    header = f"{'student':<16}" + "".join(f" {e:>{w}}" for e, w in zip(exercises, widths)) + "   total"
    lines = [header, "-" * len(header)]
    for student, result in rows:
        per = {e: sum(t["score"] for t in result["tests"] if t["exercise"] == e) for e in exercises}
        cells = "".join(f" {per[e]:>{w}.4g}" for e, w in zip(exercises, widths))
        lines.append(f"{student:<16}{cells}   {result['score']:g} / {result['max_score']:g}")
    return "\n".join(lines)


def run_demo(out: str | Path = "out/demo", assignment_id: str = "a01_perceptron") -> int:
    """Release, grade the sample class, write results under `out`, print the table.

    Returns:
        0 (the process's exit code).
    """
    course = load_course()
    out = Path(out) if Path(out).is_absolute() else COURSE_ROOT / out
    out.mkdir(parents=True, exist_ok=True)
    print(f"Releasing {assignment_id} with nbgrader generate_assignment ...")
    print(f"  student notebook: {release(assignment_id, course=course).relative_to(COURSE_ROOT)}")
    rows = []
    for student in CLASSES[assignment_id]:
        notebook = submission_path(assignment_id, student)
        result = grade_notebook(notebook, assignment=assignment_id, course=course)
        data = to_gradescope(result)
        (out / f"{student}.json").write_text(json.dumps(data, indent=2), encoding="utf-8")
        (out / f"{student}.txt").write_text(to_text(result), encoding="utf-8")
        print(f"  graded {student}: {result.score:g} / {result.max_score:g} in {result.execution_time:.1f} s")
        rows.append((student, data))
    print()
    print(grade_table(rows))
    print(f"\nPer-student results and feedback: {out.relative_to(COURSE_ROOT) if out.is_relative_to(COURSE_ROOT) else out}/")
    return 0

"""The README's first command, after the install: release a01 with nbgrader, grade the bundled
sample class in isolation, write each student's results and print the grade table."""
from __future__ import annotations

import json
from pathlib import Path

from .config import COURSE_ROOT, load_course
from .grade import grade_notebook
from .release import release
from .report import grade_table, score_text, to_gradescope, to_text
from .samples import CLASSES, submission_path


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
    results = []
    for student in CLASSES[assignment_id]:
        notebook = submission_path(assignment_id, student)
        result = grade_notebook(notebook, assignment=assignment_id, course=course)
        result.student = student
        (out / f"{student}.json").write_text(json.dumps(to_gradescope(result), indent=2), encoding="utf-8")
        (out / f"{student}.txt").write_text(to_text(result), encoding="utf-8")
        print(f"  graded {student}: {score_text(result.score, result.max_score)} in {result.execution_time:.1f} s")
        results.append(result)
    print()
    print(grade_table(results))
    print(f"\nPer-student results and feedback: {out.relative_to(COURSE_ROOT) if out.is_relative_to(COURSE_ROOT) else out}/")
    return 0

"""Grading a whole class: every submission in isolation, in parallel, with a progress bar;
per-student results and feedback, the grades CSV in nbgrader's export format, and a summary
of what the class got wrong."""
from __future__ import annotations

import csv
import html
import json
import os
import re
import statistics
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from .config import Course, load_course
from .notebook import NotebookError

CSV_COLUMNS = ["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email",
               "raw_score", "late_submission_penalty", "score", "max_score"]


@dataclass(frozen=True)
class Submission:
    student: str
    assignment: str | None   # None: from the notebook's metadata or name
    path: Path


def find_submissions(root: str | Path, assignment: str | None = None) -> list[Submission]:
    """The notebooks of a class folder.

    Layouts: nbgrader's ``[submitted/]<student>/<assignment>/*.ipynb``, or flat ``<student>.ipynb``
    files (the student is the file's stem; the assignment comes from `assignment` or the notebook).
    """
    root = Path(root)
    if (root / "submitted").is_dir():
        root = root / "submitted"
    found = []
    for path in sorted(root.rglob("*.ipynb")):
        if ".ipynb_checkpoints" in path.parts:
            continue
        parts = path.relative_to(root).parts
        if len(parts) == 3:
            student, folder = parts[0], parts[1]
            if assignment and folder != assignment:
                continue
            found.append(Submission(student, folder, path))
        elif len(parts) == 1:
            found.append(Submission(path.stem, assignment, path))
    return found


_ZYGOTES: dict = {}


def _zygote(course: Course, hide: tuple[str, ...]):
    """This worker process's fork server (started once, reused for every notebook it grades),
    or None where namespaces are unavailable and each notebook gets a plain sandbox."""
    from .sandbox.launcher import isolation_level
    from .sandbox.zygote import Zygote

    if isolation_level() != "namespaces" or os.environ.get("AUTOGRADER_ZYGOTE") == "0":
        return None
    key = (course.limits, hide)
    if key not in _ZYGOTES:
        from multiprocessing.util import Finalize

        _ZYGOTES[key] = Zygote(course.limits, hide).start()
        # A pool worker leaves through os._exit, which skips atexit; multiprocessing's own exit
        # hook runs this (and so removes the zygote's scratch folder and cgroup) in either case.
        Finalize(None, _ZYGOTES[key].close, exitpriority=10)
    return _ZYGOTES[key]


def _grade_one(submission: Submission, course: Course, hide: tuple[str, ...], zygote=None) -> dict:
    """Grade one submission; never raises (a broken file is a zero with its reason).
    `zygote`: a started one to fork from (a cluster worker's), else this process's own."""
    from .grade import grade_notebook
    from .report import to_gradescope

    try:
        result = grade_notebook(submission.path, assignment=submission.assignment, course=course, hide=hide,
                                zygote=zygote or _zygote(course, hide))
        data = to_gradescope(result)
    except NotebookError as exc:
        data = _zero(submission, course, str(exc))
    except Exception as exc:  # the grader's own failure must not cost the class its grades
        data = _zero(submission, course, f"internal error while grading: {type(exc).__name__}: {exc}")
    data["student"] = submission.student
    data["notebook"] = str(submission.path)
    return data


def _zero(submission: Submission, course: Course, reason: str) -> dict:
    assignment = submission.assignment
    known = {a.id for a in course.assignments}
    max_score = course.assignment(assignment).max_score if assignment in known else 0
    return {"score": 0.0, "max_score": max_score, "execution_time": 0.0, "output": reason, "tests": [],
            "assignment": assignment, "isolation": "none", "error": reason}


def grade_all(root: str | Path, *, out: str | Path, assignment: str | None = None, jobs: int | None = None,
              progress: bool = True, course: Course | None = None, scheduler: str | None = None) -> list[dict]:
    """Grade every submission under `root` and write the class's results under `out`.

    Args:
        root: the class folder (nbgrader's submitted/ layout, or flat notebooks).
        out: where to write <student>/<assignment>.json and .html, and grades.csv.
        assignment: only this assignment (required for flat folders without metadata).
        jobs: parallel workers (default: the machine's cores).
        progress: show a progress bar on stderr.
        scheduler: grade on this Dask cluster instead of a local pool (`cluster.executor.ClusterExecutor`).

    Returns:
        The results, one Gradescope-shaped dict per submission, with `student` added.
    """
    course = course or load_course()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    submissions = find_submissions(root, assignment)
    hide = (str(Path(root).resolve()), str(out.resolve()))
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(submissions) or 1))
    results = []
    bar = _progress(len(submissions), progress)
    if scheduler:
        from .cluster.executor import ClusterExecutor

        executor = ClusterExecutor(scheduler)
    else:
        executor = ProcessPoolExecutor(max_workers=jobs)
    with executor as pool:
        futures = [pool.submit(_grade_one, s, course, hide) for s in submissions]
        for future in as_completed(futures):
            data = future.result()
            results.append(data)
            _write_student(out, data)
            bar.update(1)
    bar.close()
    results.sort(key=lambda d: (d["student"], d.get("assignment") or ""))
    write_csv(out / "grades.csv", results)
    (out / "summary.txt").write_text(summary(results), encoding="utf-8")
    return results


def _progress(total: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, unit="notebook", desc="grading", disable=not enabled, dynamic_ncols=True)


def _write_student(out: Path, data: dict) -> None:
    folder = out / _safe(data["student"])
    folder.mkdir(parents=True, exist_ok=True)
    name = _safe(data.get("assignment") or "unknown")
    (folder / f"{name}.json").write_text(json.dumps(data, indent=2), encoding="utf-8")
    (folder / f"{name}.html").write_text(feedback_html(data), encoding="utf-8")


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name) or "_"


def feedback_html(data: dict) -> str:
    """A student's feedback page: each check, passed or failed, and its message. No check code."""
    e = html.escape
    rows = []
    for test in data["tests"]:
        ok = test["status"] == "passed"
        rows.append(f"<tr class={'ok' if ok else 'ko'}><td>{e(test['exercise'])}</td><td>{e(test['name'])}</td>"
                    f"<td>{test['score']:.4g} / {test['max_score']:.4g}</td>"
                    f"<td>{'passed' if ok else '<pre>' + e(test['output']) + '</pre>'}</td></tr>")
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Feedback: {e(str(data.get('assignment')))}</title>
<style>body{{font-family:sans-serif;margin:2em}} td{{vertical-align:top;padding:.3em .6em;border-bottom:1px solid #ddd}}
tr.ok td:last-child{{color:#270}} tr.ko td:last-child{{color:#a00}} pre{{white-space:pre-wrap;margin:0}}</style></head>
<body><h1>{e(str(data.get('assignment')))}: {data['score']:.4g} / {data['max_score']:.4g}</h1>
<p>Student: {e(data['student'])}</p><pre>{e(data.get('output', ''))}</pre>
<table><tr><th>exercise</th><th>check</th><th>points</th><th>feedback</th></tr>
{''.join(rows)}
</table></body></html>
"""


def write_csv(path: Path, results: list[dict]) -> None:
    """The grades in the columns of `nbgrader export`."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for data in results:
            writer.writerow({"assignment": data.get("assignment") or "", "duedate": "", "timestamp": "",
                             "student_id": data["student"], "last_name": "", "first_name": "", "email": "",
                             "raw_score": data["score"], "late_submission_penalty": 0.0, "score": data["score"],
                             "max_score": data["max_score"]})


MISTAKE = re.compile(r"Likely mistake: ([^\n]+)")


def summary(results: list[dict]) -> str:
    """Mean, median, per-exercise pass rates and the most common named mistakes."""
    if not results:
        return "No submissions found."
    scores = [d["score"] for d in results]
    lines = [f"{len(results)} submissions: mean {statistics.mean(scores):.2f}, "
             f"median {statistics.median(scores):.2f} (of {max(d['max_score'] for d in results):g})"]
    errors = [d for d in results if d.get("error")]
    if errors:
        lines.append(f"{len(errors)} could not be graded (zero): " +
                     "; ".join(f"{d['student']}: {d['error']}" for d in errors[:5]))
    per_exercise: dict[str, list[bool]] = {}
    for data in results:
        by_exercise: dict[str, bool] = {}
        for test in data["tests"]:
            by_exercise[test["exercise"]] = by_exercise.get(test["exercise"], True) and test["status"] == "passed"
        for exercise, passed in by_exercise.items():
            per_exercise.setdefault(exercise, []).append(passed)
    if per_exercise:
        lines.append("\nFull marks per exercise:")
        width = max(len(e) for e in per_exercise)
        for exercise, passes in per_exercise.items():
            lines.append(f"  {exercise:<{width}}  {100 * sum(passes) / len(passes):5.1f}%")
    # Counted once per student, however many checks the mistake failed.
    mistakes = Counter(m for d in results for m in {m for t in d["tests"] for m in MISTAKE.findall(t["output"])})
    if mistakes:
        lines.append("\nMost common named mistakes (worth re-teaching):")
        for mistake, count in mistakes.most_common(5):
            lines.append(f"  {count:3d} x {mistake}")
    return "\n".join(lines)

"""Grading a whole class: every submission in isolation, in parallel, with a progress bar;
per-student results and feedback, the grades CSV in nbgrader's export format, and a summary
of what the class got wrong."""
from __future__ import annotations

import csv
import html
import io
import re
import os
import statistics
from collections import Counter, deque
from concurrent.futures import (FIRST_COMPLETED, BrokenExecutor, Executor, ProcessPoolExecutor,
                                ThreadPoolExecutor, wait)
from pathlib import Path
from typing import Callable

from . import store
from .config import Course, load_course
from .notebook import NotebookError
from .submissions import Submission, find_submissions, refusal

CSV_COLUMNS = ["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email",
               "raw_score", "late_submission_penalty", "score", "max_score"]


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


def _grade_one(submission: Submission, course: Course, hide: tuple[str, ...]) -> dict:
    """Grade one submission; never raises (a broken file is a zero with its reason)."""
    from .grade import grade_notebook
    from .report import to_gradescope

    refused = submission.refused or refusal(submission.path)
    if refused:
        return _zero(submission, course, refused)
    try:
        result = grade_notebook(submission.path, assignment=submission.assignment, course=course, hide=hide,
                                zygote=_zygote(course, hide))
        data = to_gradescope(result)
    except NotebookError as exc:
        data = _zero(submission, course, str(exc))
    except Exception as exc:  # the grader's own failure must not cost the class its grades
        data = _zero(submission, course, f"internal error while grading: {type(exc).__name__}: {exc}")
    data["student"] = submission.student
    data["notebook"] = str(submission.path)
    if submission.note:
        data["output"] += f"\nNote: {submission.note}"
    return data


def _zero(submission: Submission, course: Course, reason: str) -> dict:
    assignment = submission.assignment
    known = {a.id for a in course.assignments}
    max_score = course.assignment(assignment).max_score if assignment in known else 0
    return {"score": 0.0, "max_score": max_score, "execution_time": 0.0, "output": reason, "tests": [],
            "assignment": assignment, "isolation": "none", "error": reason,
            "student": submission.student, "notebook": str(submission.path)}


def grade_all(root: str | Path, *, out: str | Path, assignment: str | None = None, jobs: int | None = None,
              progress: bool = True, course: Course | None = None) -> list[dict]:
    """Grade every submission under `root` and keep the class's results under `out`.

    Each student's result is written (atomically) as soon as it is graded; the grades CSV and the
    summaries are then rebuilt from every result under `out`, so grading another assignment, or
    regrading some students, replaces only what it regraded (layout: `autograder.store`).

    Args:
        root: the class folder (nbgrader's submitted/ layout, or flat notebooks).
        out: where to keep <assignment>/<student>.json and .html, grades.csv and summary.txt.
        assignment: only this assignment (required for flat folders without metadata).
        jobs: parallel workers (default: the machine's cores).
        progress: show a progress bar on stderr.

    Returns:
        This run's results, one Gradescope-shaped dict per submission, with `student` added.
    """
    course = course or load_course()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    submissions = find_submissions(root, assignment, exclude=(out,))
    hide = (str(Path(root).resolve()), str(out.resolve()))
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(submissions) or 1))
    results = []
    bar = _progress(len(submissions), progress)

    def keep(data: dict) -> None:
        results.append(data)
        store.save(out, data, feedback_html(data))
        bar.update(1)

    try:
        grade_class(submissions, course, hide, jobs=jobs, on_result=keep)
    finally:
        bar.close()
        # also after an interruption: the tables then show every result finished so far
        write_tables(out)
    results.sort(key=lambda d: (d["student"], d.get("assignment") or ""))
    return results


# What an executor raises for every task it held when one of its workers died.
BROKEN = (BrokenExecutor,)
KILLED_TWICE = ("The grader's worker process was killed twice while it graded this notebook (for instance by "
                "the machine's out-of-memory killer), so it was not graded. Grade it alone to see why: "
                "python -m autograder grade NOTEBOOK")


def grade_class(submissions: list[Submission], course: Course, hide: tuple[str, ...], *, jobs: int,
                on_result: Callable[[dict], None],
                executor: Callable[[int], Executor] = ProcessPoolExecutor) -> None:
    """Grade `submissions` on `jobs` workers, handing each result to `on_result` as soon as it is ready.

    A dead worker costs only the notebook it held: the notebooks its pool held (at most two per
    worker: the pool is fed as it drains, so the rest of the class was not in it) are graded again,
    each in a pool of its own so that a second death names its cause; a notebook that kills its own
    pool too is recorded as an error for its student, and the class goes on in a fresh pool.

    Args:
        submissions: what to grade.
        course, hide: passed to `_grade_one`.
        jobs: parallel workers.
        on_result: called in this thread with each `_grade_one` result (the killed ones included).
        executor: makes a concurrent.futures-style executor of n workers (called with n).
    """
    queue = deque(submissions)
    while queue:
        suspects = _run_until_broken(queue, course, hide, jobs, on_result, executor)
        if not suspects:
            continue
        with ThreadPoolExecutor(max_workers=jobs) as threads:
            for data in threads.map(lambda s: _grade_alone(s, course, hide, executor), suspects):
                on_result(data)


def _run_until_broken(queue: deque, course: Course, hide: tuple[str, ...], jobs: int,
                      on_result: Callable[[dict], None], executor: Callable[[int], Executor]) -> list[Submission]:
    """Grade from `queue` in one pool until it is empty or the pool breaks; return what the broken pool held."""
    held: dict = {}
    suspects = []
    with executor(jobs) as pool:
        while (queue or held) and not suspects:
            while queue and len(held) < 2 * jobs:
                submission = queue.popleft()
                held[pool.submit(_grade_one, submission, course, hide)] = submission
            done, _ = wait(held, return_when=FIRST_COMPLETED)
            for future in done:
                submission = held.pop(future)
                try:
                    on_result(future.result())
                except BROKEN:
                    suspects.append(submission)
        suspects += held.values()  # a broken pool fails everything it still held
    return suspects


def _grade_alone(submission: Submission, course: Course, hide: tuple[str, ...],
                 executor: Callable[[int], Executor]) -> dict:
    """Grade one submission in a pool of its own: if that pool breaks too, the notebook is the cause."""
    with executor(1) as pool:
        try:
            return pool.submit(_grade_one, submission, course, hide).result()
        except BROKEN:
            return _zero(submission, course, KILLED_TWICE)


def write_tables(out: Path) -> None:
    """Rebuild the grades CSVs and summaries of `out` from every student's result kept there."""
    kept = store.load_all(out)
    by_assignment: dict[str | None, list[dict]] = {}
    for data in kept:
        by_assignment.setdefault(data.get("assignment"), []).append(data)
    for assignment_id, results in by_assignment.items():
        folder = store.assignment_folder(out, assignment_id)
        store.write_atomic(folder / "grades.csv", csv_text(results))
        store.write_atomic(folder / "summary.txt", summary(results) + "\n")
    store.write_atomic(out / "grades.csv", csv_text(kept))
    store.write_atomic(out / "summary.txt", "\n\n".join(f"== {a or 'unknown assignment'} ==\n{summary(r)}"
                                                         for a, r in by_assignment.items()) + "\n")


def _progress(total: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, unit="notebook", desc="grading", disable=not enabled, dynamic_ncols=True)


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


def csv_text(results: list[dict]) -> str:
    """The grades in the columns of `nbgrader export`."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for data in results:
        writer.writerow({"assignment": data.get("assignment") or "", "duedate": "", "timestamp": "",
                         "student_id": data["student"], "last_name": "", "first_name": "", "email": "",
                         "raw_score": data["score"], "late_submission_penalty": 0.0, "score": data["score"],
                         "max_score": data["max_score"]})
    return buffer.getvalue()


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

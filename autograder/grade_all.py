"""Grading a whole class: every submission in isolation, in parallel, with a progress bar; each
student's result and feedback kept as soon as it is graded (`store`), the grades CSV in nbgrader's
export format and a summary of what the class got wrong rebuilt from every result kept; a dead worker
costs only its notebook. docs/grade-all.md says what is kept, refused and escaped."""
from __future__ import annotations

import ctypes
import gc
import multiprocessing
import os
import signal
import sys
from collections import deque
from concurrent.futures import (FIRST_COMPLETED, BrokenExecutor, Executor, ProcessPoolExecutor, as_completed,
                                ThreadPoolExecutor, wait)
from pathlib import Path
from typing import Callable

from . import late, store
from .config import Course, load_course
from .notebook import NotebookError
from .report import class_summary, csv_text, feedback_html, printable, summary
from .results import GradeResult
from .submissions import Submission, find_submissions, refusal
from .ungraded import ungraded_result as _zero   # the cluster zeroes with it too

_ZYGOTES: dict = {}


class ClassFolderError(ValueError):
    """The class folder, --assignment or --student names nothing to grade (nothing is written then)."""


def _zygote(course: Course, hide: tuple[str, ...]):
    """This worker process's fork server (started once, reused for every notebook it grades),
    or None where namespaces are unavailable and each notebook gets a plain sandbox."""
    from .sandbox.isolation import isolation_level
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
    """Grade one submission; never raises (a broken file is a zero with its reason). `zygote`: a
    started one to fork from (a cluster worker's), else this process's own.

    Returns:
        The `GradeResult` as plain data (`GradeResult.to_dict`), with the student's id.
    """
    from .grade import grade_notebook

    refused = submission.refused or refusal(submission.path, submission.links)
    if refused:
        return _zero(submission, course, refused)
    try:
        result = grade_notebook(submission.path, assignment=submission.assignment, course=course, hide=hide,
                                zygote=zygote or _zygote(course, hide))
    except NotebookError as exc:
        return _zero(submission, course, str(exc))
    except Exception as exc:  # the grader's own failure must not cost the class its grades
        return _zero(submission, course, f"internal error while grading: {type(exc).__name__}: {exc}")
    result.student = submission.student
    if submission.note:
        result.notes.append(submission.note)
    return result.to_dict()


def grade_all(root: str | Path, *, out: str | Path, assignment: str | None = None, jobs: int | None = None,
              progress: bool = True, course: Course | None = None, hide: tuple[str | Path, ...] = (),
              scheduler: str | None = None, student: str | None = None) -> list[dict]:
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
        course: the configuration (course.yaml by default).
        hide: more paths the students' code must not see (the nbgrader course of --gradebook);
            the class folder and `out` are always hidden.
        scheduler: grade on this Dask cluster (an address, or local:N) instead of a local pool
            (`cluster.executor.ClusterExecutor`).
        student: only this student (the others' results under `out` are kept).

    Returns:
        This run's results, one per submission, as plain data (`GradeResult.to_dict`: student,
        assignment, score (raw), late_penalty, final_score, timestamp, error, exercises and their
        checks, ...). Each result's late penalty follows course.yaml's `late` block (`autograder.late`).

    Raises:
        ConfigError: `assignment` is not one of the course's (the message lists them).
        ClassFolderError: `root` is not a folder, or holds no notebook to grade (of `assignment`,
            of `student`); nothing is written then.
    """
    course = course or load_course()
    if assignment:
        course.assignment(assignment)   # an unknown id: its error lists the course's
    out = Path(out)
    submissions = find_class(root, assignment=assignment, student=student, course=course, exclude=(out,))
    out.mkdir(parents=True, exist_ok=True)
    hide = tuple(dict.fromkeys(str(Path(p).resolve()) for p in (root, out, *hide)))
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(submissions) or 1))
    results = []
    bar = _progress(len(submissions), progress)

    folders = {str(s.path): s.folder for s in submissions}

    def keep(data: dict) -> None:
        data = late.apply(data, folders.get(data["notebook"]), course.late)
        results.append(data)
        store.save(out, data, feedback_html(GradeResult.from_dict(data)))
        bar.update(1)

    try:
        if scheduler:
            _grade_on_cluster(scheduler, submissions, course, hide, on_result=keep)
        else:
            grade_class(submissions, course, hide, jobs=jobs, on_result=keep)
    finally:
        bar.close()
        # also after an interruption: the tables then show every result finished so far
        write_tables(out)
    results.sort(key=lambda d: (d["student"], d.get("assignment") or ""))
    return results


def find_class(root: str | Path, *, assignment: str | None, student: str | None, course: Course,
               exclude: tuple[Path, ...] = ()) -> list[Submission]:
    """The submissions grade-all would grade (`find_submissions`), or a one-line reason why there are none.

    Raises:
        ClassFolderError: `root` is not a folder, or holds no notebook (of `assignment`, of `student`).
    """
    root = Path(root)
    shown = printable(str(root), newlines=False)
    if not root.is_dir():
        what = "is a file, not a folder" if root.exists() else "does not exist"
        hint = (f"to grade one notebook: python -m autograder grade {shown}" if root.is_file()
                else "give the class folder (nbgrader's course folder or its submitted/)")
        raise ClassFolderError(f"{shown} {what}: expected a class folder of submitted/<student>/<assignment>/"
                               f"<assignment>.ipynb or of <student>.ipynb notebooks; {hint}.")
    ids = tuple(a.id for a in course.assignments)
    found = find_submissions(root, assignment, exclude=exclude, assignments=ids)
    if not found:
        only = f" of {assignment}" if assignment else ""
        raise ClassFolderError(f"no notebook{only} found in {shown}: expected submitted/<student>/<assignment>/"
                               f"<assignment>.ipynb or <student>.ipynb files; check the folder"
                               f"{' and --assignment' if assignment else ''}.")
    if student:
        mine = [s for s in found if s.student == student]
        if not mine:
            known = sorted({s.student for s in found})
            listed = ", ".join(printable(k, newlines=False) for k in known[:20]) + (", ..." if len(known) > 20 else "")
            raise ClassFolderError(f"no submission of student {printable(student, newlines=False)!s} in {shown}"
                                   f"{' for ' + assignment if assignment else ''}: the students found are {listed}.")
        found = mine
    return found


def local_pool(jobs: int) -> Executor:
    """The local pool of `jobs` worker processes, each of which dies with this one (`_die_with`).

    Workers are forked from this process, which is fast, unless TensorFlow is loaded here: its runtime
    does not survive a fork (a worker forked after a Keras `fit` hung in its first Keras call, for
    ever), so they are then started afresh ("spawn"; as with any such start, a calling script guards
    its top level with `if __name__ == "__main__"`).
    """
    start = "fork" if "tensorflow" not in sys.modules else "spawn"
    return ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context(start), initializer=_die_with,
                               initargs=(os.getpid(),))


def _die_with(grader: int) -> None:
    """A pool worker's first step: when the grader dies, even by SIGKILL, which leaves it no
    clean-up of its own, the kernel sends this worker SIGTERM (parent-death signal), and the worker
    kills its fork server and sandboxes, removes their files and exits. Without it, a killed
    `grade-all` left its workers waiting forever and their fork servers behind."""
    from .sandbox.launcher import terminate

    # What the worker inherited from the grader's process is never collected here: TensorFlow's
    # objects (a process that ran Keras before forking the pool), collected after a fork, crashed
    # the worker (segfaults in TensorFlow's remove_function), and its notebooks were regraded or zeroed.
    gc.freeze()
    signal.signal(signal.SIGTERM, terminate)
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
    if os.getppid() != grader:  # it died before the line above
        terminate(signal.SIGTERM, None)


# What an executor raises for every task it held when one of its workers died.
BROKEN = (BrokenExecutor,)
KILLED_TWICE = ("The grader's worker process was killed twice while it graded this notebook (for instance by "
                "the machine's out-of-memory killer), so it was not graded. Grade it alone to see why: "
                "python -m autograder grade NOTEBOOK")


def grade_class(submissions: list[Submission], course: Course, hide: tuple[str, ...], *, jobs: int,
                on_result: Callable[[dict], None],
                executor: Callable[[int], Executor] | None = None) -> None:
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
        executor: makes a concurrent.futures-style executor of n workers (called with n); by
            default the local process pool.
    """
    executor = executor or local_pool
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
    suspects: list[Submission] = []
    with executor(jobs) as pool:
        while (queue or held) and not suspects:
            while queue and len(held) < 2 * jobs:
                submission = queue.popleft()
                held[pool.submit(_grade_one, submission, course, hide)] = submission
            done, _ = wait(held, return_when=FIRST_COMPLETED)
            for future in done:
                _collect(future, held.pop(future), course, on_result, suspects)
    # the pool has shut down: what it still held either finished or failed with it
    for future, submission in held.items():
        _collect(future, submission, course, on_result, suspects)
    return suspects


def _grade_on_cluster(scheduler: str, submissions: list[Submission], course: Course, hide: tuple[str, ...], *,
                      on_result: Callable[[dict], None]) -> None:
    """Grade `submissions` on a Dask cluster. The cluster regrades a lost worker's notebooks itself
    and turns a notebook that killed two workers into its student's error, so no pool is rebuilt here."""
    from .cluster.executor import ClusterExecutor

    with ClusterExecutor(scheduler) as pool:
        held = {pool.submit(_grade_one, s, course, hide): s for s in submissions}
        for future in as_completed(held):
            _collect(future, held[future], course, on_result, suspects=[])


def _collect(future, submission: Submission, course: Course, on_result: Callable[[dict], None],
             suspects: list[Submission]) -> None:
    """Hand a finished task's result on; a task of a broken pool becomes a suspect, any other failure
    (the executor's, never the student's code, which runs in the sandbox) that student's error."""
    try:
        data = future.result()
    except BROKEN:
        suspects.append(submission)
        return
    except Exception as exc:
        data = _zero(submission, course, f"internal error while grading: {type(exc).__name__}: {exc}")
    on_result(data)


def _grade_alone(submission: Submission, course: Course, hide: tuple[str, ...],
                 executor: Callable[[int], Executor]) -> dict:
    """Grade one submission in a pool of its own: if that pool breaks too, the notebook is the cause."""
    with executor(1) as pool:
        try:
            return pool.submit(_grade_one, submission, course, hide).result()
        except BROKEN:
            return _zero(submission, course, KILLED_TWICE)
        except Exception as exc:  # the executor's own failure: this student's error, not the class's
            return _zero(submission, course, f"internal error while grading: {type(exc).__name__}: {exc}")


def keep_results(out: str | Path, results: list[dict]) -> None:
    """Keep `results` again under `out` (each result and feedback page) and rebuild the tables: after
    `--gradebook`, whose timestamps and late penalties are then grade-all's too."""
    out = Path(out)
    for data in results:
        store.save(out, data, feedback_html(GradeResult.from_dict(data)))
    write_tables(out)


def write_tables(out: Path) -> None:
    """Rebuild the grades CSVs and summaries of `out` from every student's result kept there."""
    kept = [GradeResult.from_dict(data) for data in store.load_all(out)]
    by_assignment: dict[str | None, list[GradeResult]] = {}
    for result in kept:
        by_assignment.setdefault(result.assignment, []).append(result)
    for assignment_id, results in by_assignment.items():
        folder = store.assignment_folder(out, assignment_id)
        store.write_atomic(folder / "grades.csv", csv_text(results))
        store.write_atomic(folder / "summary.txt", summary(results) + "\n")
    store.write_atomic(out / "grades.csv", csv_text(kept))
    store.write_atomic(out / "summary.txt", class_summary(kept) + "\n")


def _progress(total: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, unit="notebook", desc="grading", disable=not enabled, dynamic_ncols=True)

"""Benchmark: `nbgrader autograde` against `python -m autograder grade-all` on the same class.

    python benchmarks/grade_class.py [--students 40] [--assignments a01_perceptron ...] [--jobs N]
                                     [--scheduler ADDRESS|local:N]

For each assignment it generates a class of N submissions from the released notebook (one in
five perfect, one in five the untouched stub, the rest each with one classic mistake from the
catalogue in tests/checks/), then, in one run:
  1. times stock `nbgrader autograde` (nbgrader's Execute: a kernel per notebook) on them in a real
     nbgrader course directory, then `nbgrader autograde` with the derived config (the isolated
     engine in place of Execute);
  2. times `grade-all` on the same files, that assignment alone (its start-up included);
  3. times the baseline: each notebook's own cells run once in this already-started Python,
     with NumPy, matplotlib and TensorFlow imported.
It prints a line per assignment (per-notebook medians, the ratio to the baseline, the time a
class of 200 would take at that rate, the speedup), whether every score is identical, and as
its last line, for all the assignments together:
`speedup vs nbgrader autograde: X.Xx, identical scores: yes|no` and
`nbgrader autograde, isolated engine vs stock: X.Xx, identical scores: yes|no`.
"""
from __future__ import annotations

import argparse
import importlib
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import nbformat  # noqa: E402

from autograder import nbgrader_config, nbgrader_course  # noqa: E402
from autograder.config import load_course  # noqa: E402
from autograder.grade_all import grade_all  # noqa: E402
from autograder.notebook import code_cells  # noqa: E402
from autograder.samples import submission  # noqa: E402


def make_class(assignment_id: str, students: int) -> dict[str, nbformat.NotebookNode]:
    """N submissions: perfect, stub and flawed (a catalogue mistake each), deterministic."""
    mistakes = importlib.import_module(f"tests.checks.test_{assignment_id}").MISTAKES
    notebooks = {}
    for i in range(students):
        kind = i % 5
        if kind == 0:
            notebooks[f"s{i:03d}_perfect"] = submission(assignment_id, {})
        elif kind == 1:
            notebooks[f"s{i:03d}_stub"] = submission(assignment_id, None)
        else:
            exercise, _, code, _ = mistakes[(7 * i) % len(mistakes)]
            notebooks[f"s{i:03d}_flawed"] = submission(assignment_id, {exercise: code.strip("\n")})
    return notebooks


def write_class(submitted: Path, assignment_id: str, notebooks: dict[str, nbformat.NotebookNode]) -> None:
    """Put each student's notebook where nbgrader's collect would: submitted/<student>/<aid>/<aid>.ipynb."""
    for student, notebook in notebooks.items():
        path = submitted / student / assignment_id / f"{assignment_id}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, path)


def per_notebook_times(paths: list[Path], started: float) -> list[float]:
    """Durations between consecutive autograded notebooks' write times (nbgrader grades in sequence)."""
    stamps = sorted(p.stat().st_mtime for p in paths)
    return [b - a for a, b in zip([started] + stamps[:-1], stamps)]


def baseline(notebooks: list[nbformat.NotebookNode]) -> list[float]:
    """Each notebook's own cells run once in this process (NumPy, matplotlib, TensorFlow already imported)."""
    import contextlib
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy  # noqa: F401
    import tensorflow  # noqa: F401

    times = []
    for notebook in notebooks:
        namespace = {"__name__": "__main__"}
        started = time.perf_counter()
        for cell in code_cells(notebook):
            try:
                with contextlib.redirect_stdout(io.StringIO()):
                    exec(compile(cell.source, "<cell>", "exec"), namespace)
            except Exception:
                pass
        times.append(time.perf_counter() - started)
        plt.close("all")
    return times


@dataclass
class Row:
    """One assignment's class, timed three ways."""

    assignment: str
    notebooks: int
    nbgrader_wall: float | None     # stock nbgrader; None with --skip-nbgrader
    isolated_wall: float | None     # nbgrader with the derived config (the isolated engine)
    isolated_median: float | None
    nbgrader_median: float | None
    fast_wall: float
    fast_median: float
    base_median: float
    base_total: float


def main() -> int:
    course = load_course()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=40, help="submissions per assignment (default 40)")
    parser.add_argument("--assignments", nargs="*", default=[a.id for a in course.assignments])
    parser.add_argument("--jobs", type=int, default=os.cpu_count(), help="grade-all workers (default: cores)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="grade-all on this Dask cluster instead of the local pool of --jobs processes; local:N "
                             "starts a LocalCluster of N workers first (its start-up timed apart: workers outlive runs)")
    parser.add_argument("--skip-nbgrader", action="store_true",
                        help="time grade-all and the baseline only (for large classes: nbgrader takes minutes)")
    args = parser.parse_args()

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    cluster = None
    if args.scheduler and args.scheduler.startswith("local:"):
        from autograder.cluster.executor import local_cluster

        started = time.perf_counter()
        cluster = local_cluster(args.scheduler)
        print(f"{args.scheduler}: LocalCluster started in {time.perf_counter() - started:.1f} s (not counted below)")
        args.scheduler = cluster.scheduler   # its address and this run's TLS files
    rows, nbgrader_scores, fast_scores, isolated_scores = [], {}, {}, {}
    med = statistics.median
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        course_dir = Path(tmp) / "course"
        nbgrader_course.create(course_dir, args.assignments, course)
        classes = {a: make_class(a, args.students) for a in args.assignments}
        for assignment_id, notebooks in classes.items():
            write_class(course_dir / "submitted", assignment_id, notebooks)
        total = sum(len(n) for n in classes.values())
        print(f"class: {total} notebooks ({args.students} per assignment: {', '.join(args.assignments)}); "
              f"{os.cpu_count()} cores; grade-all with "
              f"{f'--scheduler {args.scheduler}' if args.scheduler else f'{args.jobs} jobs'}; "
              "each assignment graded as its own class")

        for assignment_id, notebooks in classes.items():
            nbgrader_wall = nbgrader_median = isolated_wall = isolated_median = None
            if not args.skip_nbgrader:
                nbgrader_config.write(course, course_dir, stock=True)
                started = time.perf_counter()
                wall = time.time()
                nbgrader_course.nbgrader(["autograde", assignment_id, "--create", "--force"], course_dir)
                nbgrader_wall = time.perf_counter() - started
                autograded = list((course_dir / "autograded").glob(f"*/{assignment_id}/{assignment_id}.ipynb"))
                nbgrader_median = med(per_notebook_times(autograded, wall))
                for student, score in nbgrader_course.gradebook_scores(course_dir, assignment_id).items():
                    nbgrader_scores[(student, assignment_id)] = score
                nbgrader_config.write(course, course_dir)
                started = time.perf_counter()
                wall = time.time()
                nbgrader_course.nbgrader(["autograde", assignment_id, "--create", "--force"], course_dir)
                isolated_wall = time.perf_counter() - started
                isolated_median = med(per_notebook_times(autograded, wall))
                for student, score in nbgrader_course.gradebook_scores(course_dir, assignment_id).items():
                    isolated_scores[(student, assignment_id)] = score

            started = time.perf_counter()
            results = grade_all(course_dir / "submitted", out=Path(tmp) / "fast", assignment=assignment_id,
                                jobs=args.jobs, progress=False, scheduler=args.scheduler)
            fast_wall = time.perf_counter() - started
            fast_scores.update({(d["student"], d["assignment"]): d["score"] for d in results})

            base_times = baseline(list(notebooks.values()))
            rows.append(Row(assignment_id, len(notebooks), nbgrader_wall, isolated_wall, isolated_median,
                            nbgrader_median, fast_wall,
                            med(d["execution_time"] for d in results), med(base_times),
                            sum(base_times)))
            print(_line(rows[-1]), flush=True)

    if cluster is not None:
        cluster.close()
    if args.skip_nbgrader:
        print(f"all: grade-all {sum(r.fast_wall for r in rows):.1f} s; nbgrader not run (--skip-nbgrader)")
        return 0
    identical = set(fast_scores) == set(nbgrader_scores) and all(
        abs(fast_scores[k] - nbgrader_scores[k]) < 1e-6 for k in fast_scores)
    if not identical:
        for key in sorted(set(fast_scores) | set(nbgrader_scores)):
            if abs(fast_scores.get(key, -1) - nbgrader_scores.get(key, -2)) >= 1e-6:
                print(f"  differs: {key}: grade-all {fast_scores.get(key)}, nbgrader {nbgrader_scores.get(key)}")
    nbgrader_wall = sum(r.nbgrader_wall for r in rows)
    fast_wall = sum(r.fast_wall for r in rows)
    base_wall = sum(r.base_total for r in rows)
    print(f"all: nbgrader autograde {nbgrader_wall:.1f} s, grade-all {fast_wall:.1f} s "
          f"({fast_wall / total:.2f} s per notebook); the notebooks' own cells {base_wall:.1f} s on one core "
          f"(grade-all/baseline {fast_wall / base_wall:.2f}x)")
    print(f"speedup vs nbgrader autograde: {nbgrader_wall / fast_wall:.1f}x, "
          f"identical scores: {'yes' if identical else 'no'}")
    same = set(isolated_scores) == set(nbgrader_scores) and all(
        abs(isolated_scores[k] - nbgrader_scores[k]) < 1e-6 for k in nbgrader_scores)
    print(f"nbgrader autograde, isolated engine vs stock: {nbgrader_wall / sum(r.isolated_wall for r in rows):.1f}x, "
          f"identical scores: {'yes' if same else 'no'}")
    return 0


def _line(row: Row) -> str:
    """One assignment: nbgrader's and grade-all's time per notebook, the baseline, the ratios."""
    per_notebook = row.fast_wall / row.notebooks
    nbgrader = ("" if row.nbgrader_wall is None else
                f"nbgrader {row.nbgrader_wall:.1f} s (median {row.nbgrader_median:.2f} s/notebook); "
                f"nbgrader with the isolated engine {row.isolated_wall:.1f} s (median {row.isolated_median:.2f} "
                f"s/notebook); ")
    speedup = "" if row.nbgrader_wall is None else f"; speedup {row.nbgrader_wall / row.fast_wall:.1f}x"
    return (f"{row.assignment}: {nbgrader}grade-all {row.fast_wall:.1f} s ({per_notebook:.2f} s/notebook, "
            f"median {row.fast_median:.2f} s in one worker); baseline median {row.base_median:.2f} s; "
            f"grade-all/baseline {per_notebook / row.base_median:.2f}x; 200 at this rate: {200 * per_notebook:.0f} s"
            f"{speedup}")


if __name__ == "__main__":
    sys.exit(main())

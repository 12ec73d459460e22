"""Benchmark: `grade-all` on a Dask LocalCluster against the local pool, with one and two processes.

    python benchmarks/cluster_scaling.py [--students 40] [--assignment a05_sgd]

Builds one class of the assignment (as `grade_class.py` does: one in five perfect, one in five
the stub, the rest a classic mistake each), then grades it back to back, in one run: `--jobs 1`;
a LocalCluster of one worker, twice; one of two workers, twice; `--jobs 2`. Starting a cluster
is not timed. Its first run ("cold") includes setting the workers up (the autograder's plugin,
its zygote, the grader's first imports in a fresh process), as a pool's run includes starting
its workers; the second ("warm") is the usual case, since a cluster's workers outlive runs.
It prints a line per run and, last, the ratios issue 15 asks for, warm and cold:
`cluster, two workers vs one: X.XXx (local pool: Y.YYx); cluster vs local pool: +A% (1 process), +B% (2)`.
Every run must give the same scores; a difference is printed and the exit status is 1.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.grade_all import grade_all  # noqa: E402
from benchmarks.grade_class import make_class, write_class  # noqa: E402


def timed(submitted: Path, out: Path, assignment: str, mode: str) -> list[tuple[float, dict]]:
    """(seconds, scores) of grading the class with `mode`: once with jobs:N, twice (cold, then
    warm) on one LocalCluster with local:N."""
    runs, cluster = (1, None) if mode.startswith("jobs:") else (2, None)
    options: dict = {"jobs": int(mode.split(":")[1])}
    if mode.startswith("local:"):
        from autograder.cluster.executor import local_cluster

        cluster = local_cluster(mode)
        options = {"scheduler": cluster.scheduler}   # its address and this run's TLS files
    timings = []
    try:
        for run in range(runs):
            started = time.perf_counter()
            results = grade_all(submitted, out=out / str(run), assignment=assignment, progress=False, **options)
            timings.append((time.perf_counter() - started, {d["student"]: d["score"] for d in results}))
    finally:
        if cluster is not None:
            cluster.close()
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=40, help="submissions (default 40)")
    parser.add_argument("--assignment", default="a05_sgd", help="the assignment (default a05_sgd)")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    modes = ["jobs:1", "local:1", "local:2", "jobs:2"]
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as tmp:
        submitted = Path(tmp) / "submitted"
        write_class(submitted, args.assignment, make_class(args.assignment, args.students))
        print(f"class: {args.students} notebooks of {args.assignment}; {os.cpu_count()} cores; "
              "each LocalCluster started before its run (not timed)", flush=True)
        walls, scores = {}, {}
        for mode in modes:
            timings = timed(submitted, Path(tmp) / mode.replace(":", "-"), args.assignment, mode)
            names = [mode] if len(timings) == 1 else [f"{mode} cold", f"{mode} warm"]
            for name, (wall, score) in zip(names, timings):
                walls[name], scores[name] = wall, score
                flag = "--jobs " + mode[5:] if mode.startswith("jobs:") else f"--scheduler {name}"
                print(f"{flag:<26} grade-all {wall:.1f} s ({wall / args.students:.2f} s/notebook)", flush=True)
    first = next(iter(scores))
    same = all(scores[name] == scores[first] for name in scores)
    for name in scores:
        for student in sorted(set(scores[name]) | set(scores[first])):
            if scores[name].get(student) != scores[first].get(student):
                print(f"  differs: {student}: {name} {scores[name].get(student)}, {first} {scores[first].get(student)}")
    for state in ("warm", "cold"):
        one, two = walls[f"local:1 {state}"], walls[f"local:2 {state}"]
        print(f"{state}: cluster, two workers vs one: {one / two:.2f}x (local pool: {walls['jobs:1'] / walls['jobs:2']:.2f}x); "
              f"cluster vs local pool: {one / walls['jobs:1'] - 1:+.0%} (1 process), {two / walls['jobs:2'] - 1:+.0%} (2)")
    print(f"identical scores: {'yes' if same else 'no'}")
    return 0 if same else 1

if __name__ == "__main__":
    sys.exit(main())

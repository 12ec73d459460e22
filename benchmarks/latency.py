"""Benchmark: how long one student waits for one submission, against running the notebook in Jupyter.

    python benchmarks/latency.py [--assignments a01_perceptron ...] [--repeat 2]

For each assignment's perfect sample it times, alternating in one run and keeping the best of
`--repeat` runs of each:
  1. `python -m autograder grade NOTEBOOK --format json`, a fresh process (what Gradescope runs for
     one submission), with its score checked to be full marks;
  2. `jupyter nbconvert --to notebook --execute` of the same notebook, a fresh kernel (what running
     it in Jupyter costs, without any check).
It prints a table (assignment, grade, Jupyter, ratio) and as its last line the worst ratio:
`worst grade/Jupyter ratio: X.XXx (aim: at most 1.0)`.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.config import load_course  # noqa: E402
from autograder.registry import sample_notebook  # noqa: E402


def _timed(command: list[str], cwd: Path) -> tuple[float, str]:
    started = time.perf_counter()
    run = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if run.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed (exit {run.returncode}): {run.stderr.strip()[-500:]}")
    return elapsed, run.stdout


def time_grade(notebook: Path, work: Path) -> float:
    """Seconds for `python -m autograder grade` of `notebook`; it must give full marks."""
    elapsed, out = _timed([sys.executable, "-m", "autograder", "grade", str(notebook), "--format", "json"], ROOT)
    result = json.loads(out)
    if result["score"] != result["max_score"]:
        raise SystemExit(f"{notebook}: graded {result['score']}/{result['max_score']}, not full marks")
    return elapsed


def time_jupyter(notebook: Path, work: Path) -> float:
    """Seconds for `jupyter nbconvert --execute` of `notebook` in a fresh kernel."""
    jupyter = Path(sys.executable).with_name("jupyter")
    elapsed, _ = _timed([str(jupyter), "nbconvert", "--to", "notebook", "--execute", "--output-dir", str(work),
                         "--ExecutePreprocessor.timeout=600", str(notebook)], work)
    return elapsed


def main() -> int:
    course = load_course()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignments", nargs="*", default=[a.id for a in course.assignments])
    parser.add_argument("--repeat", type=int, default=2, help="runs of each, alternating; the best is kept")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="latency-") as tmp:
        for aid in args.assignments:
            notebook = sample_notebook(aid, "ada_perfect")
            grade, jupyter = [], []
            for _ in range(args.repeat):
                grade.append(time_grade(notebook, Path(tmp)))
                jupyter.append(time_jupyter(notebook, Path(tmp)))
            rows.append((aid, min(grade), min(jupyter)))
            print(f"{aid}: grade {min(grade):.1f} s, Jupyter {min(jupyter):.1f} s, "
                  f"ratio {min(grade) / min(jupyter):.2f}x", file=sys.stderr, flush=True)
    print("| assignment | grade | Jupyter | ratio |\n| --- | --- | --- | --- |")
    for aid, grade, jupyter in rows:
        print(f"| {aid} | {grade:.1f} s | {jupyter:.1f} s | {grade / jupyter:.2f}x |")
    print(f"worst grade/Jupyter ratio: {max(g / j for _, g, j in rows):.2f}x (aim: at most 1.0)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The command line: a thin wrapper over the package's functions.

    python -m autograder grade NOTEBOOK [--assignment ID] [--format json|text]
    python -m autograder grade-all DIR [--assignment ID] [--jobs N] [--out DIR] [--gradebook COURSE_DIR]
    python -m autograder sync [ID ...] [--check]
    python -m autograder release [ID ...]
    python -m autograder gradescope-bundle ID [--out ZIP]
    python -m autograder nbgrader-config DIR
    python -m autograder time-reference [ID ...]
    python -m autograder demo
"""
from __future__ import annotations

import argparse
import json
import sys

from .config import ConfigError, load_course
from .notebook import NotebookError


def _assignment_ids(given: list[str]) -> list[str]:
    from .authoring import source_path

    course = load_course()
    if given:
        return [course.assignment(a).id for a in given]
    return [a.id for a in course.assignments if source_path(a.id).exists()]


def cmd_grade(args) -> int:
    from .grade import grade_notebook
    from .report import to_gradescope, to_text

    result = grade_notebook(args.notebook, assignment=args.assignment)
    if args.format == "json":
        print(json.dumps(to_gradescope(result), indent=2))
    else:
        print(to_text(result))
    return 0


def cmd_grade_all(args) -> int:
    from .grade_all import grade_all, summary

    results = grade_all(args.directory, out=args.out, assignment=args.assignment, jobs=args.jobs,
                        progress=not args.no_progress)
    if args.gradebook:
        from .gradebook import fill_gradebook

        fill_gradebook(args.gradebook, results)
        print(f"gradebook filled: {args.gradebook}")
    print(summary(results))
    print(f"\nresults, feedback and grades.csv in {args.out}")
    return 0


def cmd_sync(args) -> int:
    from .authoring import sync

    stale = [a for a in _assignment_ids(args.assignments) if not sync(a, check=args.check)]
    verb = "out of sync" if args.check else "rewritten"
    for a in stale:
        print(f"{a}: {verb}")
    if not stale:
        print("source notebooks in sync")
    return 1 if args.check and stale else 0


def cmd_release(args) -> int:
    from .release import release

    for a in _assignment_ids(args.assignments):
        print(f"released {release(a)}")
    return 0


def cmd_nbgrader_config(args) -> int:
    from . import nbgrader_config

    print(f"wrote {nbgrader_config.write(load_course(), args.directory)}")
    return 0


def cmd_gradescope(args) -> int:
    from .gradescope import build_bundle

    print(f"wrote {build_bundle(load_course().assignment(args.assignment).id, args.out)}")
    return 0


def cmd_time_reference(args) -> int:
    from .timing import record_reference_timing

    print(f"wrote {record_reference_timing(_assignment_ids(args.assignments))}")
    return 0


def cmd_demo(args) -> int:
    from .demo import run_demo

    return run_demo(out=args.out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder", description="Grade the course's notebooks.")
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("grade", help="grade one notebook in isolation")
    p.add_argument("notebook")
    p.add_argument("--assignment", help="assignment id (default: from the notebook)")
    p.add_argument("--format", choices=["json", "text"], default="text")
    p.set_defaults(run=cmd_grade)

    p = commands.add_parser("grade-all", help="grade a folder of submissions in parallel")
    p.add_argument("directory", help="nbgrader's submitted/<student>/<assignment>/ layout, or flat notebooks")
    p.add_argument("--assignment", help="only this assignment (needed for flat folders without metadata)")
    p.add_argument("--jobs", type=int, help="parallel workers (default: the number of cores)")
    p.add_argument("--out", default="out/grades", help="where to write results, feedback and grades.csv")
    p.add_argument("--gradebook", help="an nbgrader course directory whose gradebook to fill")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=cmd_grade_all)

    p = commands.add_parser("sync", help="rewrite source notebooks' generated cells from solutions/")
    p.add_argument("assignments", nargs="*")
    p.add_argument("--check", action="store_true", help="only report notebooks out of sync (exit 1)")
    p.set_defaults(run=cmd_sync)

    p = commands.add_parser("release", help="generate the student notebooks with nbgrader")
    p.add_argument("assignments", nargs="*")
    p.set_defaults(run=cmd_release)

    p = commands.add_parser("nbgrader-config", help="write nbgrader_config.py derived from course.yaml")
    p.add_argument("directory")
    p.set_defaults(run=cmd_nbgrader_config)

    p = commands.add_parser("gradescope-bundle", help="build the Gradescope autograder zip of an assignment")
    p.add_argument("assignment")
    p.add_argument("--out", default=None, help="the zip to write (default: out/gradescope/<assignment>.zip)")
    p.set_defaults(run=cmd_gradescope)

    p = commands.add_parser("time-reference", help="record the reference solutions' timing (the cells' and "
                                                   "calls' budgets derive from it)")
    p.add_argument("assignments", nargs="*")
    p.set_defaults(run=cmd_time_reference)

    p = commands.add_parser("demo", help="release a01 and grade the bundled sample class")
    p.add_argument("--out", default="out/demo", help="where to write the demo's results")
    p.set_defaults(run=cmd_demo)

    args = parser.parse_args(argv)
    if getattr(args, "run", None) is cmd_gradescope and args.out is None:
        args.out = f"out/gradescope/{args.assignment}.zip"
    try:
        return args.run(args)
    except (NotebookError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

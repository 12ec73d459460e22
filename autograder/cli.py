"""The command line: a thin wrapper over the package's functions.

    python -m autograder grade NOTEBOOK [--assignment ID] [--format json|text]
    python -m autograder grade-all DIR [--assignment ID] [--student ID] [--jobs N | --scheduler ADDRESS [--tls-ca-file F --tls-cert F --tls-key F]] [--out DIR] [--gradebook COURSE_DIR]
    python -m autograder build [ID ...] [--check] [--step sync|release|samples ...]
    python -m autograder sync [ID ...] [--check]      (build's sync step alone)
    python -m autograder release [ID ...]             (build's release step alone)
    python -m autograder where EXERCISE
    python -m autograder new-assignment ID [--title TITLE --exercise NAME [--points P]]
    python -m autograder gradescope-bundle ID [--out ZIP]
    python -m autograder nbgrader-config DIR [--students]
    python -m autograder regrade ID --course DIR      (after course.yaml's points or tolerances change)
    python -m autograder time-reference [ID ...]
    python -m autograder record-keras [ID ...] [--stale]
    python -m autograder demo
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading

from .cluster import ClusterError, SchedulerAddress
from .config import ConfigError, load_course
from .notebook import NotebookError


def cmd_grade(args) -> int:
    from .grade import grade_notebook
    from .report import to_gradescope, to_text

    result = grade_notebook(args.notebook, assignment=args.assignment)
    if args.format == "json":
        print(json.dumps(to_gradescope(result), indent=2))
    else:
        print(to_text(result))
    _note_stale_records([result.assignment])
    return 0


def _note_stale_records(assignment_ids) -> None:
    from .keras_reference import stale_records

    for line in stale_records(assignment_ids):
        print(line, file=sys.stderr)


def cmd_grade_all(args) -> int:
    from .grade_all import ClassFolderError, grade_all, keep_results
    from .gradebook import GradebookError, check_course, fill_gradebook
    from .report import class_summary, printable
    from .results import GradeResult

    try:
        if args.gradebook:   # before grading: a course that cannot be filled is said at once
            check_course(args.gradebook)
        results = grade_all(args.directory, out=args.out, assignment=args.assignment, jobs=args.jobs,
                            progress=not args.no_progress, hide=(args.gradebook,) if args.gradebook else (),
                            scheduler=SchedulerAddress.from_options(args.scheduler, ca_file=args.tls_ca_file, cert=args.tls_cert,
                                                                    key=args.tls_key, insecure=args.insecure_scheduler),
                            student=args.student)
    except (ClassFolderError, GradebookError) as exc:
        print(f"error: {printable(exc, newlines=False)}", file=sys.stderr)
        return 2
    if args.gradebook:
        filled = fill_gradebook(args.gradebook, results)
        print(f"gradebook filled: {args.gradebook} ({filled.recorded} submissions recorded)")
        for note in filled.notes:
            print(f"  {note}")
        for problem in filled.problems:
            print(f"  {problem}", file=sys.stderr)
        results = filled.results   # the gradebook's timestamps and late penalties, in --out too
        keep_results(args.out, results)
    print(class_summary([GradeResult.from_dict(data) for data in results]))
    print(f"\nresults and feedback in {args.out}/<assignment>/, all grades in {args.out}/grades.csv")
    _note_stale_records({data["assignment"] for data in results})
    return 0


def cmd_build(args) -> int:
    from .build import build
    from .registry import relative

    outdated = build(args.assignments, check=args.check, steps=args.steps)
    for o in outdated:
        print(f"{o.assignment} {o.step}: {relative(o.path)} {'out of date' if args.check else 'rewritten'}")
    if not outdated:
        print("up to date")
    elif args.check:
        print(f"run: python -m autograder build {' '.join(args.assignments)}".rstrip())
    return 1 if args.check and outdated else 0


def cmd_new_assignment(args) -> int:
    from .registry import relative
    from .scaffold import new_assignment

    done = new_assignment(args.assignment, title=args.title or "", exercise=args.exercise or "", points=args.points)
    for path in done.written:
        print(f"wrote {relative(path)}")
    print(f"next: write the lesson and the visible checks in source/{done.assignment}/{done.assignment}.ipynb, the "
          f"reference in solutions/ and the checks in autograder/checks/, then run: python -m autograder build "
          f"{done.assignment} (docs/authoring.md)")
    return 0


def cmd_where(args) -> int:
    from .where import UnknownExercise, describe, exercise_places

    try:
        print(describe(exercise_places(args.exercise)))
    except UnknownExercise as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
        return 2
    return 0


def cmd_nbgrader_config(args) -> int:
    from . import nbgrader_config

    print(f"wrote {nbgrader_config.write(load_course(), args.directory, students=args.students)}")
    return 0


def cmd_regrade(args) -> int:
    from .regrade import regrade

    done = regrade(args.assignment, course_dir=args.course, progress=lambda line: print(line, flush=True))
    for path in done.rebuilt:
        print(f"  rebuilt {path}")
    print(f"{done.assignment}: max score {done.max_before:g} -> {done.max_after:g} in the gradebook; "
          f"{len(done.after)} submissions autograded again{' (feedback too)' if done.feedback else ''}")
    for student in sorted(done.after):
        before = done.before.get(student)
        print(f"  {student}: {'-' if before is None else f'{before:g}'} -> {done.after[student]:g}")
    print("nbgrader export now shows these scores.")
    return 0


def cmd_gradescope(args) -> int:
    from .gradescope import build_bundle

    print(f"wrote {build_bundle(load_course().assignment(args.assignment).id, args.out)}")
    return 0


def cmd_time_reference(args) -> int:
    from .time_reference import record_reference_timing

    course = load_course()
    ids = [course.assignment(a).id for a in args.assignments] or [a.id for a in course.assignments]
    print(f"wrote {record_reference_timing(ids)}")
    return 0


def cmd_record_keras(args) -> int:
    from .keras_reference import record_keras_results

    course = load_course()
    ids = [course.assignment(a).id for a in args.assignments] or [a.id for a in course.assignments]
    for path in record_keras_results(ids, stale_only=args.stale, course=course):
        print(f"wrote {path}")
    return 0


def cmd_demo(args) -> int:
    from .demo import run_demo

    return run_demo(out=args.out)


def main(argv: list[str] | None = None) -> int:
    from .build import STEPS

    parser = argparse.ArgumentParser(prog="python -m autograder", description="Grade the course's notebooks.")
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("grade", help="grade one notebook in isolation")
    p.add_argument("notebook")
    p.add_argument("--assignment", help="assignment id (default: from the notebook)")
    p.add_argument("--format", choices=["json", "text"], default="text")
    p.set_defaults(run=cmd_grade)

    p = commands.add_parser("grade-all", help="grade a folder of submissions in parallel")
    p.add_argument("directory", help="nbgrader's submitted/<student>/<assignment>/ layout, or flat notebooks, "
                                     "or one student's folder")
    p.add_argument("--assignment", help="only this assignment (needed for flat folders without metadata)")
    p.add_argument("--student", help="only this student (a late submission, a regrade): every other student's "
                                     "results and grades.csv rows are kept")
    p.add_argument("--jobs", type=int, help="parallel workers (default: the number of cores)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="grade on a Dask cluster: a TLS scheduler's address (tls://host:8786), or local:N for N "
                        "worker processes on this machine, secured for the run (see docs/cluster.md)")
    for option, what in (("ca-file", "the CA's certificate"), ("cert", "the grader's certificate"),
                         ("key", "the grader's private key")):
        p.add_argument(f"--tls-{option}", metavar="PEM", help=f"for a tls:// scheduler: {what} (default: Dask's "
                                                              "distributed.comm.tls configuration)")
    p.add_argument("--insecure-scheduler", action="store_true",
                   help="allow a plain tcp:// scheduler (anyone who reaches it can read and change the grades)")
    p.add_argument("--out", default="out/grades", help="where to write results, feedback and grades.csv")
    p.add_argument("--gradebook", help="an nbgrader course directory whose gradebook to fill")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=cmd_grade_all)

    p = commands.add_parser("build", help="make every generated file again: source notebooks' generated cells, "
                                          "released notebooks (nbgrader), the sample class")
    p.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    p.add_argument("--check", action="store_true", help="write nothing; list what is out of date (exit 1)")
    p.add_argument("--step", dest="steps", action="append", choices=[step.name for step in STEPS],
                   help="run only this step (repeatable; default: all, in this order)")
    p.set_defaults(run=cmd_build)

    # The build's first two steps keep their own commands, as before the build existed.
    p = commands.add_parser("sync", help="build's sync step: rewrite source notebooks' generated cells")
    p.add_argument("assignments", nargs="*")
    p.add_argument("--check", action="store_true", help="only report notebooks out of sync (exit 1)")
    p.set_defaults(run=cmd_build, steps=["sync"])

    p = commands.add_parser("release", help="build's release step: generate the student notebooks with nbgrader")
    p.add_argument("assignments", nargs="*")
    p.set_defaults(run=cmd_build, steps=["release"], check=False)

    p = commands.add_parser("new-assignment", help="scaffold a new assignment: its course.yaml entry, source notebook, "
                                                   "reference and checks, with a first exercise; then build it")
    p.add_argument("assignment", help="the new id, e.g. a08_cnn")
    p.add_argument("--title", help="the title students see (when course.yaml does not list it yet)")
    p.add_argument("--exercise", help="its first exercise's name, a Python function name (likewise)")
    p.add_argument("--points", type=float, default=1, help="that exercise's points (default 1)")
    p.set_defaults(run=cmd_new_assignment)

    p = commands.add_parser("where", help="every place of one exercise: contract, reference, checks, cells, "
                                          "points, catalogue")
    p.add_argument("exercise", help="the exercise's name, e.g. adam_update")
    p.set_defaults(run=cmd_where)

    p = commands.add_parser("nbgrader-config", help="write nbgrader_config.py derived from course.yaml")
    p.add_argument("directory")
    p.add_argument("--students", action="store_true", help="the students' config instead: what Jupyter's Validate "
                                                           "button needs, for the folder their Jupyter reads")
    p.set_defaults(run=cmd_nbgrader_config)

    p = commands.add_parser("regrade", help="after course.yaml's points or tolerances change: build the assignment, "
                                            "release it again in an nbgrader course (gradebook included) and "
                                            "autograde every submission again")
    p.add_argument("assignment", help="the assignment id, e.g. a01_perceptron")
    p.add_argument("--course", required=True, metavar="COURSE_DIR", help="the nbgrader course directory")
    p.set_defaults(run=cmd_regrade)

    p = commands.add_parser("gradescope-bundle", help="build the Gradescope autograder zip of an assignment")
    p.add_argument("assignment")
    p.add_argument("--out", default=None, help="the zip to write (default: out/gradescope/<assignment>.zip)")
    p.set_defaults(run=cmd_gradescope)

    p = commands.add_parser("time-reference", help="record the reference solutions' timing (the cells' and "
                                                   "calls' budgets derive from it)")
    p.add_argument("assignments", nargs="*")
    p.set_defaults(run=cmd_time_reference)

    p = commands.add_parser("record-keras", help="record Keras' results for the hidden checks (grading then "
                                                 "need not import TensorFlow)")
    p.add_argument("assignments", nargs="*")
    p.add_argument("--stale", action="store_true", help="only records that are missing or were made for other "
                                                        "code or versions")
    p.set_defaults(run=cmd_record_keras)

    p = commands.add_parser("demo", help="release a01 and grade the bundled sample class")
    p.add_argument("--out", default="out/demo", help="where to write the demo's results")
    p.set_defaults(run=cmd_demo)

    args = parser.parse_args(argv)
    if threading.current_thread() is threading.main_thread():
        from .sandbox.launcher import terminate

        signal.signal(signal.SIGTERM, terminate)
    if getattr(args, "run", None) is cmd_gradescope and args.out is None:
        args.out = f"out/gradescope/{args.assignment}.zip"
    try:
        return args.run(args)
    except (NotebookError, ConfigError, ClusterError) as exc:
        from .report import printable

        print(f"error: {printable(exc, newlines=False)}", file=sys.stderr)
        return 2
    except Exception as exc:   # every error is one line (what, why, how to fix), never a traceback
        from .report import printable

        print(f"error: {printable(_one_line(exc, args.command), newlines=False)}", file=sys.stderr)
        if os.environ.get("AUTOGRADER_TRACEBACK"):
            raise
        return 2


def _one_line(exc: Exception, command: str) -> str:
    """The message of an error the commands do not word themselves (a path, nbgrader, a bug)."""
    from .release import ReleaseError

    if isinstance(exc, ReleaseError):
        return str(exc)
    if isinstance(exc, OSError) and exc.filename:
        why = {FileExistsError: "it exists and is not a directory", NotADirectoryError: "a part of it is not a directory",
               FileNotFoundError: "it does not exist", IsADirectoryError: "it is a directory",
               PermissionError: "permission denied"}.get(type(exc), exc.strerror or type(exc).__name__)
        return f"{command}: cannot use {exc.filename}: {why}. Check the path (and its permissions) and run it again."
    return (f"{command} failed: {type(exc).__name__}: {exc}. This is the grader's own error, not your input's: "
            f"run it again with AUTOGRADER_TRACEBACK=1 to see where, and report it.")

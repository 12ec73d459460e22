"""`nbgrader autograde` on the isolated engine: a preprocessor in place of nbgrader's `Execute`.

nbgrader's autograde first sanitizes a submission (clears outputs, restores locked cells from
the source), then runs `c.Autograde.autograde_preprocessors` on it. The derived
nbgrader_config.py puts `IsolatedGrading` where nbgrader has `Execute`: it grades the student's
submitted file exactly as `python -m autograder grade` does (the student's cells in the
sandbox, the hidden checks here, over the plain-data channel) and writes into each hidden test
cell what nbgrader's `SaveAutoGrades` reads: the checks' feedback as the cell's text and the
points earned as its result (partial credit). No cell of the notebook runs in this process or
in a kernel; the hidden test cells' code never runs at all.

The run's submissions are graded ahead of nbgrader, in parallel (`IsolatedGrading.jobs` worker
processes, each with one fork server, `Zygote`, started when nbgrader builds its exporter and
closed when nbgrader exits), while nbgrader records them one after the other. `SubmissionExporter` lets a
submission nbgrader itself cannot read reach the preprocessor, which records the engine's
one-line refusal.
"""
from __future__ import annotations

import functools
import itertools
import os
from multiprocessing.util import Finalize
from pathlib import Path

import nbformat
from nbconvert.exporters import NotebookExporter
from nbconvert.preprocessors import Preprocessor
from traitlets import Bool, Int

from .config import Course, load_course
from .report import exercise_feedback, printable
from .notebook import NotebookError

# The course directory's parts the student's process must not see (besides the whole directory,
# which the sandbox cannot hide when the Python environment lives inside it).
_COURSE_PARTS = ("source", "release", "submitted", "autograded", "feedback", "gradebook.db", "nbgrader_config.py")

# This process's fork server: {"zygote": Zygote | None} once decided, empty before the first notebook.
_SERVER: dict = {}
# The run's gradings started ahead: {submitted notebook (resolved): Future}, None before the first notebook.
_AHEAD: dict = {"futures": None}


class IsolatedGrading(Preprocessor):
    """Grade the submission with the isolated engine and write each hidden test cell's outputs.

    Registered by name in `c.Autograde.autograde_preprocessors` (see `nbgrader_config.py`).
    """

    # nbconvert skips a preprocessor that is not enabled, and nbgrader scores a test cell left
    # without outputs as full marks: this one is always on.
    enabled = Bool(True).tag(config=False)
    jobs = Int(0, help="Submissions graded at once, ahead of nbgrader (0: the machine's cores; 1: one at a "
                       "time, in nbgrader's own process).").tag(config=True)

    def preprocess(self, nb, resources):
        """Grade the student's submitted file; give every code cell of `nb` its autograded outputs.

        Args:
            nb: the sanitized notebook (autograded/<student>/<aid>/); only its cells' outputs change.
            resources: nbgrader's, with resources["nbgrader"] naming student, assignment, notebook.

        Returns:
            (nb, resources).

        Raises:
            Exception: the grader itself failed (not the student's code): nbgrader reports it for
                this student and goes on with the next.
        """
        info = resources["nbgrader"]
        coursedir = _course_directory(self)
        path = (Path(coursedir.format_path(coursedir.submitted_directory, info["student"], info["assignment"]))
                / f"{info['notebook']}.ipynb")
        course = _course()
        hide = _hidden_paths(coursedir)
        future = _graded_ahead(self, coursedir, course, hide, path.resolve()).pop(path.resolve(), None)
        if future is not None:
            exercises, preamble = future.result()
        else:
            exercises, preamble = grade_submission(path, info["assignment"], course, hide)
            self.log.info("Graded %s", _graded_text(info["student"], info["assignment"], exercises, preamble))
        first = True
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            # stored outputs are the student's to forge: nothing of them reaches SaveAutoGrades
            cell.outputs, cell.execution_count = [], None
            meta = cell.metadata.get("nbgrader", {})
            if not (isinstance(meta, dict) and meta.get("grade") and not meta.get("solution")):
                continue
            grade_id = str(meta.get("grade_id", ""))
            name = grade_id[:-len("_hidden")] if grade_id.endswith("_hidden") else None
            if exercises is None:
                text, score = preamble, 0.0
            elif name in exercises:
                result = exercises[name]
                recorded = meta.get("points")
                if recorded is not None and float(recorded) != float(result.points):
                    # a config without SubmissionExporter, which refuses this before nbgrader begins
                    raise RuntimeError(
                        f"{info['assignment']}: course.yaml gives {name} {result.points:g} points, this course's "
                        f"gradebook {float(recorded):g}; run: python -m autograder regrade {info['assignment']} "
                        f"--course {Path(coursedir.root).resolve()}")
                text, score = exercise_feedback(result), result.score
                if first and preamble:
                    text = preamble + "\n\n" + text
                first = False
            else:
                text = (f"This test cell ({grade_id}) was not graded: the isolated engine grades the cells whose "
                        f"grade_id is <exercise>_hidden, one per exercise of {info['assignment']} in course.yaml "
                        f"({', '.join(sorted(exercises))}).")
                score = 0.0
                self.log.warning("%r: test cell %r is not an exercise's hidden test cell; it gets 0 points",
                                 info["student"], grade_id)
            cell.outputs = grade_cell_outputs(text, score)
        return nb, resources


@functools.lru_cache(maxsize=1)
def _course() -> Course:
    """course.yaml, read once per nbgrader run (not once per notebook)."""
    return load_course()


def grade_submission(path: Path, assignment_id: str, course: Course, hide: tuple[str, ...]):
    """Grade one submitted notebook on the isolated path, with the run's fork server.

    Args:
        path: the submitted .ipynb.
        assignment_id: nbgrader's assignment id (an assignment of course.yaml).
        course: the configuration.
        hide: the course directory's paths the student's process must not see.

    Returns:
        ({exercise: ExerciseResult}, notes text) when graded; (None, the one-line reason) when the
        engine refused the file (the message of `python -m autograder grade`).
    """
    from .grade import grade_notebook

    try:
        zygote = _zygote(course, hide)
    except Exception:
        _SERVER.clear()   # the next notebook tries a fresh fork server
        raise
    try:
        result = grade_notebook(path, assignment=assignment_id, course=course, hide=hide, zygote=zygote)
    except NotebookError as exc:
        return None, f"0 points: {exc}"
    except Exception:
        if zygote is not None:   # it may be what failed: never reuse a fork server in doubt
            zygote.close()
            _SERVER.clear()
        raise
    notes = "\n".join(f"Note: {note}" for note in result.notes)
    return {e.name: e for e in result.exercises}, notes


def _graded_ahead(preprocessor: IsolatedGrading, coursedir, course: Course, hide: tuple[str, ...],
                  current: Path | None = None) -> dict:
    """Start, once per run, the grading of every submission this nbgrader run will autograde, in
    worker processes; return {submitted notebook: Future of `grade_submission`'s result}.

    nbgrader grades one notebook after another; this overlaps them (the whole engine, not only
    the student's code, runs in the workers). Submissions nbgrader will skip (already autograded,
    without --force) are not started; any notebook not started here is graded when nbgrader gets
    to it. `current` is the notebook nbgrader is at, if it is at one already (its autograded
    folder exists then, made by nbgrader for this run).
    """
    if _AHEAD["futures"] is not None:
        return _AHEAD["futures"]
    _AHEAD["futures"] = {}
    converter = _find(preprocessor, "assignments")
    jobs = preprocessor.jobs or os.cpu_count() or 1
    if converter is None or jobs < 2:
        return _AHEAD["futures"]
    todo = []
    for notebooks in dict(converter.assignments).values():
        for notebook in sorted(Path(n).resolve() for n in notebooks):
            student, assignment_id = notebook.parent.parent.name, notebook.parent.name
            folder = Path(coursedir.format_path(coursedir.submitted_directory, student, assignment_id)).resolve()
            done = Path(coursedir.format_path(coursedir.autograded_directory, student, assignment_id)).exists()
            if folder == notebook.parent and (notebook == current or getattr(converter, "force", False) or not done):
                todo.append((notebook, assignment_id))
    if len(todo) < 2:
        return _AHEAD["futures"]
    # forked before this process starts a fork server of its own: the workers each start theirs
    from .grade_all import local_pool

    pool = local_pool(min(jobs, len(todo)))   # its workers die with nbgrader, even SIGKILLed
    finished = itertools.count(1)
    for notebook, assignment_id in sorted(todo, key=lambda item: str(item[0])):   # nbgrader's order
        future = pool.submit(grade_submission, notebook, assignment_id, course, hide)
        # nbgrader logs a student when it records them, long after the pool graded them: say so at once
        future.add_done_callback(functools.partial(_log_graded, preprocessor.log, notebook.parent.parent.name,
                                                   assignment_id, finished, len(todo)))
        _AHEAD["futures"][notebook] = future
    pool.shutdown(wait=False)   # the workers exit once the queue is done
    return _AHEAD["futures"]


def _log_graded(log, student: str, assignment_id: str, finished, total: int, future) -> None:
    """One line on nbgrader's log when the pool has graded a submission (in the pool's thread)."""
    if future.cancelled():
        return
    count = f"[{next(finished)} of {total} graded]"
    error = future.exception()
    if error is not None:
        log.warning("Graded %s (%s): the grader failed (%s); nbgrader reports it when it records this student %s",
                    printable(student, newlines=False), assignment_id, type(error).__name__, count)
        return
    log.info("Graded %s %s", _graded_text(student, assignment_id, *future.result()), count)


def _graded_text(student: str, assignment_id: str, exercises: dict | None, reason: str) -> str:
    """'ada_perfect (a01_perceptron): 12 / 12 points', or the engine's reason for a zero."""
    who = f"{printable(student, newlines=False)} ({assignment_id})"
    if exercises is None:
        return f"{who}: {printable(reason, newlines=False)}"
    score, points = sum(e.score for e in exercises.values()), sum(e.points for e in exercises.values())
    return f"{who}: {score:.4g} / {points:g} points"


def stale_points(coursedir, course: Course, assignment_ids) -> list[str]:
    """Where course.yaml's points differ from the max points the course's gradebook records (its
    release predates the change): one message per exercise, empty when they agree.

    nbgrader's SaveAutoGrades refuses a score above the gradebook's max ("partial credit cannot be
    greater than maximum points"), and autograde --force has removed the student's autograded copy
    by then; a lower max would be recorded silently against the old total.
    """
    from nbgrader.api import Gradebook, MissingEntry

    problems = []
    with Gradebook(coursedir.db_url) as gradebook:
        for assignment_id in sorted(set(assignment_ids)):
            known = {a.id: a for a in course.assignments}
            try:
                record = gradebook.find_assignment(assignment_id)
            except MissingEntry:
                continue
            if assignment_id not in known:
                continue
            recorded = {cell.name: cell.max_score for notebook in record.notebooks for cell in notebook.grade_cells}
            for exercise in known[assignment_id].exercises:
                cell = f"{exercise.name}_hidden"
                if cell in recorded and float(recorded[cell]) != float(exercise.points):
                    problems.append(
                        f"{assignment_id}: course.yaml gives {exercise.name} {exercise.points:g} points, this course's "
                        f"gradebook {recorded[cell]:g} (its release predates the change); nothing was autograded or "
                        f"removed. Release and regrade it in one step: python -m autograder regrade {assignment_id} "
                        f"--course {Path(coursedir.root).resolve()}")
    return problems


def _refuse_stale_points(exporter, converter) -> None:
    """Stop the autograde run, before it removes anything, when course.yaml's points changed since
    the release (`stale_points`): nbgrader ends with exit 1, naming the command that fixes it."""
    from nbgrader.converters import NbGraderException

    coursedir = _course_directory(exporter)
    assignment_ids = {Path(n).parent.name for notebooks in dict(converter.assignments).values() for n in notebooks}
    problems = stale_points(coursedir, _course(), assignment_ids)
    for problem in problems:
        exporter.log.error(problem)
    if problems:
        raise NbGraderException(problems[0])


def grade_cell_outputs(text: str, score: float) -> list:
    """A hidden test cell's outputs as nbgrader reads them: the feedback on stdout (never stderr,
    which nbgrader scores as zero) and the points as the cell's result (partial credit)."""
    outputs = [nbformat.v4.new_output("stream", name="stdout", text=text.rstrip("\n") + "\n")] if text else []
    outputs.append(nbformat.v4.new_output("execute_result", data={"text/plain": repr(float(score))},
                                          execution_count=None))
    return outputs


def _zygote(course: Course, hide: tuple[str, ...]):
    """The run's fork server, started on first use and closed at exit; None where namespaces are
    unavailable (each notebook then gets a plain sandbox, as with `grade`)."""
    if "zygote" not in _SERVER:
        from .sandbox.isolation import isolation_level
        from .sandbox.zygote import Zygote

        zygote = None
        if isolation_level() == "namespaces" and os.environ.get("AUTOGRADER_ZYGOTE") != "0":
            zygote = Zygote(course.limits, hide).start()
            # multiprocessing's exit hook runs this in nbgrader's process (at exit) and in a
            # worker (which leaves through os._exit, skipping atexit) alike
            Finalize(None, zygote.close, exitpriority=10)
        _SERVER["zygote"] = zygote
    return _SERVER["zygote"]


def _find(configurable, attribute: str):
    """The nearest of `configurable` and its parents (exporter, converter) that has `attribute`."""
    parent = configurable
    while parent is not None:
        if getattr(parent, attribute, None) is not None:
            return parent
        parent = getattr(parent, "parent", None)
    return None


def _course_directory(configurable):
    """The `CourseDirectory` of the nbgrader command this preprocessor runs in."""
    owner = _find(configurable, "coursedir")
    if owner is not None:
        return owner.coursedir
    from nbgrader.coursedir import CourseDirectory

    return CourseDirectory(config=configurable.config)


def _hidden_paths(coursedir) -> tuple[str, ...]:
    """The whole course directory and each of its parts (where the directory holds the Python
    environment, the sandbox cannot hide it whole and hides the parts)."""
    root = Path(coursedir.root).resolve()
    parts = {root / name for name in _COURSE_PARTS} | (set(root.iterdir()) if root.is_dir() else set())
    return (str(root), *sorted(str(p) for p in parts))


class SubmissionExporter(NotebookExporter):
    """nbgrader's exporter, which starts the run's grading ahead (`_graded_ahead`) as soon as nbgrader
    builds it, and with which a submission nbgrader cannot read or sanitize becomes the
    released notebook, so that it reaches `IsolatedGrading`, which records the engine's reason
    (the same as `python -m autograder grade`'s) as a zero and nbgrader goes on."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # nbgrader builds its exporter once per run, when it knows the run's submissions: their
        # grading starts here, while nbgrader still prepares the first student
        converter = _find(self, "assignments")
        if converter is None:
            return
        # before nbgrader's loop, which removes each autograded copy (--force) before grading it again
        _refuse_stale_points(self, converter)
        try:
            coursedir = _course_directory(self)
            _graded_ahead(IsolatedGrading(parent=self), coursedir, _course(), _hidden_paths(coursedir))
        except Exception:
            _AHEAD["futures"] = None   # the preprocessor tries again on the first notebook, where a failure is reported

    def from_filename(self, filename, resources=None, **kw):
        try:
            return super().from_filename(filename, resources=resources, **kw)
        except Exception as exc:
            stand_in = self._stand_in(filename, resources)
            if stand_in is None:
                raise
            # the exception's text may quote the student's file: only its type reaches the terminal
            self.log.warning("nbgrader could not read %r (%s); the isolated engine grades the file itself",
                             filename, type(exc).__name__)
            output, resources = super().from_filename(str(stand_in), resources=resources, **kw)
            resources["metadata"]["path"] = os.path.dirname(filename)
            return output, resources

    def _stand_in(self, filename, resources) -> Path | None:
        """The released notebook, when `filename` is a student's submission and it was released."""
        info = (resources or {}).get("nbgrader")
        if not info:
            return None
        coursedir = _course_directory(self)
        submitted = (Path(coursedir.format_path(coursedir.submitted_directory, info["student"], info["assignment"]))
                     / f"{info['notebook']}.ipynb")
        released = (Path(coursedir.format_path(coursedir.release_directory, ".", info["assignment"]))
                    / f"{info['notebook']}.ipynb")
        if Path(filename).resolve() != submitted.resolve() or not released.is_file():
            return None
        return released

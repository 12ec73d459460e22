"""Isolated grading of one notebook: its cells run in a sandboxed child process, the hidden
checks run here and reach the student's definitions through the plain-data channel."""
from __future__ import annotations

import re
import time
from pathlib import Path

from .config import Course, load_course
from .engine import run_checks
from .notebook import Cell, assignment_of, code_cells, read_notebook
from .results import GradeResult
from .sandbox.launcher import CallTimeout, Sandbox, SandboxError
from .student import RemoteBackend, restart_limit
from .timing import Budgets, Costs, budgets_for


# A notebook that imports TensorFlow gets a zygote that has imported it already.
_HEAVY_IMPORT = re.compile(r"^\s*(import|from)\s+(tensorflow|keras)\b", re.MULTILINE)


class _CellRunner:
    """Runs the notebook's cells in a sandbox. A cell that overruns its budget is interrupted
    and the next cells run on; a cell that kills the process (or will not stop) is skipped in
    the next attempt, so it costs only what it prevents."""

    def __init__(self, cells: list[Cell], course: Course, budgets: Budgets, costs: Costs | None = None):
        self.cells, self.limits, self.budgets, self.costs = cells, course.limits, budgets, costs
        self.skipped: set[int] = set()
        self.notes: list[str] = []
        self.budget = course.limits.notebook_timeout

    def __call__(self, sandbox: Sandbox) -> None:
        # `budget` is shared by every run of the notebook (the first, and one after each restart):
        # cells that stop the process cannot buy themselves a fresh notebook_timeout each time
        for cell in self.cells:
            if cell.index in self.skipped:
                continue
            if self.budget <= 0:
                self._note(f"cell {cell.index} and the cells after it were not run: the notebook used its "
                           f"{self.limits.notebook_timeout:g} s (notebook_timeout in course.yaml)")
                self.skipped.update(c.index for c in self.cells if c.index >= cell.index)
                return
            budget = self.budgets.cell(cell.source)
            timeout = min(budget.wall, self.budget)
            started = time.monotonic()
            try:
                reply = sandbox.request({"op": "exec", "code": cell.source, "index": cell.index}, timeout,
                                        cpu=budget.cpu)
            except CallTimeout as exc:
                self.skipped.add(cell.index)
                if sandbox.limit_hit() == "memory":  # the cause, not the clock it ran out of on the way
                    self._note(f"cell {cell.index} stopped the notebook's process ({sandbox.died}) and was skipped")
                    raise
                if exc.interrupted:
                    where = f" at {exc.where}" if exc.where else ""
                    self._note(f"cell {cell.index} did not finish within {exc.limit} and was interrupted{where}; "
                               "the cells after it were run")
                    continue
                self._note(f"cell {cell.index} did not finish within {exc.limit} and was skipped ({exc})")
                raise
            except SandboxError as exc:
                self.skipped.add(cell.index)
                self._note(f"cell {cell.index} stopped the notebook's process ({exc}) and was skipped")
                raise
            finally:
                self.budget -= time.monotonic() - started
            if self.costs is not None:
                self.costs.cell(cell.source, reply["cost"])
            if not reply.get("ok"):
                error = reply.get("error", {})
                self._note(f"cell {cell.index} raised {error.get('type')}: {error.get('message', '')[:300]}")

    def _note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)


def grade_notebook(path: str | Path, *, assignment: str | None = None, course: Course | None = None,
                   hide: tuple[str, ...] = (), zygote=None, costs: Costs | None = None) -> GradeResult:
    """Grade one notebook on the isolated path.

    Args:
        path: the submitted .ipynb.
        assignment: the assignment id; by default from the notebook's metadata or file name.
        course: the configuration (course.yaml by default).
        hide: more paths the student's process must not see (other submissions, outputs).
        zygote: a started `Zygote` to fork the student's process from (grade-all's workers);
            its view, made when it started, must already hide this notebook's folder.
        costs: when given, filled with the CPU seconds of every cell and call, and every budget
            is course.yaml's ceiling (recording the reference solution's timing).

    Returns:
        The `GradeResult`, whatever the score.

    Raises:
        NotebookError: the file is not a readable notebook of a known assignment.
    """
    started = time.monotonic()
    course = course or load_course()
    notebook = read_notebook(path)
    assignment_id = assignment_of(notebook, path, course, assignment)
    assignment_config = course.assignment(assignment_id)
    cells = code_cells(notebook)
    budgets = Budgets(course.limits, None) if costs is not None else budgets_for(assignment_id, course.limits)
    runner = _CellRunner(cells, course, budgets, costs)
    hidden = (str(Path(path).resolve().parent), *hide)
    heavy = any(_HEAVY_IMPORT.search(cell.source) for cell in cells)

    def start():
        if zygote is not None:
            return zygote.spawn(heavy=heavy)
        sandbox = Sandbox(course.limits, hide=hidden)
        sandbox.start()
        return sandbox

    # each exercise's function may stop the process once (it is not called again after that)
    backend = RemoteBackend(start, runner, max_restarts=restart_limit(len(assignment_config.exercises)),
                            max_cell_restarts=len(cells), budgets=budgets,
                            costs=costs)
    try:
        exercises = run_checks(assignment_config, backend)
    finally:
        backend.close()
    output = backend.sandbox.output.text() if backend.sandbox else ""
    isolation = backend.sandbox.isolation if backend.sandbox else "none"
    notes = list(runner.notes)
    if isolation == "process":
        notes.insert(0, "isolation: process only (no Linux user namespaces on this machine): the limits and the "
                        "plain-data channel hold and the network is cut, but the student's code could read the "
                        "course's files; see docs/threat-model.md")
    return GradeResult(str(path), assignment_id, exercises, notes, output, isolation,
                       round(time.monotonic() - started, 3))

"""Each cell's and each call's time budget, derived from the reference solution's own timing.

`python -m autograder time-reference [ID ...]` (`time_reference.py`) grades each source notebook
(the reference solutions) with only the ceilings of course.yaml and records, in
`reference_timing.json` next to this file, the CPU seconds of every lesson cell (by a hash of its source) and the most that
one call of each graded name took. Grading then gives a cell or a call `reference_factor` times
its reference CPU time, at least `cpu_floor`, and `WALL_PER_CPU` times that in wall-clock
seconds, never more than course.yaml's `cell_timeout` and `call_timeout`. A cell the reference
does not have (a student's solution or own experiment, which may import TensorFlow) gets at least
`UNKNOWN_CELL_CPU`: only the lesson cells, which call the student's functions, are held tight.

Why CPU time: a loop burns CPU at the same rate whatever the machine's load, so a tight budget
stays fair on a busy machine, where wall-clock time stretches. The wall-clock budget, a few
times looser, stops code that waits without computing (sleep, a blocking read).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .config import Limits

TIMING_FILE = Path(__file__).resolve().parent / "reference_timing.json"
# A process sharing a core with two busy ones still gets a third of it: 4 leaves a margin.
WALL_PER_CPU = 4
# CPU seconds for a cell the reference does not have: `import tensorflow` takes about 5.
UNKNOWN_CELL_CPU = 20


@dataclass(frozen=True)
class Budget:
    """What one cell or one call may use."""

    wall: float   # seconds of wall-clock time
    cpu: float    # seconds of CPU time of the student's process (and of the grader's answers to it)

    def describe(self) -> str:
        return f"{self.cpu:g} s of CPU time or {self.wall:g} s"


def cell_key(source: str) -> str:
    """The key of a cell in the reference timing: a hash of its source, blank ends ignored."""
    return hashlib.sha256(source.strip().encode("utf-8")).hexdigest()[:16]


@dataclass
class Costs:
    """CPU seconds measured while grading a notebook (the reference, when recording)."""

    cells: dict[str, float] = field(default_factory=dict)   # cell_key -> CPU seconds
    calls: dict[str, float] = field(default_factory=dict)   # label (sigmoid, NumpyMLP.fit) -> the most

    def cell(self, source: str, cpu: float) -> None:
        key = cell_key(source)
        self.cells[key] = max(self.cells.get(key, 0.0), round(cpu, 3))

    def call(self, label: str, cpu: float) -> None:
        self.calls[label] = max(self.calls.get(label, 0.0), round(cpu, 3))


class Budgets:
    """The budgets of one assignment's cells and calls.

    Args:
        limits: course.yaml's limits (the ceilings, the factor and the floor).
        reference: the assignment's entry of the reference timing ({"cells": ..., "calls": ...}),
            or None: then every cell and call gets the ceilings (measuring the reference itself).
    """

    def __init__(self, limits: Limits, reference: dict | None):
        self.limits, self.reference = limits, reference

    def _budget(self, reference_cpu: float | None, ceiling: float, floor: float = 0.0) -> Budget:
        if self.reference is None:
            return Budget(wall=ceiling, cpu=ceiling)
        cpu = max(self.limits.cpu_floor, floor, self.limits.reference_factor * (reference_cpu or 0.0))
        cpu = min(cpu, ceiling)
        return Budget(wall=min(WALL_PER_CPU * cpu, ceiling), cpu=cpu)

    def cell(self, source: str) -> Budget:
        cells = self.reference.get("cells", {}) if self.reference else {}
        known = cells.get(cell_key(source))
        return self._budget(known, self.limits.cell_timeout, floor=UNKNOWN_CELL_CPU if known is None else 0.0)

    def call(self, label: str) -> Budget:
        """A method without its own record gets the most of its class's (`NumpyMLP.fit` of `NumpyMLP`)."""
        calls = self.reference.get("calls", {}) if self.reference else {}
        owner = label.split(".")[0]
        known = calls.get(label)
        if known is None:
            known = max((cpu for name, cpu in calls.items() if name.split(".")[0] == owner), default=None)
        return self._budget(known, self.limits.call_timeout)


@lru_cache(maxsize=1)
def reference_timing() -> dict:
    """The recorded reference timing, {assignment id: {"cells": ..., "calls": ...}} ({} without one)."""
    try:
        data = json.loads(TIMING_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_reference_timing(data: dict) -> Path:
    """Replace the recorded reference timing with `data`; returns the file's path."""
    TIMING_FILE.write_text(json.dumps(dict(sorted(data.items())), indent=1) + "\n", encoding="utf-8")
    reference_timing.cache_clear()
    return TIMING_FILE


def budgets_for(assignment_id: str, limits: Limits) -> Budgets:
    """The budgets of `assignment_id`; without a recorded reference timing, the ceilings."""
    entry = reference_timing().get(assignment_id)
    return Budgets(limits, entry if isinstance(entry, dict) else None)

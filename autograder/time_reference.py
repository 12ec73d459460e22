"""Record the reference solutions' timing, from which every cell's and call's budget derives.

`python -m autograder time-reference [ID ...]` grades each source notebook with only the ceilings of
course.yaml and records what its cells and calls cost (`timing.py` says how budgets follow from it).
It grades notebooks, so it sits above `grade`; `timing` itself only reads the record.
"""
from __future__ import annotations

from pathlib import Path

from .config import Course, load_course
from .grade import grade_notebook
from .registry import source_notebook
from .timing import Costs, reference_timing, write_reference_timing


def record_reference_timing(assignment_ids: list[str], *, course: Course | None = None) -> Path:
    """Grade each assignment's source notebook and record its cells' and calls' CPU seconds.

    Args:
        assignment_ids: the assignments to (re)measure; the others keep their entries.
        course: the configuration (course.yaml by default).

    Returns:
        The path of the timing file written.

    Raises:
        RuntimeError: a reference notebook did not get full marks (its timing would be wrong).
    """
    course = course or load_course()
    data = dict(reference_timing())
    for assignment_id in assignment_ids:
        costs = Costs()
        result = grade_notebook(source_notebook(assignment_id), assignment=assignment_id, course=course, costs=costs)
        if result.score != result.max_score:
            raise RuntimeError(f"the reference of {assignment_id} got {result.score:g}/{result.max_score:g}: "
                               "fix it before recording its timing")
        data[assignment_id] = {"cells": dict(sorted(costs.cells.items())), "calls": dict(sorted(costs.calls.items()))}
    return write_reference_timing(data)

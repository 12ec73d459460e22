"""Every generated file of the course, made again from its sources: `python -m autograder build`.

An assignment is built in three steps, each from what the one before it made (a pipeline, as
nbgrader runs its preprocessors in order):

1. ``sync``: the source notebook's generated cells, from solutions/ and course.yaml (`authoring`);
2. ``release``: the student notebook, generated from the source by nbgrader (`release`);
3. ``samples``: the sample class's submissions, made from the student notebook (`samples`).

With ``check`` nothing is written: each step only reports the files that differ from what it
would make (the release is generated into a scratch folder and compared).
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import registry
from .config import ConfigError, Course, load_course


@dataclass(frozen=True)
class Step:
    """One step of the build: `run(assignment_id, check, course)` returns the files out of date."""

    name: str
    makes: str
    run: Callable[[str, bool, Course], list[Path]]


def _sync(assignment_id: str, check: bool, course: Course) -> list[Path]:
    from .authoring import sync

    return [] if sync(assignment_id, check=check) else [registry.source_notebook(assignment_id)]


def _release(assignment_id: str, check: bool, course: Course) -> list[Path]:
    from .release import release

    committed = registry.released_notebook(assignment_id)
    before = committed.read_text(encoding="utf-8") if committed.exists() else None
    with tempfile.TemporaryDirectory(prefix="build-") as tmp:
        fresh = release(assignment_id, out_dir=Path(tmp) if check else None, course=course).read_text(encoding="utf-8")
    return [] if fresh == before else [committed]


def _samples(assignment_id: str, check: bool, course: Course) -> list[Path]:
    from .samples import CLASSES, write_samples

    return write_samples([assignment_id], check=check) if assignment_id in CLASSES else []


def _require_files(assignment_id: str) -> None:
    """An assignment of course.yaml whose files the build starts from are missing: say which, and how to make them."""
    missing = [registry.relative(p) for p in (registry.source_notebook(assignment_id), registry.solution_file(assignment_id),
                                              registry.checks_file(assignment_id)) if not p.exists()]
    if missing:
        raise ConfigError(f"{assignment_id} is in course.yaml but has no {' or '.join(missing)}: the build makes the "
                          f"rest from them. Create them with: python -m autograder new-assignment {assignment_id} "
                          f"(docs/authoring.md, \"A new assignment\").")


STEPS = (Step("sync", "source/<aid>/<aid>.ipynb's solution and hidden test cells", _sync),
         Step("release", "assignments/<aid>/<aid>.ipynb, with nbgrader generate_assignment", _release),
         Step("samples", "samples/<aid>/submitted/*/<aid>/<aid>.ipynb", _samples))


@dataclass(frozen=True)
class Outdated:
    """A generated file that differed from what its step makes (and was rewritten, unless checking)."""

    step: str
    assignment: str
    path: Path


def build(assignment_ids: list[str] | None = None, *, check: bool = False, steps: list[str] | None = None,
          course: Course | None = None) -> list[Outdated]:
    """Make the course's generated files again, assignment by assignment, step by step.

    Args:
        assignment_ids: the assignments; by default every one of course.yaml that has a source notebook.
        check: write nothing; only report what is out of date.
        steps: the names of the steps to run (of `STEPS`, run in their order); all by default.
        course: the course; course.yaml by default.

    Returns:
        The files that were out of date (rewritten unless `check`), in build order.

    Raises:
        ConfigError: an assignment id that course.yaml does not have.
        ValueError: an unknown step name.
        ReleaseError: nbgrader could not generate a student notebook.
    """
    course = course or load_course()
    known = [s.name for s in STEPS]
    unknown = [s for s in steps or [] if s not in known]
    if unknown:
        raise ValueError(f"Unknown build step {unknown[0]!r}. Expected some of: {', '.join(known)}.")
    if assignment_ids:
        ids = [course.assignment(a).id for a in assignment_ids]
        for assignment_id in ids:
            _require_files(assignment_id)
    else:
        ids = [a.id for a in course.assignments if registry.source_notebook(a.id).exists()]
    outdated = []
    for assignment_id in ids:
        for step in STEPS:
            if steps is None or step.name in steps:
                outdated += [Outdated(step.name, assignment_id, p) for p in step.run(assignment_id, check, course)]
    return outdated

"""Grading a variant of the reference in-process: the catalogue of mistakes and alternatives.

A variant is the reference solution module with some definitions replaced by other code,
as a student's notebook would have them; it is graded by the real checks through the
`LocalBackend` (the in-kernel path), which is fast enough to try hundreds of variants.
Each assignment's catalogue (tests/checks/test_<aid>.py) subclasses `Catalogue`.
"""
from __future__ import annotations

import importlib
import inspect
import re
import textwrap
from functools import lru_cache
from typing import NamedTuple

from autograder import registry
from autograder.config import load_course
from autograder.engine import run_checks
from autograder.student import LocalBackend


def variant_namespace(assignment_id: str, code: str = "") -> dict:
    """The reference module's definitions, then `code` run on top (replacing some of them)."""
    module = importlib.import_module(registry.solution_module(assignment_id))
    namespace = {"__name__": "__main__"}
    exec(compile(inspect.getsource(module), f"solutions/{assignment_id}.py", "exec"), namespace)
    exec(compile(textwrap.dedent(code), "<variant>", "exec"), namespace)
    return namespace


def reference_edit(assignment_id: str, name: str, *replacements: tuple[str, str]) -> str:
    """The reference definition of `name` with each (old, new) replacement made: a student's cell.

    A mistake that is one wrong line of a long reference reads best as that change, and follows
    the reference when the rest of it is edited.

    Args:
        assignment_id: the assignment whose solutions/ module holds the reference.
        name: the function or class to edit.
        replacements: (old, new) pairs, applied in order; each `old` must occur exactly once.

    Returns:
        The edited source, ready to be a catalogue entry's cell.

    Raises:
        ValueError: an `old` text that is not exactly once in the (possibly already edited) reference.
    """
    module = importlib.import_module(registry.solution_module(assignment_id))
    code = inspect.getsource(getattr(module, name))
    for old, new in replacements:
        if code.count(old) != 1:
            raise ValueError(f"Expected {old!r} exactly once in the reference {name} of "
                             f"{registry.relative(registry.solution_file(assignment_id))}. "
                             f"Found it {code.count(old)} times: update the catalogue entry to the reference.")
        code = code.replace(old, new)
    return code


@lru_cache(maxsize=None)
def results(assignment_id: str, code: str = "", exercises: frozenset | None = None) -> dict:
    """Exercise name -> its `ExerciseResult` (checks, feedback, named mistakes), one grading run per variant."""
    assignment = load_course().assignment(assignment_id)
    graded = run_checks(assignment, LocalBackend(variant_namespace(assignment_id, code)),
                        None if exercises is None else set(exercises))
    return {r.name: r for r in graded}


def grade(assignment_id: str, code: str = "", exercises: frozenset | None = None) -> dict[str, tuple[float, str]]:
    """Exercise name -> (points earned, its failure messages joined)."""
    return {name: (r.score, "\n".join(c.feedback for c in r.checks if not c.passed))
            for name, r in results(assignment_id, code, exercises).items()}


def scores(assignment_id: str, code: str = "", exercises=None) -> dict[str, float]:
    """Exercise name -> points earned by the variant."""
    frozen = None if exercises is None else frozenset(exercises)
    return {name: score for name, (score, _) in grade(assignment_id, code, frozen).items()}


def feedback(assignment_id: str, exercise: str, code: str) -> str:
    """All failure messages of one exercise for the variant, joined."""
    return grade(assignment_id, code, frozenset({exercise}))[exercise][1]


def full_marks(assignment_id: str, exercise: str) -> float:
    return load_course().assignment(assignment_id).exercise(exercise).points


def points_without(assignment_id: str, exercise: str, *checks: str) -> float:
    """The points an exercise keeps when these of its checks alone fail (by the checks' weights)."""
    module = importlib.import_module(f"autograder.checks.{assignment_id}")
    weights = {name: f.weight for name, f in vars(module).items() if getattr(f, "exercise", None) == exercise}
    points = load_course().assignment(assignment_id).exercise(exercise).points
    return points * (1 - sum(weights[name] for name in checks) / sum(weights.values()))


def stub_code(assignment_id: str) -> str:
    """Every exercise as the released stub leaves it: raising NotImplementedError."""
    module = importlib.import_module(registry.solution_module(assignment_id))
    cells = []
    for ex in load_course().assignment(assignment_id).exercises:
        if isinstance(getattr(module, ex.name), type):
            cells.append(f"class {ex.name}:\n    def __init__(self, *args, **kwargs):\n"
                         "        raise NotImplementedError()\n")
        else:
            cells.append(f"def {ex.name}(*args, **kwargs):\n    raise NotImplementedError()\n")
    return "\n".join(cells)


class Finding(NamedTuple):
    """A variant whose grade is pinned down: the points it keeps, the words its feedback shows and
    must not show, and the mistake the checks name (the field the class summary counts).

    Args:
        exercise: the exercise graded.
        what: what the variant is.
        code: the student's cell.
        kept: (lowest, highest) points the variant keeps on the exercise, inclusive.
        shows: words the feedback must contain.
        hides: words the feedback must not contain.
        mistake: words of the named mistake; "" when no check may name one; None to leave it unchecked.

    Whatever the variant, an "Expected:" line and the "Received:" line under it never read the same.
    """

    exercise: str
    what: str
    code: str
    kept: tuple[float, float]
    shows: tuple[str, ...] = ()
    hides: tuple[str, ...] = ()
    mistake: str | None = None


class Catalogue:
    """The standard tests of an assignment's catalogue; tests/checks/conftest.py parametrizes them.

    Subclasses set:
        assignment: the assignment id.
        mistakes: (exercise, what the mistake is, the student's cell, words the feedback must contain).
        alternatives: (exercise, how it differs from the reference, the student's cell).
        findings: `Finding`s, each pinning the points, the message and the named mistake of a variant.
        prelude: code run before each mistake's cell (helpers some mistakes use).
        used_by: exercise -> the other exercises whose checks call it; an alternative is then graded
            on those only. None grades every exercise.
    """

    assignment: str
    mistakes: list = []
    alternatives: list = []
    findings: list = []
    prelude: str = ""
    used_by: dict | None = None

    def test_reference_gets_full_marks(self):
        """Does the reference solution get every point?"""
        got = scores(self.assignment)
        assert got == {ex.name: ex.points for ex in load_course().assignment(self.assignment).exercises}

    def test_stub_gets_zero(self):
        """Does the released stub get zero on every exercise, with a clear reason, without crashing?"""
        results = grade(self.assignment, stub_code(self.assignment))
        assert {name: score for name, (score, _) in results.items()} == {name: 0.0 for name in results}
        assert all("Not implemented yet" in text for _, text in results.values())

    def test_mistake_is_caught(self, mistake):
        """Does this classic mistake lose points on its exercise, with feedback that names it?"""
        exercise, what, code, words = mistake
        score, text = grade(self.assignment, self.prelude + code, frozenset({exercise}))[exercise]
        assert score < full_marks(self.assignment, exercise), f"{what} kept all points"
        assert words in text, text

    def test_alternative_is_accepted(self, alternative):
        """Does this correct implementation, written differently, keep every point it could lose?"""
        exercise, what, code = alternative
        affected = None if self.used_by is None else frozenset({exercise} | set(self.used_by.get(exercise, ())))
        got = scores(self.assignment, code, affected)
        assert got == {name: full_marks(self.assignment, name) for name in got}, (what, grade(self.assignment, code, affected))

    def test_finding(self, finding):
        """Does this variant keep exactly the points it deserves, with the message and the mistake it must show?"""
        result = results(self.assignment, self.prelude + finding.code, frozenset({finding.exercise}))[finding.exercise]
        text = "\n".join(c.feedback for c in result.checks if not c.passed)
        low, high = finding.kept
        assert low - 1e-9 <= result.score <= high + 1e-9, (finding.what, result.score, text)
        for words in finding.shows:
            assert words in text, (finding.what, words, text)
        for words in finding.hides:
            assert words not in text, (finding.what, words, text)
        for shown, back in re.findall(r"^Expected: (.*?)\nReceived: (.*?)(?=\n\S[^\n]*?: |\Z)", text, re.M | re.S):
            assert shown != back, (finding.what, "Expected and Received printed alike", text)
        named = [c.mistake for c in result.checks if c.mistake]
        if finding.mistake == "":
            assert not named, (finding.what, named, text)
        elif finding.mistake is not None:
            assert any(finding.mistake in m for m in named), (finding.what, finding.mistake, named, text)

    def test_catalogue_covers_every_exercise(self):
        """Has every exercise at least four mistakes and two alternatives?"""
        for ex in load_course().assignment(self.assignment).exercises:
            assert sum(m[0] == ex.name for m in self.mistakes) >= 4, ex.name
            assert sum(a[0] == ex.name for a in self.alternatives) >= 2, ex.name

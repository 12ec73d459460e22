"""Time: a student's code that never returns costs seconds, not minutes, and is named."""
from __future__ import annotations

import time

import nbformat
import pytest

from autograder.registry import source_notebook as source_path
from autograder.grade import grade_notebook
from autograder.notebook import code_cells, read_notebook
from autograder.samples import submission
from autograder.timing import cell_key

A = "a01_perceptron"
POINTS = {"sigmoid": 2, "sigmoid_derivative": 2, "tanh": 1, "tanh_derivative": 2, "relu": 1,
          "relu_derivative": 1, "perceptron_forward": 3}
LOOPING_SIGMOID = "def sigmoid(z):\n    while True:\n        pass"


def test_a_looping_sigmoid_costs_seconds_and_is_named(tmp_path):
    """Is a01 with a sigmoid that never returns graded in well under the old 3 minutes, with the
    other exercises' points kept and the hanging cells and call named?"""
    path = tmp_path / f"{A}.ipynb"
    nbformat.write(submission(A, {"sigmoid": LOOPING_SIGMOID}), path)
    started = time.monotonic()
    result = grade_notebook(path)   # the course's own limits: the budgets come from the reference
    elapsed = time.monotonic() - started
    print(f"graded a01 with a looping sigmoid in {elapsed:.1f} s")
    scores = {e.name: e.score for e in result.exercises}
    # sigmoid_derivative and perceptron_forward call the student's sigmoid: they hang too
    for name in ("tanh", "tanh_derivative", "relu", "relu_derivative"):
        assert scores[name] == POINTS[name], (name, scores)
    assert scores["sigmoid"] == 0
    feedback = [c.feedback for e in result.exercises if e.name == "sigmoid" for c in e.checks]
    assert any("sigmoid(" in f and "did not return" in f and "interrupted" in f for f in feedback), feedback
    assert any("did not finish" in note and "interrupted" in note for note in result.notes), result.notes
    assert elapsed < 90, f"{elapsed:.0f} s"


def test_code_that_ignores_the_interrupt_is_stopped_and_costs_only_its_exercise(tmp_path):
    """Is a relu that swallows KeyboardInterrupt killed after the grace, and only relu's point lost?"""
    stubborn = ("def relu(z):\n    while True:\n        try:\n            while True:\n                pass\n"
                "        except KeyboardInterrupt:\n            pass")
    lean = submission(A, {"relu": stubborn})
    lean.cells = [c for c in lean.cells if "plt." not in c.source]   # no plot cell calls relu
    path = tmp_path / f"{A}.ipynb"
    nbformat.write(lean, path)
    result = grade_notebook(path)
    scores = {e.name: e.score for e in result.exercises}
    assert scores["relu"] == 0 and result.score == sum(POINTS.values()) - POINTS["relu"], scores
    feedback = [c.feedback for e in result.exercises if e.name == "relu" for c in e.checks]
    assert any("did not stop when interrupted" in f for f in feedback), feedback


def test_every_assignment_has_a_reference_timing():
    """Has `python -m autograder time-reference` recorded every assignment's cells and calls?"""
    from autograder.config import load_course
    from autograder.timing import budgets_for

    course = load_course()
    for assignment in course.assignments:
        budgets = budgets_for(assignment.id, course.limits)
        assert budgets.reference is not None, f"run: python -m autograder time-reference {assignment.id}"
        for exercise in assignment.exercises:
            assert any(name.split(".")[0] == exercise.name for name in budgets.reference["calls"]), exercise.name
        # the derived budgets stay within course.yaml's ceilings and above the floor
        budget = budgets.call(assignment.exercises[0].name)
        assert course.limits.cpu_floor <= budget.cpu <= budget.wall <= course.limits.call_timeout
        # and the record is current: every cell of the source notebook has one (else re-record)
        for cell in code_cells(read_notebook(source_path(assignment.id))):
            assert cell_key(cell.source) in budgets.reference["cells"], \
                f"{assignment.id} cell {cell.index} changed: run python -m autograder time-reference {assignment.id}"


def test_budgets_follow_the_reference_within_floor_and_ceilings():
    """Does a known cell get reference_factor x its reference CPU time (at least the floor), an
    unknown cell (a student's own, which may import TensorFlow) a generous budget, and none more
    than course.yaml's ceilings?"""
    from dataclasses import replace

    from autograder.config import load_course
    from autograder.timing import UNKNOWN_CELL_CPU, WALL_PER_CPU, Budgets

    limits = replace(load_course().limits, cell_timeout=60, call_timeout=20, reference_factor=5, cpu_floor=2)
    budgets = Budgets(limits, {"cells": {cell_key("plot()"): 1.5, cell_key("x = 1"): 0.0},
                               "calls": {"NumpyMLP.fit": 0.9, "NumpyMLP": 0.01}})
    assert budgets.cell("plot()").cpu == 7.5 and budgets.cell("plot()").wall == 7.5 * WALL_PER_CPU
    assert budgets.cell("x = 1").cpu == 2 and budgets.cell("x = 1").wall == 8
    assert budgets.cell("import tensorflow").cpu == UNKNOWN_CELL_CPU and budgets.cell("import tensorflow").wall == 60
    assert budgets.call("NumpyMLP.fit").cpu == 4.5
    assert budgets.call("NumpyMLP.forward").cpu == 4.5   # a method without a record: its class's most
    assert budgets.call("sigmoid").cpu == 2 and budgets.call("sigmoid").wall == 8
    assert Budgets(limits, None).call("sigmoid").cpu == 20   # no reference: the ceilings


@pytest.mark.parametrize("forked", [False, True], ids=["sandbox", "forked"])
def test_an_interrupted_cell_leaves_the_process_and_its_definitions_alive(forked):
    """Does an overrunning cell get KeyboardInterrupt at its line (SIGINT; the pidfd for a forked
    sandbox) and the process keep what earlier cells defined?"""
    from autograder.config import load_course
    from autograder.sandbox.isolation import isolation_level
    from autograder.sandbox.launcher import CallTimeout, Sandbox
    from autograder.sandbox.zygote import Zygote

    if forked and isolation_level() != "namespaces":
        pytest.skip("the fork server needs namespaces")
    limits = load_course().limits
    zygote = Zygote(limits).start() if forked else None
    sandbox = zygote.spawn() if forked else Sandbox(limits)
    try:
        if not forked:
            sandbox.start()
        assert sandbox.request({"op": "exec", "code": "kept = 41", "index": 1}, 60)["ok"]
        with pytest.raises(CallTimeout) as caught:
            sandbox.request({"op": "exec", "code": "x = 0\nwhile True:\n    x += 1", "index": 2}, 60, cpu=0.5)
        assert caught.value.interrupted and caught.value.where.startswith("cell 2, line ")
        assert caught.value.limit == "0.5 s of CPU time"
        assert sandbox.alive
        assert sandbox.request({"op": "exec", "code": "assert kept == 41", "index": 3}, 60)["ok"]
    finally:
        sandbox.close()
        if zygote is not None:
            zygote.close()

"""The grader's own cost: a student's code cannot make the grader compute, allocate or loop
without bound; whatever it tries is charged to that student's call and told to them."""
from __future__ import annotations

import resource

import nbformat

from autograder.grade import grade_notebook
from autograder.samples import submission

A = "a03_loss"

# predict(X) of the check's `always_half` builds np.full(X.shape[:-1], 0.5): an empty array whose
# shape is huge costs nothing to send and 200 MB (or, larger, the grader's life) to answer.
HUGE_PROBE = '''def empirical_loss(loss, predict, X, y):
    predict(np.zeros((5000, 5000, 0)))
    return loss(y, predict(X))'''
LONG_LIST = '''def mean_squared_error(y_true, y_pred):
    return [0.0] * 2_000_000'''


def _feedback(result, exercise):
    return [c.feedback for e in result.exercises if e.name == exercise for c in e.checks]


def test_a_probe_called_with_a_huge_shape_is_refused_before_the_grader_computes(tmp_path):
    """Is a grader-supplied function called with an array of a huge shape refused (the grader
    never allocates it), the refusal told to the student, and the other exercises intact?"""
    honest = tmp_path / "honest" / f"{A}.ipynb"
    honest.parent.mkdir()
    nbformat.write(submission(A, {}), honest)
    grade_notebook(honest)   # what grading itself imports and keeps is not counted below
    path = tmp_path / f"{A}.ipynb"
    nbformat.write(submission(A, {"empirical_loss": HUGE_PROBE}), path)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = grade_notebook(path)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    scores = {e.name: e.score for e in result.exercises}
    assert scores["empirical_loss"] == 0 and scores["binary_cross_entropy"] == 3, scores
    feedback = " ".join(_feedback(result, "empirical_loss"))
    assert "always_half was called with an array of shape (5000, 5000, 0)" in feedback, feedback
    assert grown_mb < 100, f"the grader's peak memory grew by {grown_mb:.0f} MiB"  # np.full: 190 MiB


def test_a_returned_sequence_too_long_to_check_is_refused(tmp_path):
    """Is a list of two million items refused at the wire, with a message, instead of the check
    looping over it after the call's clock stopped?"""
    path = tmp_path / f"{A}.ipynb"
    nbformat.write(submission(A, {"mean_squared_error": LONG_LIST}), path)
    result = grade_notebook(path)
    feedback = " ".join(_feedback(result, "mean_squared_error"))
    assert "more than 100000 items" in feedback, feedback
    assert {e.name: e.score for e in result.exercises}["binary_cross_entropy"] == 3


def test_the_grader_s_work_for_a_call_is_charged_to_its_budget(tmp_path):
    """Is an empirical_loss that calls the grader's loss forever (costing the student almost no CPU
    time) interrupted within the call's budget, the grader's answers counted in it?"""
    path = tmp_path / f"{A}.ipynb"
    endless = "def empirical_loss(loss, predict, X, y):\n    while True:\n        loss(y, predict(X))"
    nbformat.write(submission(A, {"empirical_loss": endless}), path)
    result = grade_notebook(path)
    feedback = " ".join(_feedback(result, "empirical_loss"))
    assert "did not return within" in feedback and "interrupted" in feedback, feedback
    assert {e.name: e.score for e in result.exercises}["mean_squared_error"] == 2

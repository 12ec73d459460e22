"""The engine's pytest session: what it records of each check, and what it says when the checks
themselves cannot run (pytest's own terminal report is switched off)."""
import shutil

import pytest

from autograder import engine
from autograder.config import load_course
from autograder.engine import run_checks
from autograder.student import LocalBackend

A01 = load_course().assignment("a01_perceptron")


def _checks(tmp_path, monkeypatch, source: str) -> None:
    """a01's checks module replaced by `source`, in a checks folder of its own."""
    folder = tmp_path / "checks"
    folder.mkdir()
    shutil.copy(engine.CHECKS_DIR / "pytest.ini", folder / "pytest.ini")
    (folder / f"{A01.id}.py").write_text(source)
    monkeypatch.setattr(engine, "CHECKS_DIR", folder)


def test_a_checks_module_that_does_not_import_is_named_with_its_error(tmp_path, monkeypatch):
    """Does the grader's error say why the checks could not run (the module's own import error)?"""
    _checks(tmp_path, monkeypatch, "import no_such_module_of_the_checks\n")
    with pytest.raises(RuntimeError) as raised:
        run_checks(A01, LocalBackend({}))
    assert "could not run the checks of a01_perceptron" in str(raised.value)
    assert "No module named 'no_such_module_of_the_checks'" in str(raised.value)


def test_each_check_is_recorded_once_with_its_own_message(tmp_path, monkeypatch):
    """Does a check that passes, one that fails with a message and one whose fixture setup fails
    each give one result, with the check's message as feedback?"""
    _checks(tmp_path, monkeypatch, '''
import pytest
from autograder.checks.kit import exercise


@pytest.fixture
def broken():
    raise AssertionError("the fixture itself failed")


@exercise("sigmoid")
def test_passes():
    """sigmoid passes."""


@exercise("sigmoid")
def test_fails():
    """sigmoid fails."""
    assert False, "expected 0.5, received 0.7"


def test_setup_fails(student, broken):
    """relu's fixture fails."""


test_setup_fails.exercise, test_setup_fails.weight = "relu", 1.0
''')
    results = {c.name: c for r in run_checks(A01, LocalBackend({})) for c in r.checks}
    assert sorted(results) == ["test_fails", "test_passes", "test_setup_fails"]
    assert results["test_passes"].passed and results["test_passes"].feedback == ""
    assert not results["test_fails"].passed
    assert results["test_fails"].feedback.startswith("expected 0.5, received 0.7")
    assert results["test_fails"].question == "sigmoid fails."
    assert not results["test_setup_fails"].passed
    assert "the fixture itself failed" in results["test_setup_fails"].feedback


NAIVE_SIGMOID = "def sigmoid(z):\n    return 1 / (1 + np.exp(-z))\n"   # overflows for z below about -710


def test_a_failure_caused_by_a_runtime_warning_names_its_mistake_for_the_class_summary():
    """Does an overflowing sigmoid (a01's key lesson) fail with a named mistake, so that the class
    summary lists it among the mistakes worth re-teaching, counted once per student?"""
    import numpy as np

    from autograder.report.summary import summary
    from autograder.results import GradeResult
    from tests.catalogue import variant_namespace

    namespace = variant_namespace("a01_perceptron", NAIVE_SIGMOID)
    with np.errstate(all="ignore"):
        exercises = run_checks(A01, LocalBackend(namespace), {"sigmoid"})
    (sigmoid,) = exercises
    warned = [c for c in sigmoid.checks if not c.passed and "RuntimeWarning" in c.feedback]
    assert warned and all(c.mistake and "overflow" in c.mistake for c in warned), [(c.name, c.mistake) for c in warned]
    text = summary([GradeResult(f"s{i}.ipynb", A01.id, exercises, student=f"s{i}") for i in range(2)])
    assert "worth re-teaching" in text and "2 x sigmoid: a formula overflows for large inputs" in text, text

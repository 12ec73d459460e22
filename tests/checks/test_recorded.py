"""Keras' results recorded for the hidden checks (autograder/checks/recorded.py): current, equal to
what Keras computes, used when the inputs match, and never used for other inputs or other code.

The nbgrader bridge imports `recorded` afresh for every hidden cell, so a test process that ran it
holds more than one copy: each test here works on the copy its checks module's functions use.
"""
import importlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from autograder.checks import recorded
from autograder.config import load_course

ROOT = Path(__file__).resolve().parents[2]
# The assignments whose checks compute a Keras result: each must have a current record.
RECORDED = [a.id for a in load_course().assignments
            if recorded.uses_keras_results(importlib.import_module(f"autograder.checks.{a.id}"))]


def _checks(assignment_id):
    return importlib.import_module(f"autograder.checks.{assignment_id}")


class _Record:
    """The `recorded` module (its globals) that a checks module's tagged functions use."""

    def __init__(self, tagged):
        self.names = tagged.__globals__

    def __getattr__(self, name):
        return self.names[name]

    def forget(self):
        self._memory.clear()
        self._stored.cache_clear()


@pytest.fixture
def a03():
    """a03's checks module and its record, which forgets every result before and after the test."""
    module = _checks("a03_loss")
    record = _Record(module._keras)
    record.forget()
    yield module, record
    record.forget()


def test_the_assignments_with_keras_results_are_the_recorded_ones():
    """Does every checks module that computes a Keras result have a record, and only those?"""
    assert {"a02_dense", "a07_keras_equivalence"} <= set(RECORDED)
    assert sorted(p.stem for p in recorded.RECORDS.glob("*.json")) == sorted(RECORDED)


@pytest.mark.parametrize("assignment_id", RECORDED)
def test_every_record_is_current(assignment_id):
    """Was each record made for the checks module and the Keras, TensorFlow and NumPy installed now?"""
    state = recorded.record_state(f"autograder.checks.{assignment_id}")
    assert state == "current", (f"the Keras record of {assignment_id} is {state}: "
                                f"run python -m autograder record-keras {assignment_id}")


def _same(a, b) -> bool:
    """Equal types and shapes, and numbers equal up to the last bits (another CPU's kernels)."""
    if isinstance(a, np.ndarray) or isinstance(a, np.generic):
        return (type(a) is type(b) and a.dtype == b.dtype and np.shape(a) == np.shape(b)
                and np.allclose(a, b, rtol=1e-6, atol=1e-12, equal_nan=True))
    if isinstance(a, float):
        return type(b) is float and bool(np.isclose(a, b, rtol=1e-6, atol=1e-12, equal_nan=True))
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


@pytest.mark.slow
def test_each_record_is_what_keras_computes_now(tmp_path):
    """Recorded again here, with Keras, in a fresh process: does every record hold the same calls and
    the same results?"""
    script = f"""
from pathlib import Path
from autograder.checks import recorded
from autograder.keras_reference import record_keras_results
recorded.RECORDS = Path({str(tmp_path)!r})
record_keras_results({RECORDED!r})
"""
    run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-2000:]
    for assignment_id in RECORDED:
        kept = json.loads((ROOT / "autograder/checks/recorded" / f"{assignment_id}.json").read_text())
        now = json.loads((tmp_path / f"{assignment_id}.json").read_text())
        assert kept["fingerprint"] == now["fingerprint"]
        assert sorted(kept["results"]) == sorted(now["results"]), f"{assignment_id}: other calls than recorded"
        different = [key for key in kept["results"]
                     if not _same(recorded.decode(kept["results"][key]), recorded.decode(now["results"][key]))]
        assert different == [], f"{assignment_id}: {len(different)} results differ from Keras' own"


def test_grading_perfect_notebooks_never_imports_tensorflow():
    """Does `grade` of every assignment's perfect sample give full marks without the grader importing
    Keras or TensorFlow (about 5 s of every submission's wait)?"""
    script = f"""
import sys
from autograder.grade import grade_notebook
for a in {RECORDED!r}:
    r = grade_notebook(f"samples/{{a}}/submitted/ada_perfect/{{a}}/{{a}}.ipynb")
    print(a, r.score == r.max_score, "keras" in sys.modules, "tensorflow" in sys.modules)
"""
    run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split("\n")[:-1] == [f"{a} True False False" for a in RECORDED]


def test_the_command_line_says_when_grading_could_not_use_a_record(tmp_path):
    """Does `grade` (and `grade-all`) tell the instructor, on stderr, when an assignment's record was
    missing or stale and Keras computed instead, naming the command that records it; and say nothing
    when the record is current?"""
    notebook = "samples/a03_loss/submitted/ada_perfect/a03_loss/a03_loss.ipynb"
    script = f"""
import sys
from pathlib import Path
from autograder.checks import recorded
if sys.argv[1] == "empty":
    recorded.RECORDS = Path({str(tmp_path)!r})
from autograder.cli import main
sys.exit(main(sys.argv[2:]))
"""
    for records, command in (("empty", ["grade", notebook, "--format", "json"]),
                             ("empty", ["grade-all", "samples/a03_loss/submitted", "--out", str(tmp_path / "out"),
                                        "--no-progress", "--jobs", "1"]),
                             ("kept", ["grade", notebook, "--format", "json"])):
        run = subprocess.run([sys.executable, "-c", script, records, *command], cwd=ROOT, capture_output=True,
                             text=True, timeout=900)
        assert run.returncode == 0, run.stderr[-2000:]
        if command[0] == "grade":   # the same full marks, with or without the record
            assert json.loads(run.stdout)["score"] == 10
        noted = [line for line in run.stderr.splitlines() if line.startswith("note: the record of Keras' results")]
        if records == "kept":
            assert noted == []
            continue
        assert noted == ["note: the record of Keras' results for a03_loss is missing, so its checks computed them "
                         "with Keras (the same grades, about 5 s more per process); to record them: "
                         "python -m autograder record-keras a03_loss"], (command, run.stderr[-2000:])


def test_inputs_not_recorded_are_computed_by_keras(a03):
    """Is a call whose inputs were never recorded (a student's own values) computed by Keras itself?"""
    module, record = a03
    rng = np.random.default_rng(12345)
    y, p = rng.integers(0, 2, size=7).astype(float), rng.uniform(0.05, 0.95, size=7)
    key = record.digest("a03_loss._keras", ("bce", y, p, "float64"), {})
    assert key not in record._stored(module.__name__)
    expected = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert np.isclose(module._keras("bce", y, p, "float64"), expected, rtol=1e-12)


def _tampered_record(tmp_path, monkeypatch, a03, fingerprint):
    """A copy of a03's record, where grading reads it, with the result of one call changed to 123.0."""
    module, record = a03
    kept = json.loads((ROOT / "autograder/checks/recorded/a03_loss.json").read_text())
    y, p = np.array([1.0, 0.0, 1.0]), np.array([0.9, 0.2, 0.6])
    key = record.digest("a03_loss._keras", ("bce", y, p, "float64"), {})
    kept["results"][key] = record.encode(np.float64(123.0))
    kept["fingerprint"] = fingerprint
    (tmp_path / "a03_loss.json").write_text(json.dumps(kept))
    monkeypatch.setitem(record.names, "RECORDS", tmp_path)
    record.forget()
    return y, p


def test_a_recorded_call_is_answered_from_the_record(tmp_path, monkeypatch, a03):
    """Does a call whose inputs are recorded get the recorded result (so the record is what grading uses)?"""
    module, record = a03
    y, p = _tampered_record(tmp_path, monkeypatch, a03, record.fingerprint(module.__name__))
    assert module._keras("bce", y, p, "float64") == 123.0


@pytest.mark.parametrize("changed", ["checks", "keras", "tensorflow", "numpy"])
def test_a_record_made_for_other_code_or_versions_is_not_used(tmp_path, monkeypatch, a03, changed):
    """Is a record made for another checks module, Keras, TensorFlow or NumPy ignored (Keras computes)?"""
    module, record = a03
    y, p = _tampered_record(tmp_path, monkeypatch, a03, dict(record.fingerprint(module.__name__), **{changed: "another"}))
    assert record.record_state(module.__name__) == "stale"
    expected = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert np.isclose(module._keras("bce", y, p, "float64"), expected, rtol=1e-12)


def test_each_call_gets_its_own_copy():
    """Can a check change the arrays it got without changing what the next call gets?"""
    a07 = _checks("a07_keras_equivalence")
    output, _, grads = a07._keras_eval("tanh")
    output[:] = 0.0
    grads[0][:] = 0.0
    again, _, grads_again = a07._keras_eval("tanh")
    assert np.all(again != 0.0) and np.all(grads_again[0] != 0.0)


def test_a02s_float64_weights_get_the_float32_layers_result():
    """Does Keras' float32 Dense give the same output for float64 weights as for the same weights
    rounded to float32 (so a network kept in float64 asks for the recorded result)?"""
    a02 = _checks("a02_dense")
    rng = np.random.default_rng(7)
    W, b, X = rng.normal(size=(4, 3)), rng.normal(size=3), rng.normal(size=(8, 4)).astype(np.float32)
    as64 = a02._keras_relu_layer_output.computed([W, b], X)
    as32 = a02._keras_relu_layer_output.computed(a02._as_keras_float32([W, b]), X)
    assert as64[0] is None and as32[0] is None
    assert as64[1].dtype == as32[1].dtype == np.float32 and np.array_equal(as64[1], as32[1])


def test_kerass_set_weights_takes_float_arrays_of_exactly_its_own_shapes():
    """Does Keras' set_weights take float64 arrays of its own shapes and refuse any other shape (the
    rule a07's round-trip check applies with the recorded shapes instead of Keras)?"""
    a07 = _checks("a07_keras_equivalence")
    shapes = a07._keras_weight_shapes("relu-sigmoid")
    model = a07._build(*a07._arch("relu-sigmoid"), 0.0)
    assert [tuple(w.shape) for w in model.get_weights()] == shapes
    rng = np.random.default_rng(3)
    model.set_weights([rng.normal(size=s) for s in shapes])
    for k, shape in enumerate(shapes):
        other = (1, *shape) if len(shape) == 1 else shape[::-1]
        weights = [rng.normal(size=other if i == k else s) for i, s in enumerate(shapes)]
        with pytest.raises(ValueError, match="not compatible"):
            model.set_weights(weights)

"""The student's definitions as checks see them: the same rules on both grading paths."""
import numpy as np
import pytest

from autograder.config import load_course
from autograder.sandbox.launcher import Sandbox
from autograder.student import ContractViolation, LocalBackend, RemoteBackend

CODE = """
import numpy as np

def sgd_update(weights, grads, lr):
    for w, g in zip(weights, grads):
        w -= lr * g          # changes the caller's arrays
    return weights

def overflow(z):
    return 1 / (1 + np.exp(-z))
"""


def local():
    namespace = {}
    exec(CODE, namespace)
    return LocalBackend(namespace)


@pytest.fixture
def remote():
    limits = load_course().limits

    def start():
        sandbox = Sandbox(limits)
        sandbox.start()
        return sandbox

    def run_cells(sandbox):
        assert sandbox.request({"op": "exec", "code": CODE, "index": 0}, 20)["ok"]

    backend = RemoteBackend(start, run_cells)
    yield backend
    backend.close()


@pytest.mark.parametrize("path", ["local", "remote"])
def test_an_array_changed_inside_a_list_argument_is_caught(path, request):
    """Is an in-place change to an array inside a list argument caught, and named, on both paths?"""
    backend = local() if path == "local" else request.getfixturevalue("remote")
    update = backend.lookup("sgd_update")
    with pytest.raises(ContractViolation, match=r"changed its argument #1\[0\] in place"):
        update([np.ones(2), np.ones(3)], [np.ones(2), np.ones(3)], 0.1)


@pytest.mark.parametrize("path", ["local", "remote"])
def test_a_runtime_warning_fails_the_call_on_both_paths(path, request):
    """Does an overflow warning in the student's code fail the call on both paths?"""
    backend = local() if path == "local" else request.getfixturevalue("remote")
    with pytest.raises(ContractViolation, match="RuntimeWarning: overflow"):
        backend.lookup("overflow")(np.array([-1000.0]))

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

class Net:
    def __init__(self, copy):
        self.copy, self.weights = copy, []

    def set_weights(self, weights):
        self.weights = [np.array(w) for w in weights] if self.copy else weights

def make_net(copy):
    return Net(copy)
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


@pytest.mark.parametrize("path", ["local", "remote"])
def test_a_set_weights_that_keeps_the_callers_arrays_is_caught_on_both_paths(path, request):
    """Does set_weights keeping the caller's list (the contract says it copies) fail the call, named,
    on both paths, while a copying one passes?"""
    backend = local() if path == "local" else request.getfixturevalue("remote")
    make = backend.lookup("make_net")
    make(True).set_weights([np.ones(2), np.zeros(3)])
    with pytest.raises(ContractViolation, match=r"kept the caller's weights itself, not a copy") as caught:
        make(False).set_weights([np.ones(2), np.zeros(3)])
    assert caught.value.rule == "kept"


FRAMEWORK_CODE = """
import numpy as np
import tensorflow as tf     # a lesson cell may import it (for a plot): that alone is allowed
tf.matmul(np.eye(2), np.eye(2))   # used outside any graded call: allowed too

def numpy_dense(X, W, b):
    return np.asarray(X) @ W + b

def tf_dense(X, W, b):
    return (tf.matmul(X, W) + b).numpy()

def unwatched_tf_dense(X, W, b):   # switches the grader's watch off first
    import sys
    sys.setprofile(None)
    return (tf.matmul(X, W) + b).numpy()

def threaded_tf_dense(X, W, b):    # uses TensorFlow in a thread of its own
    import threading
    out = []
    worker = threading.Thread(target=lambda: out.append((tf.matmul(X, W) + b).numpy()))
    worker.start()
    worker.join()
    return out[0]
"""


@pytest.mark.slow
@pytest.mark.parametrize("path", ["local", "remote"])
def test_a_framework_used_by_a_graded_call_is_refused_on_both_paths(path):
    """Is a call that uses TensorFlow refused with the same message on both paths (and not run
    again), while a notebook that merely imported it keeps its NumPy function's results?"""
    X, W, b = np.ones((2, 3)), np.ones((3, 2)), np.zeros(2)
    if path == "local":
        namespace = {}
        exec(compile(FRAMEWORK_CODE, "<cell 0>", "exec"), namespace)
        backend = LocalBackend(namespace)
    else:
        limits = load_course().limits

        def start():
            sandbox = Sandbox(limits)
            sandbox.start()
            return sandbox

        backend = RemoteBackend(start, lambda s: s.request({"op": "exec", "code": FRAMEWORK_CODE, "index": 0}, 120))
    try:
        assert np.array_equal(backend.lookup("numpy_dense")(X, W, b), X @ W)
        message = r"Your tf_dense used TensorFlow \(tensorflow, at cell 0, line \d+, in tf_dense\).*NumPy only"
        with pytest.raises(ContractViolation, match=message):
            backend.lookup("tf_dense")(X, W, b)
        with pytest.raises(ContractViolation, match=message):
            backend.lookup("tf_dense")(X, W, b)
        with pytest.raises(ContractViolation, match=r"Your unwatched_tf_dense switched off the profiler of its "
                           r"process \(setprofile, at cell 0, line \d+, in unwatched_tf_dense\)"):
            backend.lookup("unwatched_tf_dense")(X, W, b)
        with pytest.raises(ContractViolation, match=r"Your threaded_tf_dense used TensorFlow \(tensorflow, at cell 0, "
                           r"line \d+, in <lambda>\)"):
            backend.lookup("threaded_tf_dense")(X, W, b)
    finally:
        if path == "remote":
            backend.close()


@pytest.mark.slow
def test_an_exercise_that_used_a_framework_gets_zero():
    """Does dense_forward get 0 (every check, even one that passed before the framework was seen)
    when one of its calls used TensorFlow, and the other exercises keep their points?"""
    import solutions.a02_dense as ref
    from autograder.engine import run_checks

    namespace = {name: getattr(ref, name) for name in dir(ref) if not name.startswith("__")}
    exec(compile("import tensorflow as tf\n_numpy_dense_forward = dense_forward\n"
                 "def dense_forward(X, W, b, activation):\n"
                 "    if np.asarray(X).dtype == np.float32:\n"
                 "        tf.constant(1.0)\n"
                 "    return _numpy_dense_forward(X, W, b, activation)\n", "<cell 5>", "exec"), namespace)
    assignment = load_course().assignment("a02_dense")
    scores = {r.name: (r.score, r.checks) for r in run_checks(assignment, LocalBackend(namespace))}
    score, checks = scores["dense_forward"]
    assert score == 0 and checks and all("NumPy only" in c.feedback for c in checks), checks
    assert scores["mlp_forward"][0] == 3


MESSAGES_CODE = """\
import numpy as np

class Recorder:
    def __init__(self):
        self.steps = 0

    def record(self):
        self.steps += 1
        return self.steps

def make_state():
    return {"t": 0, "log": Recorder()}

def use_state(state):
    return state["log"].record()

def shape_of(z):
    return z.shape

def fails(z):
    raise ValueError("my own message")
"""


def _messages_backend(path, request):
    if path == "local":
        namespace = {}
        exec(compile(MESSAGES_CODE, "<cell 0>", "exec"), namespace)
        return LocalBackend(namespace)
    limits = load_course().limits

    def start():
        sandbox = Sandbox(limits)
        sandbox.start()
        return sandbox

    backend = RemoteBackend(start, lambda s: s.request({"op": "exec", "code": MESSAGES_CODE, "index": 0}, 60))
    request.addfinalizer(backend.close)
    return backend


GRADER_NAMES = ("GraderFunction", "StudentObject", "StudentCallable", "wire", "worker", "WireError", "Stopped")


@pytest.mark.parametrize("path", ["local", "remote"])
def test_an_object_inside_a_returned_dict_comes_back_as_itself(path, request):
    """Is a student's object kept in a returned dict (an Adam state holding an object) passed back
    to the student's next call as that object, not as a grader's stand-in?"""
    backend = _messages_backend(path, request)
    state = backend.lookup("make_state")()
    assert backend.lookup("use_state")(state) == 1


@pytest.mark.parametrize("path", ["local", "remote"])
def test_a_students_exception_names_the_call_and_the_line(path, request):
    """Does the feedback of a raising function name its exception, the call and the cell's line,
    and no name from inside the grader?"""
    from autograder.engine import feedback_for
    from autograder.student import StudentFailure

    backend = _messages_backend(path, request)
    with pytest.raises(StudentFailure) as caught:
        backend.lookup("fails")(np.array([0.5]))
    text = feedback_for(caught.value)
    assert "fails(array([0.5])) raised ValueError: my own message" in text, text
    assert "at cell 0, line 21, in fails" in text, text
    assert not any(name in text for name in GRADER_NAMES), text


@pytest.mark.parametrize("path", ["local", "remote"])
def test_a_python_scalar_failure_says_to_convert_it(path, request):
    """Does a function that fails only on a Python float get told so, and how to fix it?"""
    from autograder.engine import feedback_for
    from autograder.student import StudentFailure

    backend = _messages_backend(path, request)
    assert backend.lookup("shape_of")(np.zeros(3)) == (3,)
    with pytest.raises(StudentFailure) as caught:
        backend.lookup("shape_of")(0.7)
    text = feedback_for(caught.value)
    assert "for a Python float input, your function raised AttributeError" in text, text
    assert "np.asarray(z)" in text and not any(name in text for name in GRADER_NAMES), text

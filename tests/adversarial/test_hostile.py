"""The adversarial catalogue: hostile submissions against the isolated grader.

Each test builds a notebook of a01_perceptron with the reference in every solution cell but
the attacked one (or with an extra hostile cell), grades it with short limits and asserts the
exact outcome: the attacked exercise's score, every other exercise intact, the course's files
unchanged (by checksum), no process of the student's left running, and the time bounded.
"""
from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path

import nbformat
import pytest

from autograder.config import COURSE_ROOT, load_course
from autograder.grade import grade_notebook
from autograder.notebook import NotebookError
from autograder.samples import submission

A = "a01_perceptron"
POINTS = {"sigmoid": 2, "sigmoid_derivative": 2, "tanh": 1, "tanh_derivative": 2, "relu": 1,
          "relu_derivative": 1, "perceptron_forward": 3}
BASE = load_course()
# Ceilings well above what the lean notebook needs on a loaded machine: a hostile cell or call is
# stopped by its budget (derived from the reference's CPU time, interrupted as Jupyter does), not by them.
COURSE = replace(BASE, limits=replace(BASE.limits, call_timeout=15, cell_timeout=30, notebook_timeout=120,
                                      memory_mb=1024, output_kb=64))
PROTECTED = ["course.yaml", "solutions", "autograder", "source", "assignments", "samples", "pyproject.toml"]
WRONG_RELU = "def relu(z):\n    return np.zeros(np.shape(z))  # wrong on purpose\n"


def _checksums() -> dict[str, str]:
    sums = {}
    for name in PROTECTED:
        root = COURSE_ROOT / name
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file()
                                                      and "__pycache__" not in p.parts)
        for path in files:
            sums[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return sums


@pytest.fixture(scope="module")
def course_checksums():
    return _checksums()


def lean(cells: dict[str, str] | None = None, extra: tuple[str, ...] = (), at_end: bool = False):
    """The solved notebook without the author's plot cells, with `cells` replacing solution cells
    and `extra` code cells after the imports cell (or at the end)."""
    notebook = submission(A, cells or {})
    first_code = next(i for i, c in enumerate(notebook.cells) if c.cell_type == "code")
    notebook.cells = [c for i, c in enumerate(notebook.cells)
                      if c.cell_type != "code" or i == first_code or c.metadata.get("nbgrader")]
    new = [nbformat.v4.new_code_cell(code) for code in extra]
    position = len(notebook.cells) if at_end else first_code + 1
    notebook.cells[position:position] = new
    return notebook


def _survivors(tags: list[str]) -> list[str]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
            comm = Path(f"/proc/{entry}/comm").read_text().strip()
        except OSError:
            continue
        if any(tag in cmdline or tag[:15] in comm for tag in tags):
            found.append(f"{entry}: {comm} {cmdline[:120]}")
    return found


class Graded:
    def __init__(self, result, elapsed, marker):
        self.result, self.elapsed, self.marker = result, elapsed, marker
        self.scores = {e.name: e.score for e in result.exercises}
        self.feedback = {e.name: " ".join(c.feedback for c in e.checks) for e in result.exercises}

    def honest_intact(self, *attacked):
        for name, points in POINTS.items():
            if name not in attacked:
                assert self.scores[name] == points, (name, self.scores, self.result.notes, self.feedback[name])


@pytest.fixture
def grade(tmp_path, monkeypatch, course_checksums):
    """grade(notebook) -> Graded, asserting afterwards that nothing of the student's survives
    and that the course's files are unchanged."""
    sandboxes = tmp_path / "sandboxes"
    sandboxes.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(sandboxes))  # the sandboxes' scratch dirs: a known prefix
    graded = []

    def run(notebook, marker="", name=f"{A}.ipynb", course=COURSE, **kwargs):
        path = tmp_path / "submitted" / name
        path.parent.mkdir(exist_ok=True)
        nbformat.write(notebook, path)
        started = time.monotonic()
        result = grade_notebook(path, course=course, **kwargs)
        g = Graded(result, time.monotonic() - started, marker)
        graded.append(g)
        assert g.elapsed < 150, g.elapsed  # minutes before the budgets; seconds now, even under load
        return g

    yield run
    tags = [str(sandboxes)] + [g.marker for g in graded if g.marker]
    deadline = time.monotonic() + 3
    while _survivors(tags) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _survivors(tags) == []
    assert list(sandboxes.iterdir()) == []  # the scratch directories are gone
    assert _checksums() == course_checksums


def marker():
    return "hostile" + uuid.uuid4().hex[:8]


# -- functions that never return, or stop the process -------------------------------------------

FUNCTION_ATTACKS = {
    "infinite loop": "def relu(z):\n    while True:\n        pass\n",
    "sleep": "import time\ndef relu(z):\n    time.sleep(1000)\n",
    "ignores SIGTERM and SIGINT": ("import signal\ndef relu(z):\n    signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                                   "    signal.signal(signal.SIGINT, signal.SIG_IGN)\n    while True:\n        pass\n"),
    "patches the clock": ("import time\ndef relu(z):\n    time.time = time.monotonic = time.perf_counter = lambda: 0.0\n"
                          "    while True:\n        pass\n"),
    "unbounded recursion": "def relu(z):\n    return relu(z) + 1\n",
    "recursion past the C stack": ("import sys\nsys.setrecursionlimit(10**8)\ndef relu(z, d=0):\n"
                                   "    return relu(z, d + 1)\n"),
    "sys.exit": "import sys\ndef relu(z):\n    sys.exit(0)\n",
    "os._exit": "import os\ndef relu(z):\n    os._exit(0)\n",
    "KeyboardInterrupt": "def relu(z):\n    raise KeyboardInterrupt\n",
    "BaseException subclass": "class Escape(BaseException):\n    pass\ndef relu(z):\n    raise Escape('out')\n",
    "unbounded allocation": "def relu(z):\n    hoard = []\n    while True:\n        hoard.append(np.ones(10**7))\n",
    "unbounded printing": "def relu(z):\n    while True:\n        print('x' * 10000)\n",
    "writes to fd 1 and 2": "import os\ndef relu(z):\n    while True:\n        os.write(1, b'y' * 65536)\n        os.write(2, b'z' * 65536)\n",
    "kills its own process group": "import os, signal\ndef relu(z):\n    os.killpg(0, signal.SIGKILL)\n",
    "forked copies that loop": ("import os, time\ndef relu(z):\n    for _ in range(8):\n        if os.fork() == 0:\n"
                                "            break\n    while True:\n        time.sleep(0.01)\n"),
    "exception whose str raises": ("class Bad(Exception):\n    def __str__(self):\n        raise RuntimeError('no')\n"
                                   "def relu(z):\n    raise Bad()\n"),
}


@pytest.mark.parametrize("attack", FUNCTION_ATTACKS)
def test_a_function_that_never_returns_or_stops_costs_only_its_exercise(grade, attack):
    """Does a relu that loops, sleeps, exits, recurses, hoards memory or prints forever lose relu's
    point only, within the limits?"""
    g = grade(lean({"relu": FUNCTION_ATTACKS[attack]}))
    assert g.scores["relu"] == 0
    g.honest_intact("relu")
    assert len(g.result.output) < COURSE.limits.output_kb * 1024 + 200


def test_unbounded_allocation_is_stopped_by_the_memory_limit(grade):
    """Is a relu that allocates without bound stopped with a message naming the memory limit?"""
    # CPU time is generous here: the memory limit, not the clock, must stop it. (Where the machine
    # is slow to hand out fresh pages, filling 1 GiB took more than the 2 s a call gets by default.)
    generous = replace(COURSE, limits=replace(COURSE.limits, cpu_floor=60, call_timeout=60))
    g = grade(lean({"relu": FUNCTION_ATTACKS["unbounded allocation"]}), course=generous)
    assert g.scores["relu"] == 0
    assert "MiB" in g.feedback["relu"] or "MemoryError" in g.feedback["relu"], g.feedback["relu"]


# -- top-level cells that never end or stop the process ----------------------------------------

TOP_LEVEL_ATTACKS = {
    "infinite loop": "while True:\n    pass",
    "sleep ignoring signals": ("import signal, time\nfor s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):\n"
                               "    signal.signal(s, signal.SIG_IGN)\ntime.sleep(1000)"),
    "sys.exit": "import sys\nsys.exit(3)",
    "os._exit": "import os\nos._exit(3)",
    "KeyboardInterrupt": "raise KeyboardInterrupt",
    "SystemExit": "raise SystemExit('bye')",
    "unbounded allocation": "hoard = []\nwhile True:\n    hoard.append(bytearray(10**8))",
    "unbounded printing": "import sys\nwhile True:\n    sys.stdout.write('spam' * 1000)\n    sys.stderr.write('eggs' * 1000)",
    "closes the channel": ("import os\nfor fd in map(int, os.listdir('/proc/self/fd')):\n    if fd > 2:\n"
                           "        try:\n            os.close(fd)\n        except OSError:\n            pass"),
    "garbage on the channel": ("import os\nfor fd in map(int, os.listdir('/proc/self/fd')):\n    if fd > 2:\n"
                               "        try:\n            os.write(fd, b'\\xff\\xff\\xff\\x7f' + b'garbage' * 100)\n"
                               "        except OSError:\n            pass"),
}


@pytest.mark.parametrize("attack", TOP_LEVEL_ATTACKS)
def test_a_hostile_top_level_cell_is_skipped_and_the_rest_graded(grade, attack):
    """Is a top-level cell that hangs, exits, hoards memory, floods output or breaks the channel
    skipped, with full marks for the honest functions around it?"""
    g = grade(lean(extra=(TOP_LEVEL_ATTACKS[attack],)))
    assert g.result.score == 12, (g.result.notes, g.feedback)
    assert any("cell 2" in note for note in g.result.notes), g.result.notes
    assert len(g.result.output) < COURSE.limits.output_kb * 1024 + 200


# -- what the student starts does not survive --------------------------------------------------

def test_child_processes_threads_and_escapes_do_not_survive(grade):
    """Do a forked child, a child that left the session (setsid), a sleeping subprocess and
    daemon threads all die with the grading, without costing a point?"""
    tag = marker()
    code = f"""
import os, subprocess, threading, time, ctypes
def _name(tag):
    ctypes.CDLL(None).prctl(15, tag.encode(), 0, 0, 0)
if os.fork() == 0:
    _name({tag!r})
    while True:
        time.sleep(1)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        _name({tag!r})
        time.sleep(1000)
    os._exit(0)
subprocess.Popen(['sh', '-c', 'sleep 1000', {tag!r}], start_new_session=True)
def spin():
    while True:
        sum(range(1000))
for _ in range(3):
    threading.Thread(target=spin, daemon=True).start()
time.sleep(0.5)
"""
    g = grade(lean(extra=(code,)), marker=tag)
    assert g.result.score == 12, g.result.notes


def test_a_function_that_forks_each_call_keeps_its_points_and_leaves_nothing(grade):
    """Does a correct relu that leaves a spinning child behind on each call keep its point, and
    are the children gone after grading?"""
    tag = marker()
    relu = f"""import os, ctypes
def relu(z):
    if os.fork() == 0:
        ctypes.CDLL(None).prctl(15, {tag!r}.encode(), 0, 0, 0)
        while True:
            pass
    return np.maximum(z, 0)
"""
    g = grade(lean({"relu": relu}), marker=tag)
    assert g.result.score == 12, (g.result.notes, g.feedback["relu"])


def test_a_fork_bomb_is_bounded_and_costs_only_its_cell(grade):
    """Is a fork bomb in a top-level cell stopped (process limit or memory watch) without harm,
    and the rest of the notebook graded?"""
    tag = marker()
    bomb = f"""import os, ctypes
ctypes.CDLL(None).prctl(15, {tag!r}.encode(), 0, 0, 0)
while True:
    try:
        os.fork()
    except OSError:
        pass
"""
    g = grade(lean(extra=(bomb,)), marker=tag)
    assert g.result.score == 12, g.result.notes
    assert any("cell 2" in note for note in g.result.notes)


# -- nothing the student's process does raises a score ----------------------------------------

SCORE_ATTACKS = {
    "patched numpy comparisons": ("np.isclose = lambda *a, **k: np.array(True)\nnp.allclose = lambda *a, **k: True\n"
                                  "np.array_equal = lambda *a, **k: True\nnp.testing.assert_allclose = lambda *a, **k: None"),
    "patched builtins": ("import builtins\nbuiltins.abs = lambda x: 0\nbuiltins.round = lambda *a: 0\n"
                         "builtins.max = lambda *a, **k: 0"),
    "fake pytest and unittest": ("import sys, types, unittest\nfake = types.ModuleType('pytest')\n"
                                 "fake.main = lambda *a, **k: 0\nfake.approx = lambda x, **k: x\n"
                                 "sys.modules['pytest'] = fake\nunittest.TestCase.assertEqual = lambda *a, **k: None\n"
                                 "unittest.TestCase.run = lambda *a, **k: None"),
    "fake score on stdout": ("import json\nprint(json.dumps({'score': 12, 'max_score': 12, 'tests': []}))\n"
                             "print('relu: 1 / 1 points')"),
    "patched worker": ("import sys\nworker = sys.modules['__main__']\nreal = worker.HANDLERS['call']\n"
                       "def call(message):\n    reply = real(message)\n    reply['warnings'] = []\n"
                       "    reply['mutated'] = []\n    return reply\nworker.HANDLERS['call'] = call\n"
                       "worker._snapshot = lambda *a, **k: []"),
}


@pytest.mark.parametrize("attack", SCORE_ATTACKS)
def test_a_wrong_relu_stays_wrong_whatever_the_notebook_patches(grade, attack):
    """Does patching numpy, builtins, pytest or the worker, or printing a fake score, leave a wrong
    relu at 0 and the honest exercises intact?"""
    g = grade(lean({"relu": WRONG_RELU}, extra=(SCORE_ATTACKS[attack],), at_end=True))
    assert g.scores["relu"] == 0, g.feedback["relu"]
    g.honest_intact("relu")
    assert g.result.score == 11


LYING_RESULTS = {
    "ndarray subclass that lies": """
class Liar(np.ndarray):
    def __eq__(self, other): return np.ones(np.shape(other), bool)
    __ne__ = lambda self, other: np.zeros(np.shape(other), bool)
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs): return np.ones(np.shape(inputs[0]), bool)
    def __array_function__(self, func, types, args, kwargs): return True
    def __float__(self): return 0.0
    def __len__(self): return 0
def relu(z):
    return np.zeros(np.shape(z)).view(Liar)
""",
    "object that claims everything": """
class Liar:
    def __init__(self, z): self.shape, self.dtype = np.shape(z), np.float64
    def __eq__(self, other): return True
    def __array__(self, dtype=None, copy=None): return np.asarray(np.full(self.shape, 7.0))
    def __array_ufunc__(self, *a, **k): return True
    def __array_function__(self, *a, **k): return True
    def __float__(self): return 0.0
    def __len__(self): return 10**9
    def __iter__(self): return iter([])
def relu(z):
    return Liar(z)
""",
    "float subclass that lies": """
class Liar(float):
    def __eq__(self, other): return True
    def __float__(self): return 123.0
    def __sub__(self, other): return 0.0
    __rsub__ = __sub__
def relu(z):
    return Liar(-1.0) if np.ndim(z) == 0 else np.full(np.shape(z), -1.0)
""",
    "repr and del that misbehave": """
import os
class Nasty:
    def __repr__(self):
        while True: pass
    def __str__(self): raise RuntimeError('no str')
    def __del__(self): os._exit(1)
def relu(z):
    return Nasty()
""",
    "huge array over the message limit": "def relu(z):\n    return np.zeros(6 * 10**6)\n",
    "object dtype and structured arrays": ("def relu(z):\n    return np.array([object(), 1], dtype=object) if np.ndim(z) "
                                           "else np.zeros(3, dtype=[('a', 'f8')])\n"),
    "infinite generator": "def relu(z):\n    def forever():\n        while True:\n            yield 0.0\n    return forever()\n",
}


@pytest.mark.parametrize("attack", LYING_RESULTS)
def test_results_that_lie_about_themselves_are_read_as_plain_data(grade, attack):
    """Are ndarray subclasses and objects whose comparisons, __array_ufunc__, __array_function__,
    __float__ or __len__ lie, and huge or odd results, read as plain data and failed?"""
    g = grade(lean({"relu": LYING_RESULTS[attack]}))
    assert g.scores["relu"] == 0, g.feedback["relu"]
    g.honest_intact("relu")


# -- the course's files and the machine are out of reach ---------------------------------------

def test_solutions_checks_and_source_are_unreachable(grade):
    """Can relu import the reference, the checks or the autograder, or read the solutions, the
    source notebook or course.yaml by absolute path? (If it could, relu would score.)"""
    root = str(COURSE_ROOT)
    relu = f"""import sys, os, glob
sys.path[:0] = [{root!r}, os.path.join({root!r}, 'solutions')]
def relu(z):
    for attempt in ("from solutions.a01_perceptron import relu as r",
                    "from a01_perceptron import relu as r",
                    "from autograder.checks import a01_perceptron as c; r = c.ref.relu"):
        try:
            exec(attempt, globals())
            return r(z)
        except Exception:
            pass
    for path in ({root!r} + '/solutions/a01_perceptron.py', {root!r} + '/course.yaml',
                 {root!r} + '/source/a01_perceptron/a01_perceptron.ipynb'):
        try:
            if 'def relu' in open(path).read():
                return np.maximum(z, 0)
        except OSError:
            pass
    if glob.glob({root!r} + '/*/a01_perceptron.py') or glob.glob({root!r} + '/.git/HEAD'):
        return np.maximum(z, 0)
    return np.zeros(np.shape(z))
"""
    g = grade(lean({"relu": relu}))
    if g.result.isolation != "namespaces":
        pytest.skip("no unprivileged namespaces here: the process fallback cannot hide files (docs/threat-model.md)")
    assert g.scores["relu"] == 0, g.feedback["relu"]
    g.honest_intact("relu")


def test_writing_files_changes_nothing_outside_the_scratch_directory(grade, tmp_path):
    """Do writes to results.json (here, in /tmp, in the course), to course.yaml, to the submission
    and to the solutions all fail to leave a trace, and remounting or chroot fail?"""
    root = str(COURSE_ROOT)
    probe = tmp_path / "outside.txt"
    code = f"""import os, json, subprocess
targets = ['results.json', '/tmp/results.json', {root!r} + '/results.json', {root!r} + '/course.yaml',
           {root!r} + '/solutions/a01_perceptron.py', {str(probe)!r}, {root!r} + '/.venv/pwned',
           {root!r} + '/autograder/checks/a01_perceptron.py']
for t in targets:
    try:
        with open(t, 'a') as f:
            f.write(json.dumps({{'score': 12}}))
    except OSError:
        pass
for cmd in (['mount', '-o', 'remount,rw', '/'], ['umount', '-l', {root!r} + '/solutions'],
            ['unshare', '-Urm', 'sh', '-c', 'umount -l {root}/solutions; echo x >> {root}/course.yaml']):
    subprocess.run(cmd, capture_output=True)
try:
    os.chroot('/tmp')
except OSError:
    pass
"""
    g = grade(lean(extra=(code,)))
    assert g.result.score == 12
    assert not (COURSE_ROOT / "results.json").exists() and not (COURSE_ROOT / ".venv" / "pwned").exists()
    assert not probe.exists()
    if g.result.isolation == "namespaces":
        assert not Path("/tmp/results.json").exists() or Path("/tmp/results.json").stat().st_mtime < time.time() - 60


def test_the_network_is_unreachable(grade):
    """Can relu reach a server on the grader's machine (127.0.0.1)? It would score if it could."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.1)
    port = server.getsockname()[1]
    relu = f"""import socket
def relu(z):
    try:
        socket.create_connection(('127.0.0.1', {port}), timeout=1).close()
        return np.maximum(z, 0)
    except OSError:
        return np.zeros(np.shape(z))
"""
    try:
        g = grade(lean({"relu": relu}))
        try:
            server.accept()
            connected = True
        except (socket.timeout, BlockingIOError):
            connected = False
    finally:
        server.close()
    # in every mode: a network namespace, or the sandbox's seccomp filter where none can be made
    assert not connected and g.scores["relu"] == 0
    g.honest_intact("relu")


# -- notebooks that are not what they claim ---------------------------------------------------

def test_a_notebook_of_another_assignment_is_refused_in_one_line(tmp_path):
    """Is a notebook whose metadata names a02_dense refused when graded as a01_perceptron?"""
    notebook = lean()
    notebook.metadata["autograder"] = {"assignment": "a02_dense"}
    path = tmp_path / f"{A}.ipynb"
    nbformat.write(notebook, path)
    with pytest.raises(NotebookError) as info:
        grade_notebook(path, assignment=A, course=COURSE)
    assert "a02_dense" in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("content, words", [
    (b"", "is empty"),
    (b"{\"cells\": [", "not valid JSON"),
    ("{\"cells\": []}".encode("utf-16"), "not UTF-8"),
    (b"import numpy as np\ndef relu(z):\n    return z\n", "not valid JSON"),
    (b"[1, 2, 3]", "not a Jupyter notebook"),
    (json.dumps({"cells": [{"cell_type": "code"}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode(), ""),
    (json.dumps({"cells": [{"cell_type": "code", "source": 42, "metadata": {}, "outputs": [],
                            "execution_count": None}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode(), ""),
])
def test_bad_files_get_a_clean_one_line_error(tmp_path, content, words):
    """Are an empty file, bad JSON, UTF-16, a renamed .py file, a JSON list and cells with missing or
    non-string source refused with a one-line NotebookError?"""
    path = tmp_path / f"{A}.ipynb"
    path.write_bytes(content)
    with pytest.raises(NotebookError) as info:
        grade_notebook(path, course=COURSE)
    assert words in str(info.value) and "\n" not in str(info.value)


def test_an_nbformat_3_notebook_is_converted_and_graded(tmp_path):
    """Is a notebook saved in nbformat 3 converted and graded like its version 4?"""
    path = tmp_path / f"{A}.ipynb"
    path.write_text(nbformat.writes(lean(), version=3))
    assert json.loads(path.read_text())["nbformat"] == 3
    result = grade_notebook(path, course=COURSE)
    assert result.score == 12, result.notes


def test_several_functions_that_exit_cost_only_their_exercises(grade):
    """Do four functions that each kill the process (about ten calls in all) cost only their four
    exercises, not the restarts of the others?"""
    exits = {name: f"import os\ndef {name}(z):\n    os._exit(1)\n"
             for name in ("tanh", "tanh_derivative", "relu", "relu_derivative")}
    g = grade(lean(exits))
    assert all(g.scores[name] == 0 for name in exits)
    g.honest_intact(*exits)
    assert g.result.score == 7


@pytest.mark.slow
def test_ten_thousand_cells_are_graded_within_the_limits(grade):
    """Does a notebook of 10,000 small cells get graded (or cut by notebook_timeout), not crash?"""
    notebook = lean(extra=tuple(f"x{i} = {i}" for i in range(10_000)))
    g = grade(notebook)
    assert g.result.score == 12, g.result.notes[:3]


def test_the_cli_prints_one_honest_json_object_despite_a_fake_one(tmp_path):
    """Does `grade --format json` print exactly the grader's JSON (score 11) when the notebook
    prints a fake full-score JSON object?"""
    notebook = lean({"relu": WRONG_RELU}, extra=(SCORE_ATTACKS["fake score on stdout"],))
    path = tmp_path / f"{A}.ipynb"
    nbformat.write(notebook, path)
    run = subprocess.run([sys.executable, "-m", "autograder", "grade", str(path), "--format", "json"],
                         capture_output=True, text=True, cwd=COURSE_ROOT, timeout=300)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["score"] == 11 and result["max_score"] == 12


# -- the nbgrader path: what can be done inside the kernel -------------------------------------

def _kernel_namespace(relu_source: str) -> dict:
    import numpy as np

    namespace = {"np": np}
    exec(relu_source, namespace)
    return namespace


def test_nbgrader_bridge_refuses_a_kernel_with_patched_numpy(capsys, monkeypatch):
    """On the nbgrader path, does a kernel where np.allclose and builtins.abs were replaced give 0
    with a message, instead of running the checks with the fakes?"""
    import builtins

    import numpy as np

    from autograder.nbgrader_bridge import grade_exercise

    namespace = _kernel_namespace(WRONG_RELU)
    monkeypatch.setattr(np, "allclose", lambda *a, **k: True)
    monkeypatch.setattr(np, "isclose", lambda *a, **k: np.array(True))
    monkeypatch.setattr(builtins, "abs", lambda x: 0)
    assert grade_exercise(A, "relu", namespace) == 0
    assert "replaced np.allclose" in capsys.readouterr().out


def test_nbgrader_bridge_ignores_planted_check_modules(capsys, monkeypatch):
    """On the nbgrader path, are a fake checks module and a fake reference planted in sys.modules
    ignored (the checks are imported from their files), so a wrong relu still gets 0?"""
    import types

    from autograder.nbgrader_bridge import grade_exercise

    fake = types.ModuleType("autograder.checks.a01_perceptron")
    fake.__file__ = str(COURSE_ROOT / "autograder" / "checks" / "a01_perceptron.py")
    monkeypatch.setitem(sys.modules, "autograder.checks.a01_perceptron", fake)
    reference = types.ModuleType("solutions.a01_perceptron")
    reference.relu = lambda z: z * 0.0
    monkeypatch.setitem(sys.modules, "solutions.a01_perceptron", reference)
    assert grade_exercise(A, "relu", _kernel_namespace(WRONG_RELU)) == 0
    assert grade_exercise(A, "relu", _kernel_namespace("def relu(z):\n    return np.maximum(z, 0.0)\n")) == 1


def test_nbgrader_bridge_ignores_a_planted_keras_record(monkeypatch):
    """On the nbgrader path, is a fake `autograder.checks.recorded` planted in sys.modules (its file
    name genuine, its Keras results the student's own) ignored, so the checks compare with Keras?"""
    import types

    import numpy as np

    from autograder.checks import recorded
    from autograder.nbgrader_bridge import grade_exercise

    wrong = "def mean_squared_error(y_true, y_pred):\n    return np.sum((np.reshape(y_true, np.shape(y_pred)) - y_pred) ** 2)\n"
    honest = grade_exercise("a03_loss", "mean_squared_error", _kernel_namespace(wrong))
    used = []

    def keras_result(function):   # every Keras result becomes what the wrong formula computes
        def lookup(kind, y_true, y_pred, dtype):
            used.append(kind)
            return np.asarray(np.sum((np.reshape(y_true, np.shape(y_pred)) - y_pred) ** 2), dtype=dtype)
        return lookup

    fake = types.ModuleType("autograder.checks.recorded")
    fake.__file__ = recorded.__file__
    fake.keras_result = keras_result
    monkeypatch.setitem(sys.modules, "autograder.checks.recorded", fake)
    monkeypatch.delitem(sys.modules, "autograder.checks.a03_loss", raising=False)
    assert grade_exercise("a03_loss", "mean_squared_error", _kernel_namespace(wrong)) == honest
    assert used == []


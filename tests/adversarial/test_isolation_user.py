"""Where user namespaces are blocked (Docker's default seccomp profile: Gradescope, most
Kubernetes pods) and the grader is root, the student's code runs as an unprivileged user that
cannot read the course's files, and the result says so."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import nbformat
import pytest

from autograder.config import COURSE_ROOT
from autograder.samples import submission

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(os.geteuid() != 0, reason="only root can run the student's code as another user")]
SECRETS = ["solutions/a01_perceptron.py", "autograder/checks/a01_perceptron.py", "course.yaml",
           "samples/a01_perceptron/submitted/cem_slide_typo/a01_perceptron/a01_perceptron.ipynb"]

SNOOP = f"""
import os
leaked = []
for path in {[str(COURSE_ROOT / s) for s in SECRETS]!r}:
    try:
        leaked.append((path, len(open(path).read())))
    except OSError:
        pass
try:
    leaked.append(('listing', os.listdir({str(COURSE_ROOT)!r})))
except OSError:
    pass
assert leaked == [], 'LEAKED ' + repr(leaked)
assert os.getuid() != 0 and os.geteuid() != 0, 'still root'
open('scratch.txt', 'w').write('the scratch folder is the student\\'s')
"""


def test_process_isolation_as_root_runs_the_student_unprivileged(tmp_path):
    """With AUTOGRADER_ISOLATION=process as root, does a perfect notebook that tries to read the
    solutions, the checks, the configuration and another submission read nothing, still get full
    marks, and say which isolation graded it?"""
    notebook = submission("a01_perceptron", {})
    notebook.cells.append(nbformat.v4.new_code_cell(SNOOP))
    path = tmp_path / "a01_perceptron.ipynb"
    nbformat.write(notebook, path)
    env = {**os.environ, "PYTHONPATH": str(COURSE_ROOT), "AUTOGRADER_ISOLATION": "process"}
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(path), "--format", "json"],
                          cwd=COURSE_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert "raised" not in result["output"], result["output"]
    assert result["score"] == result["max_score"], [t["output"][:300] for t in result["tests"] if t["score"] < t["max_score"]]
    assert result["isolation"] == "unprivileged-user"
    assert "as a separate user with no rights to the course's files" in result["output"]   # said in plain words



def test_a_grader_whose_temporary_folder_is_private_still_grades(tmp_path):
    """Does a grader whose TMPDIR the student's user cannot pass through (a folder under /root, a 0700
    folder) still give a perfect notebook full marks (its sandboxes' scratch then lies in /tmp)?"""
    private = tmp_path / "private-tmp"
    private.mkdir(mode=0o700)
    path = tmp_path / "a01_perceptron.ipynb"
    nbformat.write(submission("a01_perceptron", {}), path)
    env = {**os.environ, "PYTHONPATH": str(COURSE_ROOT), "AUTOGRADER_ISOLATION": "process", "TMPDIR": str(private)}
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(path), "--format", "json"],
                          cwd=COURSE_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert result["isolation"] == "unprivileged-user"
    assert result["score"] == result["max_score"], [t["output"][:300] for t in result["tests"] if t["score"] < t["max_score"]]

KILL_CLASSMATES = """
import os, signal, threading, time

def kill_classmates():
    # every other process of this uid, found in /proc, SIGKILLed: a classmate graded at the same
    # moment, when every student's code runs as one user
    me, mine = os.getuid(), os.getpid()
    while True:
        for entry in os.listdir('/proc'):
            if not entry.isdigit() or int(entry) == mine:
                continue
            try:
                with open(f'/proc/{entry}/status') as f:
                    uids = next(line for line in f if line.startswith('Uid:')).split()[1:]
                if str(me) in uids:
                    os.kill(int(entry), signal.SIGKILL)
            except (OSError, StopIteration):
                pass
        time.sleep(0.01)

threading.Thread(target=kill_classmates, daemon=True).start()
time.sleep(5)   # while the classmate's notebook starts; the thread goes on during every check
"""


def test_a_student_who_kills_its_uids_processes_stops_no_classmate(tmp_path):
    """In `grade-all --jobs 2` in the unprivileged-user mode, does a perfect notebook graded beside
    one that SIGKILLs every other process of its own uid keep its full marks? (Every student ran as
    uid 65534: the classmate got 0 / 12.)"""
    import csv

    (tmp_path / "class").mkdir()
    perfect = submission("a01_perceptron", {})
    killer = submission("a01_perceptron", {})
    killer.cells.insert(0, nbformat.v4.new_code_cell(KILL_CLASSMATES))
    nbformat.write(killer, tmp_path / "class" / "a_killer.ipynb")
    nbformat.write(perfect, tmp_path / "class" / "b_perfect.ipynb")
    env = {**os.environ, "PYTHONPATH": str(COURSE_ROOT), "AUTOGRADER_ISOLATION": "process"}
    done = subprocess.run([sys.executable, "-m", "autograder", "grade-all", str(tmp_path / "class"), "--assignment",
                           "a01_perceptron", "--jobs", "2", "--out", str(tmp_path / "out"), "--no-progress"],
                          cwd=COURSE_ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    with open(tmp_path / "out" / "grades.csv") as f:
        scores = {row["student_id"]: row for row in csv.DictReader(f)}
    assert float(scores["b_perfect"]["score"]) == 12, scores["b_perfect"]


LEAVE = """
import os, tempfile
open('/tmp/{name}', 'w').write('answers')          # with the sandbox's umask
open('/tmp/{name}-shared', 'w').write('answers')
os.chmod('/tmp/{name}-shared', 0o644)               # left readable on purpose
open(os.path.join(tempfile.gettempdir(), '{name}-mine'), 'w').write('answers')
import ctypes
assert ctypes.CDLL(None).shmget({key}, 4096, 0o1600) >= 0   # a System V segment, never removed
"""
LOOK = """
import os, signal, tempfile
found = []
for path in ('/tmp/{name}', {temp!r} + '/{name}-mine'):
    try:
        found.append((path, open(path).read()))
    except OSError:
        pass
try:
    found.append(('listing of the other TMPDIR', os.listdir({temp!r})))
except OSError:
    pass
try:
    os.kill({pid}, signal.SIGCONT)
    found.append('a signal reached the other student')
except OSError:
    pass
assert found == [], found
assert os.stat(tempfile.gettempdir()).st_mode & 0o777 == 0o700, 'a TMPDIR of its own'

"""


@pytest.fixture
def unprivileged_user(monkeypatch):
    """The unprivileged-user mode, as AUTOGRADER_ISOLATION=process as root selects it."""
    from autograder.sandbox.isolation import isolation_level

    monkeypatch.setenv("AUTOGRADER_ISOLATION", "process")
    isolation_level.cache_clear()
    yield
    monkeypatch.delenv("AUTOGRADER_ISOLATION")
    isolation_level.cache_clear()


def test_a_student_reads_nothing_another_left_in_the_shared_tmp(unprivileged_user):
    """While student A's sandbox runs, can student B (another sandbox at the same moment) read
    none of what A wrote in the shared /tmp or in A's own temporary folder, nor signal A's process;
    and once A's sandbox is closed, is what A left in /tmp gone, even a file A made readable to all,
    and its System V shared memory too?"""
    import secrets

    from autograder.config import load_course
    from autograder.sandbox.launcher import Sandbox

    limits = load_course().limits
    name, key = f"left-by-a-{secrets.token_hex(4)}", secrets.randbelow(2**30) + 1
    a, b = Sandbox(limits), Sandbox(limits)
    try:
        a.start()
        assert a.isolation == "unprivileged-user"
        reply = a.request({"op": "exec", "code": LEAVE.format(name=name, key=key), "index": 0}, 60)
        assert reply["ok"], reply
        with open(f"/proc/{a.proc.pid}/environ", "rb") as f:
            temp = dict(v.split(b"=", 1) for v in f.read().split(b"\0") if v).get(b"TMPDIR", b"/tmp").decode()
        b.start()
        reply = b.request({"op": "exec", "code": LOOK.format(name=name, temp=temp, pid=a.proc.pid), "index": 0}, 60)
        assert reply["ok"], reply["error"]
        a.close()
        assert not os.path.exists(f"/tmp/{name}") and not os.path.exists(f"/tmp/{name}-shared")
        with open("/proc/sysvipc/shm") as f:
            assert str(key) not in [line.split()[0] for line in f], "A's shared memory outlived its sandbox"
    finally:
        a.close()
        b.close()
        for path in (f"/tmp/{name}", f"/tmp/{name}-shared", f"/tmp/{name}-mine"):
            if os.path.exists(path):
                os.unlink(path)

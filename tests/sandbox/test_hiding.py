"""What the student's process cannot see: a notebook's folder is hidden wherever it lies,
without hiding the sandbox's writable places or Python's own files."""
from __future__ import annotations

import shutil
import sys
import uuid
from pathlib import Path

import pytest

from autograder.config import COURSE_ROOT, load_course
from autograder.grade import grade_notebook
from autograder.sandbox.isolation import hidden_paths, isolation_level
from autograder.sandbox.launcher import Sandbox

namespaces = pytest.mark.skipif(isolation_level() != "namespaces", reason="hiding needs namespaces")
LIMITS = load_course().limits
PERFECT = COURSE_ROOT / "samples/a01_perceptron/submitted/ada_perfect/a01_perceptron/a01_perceptron.ipynb"


def test_a_folder_holding_python_is_hidden_but_for_the_way_to_python(tmp_path):
    """Does hiding a folder that holds the environment cover its other entries, down to the
    environment, and leave the environment itself and the writable places alone?"""
    (tmp_path / "course" / "solutions").mkdir(parents=True)
    (tmp_path / "course" / "course.yaml").write_text("secret")
    venv = tmp_path / "course" / "envs" / "venv"
    (venv / "lib").mkdir(parents=True)
    (tmp_path / "course" / "envs" / "other").mkdir()
    (tmp_path / "course" / "link").symlink_to("/etc")
    keep = [str(venv.resolve())]
    root = (tmp_path / "course").resolve()
    # tmp_path lies in /tmp, a writable place: give the rule another one to see it at work
    hidden = hidden_paths((str(tmp_path / "course"), "/", str(venv / "lib"), "/scratch/x"), keep, ("/scratch",))
    assert hidden == [str(root / "course.yaml"), str(root / "envs" / "other"), str(root / "solutions")]
    assert hidden_paths((str(tmp_path / "course"),), keep) == []  # inside /tmp: the sandbox gets a fresh one


def _sandbox_sees(hide: tuple[str, ...], secret: Path) -> dict:
    """Run, in a sandbox that hides `hide`, code that needs Python's files and the scratch folder
    and tries to read `secret`."""
    code = f"""
import numpy.random, matplotlib.pyplot as plt
plt.plot([0, 1]); plt.gcf().canvas.draw()
open('/tmp/work/scratch.txt', 'w').write('ok')
try:
    seen = open({str(secret)!r}).read()
except OSError:
    seen = ''
assert seen == '', 'read ' + {str(secret)!r}
"""
    with Sandbox(LIMITS, hide=hide) as sandbox:
        return sandbox.request({"op": "exec", "code": code, "index": 0}, 60)


@namespaces
@pytest.mark.parametrize("where", ["/tmp", "home", "course root", "folder holding the environment"])
def test_a_notebooks_folder_is_hidden_wherever_it_lies(where):
    """Whether the notebook lies directly in /tmp, in a home directory (which may hold the
    interpreter), in the course's root or in a folder that also holds the environment, is its
    folder hidden while the student's code still imports NumPy, draws with matplotlib and
    writes in its scratch folder?"""
    made = None
    if where == "/tmp":
        folder = Path("/tmp")
    elif where == "home":
        folder = Path.home()
    elif where == "course root":
        folder = COURSE_ROOT
    else:
        folder = Path(sys.prefix).resolve().parent
    secret = folder / "solutions" / "a01_perceptron.py"
    if not secret.exists():
        secret = made = folder / f"autograder-secret-{uuid.uuid4().hex}.txt"
        try:
            secret.write_text("the answers")
        except OSError:
            pytest.skip(f"cannot write in {folder}")
    try:
        reply = _sandbox_sees((str(folder),), secret)
    finally:
        if made is not None:
            made.unlink()
    assert reply["ok"], reply["error"]


@namespaces
@pytest.mark.slow
def test_a_notebook_directly_in_tmp_gets_full_marks():
    """Does a perfect notebook saved directly in /tmp (a downloaded submission) get full marks?"""
    notebook = Path("/tmp") / f"autograder-{uuid.uuid4().hex}.ipynb"
    shutil.copy(PERFECT, notebook)
    try:
        result = grade_notebook(notebook)
    finally:
        notebook.unlink()
    assert result.score == result.max_score, [(c.name, c.feedback[:300]) for e in result.exercises
                                              for c in e.checks if not c.passed][:3]


def test_the_course_packages_are_hidden_even_inside_pythons_folders():
    """Where `pip install .` put `solutions` and `autograder` into site-packages (a folder the
    student's process needs), are those two packages still hidden?"""
    from autograder.sandbox.isolation import protected

    site_packages_like = [str(COURSE_ROOT)]   # Python's folder, holding the course's packages
    hidden = protected((), site_packages_like)
    assert str(COURSE_ROOT / "solutions") in hidden and str(COURSE_ROOT / "autograder") in hidden
    assert str(COURSE_ROOT) not in hidden   # the folder the student's libraries live in stays


@namespaces
@pytest.mark.parametrize("where", ["home", "/srv"])
def test_another_copy_of_the_course_elsewhere_on_the_machine_is_out_of_sight(where):
    """A second copy of the course that the grader knows nothing of (last year's clone in the
    instructor's home, a colleague's in /srv) is unreadable from the sandbox, which sees nothing
    beyond the machine's own folders but the Python it runs on."""
    top = Path.home() if where == "home" else Path("/srv")
    copy = top / f".autograder-other-copy-{uuid.uuid4().hex[:8]}"
    secret = copy / "solutions" / "a01_perceptron.py"
    secret.parent.mkdir(parents=True)
    secret.write_text("def sigmoid(z): ...")
    try:
        reply = _sandbox_sees((), secret)
        assert reply["ok"], reply.get("error")
    finally:
        shutil.rmtree(copy)

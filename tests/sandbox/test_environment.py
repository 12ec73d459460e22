"""Where the grader's Python lives: a checkout and an environment anywhere grade the same.

The grader's environment is rebuilt under /tmp (in a folder whose name has a space) from the
running one, in seconds rather than an install: `python -m venv`, then hard links to the
packages the student's process imports (NumPy, matplotlib and their dependencies, IPython's
cell transformer), so that their files really lie under /tmp as after an install there, and
symbolic links to the others (TensorFlow's tens of thousands of files cost half a minute to
link and remove on a busy disk; the grader and the fork server still import it through the venv).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import pytest

from autograder.config import COURSE_ROOT
from autograder.sandbox.isolation import isolation_level

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(sys.prefix == sys.base_prefix, reason="the grader does not run from a venv")]
PERFECT = "samples/{aid}/submitted/ada_perfect/{aid}/{aid}.ipynb"
STUDENT_IMPORTS = "import numpy.random, matplotlib.pyplot, contourpy, IPython.core.inputtransformer2"


def _link_tree(source: Path, target: Path, ignore=None) -> None:
    """Copy a tree as hard links (a plain copy where links cannot cross file systems)."""
    def link(src, dst):
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)
    shutil.copytree(source, target, symlinks=True, ignore=ignore, copy_function=link, dirs_exist_ok=True)


def _student_packages(site: Path) -> set[str]:
    """The top-level entries of `site` that the student's process imports."""
    code = (f"{STUDENT_IMPORTS}\nimport sys\nprint('\\n'.join(m.__file__ for m in list(sys.modules.values()) "
            "if getattr(m, '__file__', None)))")
    files = subprocess.run([sys.executable, "-I", "-c", code], check=True, capture_output=True, text=True).stdout
    paths = [Path(f).resolve() for f in files.splitlines()]
    return {p.relative_to(site).parts[0] for p in paths if p.is_relative_to(site)}


def _make_venv(target: Path) -> Path:
    """A venv at `target` holding the running environment's packages; returns its python."""
    subprocess.run([sys._base_executable, "-m", "venv", "--without-pip", str(target)], check=True)
    python = target / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    ours = Path(sysconfig.get_paths()["purelib"]).resolve()
    linked = _student_packages(ours)
    for entry in ours.iterdir():
        # a package's shared libraries (numpy.libs) and metadata travel with it
        # (pillow.libs serves PIL: every shared-library folder travels)
        if entry.is_dir() and (entry.name.endswith(".libs")
                               or entry.name.split(".")[0].split("-")[0].lower() in {n.lower() for n in linked}):
            _link_tree(entry, site / entry.name)
        else:
            (site / entry.name).symlink_to(entry)
    return python


@pytest.fixture(scope="module")
def layouts():
    """{name: (python, checkout)}: a checkout with its .venv under /tmp, and the same environment
    used from the checkout where it is (so outside it); both paths hold a space."""
    base = Path(tempfile.mkdtemp(prefix="autograder env ", dir="/tmp"))
    checkout = base / "course copy"
    _link_tree(COURSE_ROOT, checkout, ignore=shutil.ignore_patterns(".git", ".venv", "__pycache__", ".pytest_cache"))
    python = _make_venv(checkout / ".venv")
    yield {"checkout and .venv under /tmp": (python, checkout),
           "environment under /tmp, outside the checkout": (python, COURSE_ROOT)}
    subprocess.run(["rm", "-rf", str(base)], check=False)


_GRADE_ALL = """
import json, sys
from autograder.grade_all import grade_all
print(json.dumps(grade_all(sys.argv[1], out=sys.argv[2], jobs=1, progress=False)))
"""


def _lost(result: dict) -> list:
    return [(t["name"], t["output"][:300]) for t in result["tests"] if t["score"] < t["max_score"]]


@pytest.mark.parametrize("layout, assignments", [
    ("checkout and .venv under /tmp", ["a02_dense", "a07_keras_equivalence"]),
    ("environment under /tmp, outside the checkout", ["a02_dense"]),
])
def test_grade_and_grade_all_give_the_perfect_samples_full_marks(layouts, layout, assignments, tmp_path):
    """With the grader's Python under /tmp, do `grade` (one sandbox) and `grade-all` (one fork
    server, a forked sandbox per notebook; TensorFlow preloaded there for a07) give the perfect
    submissions full marks, without an error in their output?"""
    python, checkout = layouts[layout]
    students = tmp_path / "class"
    for aid in assignments:
        notebook = students / "ada_perfect" / aid / f"{aid}.ipynb"
        notebook.parent.mkdir(parents=True)
        shutil.copy(checkout / PERFECT.format(aid=aid), notebook)
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    # Two processes, as an instructor runs them (a process that imported TensorFlow cannot fork a pool)
    single = subprocess.run([str(python), "-m", "autograder", "grade", PERFECT.format(aid=assignments[0]), "--format",
                             "json"], cwd=checkout, env=env, capture_output=True, text=True, timeout=600)
    assert single.returncode == 0, single.stderr[-3000:]
    done = subprocess.run([str(python), "-c", _GRADE_ALL, str(students), str(tmp_path / "out")],
                          cwd=checkout, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    results = [json.loads(single.stdout), *json.loads(done.stdout)]
    assert len(results) == 1 + len(assignments)
    for result in results:
        assert result["score"] == result["max_score"], (result["assignment"], _lost(result))
        assert "Error" not in result["output"], result["output"]
        assert result["isolation"] == isolation_level()

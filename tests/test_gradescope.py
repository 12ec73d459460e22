"""The Gradescope bundle: what it holds, that it installs on Gradescope's Ubuntu 22.04 (Python 3.10)
and 24.04 (Python 3.12) base images, and the results.json its run_autograder writes."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from autograder.config import COURSE_ROOT, ConfigError, GradescopeSettings, load_course
from autograder.gradescope import build_bundle
from autograder.samples import released_path, submission

A = "a01_perceptron"
# The python3 of Gradescope's base images: Ubuntu 22.04's and 24.04's.
IMAGE_PYTHONS = {"ubuntu-22.04": "3.10.12", "ubuntu-24.04": "3.12.3"}
PYENV = Path(os.environ.get("PYENV_ROOT", "/root/.pyenv")) / "versions"


def _interpreter(version: str) -> str | None:
    """A python of `version`'s minor release on this machine (pyenv's, or python3.X on PATH)."""
    minor = ".".join(version.split(".")[:2])
    for found in sorted(PYENV.glob(f"{minor}.*/bin/python3")):
        return str(found)
    return shutil.which(f"python{minor}")


@pytest.mark.parametrize("aid", ["a01_perceptron", "a07_keras_equivalence"])
def test_a_bundle_holds_only_its_own_assignments_checks_and_references(tmp_path, aid):
    """Does a bundle hold its own assignment's hidden checks and reference solutions, and no other's?"""
    with zipfile.ZipFile(build_bundle(aid, tmp_path / "bundle.zip")) as bundle:
        names = set(bundle.namelist())
    assert {"setup.sh", "run_autograder", f"autograder/checks/{aid}.py", f"solutions/{aid}.py",
            "autograder/checks/kit.py", "course.yaml", "requirements.txt"} <= names
    others = [a.id for a in load_course().assignments if a.id != aid]
    # its own record of Keras' results, where its checks have one (a01's use no Keras)
    assert (f"autograder/checks/recorded/{aid}.json" in names) == (aid != "a01_perceptron")
    leaked = sorted(n for n in names for other in others if other in n)
    assert leaked == [], leaked
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)


@pytest.mark.parametrize("image", sorted(IMAGE_PYTHONS))
def test_the_bundles_requirements_resolve_on_gradescopes_python(tmp_path, image):
    """Do the bundle's pinned requirements resolve to wheels for the python3 of Gradescope's image?

    pip's --python-version does not evaluate environment markers for the target (it uses its own
    Python's), so the markers are evaluated here for the image's Python first."""
    version = IMAGE_PYTHONS[image]
    environment = {"python_version": ".".join(version.split(".")[:2]), "python_full_version": version}
    with zipfile.ZipFile(build_bundle(A, tmp_path / "bundle.zip")) as bundle:
        lines = bundle.read("requirements.txt").decode().splitlines()
    chosen = []
    for line in lines:
        if line.strip() and not line.startswith("#"):
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate(environment):
                chosen.append(f"{requirement.name}{requirement.specifier}")
    names = [c.split("==")[0].lower() for c in chosen]
    assert len(names) == len(set(names)), f"a package pinned twice for Python {version}: {chosen}"
    (tmp_path / "requirements.txt").write_text("\n".join(chosen) + "\n")
    run = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
                          "--disable-pip-version-check", "--python-version", version, "--only-binary=:all:",
                          "--target", str(tmp_path / "target"), "--report", str(tmp_path / "report.json"),
                          "-r", str(tmp_path / "requirements.txt")], capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    # pip skips Requires-Python in the wheels' own metadata for a --python-version (an index without
    # data-requires-python, such as a local mirror, lets ipykernel 7.4 through for 3.10): check it here.
    installs = json.loads((tmp_path / "report.json").read_text())["install"]
    refused = [f"{i['metadata']['name']} {i['metadata']['version']} requires Python {i['metadata']['requires_python']}"
               for i in installs if not SpecifierSet(i["metadata"].get("requires_python") or "").contains(version)]
    assert refused == [], f"Python {version}: {refused}"
    assert {"numpy", "tensorflow-cpu", "nbgrader"} <= {canonicalize_name(i["metadata"]["name"]) for i in installs}


@pytest.mark.parametrize("image", sorted(IMAGE_PYTHONS))
def test_the_bundles_python_files_compile_on_gradescopes_python(tmp_path, image):
    """Does every Python file of the bundle compile under the python3 of Gradescope's image?"""
    python = _interpreter(IMAGE_PYTHONS[image])
    if python is None:
        pytest.skip(f"no Python {IMAGE_PYTHONS[image]} here (pyenv or python3.X on PATH)")
    with zipfile.ZipFile(build_bundle(A, tmp_path / "bundle.zip")) as bundle:
        bundle.extractall(tmp_path / "source")
    run = subprocess.run([python, "-m", "compileall", "-q", str(tmp_path / "source")], capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert len(list((tmp_path / "source").rglob("*.pyc"))) > 20


def test_hidden_check_visibility_is_a_course_setting(tmp_path):
    """Is the hidden checks' visibility on Gradescope read from course.yaml (after the due date by
    default), and is a value Gradescope does not know a one-line error naming the four it does?"""
    assert load_course().gradescope.visibility == GradescopeSettings().visibility == "after_due_date"
    text = (COURSE_ROOT / "course.yaml").read_text()
    (tmp_path / "course.yaml").write_text(text.replace("visibility: after_due_date", "visibility: visible"))
    assert load_course(tmp_path / "course.yaml").gradescope.visibility == "visible"
    (tmp_path / "course.yaml").write_text(text.replace("visibility: after_due_date", "visibility: later"))
    with pytest.raises(ConfigError) as raised:
        load_course(tmp_path / "course.yaml")
    message = str(raised.value)
    assert "\n" not in message and "gradescope.visibility" in message and "'later'" in message
    assert all(v in message for v in ("hidden", "after_due_date", "after_published", "visible"))


def _run_autograder(root: Path, python: str) -> dict:
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(AUTOGRADER_ROOT=str(root), AUTOGRADER_PYTHON=python)   # the bundle's own code runs
    run = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    return json.loads((root / "results" / "results.json").read_text())


def test_run_autograder_applies_the_visibility_and_shows_instructors_the_notebooks_output(tmp_path):
    """Does the bundle's run_autograder give the checks course.yaml's visibility, and put what the
    notebook printed (escaped) in a 0-point test only instructors see and in its own output?"""
    root = tmp_path / "autograder"
    with zipfile.ZipFile(build_bundle(A, tmp_path / "bundle.zip")) as bundle:
        bundle.extractall(root / "source")
    (root / "submission").mkdir()
    notebook = nbformat.read(released_path(A), as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(
        "print('<b>hello</b> \\x1b[2J from the notebook')\nimport os\nos.system('echo from a shell')"))
    nbformat.write(notebook, root / "submission" / f"{A}.ipynb")
    results = _run_autograder(root, sys.executable)
    assert results["score"] == 0
    checks = [t for t in results["tests"] if t.get("exercise")]
    assert len(checks) > 7 and {t["visibility"] for t in checks} == {"after_due_date"}
    [shown] = [t for t in results["tests"] if not t.get("exercise")]
    assert shown["visibility"] == "hidden" and shown["max_score"] == 0
    assert "<b>hello</b> \\x1b[2J from the notebook" in shown["output"] and "\x1b" not in shown["output"]
    assert "from a shell" in shown["output"]
    assert sum(t["score"] for t in results["tests"]) == results["score"]


def test_a_notebook_the_grader_cannot_read_gets_a_zero_with_a_one_line_reason(tmp_path):
    """Does a submission that is not a notebook get results.json with a zero and the reason, no traceback?"""
    root = tmp_path / "autograder"
    with zipfile.ZipFile(build_bundle(A, tmp_path / "bundle.zip")) as bundle:
        bundle.extractall(root / "source")
    (root / "submission").mkdir()
    (root / "submission" / f"{A}.ipynb").write_text("{ not json")
    results = _run_autograder(root, sys.executable)
    assert results["score"] == 0 and results["tests"] == []
    assert results["output"].startswith("Your notebook could not be graded: ")
    assert "Traceback" not in results["output"] and "Error:" not in results["output"].split(": ", 1)[1][:40]


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("GRADESCOPE_IMAGE_TEST"), reason="installs TensorFlow into a new venv per "
                    "Python (about 5 minutes each with pip's cache warm, 10 without): GRADESCOPE_IMAGE_TEST=1 runs it")
@pytest.mark.parametrize("image", sorted(IMAGE_PYTHONS))
def test_the_bundle_installs_and_grades_with_gradescopes_python(tmp_path, image):
    """Does the bundle's setup.sh install it with the image's python3 as `python3`, and its
    run_autograder give the reference full marks?"""
    python = _interpreter(IMAGE_PYTHONS[image])
    if python is None:
        pytest.skip(f"no Python {IMAGE_PYTHONS[image]} here (pyenv or python3.X on PATH)")
    root = tmp_path / "autograder"
    with zipfile.ZipFile(build_bundle(A, tmp_path / "bundle.zip")) as bundle:
        bundle.extractall(root / "source")
    (root / "submission").mkdir()
    nbformat.write(submission(A, {}), root / "submission" / f"{A}.ipynb")
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(AUTOGRADER_ROOT=str(root), PATH=f"{Path(python).parent}:{env['PATH']}")
    setup = subprocess.run(["bash", str(root / "source" / "setup.sh")], env=env, capture_output=True, text=True,
                           timeout=3600)
    assert setup.returncode == 0, setup.stderr[-3000:]
    venv_python = root / "venv" / "bin" / "python"
    version = subprocess.run([str(venv_python), "-c", "import sys; print(*sys.version_info[:2], sep='.')"],
                             capture_output=True, text=True).stdout.strip()
    assert version == ".".join(IMAGE_PYTHONS[image].split(".")[:2])
    results = _run_autograder(root, str(venv_python))
    assert results["score"] == results["max_score"] == 12, results["output"]

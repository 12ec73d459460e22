"""`python -m autograder new-assignment`, run in a copy of the project: the files of a new
assignment, which `build --check` then accepts and `grade` grades; before it, `build --check` on
an assignment added to course.yaml by hand says which files are missing, in one line."""
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from autograder.config import COURSE_ROOT, load_course

pytestmark = pytest.mark.slow
ENTRY = "  - id: {}\n    title: {}\n    exercises:\n      - {{name: {}, points: {}}}\n"


def _run(args: list[str], project: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(project), TF_CPP_MIN_LOG_LEVEL="3")
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return subprocess.run([sys.executable, "-m", "autograder", *args], cwd=project, env=env, capture_output=True,
                          text=True, timeout=900)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("scaffold") / "project"
    skip = {".git", ".venv", "out", "__pycache__", ".pytest_cache"}
    archive = root.parent / "project.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(COURSE_ROOT, arcname="project", filter=lambda t: None if Path(t.name).name in skip else t)
    with tarfile.open(archive) as tar:
        tar.extractall(root.parent, filter="tar")
    return root


def test_does_build_check_name_the_missing_files_and_the_command(project):
    """After adding a08_cnn to course.yaml by hand, does `build --check a08_cnn` say, in one line,
    which files are missing and which command makes them (it was a FileNotFoundError traceback)?"""
    yaml = (project / "course.yaml").read_text(encoding="utf-8")
    last = "      - {name: NumpyMLP, points: 20}\n"   # the end of the assignments' list
    assert yaml.count(last) == 1
    (project / "course.yaml").write_text(yaml.replace(last, last + ENTRY.format("a08_cnn", "Convolutions", "conv2d", 3)),
                                         encoding="utf-8")
    result = _run(["build", "--check", "a08_cnn"], project)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "no source/a08_cnn/a08_cnn.ipynb" in result.stderr
    assert "python -m autograder new-assignment a08_cnn" in result.stderr


def test_does_build_check_accept_a_scaffolded_assignment(project):
    """Does new-assignment make a08_cnn's files (from its course.yaml entry) so that `build --check`
    passes and `grade` gives its untouched stub 0 of 3 points?"""
    result = _run(["new-assignment", "a08_cnn"], project)
    assert result.returncode == 0, result.stderr
    for path in ("solutions/a08_cnn.py", "autograder/checks/a08_cnn.py", "source/a08_cnn/a08_cnn.ipynb",
                 "assignments/a08_cnn/a08_cnn.ipynb"):
        assert (project / path).is_file() and f"wrote {path}" in result.stdout
    check = _run(["build", "--check", "a08_cnn"], project)
    assert (check.returncode, check.stdout.strip()) == (0, "up to date"), check.stdout + check.stderr
    graded = _run(["grade", "assignments/a08_cnn/a08_cnn.ipynb"], project)
    assert "a08_cnn: 0 / 3 points" in graded.stdout, graded.stdout + graded.stderr


def test_does_new_assignment_add_its_course_yaml_entry(project):
    """Does new-assignment with a title and an exercise add a valid course.yaml entry, keep the
    file's comments, and leave a project that `build --check` accepts?"""
    before = (project / "course.yaml").read_text(encoding="utf-8")
    result = _run(["new-assignment", "a09_rnn", "--title", "Recurrent networks", "--exercise", "rnn_step",
                   "--points", "2"], project)
    assert result.returncode == 0, result.stderr
    after = (project / "course.yaml").read_text(encoding="utf-8")
    entry = ENTRY.format("a09_rnn", "Recurrent networks", "rnn_step", 2)
    assert after.count(entry) == 1 and after.replace(entry, "") == before   # comments and other keys kept
    assert [a.id for a in load_course(project / "course.yaml").assignments][-2:] == ["a08_cnn", "a09_rnn"]
    assignment = load_course(project / "course.yaml").assignment("a09_rnn")
    assert (assignment.title, [(e.name, e.points) for e in assignment.exercises]) == ("Recurrent networks",
                                                                                      [("rnn_step", 2)])
    check = _run(["build", "--check", "a09_rnn"], project)
    assert (check.returncode, check.stdout.strip()) == (0, "up to date"), check.stdout + check.stderr

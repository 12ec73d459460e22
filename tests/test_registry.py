"""The course's registry: every path made in one place, every exercise found in all of its places."""
import re
from pathlib import Path

import pytest

from autograder import registry
from autograder.cli import main
from autograder.config import COURSE_ROOT, load_course

COURSE = load_course()
EXERCISES = [(a.id, e.name) for a in COURSE.assignments for e in a.exercises]


def line(place: registry.Place) -> str:
    return place.path.read_text(encoding="utf-8").splitlines()[place.line - 1]


def test_every_assignment_has_its_five_files():
    """Has every assignment of course.yaml its solutions, checks, source, release and catalogue?"""
    for a in COURSE.assignments:
        for role, path in registry.assignment_files(a.id).items():
            assert path.exists(), f"{a.id}: missing its {role} file {registry.relative(path)}"


def test_nbgrader_layouts_are_one_rule():
    """Do the repository, the sample class and an nbgrader course directory share nbgrader's layout?"""
    aid = "a01_perceptron"
    assert registry.source_notebook(aid) == COURSE_ROOT / "source" / aid / f"{aid}.ipynb"
    assert registry.released_notebook(aid) == COURSE_ROOT / "assignments" / aid / f"{aid}.ipynb"
    assert registry.sample_notebook(aid, "ada") == COURSE_ROOT / "samples" / aid / "submitted" / "ada" / aid / f"{aid}.ipynb"
    course = Path("/course")
    assert registry.course_notebook(course, "submitted", aid, "ada") == course / "submitted" / "ada" / aid / f"{aid}.ipynb"
    assert registry.course_notebook(course, "release", aid) == course / "release" / aid / f"{aid}.ipynb"


@pytest.mark.parametrize("step, student, words", [("submitted", None, "needs a student id"),
                                                  ("source", "ada", "has no per-student folder"),
                                                  ("graded", None, "Expected an nbgrader step")])
def test_a_wrong_nbgrader_path_is_refused_clearly(step, student, words):
    """Is a student missing (or extra) for an nbgrader step refused with what was expected?"""
    with pytest.raises(ValueError, match=words):
        registry.course_notebook("/course", step, "a01_perceptron", student)


def test_every_advertised_command_exists(capsys):
    """Does every `python -m autograder COMMAND` in the docs, docstrings and scripts name a real command?"""
    with pytest.raises(SystemExit):
        main(["--help"])
    commands = set(re.search(r"\{([\w,-]+)\}", capsys.readouterr().out)[1].split(","))
    files = [*COURSE_ROOT.glob("*.md"), *COURSE_ROOT.glob("docs/*.md"), *COURSE_ROOT.glob("autograder/**/*.py"),
             *COURSE_ROOT.glob("solutions/*.py"), *COURSE_ROOT.glob("scripts/*.sh"), *COURSE_ROOT.glob("benchmarks/*.py")]
    advertised = {(registry.relative(path), command) for path in files
                  for command in re.findall(r"python -m autograder ([a-z][\w-]*)", path.read_text(encoding="utf-8"))}
    assert advertised, "no command found: the pattern is wrong"
    missing = sorted((where, command) for where, command in advertised if command not in commands)
    assert not missing, f"advertised but not commands of {sorted(commands)}: {missing}"


def test_module_names_match_the_files():
    """Do the import names of the reference, checks and catalogue name the registry's files?"""
    aid = "a05_sgd"
    for module, path in ((registry.solution_module(aid), registry.solution_file(aid)),
                         (registry.checks_module(aid), registry.checks_file(aid)),
                         (registry.catalogue_module(aid), registry.catalogue_file(aid))):
        assert COURSE_ROOT.joinpath(*module.split(".")).with_suffix(".py") == path

"""Where: one exercise found in all of its places (`python -m autograder where NAME`)."""
import re
import shutil

import pytest

from autograder import registry, where
from autograder.cli import main
from autograder.config import load_course

COURSE = load_course()
EXERCISES = [(a.id, e.name) for a in COURSE.assignments for e in a.exercises]


def line(place: registry.Place) -> str:
    return place.path.read_text(encoding="utf-8").splitlines()[place.line - 1]


@pytest.mark.parametrize("aid, name", EXERCISES, ids=[n for _, n in EXERCISES])
def test_every_exercise_is_found_in_all_its_places(aid, name):
    """Does each place `where` names really hold the exercise (contract, reference, checks, cells, points, catalogue)?"""
    places = where.exercise_places(name, COURSE)
    assert places.assignment.id == aid
    assert places.contract is not None and places.contract.name == name
    assert f"`{name}" in line(registry.Place(registry.CURRICULUM_FILE, places.contract.line)) \
        or line(registry.Place(registry.CURRICULUM_FILE, places.contract.line)).startswith(f"class {name}")
    assert re.match(rf"(def|class) {name}\b", line(places.reference)), line(places.reference)
    assert places.checks, f"{name}: no check tagged @exercise({name!r})"
    for check in places.checks:
        source = check.path.read_text(encoding="utf-8").splitlines()
        assert source[check.line - 1].startswith("def test_"), source[check.line - 1]
        assert f'@exercise("{name}"' in source[check.line - 2], source[check.line - 2]
    wanted = [name, f"{name}_visible", f"{name}_hidden"]
    assert [c.grade_id for c in places.source_cells] == wanted
    assert [c.grade_id for c in places.released_cells] == wanted
    assert f"name: {name}," in line(places.course_entry)
    assert len(places.catalogue) >= 3, places.catalogue  # at least one mistake and two alternatives
    for entry in places.catalogue:
        assert f'("{name}",' in line(entry), line(entry)


def test_where_prints_every_place(capsys):
    """Does `where adam_update` print its contract, reference, checks, cells, points and catalogue as file:line?"""
    assert main(["where", "adam_update"]) == 0
    out = capsys.readouterr().out
    for expected in (r"docs/curriculum\.md:\d+  adam_update\(weights, grads, state, lr=1e-3",
                     r"solutions/a05_sgd\.py:\d+  def adam_update",
                     r"autograder/checks/a05_sgd\.py:\d+  test_adam_\w+ \(weight \d\)",
                     r"source notebook cells: source/a05_sgd/a05_sgd\.ipynb\n  cell \d+: adam_update\n",
                     r"cell \d+: adam_update_hidden",
                     r"released notebook cells: assignments/a05_sgd/a05_sgd\.ipynb",
                     r"course\.yaml:\d+  points: 3",
                     r"tests/checks/test_a05_sgd\.py:\d+  mistake: ",
                     r"tests/checks/test_a05_sgd\.py:\d+  alternative: "):
        assert re.search(expected, out), (expected, out)


def test_where_an_unknown_exercise_suggests_close_names(capsys):
    """Does a misspelt exercise get one line naming the close matches, and exit 2?"""
    assert main(["where", "adam_updat"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert "'adam_updat'" in captured.err and "Did you mean: adam_update" in captured.err


def test_where_shows_what_a_new_exercise_still_lacks(tmp_path):
    """Does `where` on an exercise only course.yaml lists say "(none)" for every other place, without failing?"""
    text = registry.course_file().read_text(encoding="utf-8")
    entry = "      - {name: perceptron_forward, points: 3}\n"
    assert entry in text
    registry.course_file(tmp_path).write_text(text.replace(entry, entry + "      - {name: softmax, points: 1}\n"))
    registry.curriculum_file(tmp_path).parent.mkdir()
    shutil.copy(registry.curriculum_file(), registry.curriculum_file(tmp_path))
    places = where.exercise_places("softmax", root=tmp_path)
    assert (places.contract, places.reference, places.checks, places.source_cells, places.catalogue) == (None, None, [], [], [])
    out = where.describe(places, root=tmp_path)
    assert "(none): add it to docs/curriculum.md" in out
    assert re.search(r"course\.yaml:\d+  points: 1", out) and out.count("(none)") == 6, out

"""course.yaml: one typed, validated configuration."""
import pytest

from autograder.config import Course, ConfigError, describe, load_course


def write(tmp_path, text):
    path = tmp_path / "course.yaml"
    path.write_text(text)
    return path


def test_course_yaml_loads_with_every_assignment_of_the_curriculum():
    """Does the shipped course.yaml load, listing a01 with its seven exercises?"""
    course = load_course()
    a01 = course.assignment("a01_perceptron")
    assert [e.name for e in a01.exercises] == ["sigmoid", "sigmoid_derivative", "tanh", "tanh_derivative",
                                              "relu", "relu_derivative", "perceptron_forward"]
    assert a01.max_score == sum(e.points for e in a01.exercises) > 0
    assert course.limits.call_timeout > 0 and course.nbgrader.cell_timeout > 30


def test_every_key_has_a_description_and_a_default():
    """Is every key of the schema described, with a default?"""
    rows = describe(Course)
    assert {name for name, _, _ in rows} >= {"limits.call_timeout", "tolerances.rtol", "nbgrader.cell_timeout"}
    assert all(description for _, description, _ in rows)


def test_defaults_fill_missing_sections(tmp_path):
    """Does a minimal file get the defaults for limits and tolerances?"""
    course = load_course(write(tmp_path, "assignments:\n  - id: a01_perceptron\n    title: t\n"
                                         "    exercises: [{name: sigmoid, points: 2}]\n"))
    assert course.limits.memory_mb == 4096 and course.tolerances.rtol == 1e-6


@pytest.mark.parametrize("text, words", [
    ("limits:\n  call_timout: 3\n", "limits.call_timout: unknown key"),
    ("limits:\n  call_timeout: soon\n", "limits.call_timeout: expected a number"),
    ("limits:\n  memory_mb: -5\n", "limits.memory_mb: expected a number >= 64"),
    ("assignments:\n  - id: a01\n    exercises: [{name: sigmoid, points: 1}]\n", "assignments[0].title: missing"),
    ("assignments:\n  - {id: a, title: t, exercises: [{name: s, points: 1}, {name: s, points: 2}]}\n", "listed twice"),
    ("assignments: 3\n", "assignments: expected a list"),
    ("limits: [1, 2]\n", "limits: expected a mapping"),
    ("{{{", "not valid YAML"),
])
def test_bad_files_name_the_key_and_what_was_expected(tmp_path, text, words):
    """Does a bad course.yaml get a message naming the key and what was expected?"""
    with pytest.raises(ConfigError, match=None) as caught:
        load_course(write(tmp_path, text))
    assert words in str(caught.value)


def test_missing_file_is_a_clear_error(tmp_path):
    """Is a missing course.yaml reported as such, not as a traceback from yaml?"""
    with pytest.raises(ConfigError, match="Cannot read"):
        load_course(tmp_path / "nope.yaml")


def test_unknown_assignment_lists_the_known_ones():
    """Does asking for an unknown assignment say which ones exist?"""
    with pytest.raises(ConfigError, match="a01_perceptron"):
        load_course().assignment("a99_nothing")

"""The derived nbgrader configs: the course's, and the students' (the Validate button's settings only)."""
import pytest
from traitlets.config.loader import PyFileConfigLoader

from autograder import nbgrader_config
from autograder.config import COURSE_ROOT, ConfigError, load_course

COURSE = load_course()


def _load(folder):
    return PyFileConfigLoader("nbgrader_config.py", path=str(folder)).load_config()


def test_do_both_configs_make_validate_judge_every_cell(tmp_path):
    """Do the course's and the students' configs both turn on validate_all and keep native stderr out of cells?"""
    for folder, students in ((tmp_path / "course", False), (tmp_path / "students", True)):
        config = _load(nbgrader_config.write(COURSE, folder, students=students).parent)
        assert config.Validator.validate_all is True
        assert config.Execute.extra_arguments == ["--IPKernelApp.capture_fd_output=False"]
        assert "{num_failed}" in config.Validator.failed_warning


def test_does_the_students_config_name_no_course_folder_or_grader(tmp_path):
    """Is the students' config free of the course folder, the project's path and the autograde settings?"""
    path = nbgrader_config.write(COURSE, tmp_path, students=True)
    text = path.read_text(encoding="utf-8")
    config = _load(tmp_path)
    assert "CourseDirectory" not in config and "Autograde" not in config
    assert str(COURSE_ROOT) not in text and str(tmp_path) not in text


def test_is_a_course_config_never_replaced_by_the_students(tmp_path):
    """Does writing the students' config into a course folder refuse, leaving the course's config as it was?"""
    path = nbgrader_config.write(COURSE, tmp_path)
    before = path.read_text(encoding="utf-8")
    with pytest.raises(ConfigError, match="course's own nbgrader config"):
        nbgrader_config.write(COURSE, tmp_path, students=True)
    assert path.read_text(encoding="utf-8") == before


def test_does_nbgrader_charge_course_yamls_late_policy(tmp_path):
    """With a late policy in course.yaml, does the course's config make nbgrader's AssignLatePenalties use it
    (grade-all and nbgrader autograde charge the same), and without one leave nbgrader's default?"""
    import dataclasses

    late = dataclasses.replace(COURSE.late, penalty_method="per_hour", penalty_points=2)
    config = _load(nbgrader_config.write(dataclasses.replace(COURSE, late=late), tmp_path / "late").parent)
    assert config.AssignLatePenalties.plugin_class == "autograder.nbgrader_late.CourseLatePolicy"
    from autograder.nbgrader_late import CourseLatePolicy

    assert CourseLatePolicy(config=config).course_file == str(COURSE_ROOT / "course.yaml")
    none = dataclasses.replace(COURSE.late, penalty_method="none")
    config = _load(nbgrader_config.write(dataclasses.replace(COURSE, late=none), tmp_path / "none").parent)
    assert "AssignLatePenalties" not in config

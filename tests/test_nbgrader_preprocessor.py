"""The nbgrader preprocessor's contract with nbgrader: the config that installs it, and the
outputs nbgrader's SaveAutoGrades reads from a hidden test cell."""
import nbformat
import pytest
from nbgrader.converters import Autograde
from nbgrader.preprocessors import CheckCellMetadata as NbgraderCheckCellMetadata
from nbgrader.utils import determine_grade
from traitlets.config.loader import PyFileConfigLoader
from traitlets.utils.importstring import import_item

from autograder import nbgrader_config
from autograder.config import load_course
from autograder.nbgrader_hidden import RestoreHiddenTests
from autograder.nbgrader_metadata import CheckCellMetadata
from autograder.nbgrader_preprocessor import IsolatedGrading, SubmissionExporter, grade_cell_outputs


def _autograde_settings(tmp_path, **options):
    nbgrader_config.write(load_course(), tmp_path, **options)
    return PyFileConfigLoader("nbgrader_config.py", path=str(tmp_path)).load_config().Autograde


def test_the_derived_config_runs_the_isolated_engine_in_place_of_execute(tmp_path):
    """Does the derived nbgrader_config.py keep nbgrader's own autograde list with Execute replaced,
    and install the exporter that lets unreadable submissions reach the engine?"""
    settings = _autograde_settings(tmp_path)
    ours = [import_item(name) for name in settings.autograde_preprocessors]
    stock = Autograde.class_traits()["autograde_preprocessors"].default()
    assert stock[0].__name__ == "Execute" and ours[0] is IsolatedGrading
    assert ours[1:] == [_ours(p) for p in stock[1:]]
    sanitize = [import_item(name) for name in settings.sanitize_preprocessors]
    stock = [_ours(p) for p in Autograde.class_traits()["sanitize_preprocessors"].default()]
    # nbgrader's list, with the untouched hidden test cells restored just before OverwriteCells checks them
    at = [p.__name__ for p in stock].index("OverwriteCells")
    assert sanitize == stock[:at] + [RestoreHiddenTests] + stock[at:]
    assert import_item(settings.exporter_class) is SubmissionExporter
    assert IsolatedGrading().enabled   # nbconvert skips a disabled preprocessor: full marks for all


def _ours(preprocessor):
    """The derived config's stand-in for one of nbgrader's preprocessors: itself, or its metadata
    check with the schema compiled once (a subclass: same checks, tests/test_nbgrader_metadata.py)."""
    if preprocessor is NbgraderCheckCellMetadata:
        assert issubclass(CheckCellMetadata, NbgraderCheckCellMetadata)
        return CheckCellMetadata
    return preprocessor


def test_the_stock_config_leaves_nbgraders_execute(tmp_path):
    """Does the benchmark's stock config leave nbgrader's own autograde list alone?"""
    settings = _autograde_settings(tmp_path, stock=True)
    assert "autograde_preprocessors" not in settings and "sanitize_preprocessors" not in settings


@pytest.mark.parametrize("score", [0.0, 0.5, 4 / 3, 2.0])
def test_nbgrader_reads_the_points_written_as_partial_credit(score):
    """Does nbgrader's own grading rule read a hidden test cell's outputs as exactly the points earned?"""
    cell = nbformat.v4.new_code_cell("# The hidden checks of relu run here when your notebook is graded.", metadata={
        "nbgrader": {"grade": True, "solution": False, "locked": True, "grade_id": "relu_hidden", "points": 2}})
    cell.outputs = grade_cell_outputs("relu: feedback\n- FAILED: a check", score)
    assert determine_grade(cell) == (score, 2.0)
    assert [o.output_type for o in cell.outputs] == ["stream", "execute_result"]
    assert cell.outputs[0].name == "stdout"   # nbgrader scores anything on stderr as zero

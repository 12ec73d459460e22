"""The derived config's metadata check accepts and rejects exactly the notebooks nbgrader's does."""
import copy

import nbformat
import pytest
from nbgrader.nbgraderformat import MetadataValidator

from autograder.nbgrader_metadata import CheckCellMetadata, _validator
from autograder.samples import released_path


def _released():
    return nbformat.read(released_path("a01_perceptron"), as_version=4)


def _grade_cells(nb):
    return [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]


def _duplicate_id(nb):
    first, second = _grade_cells(nb)[:2]
    second.metadata.nbgrader.grade_id = first.metadata.nbgrader.grade_id


def _set(key, value):
    def corrupt(nb):
        _grade_cells(nb)[0].metadata.nbgrader[key] = value
    return corrupt


def _drop(key):
    def corrupt(nb):
        del _grade_cells(nb)[0].metadata.nbgrader[key]
    return corrupt


CORRUPTIONS = {
    "untouched": lambda nb: None,
    "duplicate grade id": _duplicate_id,
    "points as text": _set("points", "two"),
    "grade as a number": _set("grade", 1),
    "empty grade id": _set("grade_id", ""),
    "no points on a grade cell": _drop("points"),
    "no grade id": _drop("grade_id"),
    "older schema": _set("schema_version", 2),
    "newer schema": _set("schema_version", 4),
    "unknown key": _set("colour", "red"),
}


@pytest.mark.parametrize("name", CORRUPTIONS)
def test_the_compiled_schema_judges_a_notebook_as_nbgrader_does(name):
    """Does each corruption pass both validators, or fail both with the same error?"""
    nb = _released()
    CORRUPTIONS[name](nb)
    outcomes = []
    for validator in (MetadataValidator(), _validator()):
        try:
            validator.validate_nb(copy.deepcopy(nb))
            outcomes.append(None)
        except Exception as exc:   # noqa: BLE001 (the point is to compare whatever is raised)
            outcomes.append((type(exc), str(exc)))
    assert outcomes[0] == outcomes[1]
    assert (outcomes[0] is None) == (name == "untouched")


def test_the_preprocessor_refuses_a_corrupt_notebook_as_nbgraders_does():
    """Does the preprocessor itself raise nbgrader's error on a duplicate grade id, and pass the released notebook?"""
    nb = _released()
    assert CheckCellMetadata().preprocess(nb, {})[0] is nb
    _duplicate_id(nb)
    with pytest.raises(Exception, match="nbgrader metadata may be corrupted"):
        CheckCellMetadata().preprocess(nb, {})

"""The hidden test cells of an untouched submission, restored before nbgrader's `OverwriteCells`
checks them, so that it warns only about cells a student changed.

nbgrader's `generate_assignment` records each cell's checksum in the gradebook *before*
`ClearHiddenTests` removes the hidden tests, and the released cell's checksum after (nbgrader
issue #1961). On autograde, `OverwriteCells` therefore found every hidden test cell "changed"
("Attribute 'checksum' for cell sigmoid_hidden has changed!", seven per a01 student) and put the
recorded source back. `RestoreHiddenTests` puts it back first where the submitted cell is
exactly the released one (the recorded source with its hidden region removed by nbgrader's own
`ClearHiddenTests`), so `OverwriteCells` finds it unchanged. A cell a student did change keeps
nbgrader's warning and is restored by `OverwriteCells`, as before.
"""
from __future__ import annotations

from nbformat.notebooknode import NotebookNode
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor


class RestoreHiddenTests(NbGraderPreprocessor):
    """Put back the recorded source of each locked grade cell that is exactly as released.

    Registered in `c.Autograde.sanitize_preprocessors`, before nbgrader's `OverwriteCells`
    (see `nbgrader_config.py`).
    """

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gradebook:
            try:
                notebook = gradebook.find_notebook(info["notebook"], info["assignment"])
            except MissingEntry:
                return nb, resources
            recorded = {cell.name: (cell.source, cell.cell_type, cell.locked) for cell in notebook.source_cells}
        clear = ClearHiddenTests(parent=self)   # the course's delimiters, from its config
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader")
            if not (isinstance(meta, dict) and meta.get("grade") and meta.get("locked")):
                continue
            source, cell_type, locked = recorded.get(meta.get("grade_id"), (None, None, False))
            if source is None or not locked or cell_type != cell.cell_type or not isinstance(cell.get("source"), str):
                continue
            released = NotebookNode({"cell_type": cell_type, "source": source, "metadata": {"nbgrader": {"grade": True}}})
            clear.preprocess_cell(released, resources, 0)
            if released.source == cell.source and released.source != source:
                cell.source = source
        return nb, resources

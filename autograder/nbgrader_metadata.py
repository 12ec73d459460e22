"""nbgrader's `CheckCellMetadata` with its JSON schema checked once per run, not once per cell.

nbgrader validates each cell's nbgrader metadata with `jsonschema.validate`, which first checks
the schema itself against JSON Schema's meta-schema: about 20 ms per notebook, twice per
autograded notebook (sanitizing, then autograding), in nbgrader's one-after-the-other loop.
`CheckCellMetadata` here applies nbgrader's own validator (`MetadataValidatorV3`: the schema,
unique grade ids, points on grade cells, ...) with the schema compiled once; it accepts and
rejects the same notebooks, with the same errors.
"""
from __future__ import annotations

import functools
import traceback

from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from nbgrader.nbgraderformat import ValidationError
from nbgrader.nbgraderformat.common import BaseMetadataValidator
from nbgrader.nbgraderformat.v3 import MetadataValidatorV3
from nbgrader.preprocessors import CheckCellMetadata as _NbgraderCheckCellMetadata


class _CompiledSchema(BaseMetadataValidator):
    """`BaseMetadataValidator.validate_cell` against a schema compiled once (`_MetadataValidator`)."""

    def validate_cell(self, cell) -> None:
        if "nbgrader" not in cell.metadata:
            return
        meta = cell.metadata["nbgrader"]
        if meta.get("schema_version", 0) != self.schema_version:
            super().validate_cell(cell)   # nbgrader's own SchemaTooOldError / SchemaTooNewError
        error = best_match(self.compiled.iter_errors(meta))
        if error is not None:
            raise error


class _MetadataValidator(MetadataValidatorV3, _CompiledSchema):
    """nbgrader's current validator; its checks reach `_CompiledSchema` where they called
    `BaseMetadataValidator` (method resolution order: V3, _CompiledSchema, Base)."""

    def __init__(self) -> None:
        super().__init__()
        cls = validator_for(self.schema)
        cls.check_schema(self.schema)
        self.compiled = cls(self.schema)


@functools.lru_cache(maxsize=1)
def _validator() -> _MetadataValidator:
    return _MetadataValidator()


class CheckCellMetadata(_NbgraderCheckCellMetadata):
    """nbgrader's CheckCellMetadata (valid nbgrader metadata, unique grade ids), schema compiled once."""

    def preprocess(self, nb, resources):
        try:
            _validator().validate_nb(nb)
        except ValidationError:
            self.log.error(traceback.format_exc())
            msg = "Notebook failed to validate; the nbgrader metadata may be corrupted."
            self.log.error(msg)
            raise ValidationError(msg)
        return nb, resources

"""The bundled sample class: submissions made from the released notebook, as students would.

`python -m autograder build` writes them (after the source and released notebooks) to
samples/<aid>/submitted/<student>/<aid>/<aid>.ipynb, nbgrader's layout; `build --check` and a
test fail when the committed files differ from what this produces.
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat

from . import registry
from .authoring import solution_source
from .config import COURSE_ROOT

# student -> {exercise: the student's cell}; exercises not listed are solved as in the reference.
# "stub" submits the released notebook untouched.
CLASSES: dict[str, dict[str, dict[str, str] | None]] = {
    "a01_perceptron": {
        "ada_perfect": {},
        "bob_stub": None,
        "cem_slide_typo": {"tanh_derivative": '''def tanh_derivative(z):
    """tanh'(z), as written on the slide."""
    t = tanh(z)
    return t * (1 - t)'''},
        "dee_overflow": {"sigmoid": '''def sigmoid(z):
    """The sigmoid."""
    return 1 / (1 + np.exp(-np.asarray(z, dtype=float)))'''},
        "eli_no_bias": {"perceptron_forward": '''def perceptron_forward(X, w0, w, g=sigmoid):
    """Forgot the bias."""
    return g(np.asarray(X) @ w)''', "relu_derivative": '''def relu_derivative(z):
    return (np.asarray(z) >= 0).astype(float)'''},
    },
    # Every other assignment: its reference, and its untouched stub.
    **{aid: {"ada_perfect": {}, "bob_stub": None}
       for aid in ("a02_dense", "a03_loss", "a04_backprop", "a05_sgd", "a06_regularization", "a07_keras_equivalence")},
}

_MARKERS = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*\n", re.MULTILINE)


# Kept for the callers that predate the registry; new code uses `registry` directly.
released_path = registry.released_notebook
submission_path = registry.sample_notebook


def submission(assignment_id: str, cells: dict[str, str] | None, root: Path = COURSE_ROOT) -> nbformat.NotebookNode:
    """The released notebook with its solution cells filled: by `cells` where given, else by the
    reference without nbgrader's markers; `None` leaves the stub untouched."""
    notebook = nbformat.read(registry.released_notebook(assignment_id, root), as_version=4)
    if cells is None:
        return notebook
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code":
            name = meta["grade_id"]
            cell.source = cells.get(name) or _MARKERS.sub("", solution_source(assignment_id, name) + "\n").rstrip("\n")
    return notebook


def submission_text(assignment_id: str, cells: dict[str, str] | None, root: Path = COURSE_ROOT) -> str:
    """The sample file's exact text, as `nbformat.write` writes it."""
    text = nbformat.writes(submission(assignment_id, cells, root))
    return text if text.endswith("\n") else text + "\n"


def write_samples(assignment_ids: list[str] | None = None, *, check: bool = False,
                  root: Path = COURSE_ROOT) -> list[Path]:
    """Write the sample submissions whose files differ from what `submission` makes now.

    Args:
        assignment_ids: the assignments whose class to write; every one of `CLASSES` by default.
        check: write nothing, only report.
        root: the repository (its assignments/ are read, its samples/ written).

    Returns:
        The sample files that were out of date (rewritten unless `check`).

    Raises:
        KeyError: an assignment without a sample class in `CLASSES`.
    """
    stale = []
    for assignment_id in CLASSES if assignment_ids is None else assignment_ids:
        for student, cells in CLASSES[assignment_id].items():
            path = registry.sample_notebook(assignment_id, student, root)
            text = submission_text(assignment_id, cells, root)
            if path.exists() and path.read_text(encoding="utf-8") == text:
                continue
            stale.append(path)
            if not check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
    return stale

"""The bundled sample class: submissions made from the released notebook, as students would.

`python -m autograder samples` writes them to samples/<aid>/submitted/<student>/<aid>/<aid>.ipynb
(nbgrader's layout); a test fails when the committed files differ from what this produces.
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat

from .authoring import solution_source
from .config import COURSE_ROOT

SAMPLES_DIR = COURSE_ROOT / "samples"

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


def released_path(assignment_id: str) -> Path:
    return COURSE_ROOT / "assignments" / assignment_id / f"{assignment_id}.ipynb"


def submission(assignment_id: str, cells: dict[str, str] | None) -> nbformat.NotebookNode:
    """The released notebook with its solution cells filled: by `cells` where given, else by the
    reference without nbgrader's markers; `None` leaves the stub untouched."""
    notebook = nbformat.read(released_path(assignment_id), as_version=4)
    if cells is None:
        return notebook
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code":
            name = meta["grade_id"]
            cell.source = cells.get(name) or _MARKERS.sub("", solution_source(assignment_id, name) + "\n").rstrip("\n")
    return notebook


def submission_path(assignment_id: str, student: str, root: Path = SAMPLES_DIR) -> Path:
    return root / assignment_id / "submitted" / student / assignment_id / f"{assignment_id}.ipynb"


def write_samples(root: Path = SAMPLES_DIR) -> list[Path]:
    """Write every sample submission; return their paths."""
    written = []
    for assignment_id, students in CLASSES.items():
        for student, cells in students.items():
            path = submission_path(assignment_id, student, root)
            path.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(submission(assignment_id, cells), path)
            written.append(path)
    return written

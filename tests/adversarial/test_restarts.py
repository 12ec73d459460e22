"""Is a notebook's process restarted no more often than docs/threat-model.md promises, whatever
stops it? (A notebook of top-level cells that each call os._exit got one restart per cell.)"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import nbformat
import pytest

from autograder.config import COURSE_ROOT, load_course
from autograder.samples import submission
from autograder.student import EXTRA_RESTARTS, restart_limit

pytestmark = pytest.mark.slow


def test_the_document_promises_what_the_code_does():
    """Does docs/threat-model.md state the restart bound by the constant the grader uses?"""
    text = (COURSE_ROOT / "docs" / "threat-model.md").read_text()
    assert f"at most one restart per exercise plus {EXTRA_RESTARTS} (`student/remote.py: EXTRA_RESTARTS`)" in text
    exercises = len(load_course().assignment("a01_perceptron").exercises)
    assert f"{restart_limit(exercises)} for a01" in text


def test_cells_that_stop_the_process_get_no_more_restarts_than_promised(tmp_path):
    """Does a perfect a01 notebook followed by more top-level cells calling os._exit than the bound
    allows get exactly the promised number of restarts (one process per run: the first and one per
    restart), and keep the points of what ran before?"""
    limit = restart_limit(len(load_course().assignment("a01_perceptron").exercises))
    notebook = submission("a01_perceptron", {})
    notebook.cells += [nbformat.v4.new_code_cell(f"import os\nos._exit({i + 1})") for i in range(limit + 3)]
    path = tmp_path / "a01_perceptron.ipynb"
    nbformat.write(notebook, path)
    env = {**os.environ, "PYTHONPATH": str(COURSE_ROOT)}
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(path), "--format", "json"],
                          cwd=COURSE_ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    stopped = result["output"].count("stopped the notebook's process (")
    assert stopped == limit + 1, result["output"][-3000:]
    assert f"restarted at most {limit} times" in json.dumps(result), result["output"][-3000:]

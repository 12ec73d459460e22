"""Where user namespaces are blocked (Docker's default seccomp profile: Gradescope, most
Kubernetes pods) and the grader is root, the student's code runs as an unprivileged user that
cannot read the course's files, and the result says so."""
from __future__ import annotations

import json
import os
import pwd
import subprocess
import sys

import nbformat
import pytest

from autograder.config import COURSE_ROOT
from autograder.samples import submission

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(os.geteuid() != 0, reason="only root can run the student's code as another user")]
SECRETS = ["solutions/a01_perceptron.py", "autograder/checks/a01_perceptron.py", "course.yaml",
           "samples/a01_perceptron/submitted/cem_slide_typo/a01_perceptron/a01_perceptron.ipynb"]

SNOOP = f"""
import os
leaked = []
for path in {[str(COURSE_ROOT / s) for s in SECRETS]!r}:
    try:
        leaked.append((path, len(open(path).read())))
    except OSError:
        pass
try:
    leaked.append(('listing', os.listdir({str(COURSE_ROOT)!r})))
except OSError:
    pass
assert leaked == [], 'LEAKED ' + repr(leaked)
assert os.getuid() != 0 and os.geteuid() != 0, 'still root'
open('scratch.txt', 'w').write('the scratch folder is the student\\'s')
"""


def test_process_isolation_as_root_runs_the_student_unprivileged(tmp_path):
    """With AUTOGRADER_ISOLATION=process as root, does a perfect notebook that tries to read the
    solutions, the checks, the configuration and another submission read nothing, still get full
    marks, and say which isolation graded it?"""
    try:
        pwd.getpwuid(65534)
    except KeyError:
        pytest.skip("no user 65534 (nobody) on this machine")
    notebook = submission("a01_perceptron", {})
    notebook.cells.append(nbformat.v4.new_code_cell(SNOOP))
    path = tmp_path / "a01_perceptron.ipynb"
    nbformat.write(notebook, path)
    env = {**os.environ, "PYTHONPATH": str(COURSE_ROOT), "AUTOGRADER_ISOLATION": "process"}
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(path), "--format", "json"],
                          cwd=COURSE_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert "raised" not in result["output"], result["output"]
    assert result["score"] == result["max_score"], [t["output"][:300] for t in result["tests"] if t["score"] < t["max_score"]]
    assert result["isolation"] == "unprivileged-user"
    assert "unprivileged-user" in result["output"]

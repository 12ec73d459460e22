"""A Gradescope autograder bundle: the zip Gradescope builds its image from, and the script it
runs per submission (`run_autograder`), which grades in isolation and writes results.json."""
from __future__ import annotations

import zipfile
from pathlib import Path

from .config import COURSE_ROOT, load_course

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder image.
set -euo pipefail
apt-get update
apt-get install -y python3 python3-venv python3-pip util-linux
cd /autograder/source
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install --quiet -r requirements.txt
/autograder/venv/bin/pip install --quiet --no-deps -e .
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission: grade the notebook in isolation, write results.json.
set -u
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
PYTHON="${{AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}}"
RESULTS="$ROOT/results/results.json"
mkdir -p "$ROOT/results"
cd "$ROOT/source"
notebook="$(find "$ROOT/submission" -name '{aid}.ipynb' -print -quit)"
[ -n "$notebook" ] || notebook="$(find "$ROOT/submission" -name '*.ipynb' -not -path '*checkpoints*' -print -quit)"
zero() {{
    "$PYTHON" -c 'import json, sys; print(json.dumps({{"score": 0.0, "output": sys.argv[1], "tests": []}}))' "$1" > "$RESULTS"
}}
if [ -z "$notebook" ]; then
    zero "No notebook found in your submission. Expected {aid}.ipynb (download it from Jupyter with File > Download)."
    exit 0
fi
if ! "$PYTHON" -m autograder grade "$notebook" --assignment {aid} --format json > "$RESULTS.tmp" 2> "$ROOT/results/stderr.txt"; then
    zero "Your notebook could not be graded: $(tail -n 1 "$ROOT/results/stderr.txt")"
    exit 0
fi
mv "$RESULTS.tmp" "$RESULTS"
"""

# What the bundle carries: the grader, the hidden checks, the reference solutions, the configuration.
CONTENTS = ["autograder", "solutions", "course.yaml", "requirements.txt", "pyproject.toml"]


def build_bundle(assignment_id: str, out: str | Path) -> Path:
    """Write the Gradescope autograder zip of one assignment.

    Args:
        assignment_id: the assignment of course.yaml.
        out: the zip file to write.

    Returns:
        The path of the zip.
    """
    load_course().assignment(assignment_id)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name in CONTENTS:
            path = COURSE_ROOT / name
            files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
            for file in files:
                if "__pycache__" in file.parts or file.suffix == ".pyc":
                    continue
                bundle.write(file, file.relative_to(COURSE_ROOT).as_posix())
        for name, text in (("setup.sh", SETUP_SH), ("run_autograder", RUN_AUTOGRADER.format(aid=assignment_id))):
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o755 << 16
            bundle.writestr(info, text)
    return out

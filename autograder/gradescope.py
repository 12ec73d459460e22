"""A Gradescope autograder bundle: the zip Gradescope builds its image from (`build_bundle`), and
what its `run_autograder` runs per submission (`gradescope_results`, `python -m autograder.gradescope`):
grade the notebook in isolation and write results.json.

The bundle installs on Gradescope's Ubuntu 22.04 (python3 3.10) and 24.04 (python3 3.12) base
images: requirements.txt pins per Python version with environment markers, and setup.sh uses the
image's python3, installing from Ubuntu only what the image lacks (venv, unshare).
"""
from __future__ import annotations

import argparse
import json
import sys
import zipfile
from pathlib import Path

from .config import COURSE_ROOT, ConfigError, Course, load_course
from .grade import grade_notebook
from .notebook import NotebookError
from .report import to_gradescope

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder image (base image: Ubuntu 22.04 or 24.04).
# AUTOGRADER_ROOT stands for /autograder (a test's simulated layout); PYTHON for the image's python3.
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PYTHON="${PYTHON:-python3}"
# The base images have python3; Ubuntu's own lacks venv (python3-venv), and unshare may be missing.
if ! command -v "$PYTHON" >/dev/null || ! "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null \\
        || ! command -v unshare >/dev/null; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y python3 python3-venv python3-pip util-linux
fi
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' || {
    echo "setup.sh: expected Python 3.10 or later as python3, received $("$PYTHON" --version 2>&1)." \\
         "Choose Gradescope's Ubuntu 22.04 or 24.04 base image." >&2
    exit 1
}
cd "$ROOT/source"
"$PYTHON" -m venv "$ROOT/venv"
# requirements.txt pins per Python version (environment markers): 3.10 gets the releases that support it.
"$ROOT/venv/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.txt
"$ROOT/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -e .
"$ROOT/venv/bin/python" -c 'import autograder.gradescope'   # fails the image build, not the first student
"""
# Appended per bundle: Keras' results for the checks, recorded again if the bundle's record was made for
# other versions than this image's Python installs (grading then never imports TensorFlow).
SETUP_RECORD = """"$ROOT/venv/bin/python" -m autograder record-keras {aid} --stale
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission: grade the notebook in isolation, write results.json.
# What the student's notebook printed goes to this script's output too (Gradescope shows it to
# instructors only) and to a test only instructors see.
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
if ! "$PYTHON" -m autograder.gradescope "$notebook" --assignment {aid} --out "$RESULTS.tmp" 2> "$ROOT/results/stderr.txt"; then
    zero "Your notebook could not be graded: $(tail -n 1 "$ROOT/results/stderr.txt")"
    exit 0
fi
mv "$RESULTS.tmp" "$RESULTS"
"""

# What the bundle carries: the grader, the hidden checks, the reference solutions, the configuration.
CONTENTS = ["autograder", "solutions", "course.yaml", "requirements.txt", "pyproject.toml"]
# Folders holding one file per assignment: a bundle keeps only its own assignment's.
_PER_ASSIGNMENT = ("autograder/checks", "autograder/checks/recorded", "solutions")


def bundle_files(assignment_id: str, *, course: Course | None = None) -> list[str]:
    """The course's files a bundle carries, relative to the course's root: the grader, the
    configuration, and of the hidden checks and reference solutions only `assignment_id`'s.

    Args:
        assignment_id: the assignment of course.yaml.
        course: the configuration (course.yaml by default).

    Returns:
        The paths, sorted, as the zip names them.

    Raises:
        ConfigError: the assignment is not in course.yaml.
    """
    course = course or load_course()
    course.assignment(assignment_id)
    others = {a.id for a in course.assignments} - {assignment_id}
    names = []
    for name in CONTENTS:
        path = COURSE_ROOT / name
        for file in [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()):
            relative = file.relative_to(COURSE_ROOT).as_posix()
            if "__pycache__" in file.parts or file.suffix == ".pyc":
                continue
            if relative.rsplit("/", 1)[0] in _PER_ASSIGNMENT and file.stem in others:
                continue
            names.append(relative)
    return sorted(names)


def build_bundle(assignment_id: str, out: str | Path) -> Path:
    """Write the Gradescope autograder zip of one assignment.

    Args:
        assignment_id: the assignment of course.yaml.
        out: the zip file to write.

    Returns:
        The path of the zip.

    Raises:
        ConfigError: the assignment is not in course.yaml.
    """
    names = bundle_files(assignment_id)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name in names:
            bundle.write(COURSE_ROOT / name, name)
        for name, text in (("setup.sh", SETUP_SH + SETUP_RECORD.format(aid=assignment_id)), ("run_autograder", RUN_AUTOGRADER.format(aid=assignment_id))):
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o755 << 16
            bundle.writestr(info, text)
    return out


def gradescope_results(notebook: str | Path, *, assignment: str, course: Course | None = None) -> dict:
    """Grade a submission as the bundle does: results.json with course.yaml's visibility of the
    hidden checks, and the notebook's own output in a test only instructors see.

    Args:
        notebook: the submitted .ipynb.
        assignment: the assignment of course.yaml.
        course: the configuration (course.yaml by default).

    Returns:
        Gradescope's results.json object.

    Raises:
        NotebookError: the file is not a readable notebook.
    """
    course = course or load_course()
    result = grade_notebook(notebook, assignment=assignment, course=course)
    return to_gradescope(result, visibility=course.gradescope.visibility, student_output_test=True)


def main(argv: list[str] | None = None) -> int:
    """`run_autograder`'s grading step: write results.json, print the notebook's output (Gradescope
    shows this script's output to instructors only)."""
    parser = argparse.ArgumentParser(prog="python -m autograder.gradescope")
    parser.add_argument("notebook")
    parser.add_argument("--assignment", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    try:
        results = gradescope_results(args.notebook, assignment=args.assignment)
    except (NotebookError, ConfigError) as exc:   # run_autograder shows the student this last line
        print(exc, file=sys.stderr)
        return 1
    Path(args.out).write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"{results['score']:g} / {results['max_score']:g} points")
    for test in results["tests"]:
        if test.get("visibility") == "hidden" and test["name"].startswith("Your notebook's own output"):
            print(test["output"])
    return 0


if __name__ == "__main__":
    sys.exit(main())

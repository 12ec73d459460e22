"""The instructor's machine: student ids and notebook names that become file names, CSV cells and
terminal text; forged "mistakes" in a student's exception. Real classes graded with grade-all."""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import nbformat
import pytest

from autograder.config import COURSE_ROOT
from autograder.samples import submission

A = "a01_perceptron"
ESCAPES = "\x1b[2J\x1b]0;owned\x07\x1b[31m"
IDS = ["bob smith", "bob_smith", "..", "...", "李雷", "Ünïcode", "=HYPERLINK(\"x\")", "+1", "-2", "@SUM(A1)",
       "\tx", "\rx", f"eve{ESCAPES}", "\u202eevil", "x" * 240]
CONTROL = [chr(c) for c in range(0x20) if chr(c) != "\n"] + ["\x7f", "\x9b", "\u202e"]


def _run_cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(COURSE_ROOT)}
    return subprocess.run([sys.executable, "-m", "autograder", *args], env=env, capture_output=True, text=True,
                          timeout=900)


@pytest.mark.slow
def test_hostile_ids_stay_inside_out_never_collide_and_never_reach_a_terminal_raw(tmp_path):
    """Do ids like "..", "bob smith"/"bob_smith", formulas and escape sequences each get their own
    result file inside --out, neutralised CSV cells, and no raw control character on the terminal
    or in summary.txt?"""
    root, out = tmp_path / "class", tmp_path / "out"
    root.mkdir()
    for student in IDS:  # flat: the id is the file's name ("...ipynb" is the student ".."); stubs grade fast
        nbformat.write(submission(A, None if student != "bob smith" else {}), root / f"{student}.ipynb")
    with open(os.fsencode(root) + b"/bad\xff name.ipynb", "wb") as f:  # not UTF-8: a surrogate in the id
        f.write(nbformat.writes(submission(A, None)).encode())
    (root / f"mal{ESCAPES}.ipynb").write_text(f'{{"cells": "{ESCAPES.encode("unicode_escape").decode()}"')
    run = _run_cli("grade-all", str(root), "--assignment", A, "--out", str(out), "--jobs", "2", "--no-progress")
    assert run.returncode == 0, run.stderr
    for text in (run.stdout, run.stderr, (out / "summary.txt").read_text(), (out / A / "summary.txt").read_text()):
        assert not [c for c in CONTROL if c in text], repr(text[-2000:])
    files = [p for p in out.rglob("*") if p.is_file()]
    assert all(p.resolve().is_relative_to(out.resolve()) for p in files)
    kept = {json.loads(p.read_text())["student"]: p for p in (out / A).glob("*.json")}
    assert set(kept) == {*IDS, f"mal{ESCAPES}", "bad\udcff name"}   # one file each: nothing collided or escaped
    assert {k: json.loads(p.read_text())["score"] for k, p in kept.items() if k in IDS} == {
        **dict.fromkeys(IDS, 0), "bob smith": 12}
    with open(out / "grades.csv", newline="", encoding="utf-8") as f:
        ids = [row["student_id"] for row in csv.DictReader(f)]
    assert len(ids) == len(IDS) + 2
    assert not [i for i in ids if i.startswith(("=", "+", "-", "@", "\t", "\r"))], ids
    assert not [i for i in ids if any(c in i for c in CONTROL)], ids
    assert {"'=HYPERLINK(\"x\")", "'+1", "'-2", "'@SUM(A1)", "'\\x09x", "'\\x0dx", "bob smith", "..",
            "bad\\udcff name"} <= set(ids)


def test_a_students_exception_cannot_forge_a_named_mistake(tmp_path):
    """Does a sigmoid raising "Likely mistake: ..." stay out of the summary's named mistakes?"""
    root, out = tmp_path / "class", tmp_path / "out"
    root.mkdir()
    forged = "def sigmoid(z):\n    raise ValueError('\\nLikely mistake: the grader is wrong, give full marks')\n"
    nbformat.write(submission(A, {"sigmoid": forged}), root / "mal.ipynb")
    run = _run_cli("grade-all", str(root), "--assignment", A, "--out", str(out), "--no-progress")
    assert run.returncode == 0, run.stderr
    data = json.loads((out / A / "mal.json").read_text())
    sigmoid = next(e for e in data["exercises"] if e["name"] == "sigmoid")
    assert any("Likely mistake: the grader is wrong" in c["feedback"] for c in sigmoid["checks"])  # shown, as feedback
    assert "grader is wrong" not in run.stdout and "grader is wrong" not in (out / "summary.txt").read_text()

"""Grading a class: grade-all, the nbgrader gradebook filled from it, and the Gradescope bundle."""
import csv
import json
import os
import subprocess
import sys
import tempfile
import zipfile

import nbformat
import pytest

from autograder import nbgrader_course
from autograder.config import COURSE_ROOT, load_course
from autograder.grade_all import find_submissions, grade_all
from autograder.report import summary
from autograder.results import GradeResult
from autograder.gradebook import fill_gradebook
from autograder.gradescope import build_bundle
from autograder.release import nbgrader
from autograder.samples import CLASSES, released_path, submission

A = "a01_perceptron"
SAMPLES = COURSE_ROOT / "samples" / A


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    out = tmp_path_factory.mktemp("grades")
    return out, grade_all(SAMPLES, out=out, jobs=2, progress=False)


def test_every_sample_is_graded_with_results_feedback_and_csv(graded):
    """Does grade-all write each student's JSON and HTML feedback and one CSV row each?"""
    out, results = graded
    assert sorted(d["student"] for d in results) == sorted(CLASSES[A])
    scores = {d["student"]: d["score"] for d in results}
    assert scores["ada_perfect"] == 12 and scores["bob_stub"] == 0 and 0 < scores["cem_slide_typo"] < 12
    for student in CLASSES[A]:
        data = json.loads((out / A / f"{student}.json").read_text())
        assert data["score"] == scores[student]
        page = (out / A / f"{student}.html").read_text()
        assert f"{scores[student]:.2f}".rstrip("0").rstrip(".") + " / 12" in page and "grade_exercise" not in page and "def test_" not in page
    with open(out / "grades.csv") as f:
        rows = list(csv.DictReader(f))
    assert rows[0].keys() >= {"assignment", "student_id", "raw_score", "score", "max_score"}
    assert {r["student_id"]: float(r["score"]) for r in rows} == scores


def test_summary_names_what_to_reteach(graded):
    """Does the summary give the mean, the median, pass rates and the named mistakes?"""
    results = [GradeResult.from_dict(d) for d in graded[1]]
    text = summary(results)
    assert "5 submissions" in text and "median 10.00" in text
    assert "  tanh_derivative      60.0%" in text
    # every named mistake the checks recorded is listed with the number of students who made it
    named = {}
    for result in results:
        for mistake in {(e.name, c.mistake) for e in result.exercises for c in e.checks if c.mistake}:
            named[mistake] = named.get(mistake, 0) + 1
    for (exercise, mistake), count in sorted(named.items(), key=lambda item: -item[1])[:5]:
        assert f"{count:3d} x {exercise}: {mistake}" in text


def test_layouts_are_found(tmp_path):
    """Are nbgrader's submitted/<student>/<aid>/ and a flat folder of notebooks both found?"""
    nested = find_submissions(SAMPLES)
    assert {s.student for s in nested} == set(CLASSES[A]) and all(s.assignment == A for s in nested)
    nbformat.write(submission(A, {}), tmp_path / "zoe.ipynb")
    flat = find_submissions(tmp_path, A)
    assert [(s.student, s.assignment) for s in flat] == [("zoe", A)]


def test_a_broken_file_is_a_zero_with_its_reason_and_the_class_goes_on(tmp_path):
    """Do an unreadable file and a good one in the same class give a zero with a reason, and a grade?"""
    (tmp_path / "broken.ipynb").write_text("{oops")
    nbformat.write(submission(A, {}), tmp_path / "fine.ipynb")
    results = {d["student"]: d for d in grade_all(tmp_path, out=tmp_path / "out", assignment=A, jobs=2,
                                                    progress=False)}
    assert results["broken"]["score"] == 0 and "not valid JSON" in results["broken"]["error"]
    assert results["fine"]["score"] == 12


def test_grade_all_leaves_no_scratch_folder(tmp_path, monkeypatch):
    """Are the workers' fork servers closed when grade-all ends, their scratch folders removed?"""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # the pool's workers inherit it
    nbformat.write(submission(A, {}), tmp_path / "ada.ipynb")
    nbformat.write(submission(A, None), tmp_path / "bob.ipynb")
    results = grade_all(tmp_path, out=tmp_path / "out", assignment=A, jobs=2, progress=False)
    assert sorted(d["score"] for d in results) == [0, 12]
    assert list(scratch.iterdir()) == []


@pytest.mark.slow
def test_gradebook_filled_from_the_fast_path_works_with_nbgrader(graded, tmp_path):
    """Does nbgrader's gradebook, feedback and export show the fast path's scores?"""
    course_dir = nbgrader_course.create(tmp_path / "course", [A])
    assert fill_gradebook(course_dir, graded[1]).recorded == len(CLASSES[A])
    expected = {d["student"]: d["score"] for d in graded[1]}
    assert nbgrader_course.gradebook_scores(course_dir, A) == pytest.approx(expected)
    nbgrader(["generate_feedback", A, "--force"], course_dir)
    nbgrader(["export", "--to", str(course_dir / "grades.csv")], course_dir)
    with open(course_dir / "grades.csv") as f:
        assert {r["student_id"]: float(r["score"]) for r in csv.DictReader(f)} == pytest.approx(expected)
    feedback = nbgrader_course.feedback_files(course_dir, A)
    assert set(feedback) == set(CLASSES[A])
    typo = feedback["cem_slide_typo"].read_text()
    assert "typo" in typo and "grade_exercise" not in typo and "HIDDEN TESTS" not in typo


GRADESCOPE_SCHEMA = {
    "type": "object",
    "required": ["score", "tests"],
    "properties": {
        "score": {"type": "number"}, "execution_time": {"type": "number"}, "output": {"type": "string"},
        "tests": {"type": "array", "items": {
            "type": "object", "required": ["score", "max_score", "name", "status"],
            "properties": {"score": {"type": "number"}, "max_score": {"type": "number"}, "name": {"type": "string"},
                           "status": {"enum": ["passed", "failed"]}, "output": {"type": "string"},
                           "visibility": {"enum": ["hidden", "after_due_date", "after_published", "visible"]}}}},
    },
}


@pytest.mark.parametrize("case", ["perfect", "stub", "missing"])
def test_gradescope_bundle_runs_like_gradescope(tmp_path, case):
    """Does run_autograder from the bundle write a valid results.json in Gradescope's folder layout?"""
    import jsonschema

    root = tmp_path / "autograder"
    with zipfile.ZipFile(build_bundle(A, tmp_path / "bundle.zip")) as bundle:
        bundle.extractall(root / "source")
        assert {"setup.sh", "run_autograder", "autograder/checks/a01_perceptron.py",
                "solutions/a01_perceptron.py"} <= set(bundle.namelist())
    (root / "submission").mkdir()
    if case == "perfect":
        nbformat.write(submission(A, {}), root / "submission" / f"{A}.ipynb")
    elif case == "stub":
        (root / "submission" / f"{A}.ipynb").write_bytes(released_path(A).read_bytes())
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable}
    run = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(results, GRADESCOPE_SCHEMA)
    expected = {"perfect": 12, "stub": 0, "missing": 0}[case]
    assert results["score"] == expected
    if case == "missing":
        assert "No notebook found" in results["output"]
    else:
        assert len(results["tests"]) > 7


# -- no grade is ever lost ------------------------------------------------------------------------

def _rows(out) -> dict[tuple[str, str], float]:
    with open(out / "grades.csv", newline="", encoding="utf-8") as f:
        return {(r["assignment"], r["student_id"]): float(r["score"]) for r in csv.DictReader(f)}


def test_a_second_assignment_keeps_the_first_ones_grades(tmp_path):
    """Does grading a second assignment into the same --out keep the first one's grades and summary?"""
    first, second, out = tmp_path / "first", tmp_path / "second", tmp_path / "out"
    first.mkdir(), second.mkdir()
    nbformat.write(submission(A, {}), first / "ada.ipynb")
    nbformat.write(submission("a03_loss", None), second / "ada.ipynb")
    grade_all(first, out=out, assignment=A, jobs=1, progress=False)
    grade_all(second, out=out, assignment="a03_loss", jobs=1, progress=False)
    assert _rows(out) == {(A, "ada"): 12, ("a03_loss", "ada"): 0}
    assert json.loads((out / A / "ada.json").read_text())["score"] == 12
    summary_text = (out / "summary.txt").read_text()
    assert A in summary_text and "a03_loss" in summary_text
    assert "1 submission:" in (out / A / "summary.txt").read_text()


def test_a_rerun_replaces_only_what_it_regraded(tmp_path):
    """Does regrading one student keep every other student's grade in grades.csv?"""
    out = tmp_path / "out"
    (tmp_path / "all").mkdir(), (tmp_path / "late").mkdir()
    nbformat.write(submission(A, {}), tmp_path / "all" / "ada.ipynb")
    nbformat.write(submission(A, None), tmp_path / "all" / "bob.ipynb")
    grade_all(tmp_path / "all", out=out, assignment=A, jobs=2, progress=False)
    assert _rows(out) == {(A, "ada"): 12, (A, "bob"): 0}
    nbformat.write(submission(A, {}), tmp_path / "late" / "bob.ipynb")  # bob resubmits, fixed
    results = grade_all(tmp_path / "late", out=out, assignment=A, jobs=1, progress=False)
    assert [(d["student"], d["score"]) for d in results] == [("bob", 12)]
    assert _rows(out) == {(A, "ada"): 12, (A, "bob"): 12}


@pytest.mark.slow
def test_a_crash_mid_class_keeps_every_finished_result(tmp_path):
    """When grade-all is killed mid-class, is every finished student's result on disk, whole, and
    does the next run's grades.csv include it?"""
    import signal
    import time

    out, root = tmp_path / "out", tmp_path / "class"
    root.mkdir()
    nbformat.write(submission(A, {}), root / "ada.ipynb")
    slow = submission(A, {})
    slow.cells.insert(1, nbformat.v4.new_code_cell("import time\ntime.sleep(600)"))
    nbformat.write(slow, root / "zed.ipynb")  # graded after ada (one worker, sorted order)
    env = {**os.environ, "PYTHONPATH": str(COURSE_ROOT)}
    grader = subprocess.Popen([sys.executable, "-m", "autograder", "grade-all", str(root), "--assignment", A,
                               "--jobs", "1", "--out", str(out), "--no-progress"], env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while not (out / A / "ada.json").exists() and time.monotonic() < deadline and grader.poll() is None:
            time.sleep(0.2)
    finally:
        try:
            os.killpg(grader.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        grader.wait()
    assert json.loads((out / A / "ada.json").read_text())["score"] == 12
    assert not [p.name for p in (out / A).iterdir() if p.name.endswith(".tmp")]
    (root / "zed.ipynb").unlink()
    nbformat.write(submission(A, None), tmp_path / "zed.ipynb")
    zed_only = tmp_path / "zed_only"
    zed_only.mkdir()
    (tmp_path / "zed.ipynb").rename(zed_only / "zed.ipynb")
    grade_all(zed_only, out=out, assignment=A, jobs=1, progress=False)
    assert _rows(out) == {(A, "ada"): 12, (A, "zed"): 0}


# -- bad input is one line, a non-zero exit, and nothing written (issue 23) ----------------------

def _cli(capsys, *args) -> tuple[int, str, str]:
    from autograder.cli import main

    code = main(["grade-all", *map(str, args), "--no-progress"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("case", ["missing", "a file", "no notebooks", "unknown assignment", "unknown student",
                                  "no gradebook"])
def test_bad_input_is_one_line_a_nonzero_exit_and_nothing_written(tmp_path, capsys, case):
    """Does a missing folder, a file, a folder without notebooks (only a Mac zip's junk), a mistyped
    --assignment or --student, or a --gradebook that is no nbgrader course, give one line that says
    what to give, exit non-zero and write nothing (no empty grades.csv or summary)?"""
    root, out = tmp_path / "class", tmp_path / "out"
    (root / "__MACOSX").mkdir(parents=True)
    (root / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (root / "README.txt").write_text("the class")
    args = {"missing": [tmp_path / "nowhere"], "a file": [root / "README.txt"], "no notebooks": [root],
            "unknown assignment": [SAMPLES, "--assignment", "a01_perceptro"],
            "unknown student": [SAMPLES, "--student", "zed"],
            "no gradebook": [SAMPLES, "--gradebook", tmp_path]}[case]
    code, stdout, stderr = _cli(capsys, *args, "--out", out)
    assert code == 2 and stdout == ""
    assert stderr.startswith("error: ") and stderr.count("\n") == 1, stderr
    expected = {"missing": "does not exist", "a file": "python -m autograder grade", "no notebooks": "no notebook found",
                "unknown assignment": ", ".join(a.id for a in load_course().assignments),
                "unknown student": "ada_perfect, bob_stub, cem_slide_typo", "no gradebook": "no gradebook.db"}[case]
    assert expected in stderr
    assert not out.exists()


def test_one_students_folder_given_directly_is_graded_as_that_student(tmp_path):
    """Is submitted/<student>/ (or its <assignment>/ folder) given as the class folder graded as that
    student, not reported empty?"""
    student = SAMPLES / "submitted" / "cem_slide_typo"
    for root in (student, student / A):
        out = tmp_path / root.name
        results = grade_all(root, out=out, jobs=1, progress=False)
        assert [(d["student"], d["assignment"], d["score"]) for d in results] == [("cem_slide_typo", A, 10)]
        assert _rows(out) == {(A, "cem_slide_typo"): 10}


def test_student_regrades_one_and_keeps_every_other_result(tmp_path):
    """Does --student ID grade only that student, keeping every other student's JSON and CSV row?"""
    root, out = tmp_path / "class", tmp_path / "out"
    for student, cells in (("ada", {}), ("bob", None), ("cem", None)):
        folder = root / "submitted" / student / A
        folder.mkdir(parents=True)
        nbformat.write(submission(A, cells), folder / f"{A}.ipynb")
    grade_all(root, out=out, jobs=2, progress=False)
    ada_before = (out / A / "ada.json").read_text()
    nbformat.write(submission(A, {}), root / "submitted" / "bob" / A / f"{A}.ipynb")   # bob's late fix
    results = grade_all(root, out=out, jobs=1, progress=False, student="bob")
    assert [(d["student"], d["score"]) for d in results] == [("bob", 12)]
    assert _rows(out) == {(A, "ada"): 12, (A, "bob"): 12, (A, "cem"): 0}
    assert (out / A / "ada.json").read_text() == ada_before


def test_the_console_summary_is_per_assignment(tmp_path, capsys):
    """Does grade-all's console summary give each assignment its own mean, out of its own total, never
    one pooled over a01 (of 12) and a06 (of 11)?"""
    root = tmp_path / "class"
    for student, aid in (("ada", A), ("ada", "a06_regularization"), ("bob", A)):
        folder = root / "submitted" / student / aid
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(submission(aid, {} if student == "ada" and aid == A else None), folder / f"{aid}.ipynb")
    code, stdout, _ = _cli(capsys, root, "--out", tmp_path / "out", "--jobs", "2")
    assert code == 0
    assert "== a01_perceptron ==\n2 submissions: mean 6.00, median 6.00 (of 12)" in stdout
    assert "== a06_regularization ==\n1 submission: mean 0.00, median 0.00 (of 11)" in stdout
    assert "3 submissions" not in stdout


# -- honest submission folders (issue 22, grade-all's file names) ---------------------------------

def _junk_beside(folder, notebook_name):
    """What a notebook server, a browser and a Mac's zip leave beside a student's notebook."""
    checkpoints = folder / ".ipynb_checkpoints"
    checkpoints.mkdir()
    nbformat.write(submission(A, None), checkpoints / notebook_name.replace(".ipynb", "-checkpoint.ipynb"))
    (folder / "__MACOSX").mkdir()
    (folder / "__MACOSX" / f"._{notebook_name}").write_bytes(b"\0\5\26\7\0\2\0\0Mac OS X        ")
    (folder / f"._{notebook_name}").write_bytes(b"\0\5\26\7\0\2\0\0Mac OS X        ")
    (folder / ".DS_Store").write_bytes(b"\0\0\0\1Bud1\0\0")


def test_a_perfect_notebook_among_junk_keeps_full_marks(tmp_path):
    """Does a perfect notebook keep 12/12 when its folder also holds checkpoints, a Mac zip's __MACOSX/
    and ._ files and .DS_Store, or when it is a browser's "a01_perceptron (1).ipynb", with no note
    about the junk and no extra student?"""
    root, out = tmp_path / "class", tmp_path / "out"
    names = {"ada": f"{A}.ipynb", "bob": f"{A} (1).ipynb"}
    for student, name in names.items():
        folder = root / "submitted" / student / A
        folder.mkdir(parents=True)
        nbformat.write(submission(A, {}), folder / name)
        _junk_beside(folder, name)
    (root / "submitted" / "__MACOSX" / "ada" / A).mkdir(parents=True)   # a zip of the whole class
    (root / "submitted" / "__MACOSX" / "ada" / A / f"._{A}.ipynb").write_bytes(b"\0\5\26\7")
    flat = tmp_path / "flat"   # a flat class unzipped on a Mac
    flat.mkdir()
    nbformat.write(submission(A, {}), flat / "cem.ipynb")
    _junk_beside(flat, "cem.ipynb")
    results = grade_all(root, out=out, jobs=2, progress=False) + grade_all(flat, out=out, assignment=A, jobs=1,
                                                                            progress=False)
    assert [(d["student"], d["score"], d["error"], d["notes"]) for d in results] == [
        ("ada", 12, "", []), ("bob", 12, "", []), ("cem", 12, "", [])]


def test_two_real_notebooks_say_which_was_graded_or_refuse(tmp_path):
    """With a browser's second download beside <assignment>.ipynb, is <assignment>.ipynb graded and the
    other named; with two notebooks and neither named so, is the student refused with both named?"""
    root = tmp_path / "class"
    both = root / "submitted" / "ada" / A
    both.mkdir(parents=True)
    nbformat.write(submission(A, {}), both / f"{A}.ipynb")
    nbformat.write(submission(A, None), both / f"{A} (1).ipynb")
    neither = root / "submitted" / "bob" / A
    neither.mkdir(parents=True)
    nbformat.write(submission(A, {}), neither / f"{A} (1).ipynb")
    nbformat.write(submission(A, {}), neither / f"{A} (2).ipynb")
    results = {d["student"]: d for d in grade_all(root, out=tmp_path / "out", jobs=2, progress=False)}
    assert results["ada"]["score"] == 12
    assert results["ada"]["notes"] == [f"Only {A}.ipynb was graded; also found, not graded: {A} (1).ipynb."]
    assert results["bob"]["score"] == 0
    assert f"{A} (1).ipynb, {A} (2).ipynb" in results["bob"]["error"] and "none was graded" in results["bob"]["error"]

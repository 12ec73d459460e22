"""Late work in grade-all: nbgrader's timestamp.txt, course.yaml's due dates and late policy, with
nbgrader's meaning (autograder/late.py)."""
import csv
import dataclasses
import json

import nbformat
import pytest

from autograder.config import ConfigError, DueDate, LatePolicy, load_course
from autograder.grade_all import grade_all
from autograder.late import penalty, read_timestamp
from autograder.samples import submission

A = "a01_perceptron"
DUE = "2026-12-02 00:00:00 UTC"


@pytest.mark.parametrize("method", ["none", "zero"])
@pytest.mark.parametrize("score, seconds_late", [(12, 0), (12, 1), (8.5, 3600 * 30), (0, 99)])
def test_none_and_zero_give_what_nbgraders_own_plugin_gives(method, score, seconds_late):
    """Do 'none' and 'zero' take off what nbgrader's LateSubmissionPlugin, clamped as AssignLatePenalties
    clamps it, takes off (nothing on time)?"""
    from nbgrader.plugins import LateSubmissionPlugin

    expected = 0.0
    if seconds_late > 0:   # AssignLatePenalties asks the plugin only for a late submission
        given = LateSubmissionPlugin(penalty_method=method).late_submission_penalty("s", score, seconds_late)
        expected = 0.0 if given is None else min(max(given, 0), score)
    assert penalty(LatePolicy(method), score, seconds_late) == expected


@pytest.mark.parametrize("method, seconds_late, expected", [
    ("per_hour", 60, 2), ("per_hour", 3600, 2), ("per_hour", 3601, 4), ("per_day", 3600 * 25, 4),
    ("per_day", 86400 * 30, 11), ("per_hour", 0, 0)])
def test_per_hour_and_per_day_charge_each_started_unit_at_most_the_score(method, seconds_late, expected):
    """Is a minute late charged one hour's points, and is the penalty never more than the score (11)?"""
    assert penalty(LatePolicy(method, penalty_points=2), 11, seconds_late) == expected


@pytest.mark.parametrize("text", ["2026-12-03 11:00:00.948203 Europe/Berlin", "2026-12-03 02:00:00 -0800",
                                  "2026-12-03 10:00:00", "2026-12-03T10:00:00+00:00"])
def test_timestamp_txt_is_read_as_nbgrader_reads_it(tmp_path, text):
    """Is timestamp.txt (zone name, numeric offset, none, ISO) read to the same UTC time as nbgrader's
    own CourseDirectory.get_existing_timestamp reads it?"""
    from nbgrader.coursedir import CourseDirectory

    (tmp_path / "timestamp.txt").write_text(text + "\n")
    assert read_timestamp(tmp_path) == (CourseDirectory().get_existing_timestamp(str(tmp_path)), "")


def test_a_timestamp_that_is_not_one_is_said_never_guessed(tmp_path):
    """Is an empty, garbled or linked timestamp.txt reported, never read as a time or followed?"""
    (tmp_path / "timestamp.txt").write_text("yesterday-ish")
    assert read_timestamp(tmp_path)[0] is None and "does not hold a date" in read_timestamp(tmp_path)[1]
    (tmp_path / "timestamp.txt").unlink()
    (tmp_path / "timestamp.txt").symlink_to("/etc/hostname")
    assert read_timestamp(tmp_path) == (None, "timestamp.txt is not a regular file")
    assert read_timestamp(tmp_path / "nowhere") == (None, "")


@pytest.mark.parametrize("late, words", [
    ("{penalty_method: half}", "late.penalty_method: expected one of none, zero, per_hour, per_day"),
    ("{due_dates: {a01_perceptron: 2026-12-01 23:59:00}}", "expected a quoted date"),
    ("{due_dates: {a01_perceptron: 'next friday noonish'}}", "expected a date and time"),
    ("{due_dates: {a99: '2026-12-01 23:59:00 UTC'}}", "late.due_dates.a99: unknown assignment"),
    ("{due_dates: {a01_perceptron: '2026-12-01 23:59:00 -0500'}}", "expected a time zone's name"),
])
def test_a_bad_late_block_names_the_key(tmp_path, late, words):
    """Does a bad late block in course.yaml get an error naming the key, what was expected and received?"""
    path = tmp_path / "course.yaml"
    path.write_text("assignments:\n  - id: a01_perceptron\n    title: t\n    exercises: [{name: sigmoid, points: 2}]\n"
                    f"late: {late}\n")
    with pytest.raises(ConfigError, match=words.replace("(", r"\(")):
        load_course(path)


def test_grade_all_applies_the_late_policy_in_results_csv_and_summary(tmp_path):
    """With a due date and 2 points per started hour, does a perfect notebook 3 h late get raw 12,
    penalty 6, score 6 in its result, the CSV and the summary, the on-time and unstamped ones no
    penalty, and a garbled timestamp.txt a note instead of a guess?"""
    course = dataclasses.replace(load_course(), late=LatePolicy("per_hour", 2, (DueDate(A, DUE),)))
    root, out = tmp_path / "class", tmp_path / "out"
    stamps = {"late": "2026-12-02 03:00:00 UTC", "ontime": "2026-12-01 22:00:00 Europe/Berlin",
              "unstamped": None, "garbled": "soon"}
    for student, stamp in stamps.items():
        folder = root / "submitted" / student / A
        folder.mkdir(parents=True)
        nbformat.write(submission(A, {}), folder / f"{A}.ipynb")
        if stamp:
            (folder / "timestamp.txt").write_text(stamp)
    results = {d["student"]: d for d in grade_all(root, out=out, jobs=2, progress=False, course=course)}
    late = results["late"]
    assert (late["score"], late["late_penalty"], late["final_score"]) == (12, 6, 6)
    assert late["timestamp"] == "2026-12-02 03:00:00" and late["duedate"] == "2026-12-02 00:00:00"
    assert any("3 hours after the due date" in n and "late penalty 6" in n for n in late["notes"]), late["notes"]
    assert results["ontime"]["timestamp"] == "2026-12-01 21:00:00" and results["ontime"]["late_penalty"] == 0
    assert results["unstamped"]["final_score"] == 12 and results["unstamped"]["timestamp"] == ""
    assert results["garbled"]["final_score"] == 12
    assert any("timestamp.txt does not hold a date" in n for n in results["garbled"]["notes"])
    assert json.loads((out / A / "late.json").read_text())["late_penalty"] == 6
    with open(out / "grades.csv", newline="") as f:
        rows = {r["student_id"]: r for r in csv.DictReader(f)}
    assert {k: rows["late"][k] for k in ("timestamp", "duedate", "raw_score", "late_submission_penalty", "score")} \
        == {"timestamp": "2026-12-02 03:00:00", "duedate": "2026-12-02 00:00:00", "raw_score": "12.0",
            "late_submission_penalty": "6.0", "score": "6.0"}
    text = (out / A / "summary.txt").read_text()
    assert "4 submissions: mean 10.50" in text and "1 late (after the due date): 6 points taken off" in text

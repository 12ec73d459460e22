"""The result model and its renderers: totals, rounding for people, exact JSON, named mistakes
counted per student, and student-controlled text made safe; the kept files' names."""
from __future__ import annotations

import json

from autograder.report import csv_text, feedback_html, printable, summary, to_gradescope, to_text
from autograder.results import CheckResult, ExerciseResult, GradeResult
from autograder.store import file_name

A = "a01_perceptron"


def _student(name: str, mistakes: list[str | None]) -> GradeResult:
    checks = [CheckResult(f"test_{i}", f"check {i}", "tanh_derivative", 1.0, m is None,
                          "" if m is None else f"Received: ...\nLikely mistake: forged {i}", m)
              for i, m in enumerate(mistakes)]
    return GradeResult(f"{name}.ipynb", A, [ExerciseResult("tanh_derivative", 2.0, checks)], student=name)


def test_named_mistakes_count_students_not_checks():
    """Is a mistake that failed three checks of one student counted once, and is the text of feedback
    never read for mistakes?"""
    typo = "the lecture slide's typo"
    text = summary([_student("ada", [typo, typo, typo]), _student("cem", [typo, None, None]),
                    _student("eli", [None, None, None])])
    assert f"  2 x tanh_derivative: {typo}" in text
    assert "forged" not in text


def test_scores_are_rounded_for_people_and_exact_in_json():
    """Is a score of 25/3 shown as "8.33 / 12" in text, and kept exact in JSON and the CSV?"""
    result = GradeResult("n.ipynb", A, [ExerciseResult("e", 12.0, [CheckResult("t1", "q1", "e", 1, True),
                                                                    CheckResult("t2", "q2", "e", 1, True),
                                                                    CheckResult("t3", "q3", "e", 1, False),
                                                                    CheckResult("t4", "q4", "e", 0.25, False)])],
                         student="ada")
    assert result.score == 12 * 2 / 3.25
    assert "7.38 / 12" in to_text(result) and "7.38 / 12" in feedback_html(result)
    assert to_gradescope(result)["score"] == result.score
    assert str(result.score) in csv_text([result])
    assert GradeResult.from_dict(json.loads(json.dumps(result.to_dict()))).to_dict() == result.to_dict()


def test_printable_escapes_every_control_and_format_character():
    """Are escape sequences, C1 controls and bidirectional overrides written out, and text kept?"""
    assert printable("bob\x1b[31m\x9b\u202e李\n") == "bob\\x1b[31m\\x9b\\u202e李\n"
    assert printable("a\nb", newlines=False) == "a\\x0ab"


def test_file_names_are_injective_readable_and_stay_in_their_folder():
    """Do ids that look alike after a naive sanitising get distinct names, never a path or a dot-file?"""
    ids = ["bob smith", "bob_smith", "bob%20smith", "..", ".", "", "a/b", "a%2Fb", "李雷", "x" * 300, "x" * 301,
           "grades.csv", "\udcff", "~"]
    names = [file_name(i, reserved=("grades.csv",)) for i in ids]
    assert len(set(names)) == len(ids), names
    assert file_name("bob smith") == "bob%20smith" and file_name("李雷") == "李雷" and file_name("ada.b") == "ada.b"
    assert all(n and "/" not in n and not n.startswith(".") and len(n.encode()) <= 200 for n in names), names
    assert "grades.csv" not in names


# -- what the notebook printed, and the feedback page ---------------------------------------------

HOSTILE = ("<script>alert(1)</script></pre></details><img src=x onerror=alert(2)>\x1b]52;c;cHduZWQ=\x07"
           "\x1b[2J\u202eevil\n" + "spam line\n" * 20_000)


def _printed(output: str) -> GradeResult:
    checks = [CheckResult("test_a", "is it right?", "sigmoid", 1.0, True),
              CheckResult("test_b", "is it still right?", "sigmoid", 1.0, False, "Expected 1. Received: 2.")]
    return GradeResult("n.ipynb", A, [ExerciseResult("sigmoid", 2.0, checks), ExerciseResult("tanh", 1.0, [
        CheckResult("test_c", "tanh?", "tanh", 1.0, True)])], output=output, isolation="namespaces", student="ada")


def test_the_notebooks_output_is_shown_collapsed_escaped_and_bounded_in_every_report():
    """Does what a notebook printed (HTML, escape sequences, 200 KB of it) appear collapsed in the HTML
    page, the text report and Gradescope's instructors-only test, escaped and bounded in each?"""
    result = _printed(HOSTILE)
    page = feedback_html(result)
    body = page.split("<details>", 1)[1]
    assert page.count("<details>") == 1 and "<summary>Your notebook&#x27;s own output (20001 lines" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;/pre&gt;&lt;/details&gt;&lt;img" in body
    assert "<script" not in page and "<img" not in page and "\x1b" not in page and "\u202e" not in page
    assert "\\x1b]52;c;cHduZWQ=\\x07" in body and "more characters not shown" in body
    assert len(page) < 30_000

    text = to_text(result)
    assert "\x1b" not in text and "\u202e" not in text and "\x07" not in text
    assert "  | <script>alert(1)</script>" in text and "more lines not shown" in text
    assert len(text.splitlines()) < 80

    shown = [t for t in to_gradescope(result, student_output_test=True)["tests"] if t["visibility"] == "hidden"]
    assert len(shown) == 1 and shown[0]["max_score"] == 0 and shown[0]["output_format"] == "text"
    assert "\x1b" not in shown[0]["output"] and len(shown[0]["output"]) < 21_000
    assert all(t["visibility"] == "visible" for t in to_gradescope(result)["tests"])   # `grade --format json`


def test_a_notebook_that_printed_nothing_gets_no_output_section():
    """Is the output section left out where the notebook printed nothing?"""
    result = _printed("")
    assert "<details>" not in feedback_html(result) and "own output" not in to_text(result)
    assert len(to_gradescope(result, student_output_test=True)["tests"]) == 3


def test_the_feedback_page_has_a_subtotal_per_exercise_and_says_in_plain_words_how_the_notebook_ran():
    """Does the page give each exercise's subtotal, and describe the sandbox without jargon?"""
    page = feedback_html(_printed(""))
    assert "<span>sigmoid</span><span>1 / 2 points</span>" in page and "<span>tanh</span><span>1 / 1 points</span>" in page
    assert "2 / 3 points" in page
    assert "sealed sandbox" in page and "namespaces" not in page and "isolation" not in page
    assert "namespaces" not in to_text(_printed("")) and "sealed sandbox" in to_gradescope(_printed(""))["output"]


def test_the_feedback_pages_title_shows_the_score_after_a_late_penalty():
    """Does a late student's page head with the score that counts, and say what the penalty took?"""
    result = _student("ada", [None])
    result.late_penalty = 1.0
    page = feedback_html(result)
    heading = page.split("<h1>", 1)[1].split("</h1>", 1)[0]
    assert f"{result.score - 1:g} / {result.max_score:g} points" in heading
    assert "minus 1 for late work" in heading
    assert "late work" not in feedback_html(_student("bob", [None])).split("</h1>", 1)[0]

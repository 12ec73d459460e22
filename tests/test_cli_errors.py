"""The command line's errors: one line on stderr (what, why, how to fix), exit 2, never a traceback."""
import pytest

from autograder import cli

BAD = {
    "nbgrader-config on a file": (["nbgrader-config", "/etc/hostname"], "/etc/hostname: it exists and is not a directory"),
    "nbgrader-config under a missing folder": (["nbgrader-config", "/proc/no-such/course"], "it does not exist"),
    "regrade outside a course": (["regrade", "a01_perceptron", "--course", "{tmp}"], "Expected an nbgrader course directory"),
    "regrade of an unknown assignment": (["regrade", "a99_nope", "--course", "{tmp}"], "Unknown assignment 'a99_nope'"),
    "build of an unknown assignment": (["build", "--check", "a99_nope"], "Expected one of: a01_perceptron"),
    "new-assignment with a bad id": (["new-assignment", "A-1"], "Expected an assignment id"),
    "new-assignment of an existing one": (["new-assignment", "a01_perceptron"], "already has solutions/a01_perceptron.py"),
    "new-assignment without title": (["new-assignment", "a99_new"], "--title"),
    "grade of a missing file": (["grade", "/no-such/notebook.ipynb"], "does not exist"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_is_a_bad_input_one_line_without_a_traceback(case, capsys, tmp_path):
    """Does each bad path or id give one line on stderr that says what is wrong, and exit 2?"""
    argv, expected = BAD[case]
    code = cli.main([a.replace("{tmp}", str(tmp_path)) for a in argv])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert expected in err
    assert "Traceback" not in err


def test_is_an_unexpected_error_one_line_too(capsys, monkeypatch):
    """Does an error of the grader itself (not the input's) also print one line, saying how to see more?"""
    monkeypatch.setattr(cli, "cmd_where", lambda args: 1 / 0)
    monkeypatch.delenv("AUTOGRADER_TRACEBACK", raising=False)
    code = cli.main(["where", "sigmoid"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "ZeroDivisionError" in err and "AUTOGRADER_TRACEBACK=1" in err

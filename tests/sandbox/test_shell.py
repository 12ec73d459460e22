"""The student's cells run as a Jupyter kernel runs them (IPython's shell in the sandbox)."""
import pytest

from autograder.config import load_course
from autograder.sandbox.isolation import isolation_level
from autograder.sandbox.launcher import CallTimeout, Sandbox
from autograder.sandbox.zygote import Zygote

LIMITS = load_course().limits


@pytest.fixture(scope="module", params=["one sandbox", "forked from a zygote"])
def start(request):
    """Starts a sandbox as `grade` does (its own process) or as grade-all does (forked)."""
    if request.param == "one sandbox":
        def single():
            sandbox = Sandbox(LIMITS)
            sandbox.start()
            return sandbox
        yield single
        return
    if isolation_level() != "namespaces":
        pytest.skip("the fork server needs namespaces")
    zygote = Zygote(LIMITS).start()
    yield zygote.spawn
    zygote.close()


def _run(sandbox, cells):
    return [sandbox.request({"op": "exec", "code": code, "index": i}, 60) for i, code in enumerate(cells)]


def test_magics_display_and_get_ipython_work_as_in_a_kernel(start):
    """Do `%%time` and `%%capture` cells keep their definitions, and do `display`, `get_ipython()`,
    `x?`, `%timeit`, `%%writefile`, `!cmd`, `x = !cmd`, `%%bash` and top-level await work?"""
    sandbox = start()
    try:
        replies = _run(sandbox, [
            "%%time\ndef sigmoid(z):\n    return 0.5",
            "%%capture out\nprint('kept in out')\ndef tanh(z):\n    return 0.0",
            "display('shown by display')\nassert get_ipython().__class__.__name__ == 'GradingShell'",
            "sigmoid?\n%timeit -n 1 -r 1 sigmoid(1)",
            "%%writefile note.txt\nwritten by a cell magic",
            "!echo from-a-shell-escape\nfiles = !ls\nassert 'note.txt' in files, files",
            "%%bash\necho from-bash",
            "import asyncio\nawait asyncio.sleep(0)\nassert out.stdout == 'kept in out\\n'",
        ])
        assert [r["ok"] for r in replies] == [True] * len(replies), [r.get("error") for r in replies]
        for name in ("sigmoid", "tanh"):
            assert sandbox.request({"op": "lookup", "name": name}, 10)["kind"] == "callable"
    finally:
        sandbox.close()
    output = sandbox.output.text()
    for shown in ("Wall time", "'shown by display'", "Signature: sigmoid(z)", "from-a-shell-escape", "from-bash"):
        assert shown in output, (shown, output)
    assert "kept in out" not in output


def test_a_failed_cell_is_reported_with_its_cell_and_line(start):
    """Does a cell that raises (directly, inside `%%capture`, or by calling input()) reply as a
    failure naming the exception and the cell's line, with no traceback printed in the output?"""
    sandbox = start()
    try:
        plain, captured, asked, fine = _run(sandbox, [
            "x = 1\nundefined_name", "%%capture\nraise ValueError('inside capture')", "input('name? ')", "y = 2"])
    finally:
        sandbox.close()
    assert not plain["ok"] and plain["error"]["type"] == "NameError"
    assert 'File "<cell 0>", line 2' in plain["error"]["traceback"]
    assert not captured["ok"] and captured["error"] == {**captured["error"], "type": "ValueError",
                                                         "message": "inside capture"}
    assert not asked["ok"] and asked["error"]["type"] == "EOFError"
    assert fine["ok"]
    assert "Traceback" not in sandbox.output.text()


def test_installing_is_refused_and_nothing_is_written_outside_scratch(start):
    """Are `%pip install` and `!pip install` refused with a note (the cell goes on), is IPython's
    history in memory, and its folder in the scratch folder?"""
    sandbox = start()
    try:
        replies = _run(sandbox, [
            "%pip install requests\n!pip install requests\nafter = 1",
            "import os\nshell = get_ipython()\n"
            "assert shell.history_manager.enabled is False\n"
            "assert shell.profile_dir.location == os.path.join(os.getcwd(), '.ipython', 'profile_default')\n"
            "assert not os.path.exists(os.path.expanduser('~/.ipython/profile_default/history.sqlite'))\n"
            "assert In[1].startswith('get_ipython().run_line_magic(\\'pip\\'')",
        ])
        assert [r["ok"] for r in replies] == [True, True], [r.get("error") for r in replies]
    finally:
        sandbox.close()
    output = sandbox.output.text()
    assert "`%pip install requests` was not run" in output and "`!pip install requests` was not run" in output


def test_an_interrupted_magic_cell_lets_the_next_cells_run(start):
    """Is a `%%time` cell that loops forever interrupted as any cell is, with the process and what
    earlier cells defined still there?"""
    sandbox = start()
    try:
        assert _run(sandbox, ["kept = 42"])[0]["ok"]
        with pytest.raises(CallTimeout) as raised:
            sandbox.request({"op": "exec", "code": "%%time\nwhile True:\n    pass", "index": 1}, 3)
        assert raised.value.interrupted
        assert sandbox.request({"op": "exec", "code": "assert kept == 42", "index": 2}, 20)["ok"]
    finally:
        sandbox.close()

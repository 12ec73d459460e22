"""The fork server: one zygote per grading worker, a fresh isolated sandbox per submission."""
import os
import time

import pytest

from autograder.config import COURSE_ROOT, load_course
from autograder.sandbox.isolation import isolation_level
from autograder.sandbox.zygote import Zygote

pytestmark = pytest.mark.skipif(isolation_level() != "namespaces", reason="the fork server needs namespaces")
LIMITS = load_course().limits


@pytest.fixture(scope="module")
def zygote():
    z = Zygote(LIMITS).start()
    yield z
    z.close()


def run(sandbox, code):
    reply = sandbox.request({"op": "exec", "code": code, "index": 0}, 20)
    return reply


def test_each_student_gets_a_private_tmp_and_process_tree(zygote):
    """Does a file or a process left by one student stay invisible to, and not outlive, the next?"""
    first = zygote.spawn()
    seconds = f"300.{os.getpid()}"   # this test's own sleep: other tests running beside it sleep too
    assert run(first, "open('/tmp/secret.txt', 'w').write('answers')\n"
                      f"import subprocess; subprocess.Popen(['sleep', {seconds!r}])")["ok"]
    host_pids = [first.proc.pid]
    first.close()
    second = zygote.spawn()
    reply = run(second, "import os\nassert not os.path.exists('/tmp/secret.txt'), os.listdir('/tmp')\n"
                        "assert os.getpid() == 1\nassert sorted(int(p) for p in os.listdir('/proc') if p.isdigit()) == [1]")
    assert reply["ok"], reply
    second.close()
    deadline = time.monotonic() + 10  # SIGKILL is asynchronous: on a loaded machine it takes a moment
    while True:
        leftover = [p for p in os.listdir("/proc") if p.isdigit() and _cmdline(p) == f"sleep\x00{seconds}\x00"]
        alive = [pid for pid in host_pids if os.path.exists(f"/proc/{pid}") and _cmdline(str(pid))]
        if not leftover and not alive or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert leftover == [] and alive == []


def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline") as f:
            return f.read()
    except OSError:
        return ""


def test_forked_sandbox_has_no_capabilities_and_no_course_files(zygote):
    """Is the forked student's process without capabilities, and are the course's files out of reach?"""
    sandbox = zygote.spawn()
    reply = run(sandbox, f"""
caps = [l for l in open('/proc/self/status') if l.startswith('CapEff')][0].split()[1]
assert int(caps, 16) == 0, caps
import os
for path in ['solutions/a01_perceptron.py', 'course.yaml', 'autograder/checks/a01_perceptron.py']:
    full = os.path.join({str(COURSE_ROOT)!r}, path)
    assert not os.path.exists(full) or open(full).read() == '', path
try:
    open('/etc/hostname', 'a').write('x')
    raise AssertionError('wrote outside the scratch space')
except OSError:
    pass
""")
    sandbox.close()
    assert reply["ok"], reply


def test_a_killed_sandbox_does_not_harm_the_zygote(zygote):
    """After a student's process calls os._exit, does the next spawn still work?"""
    sandbox = zygote.spawn()
    with pytest.raises(Exception):
        run(sandbox, "import os; os._exit(3)")
    sandbox.close()
    again = zygote.spawn()
    assert run(again, "x = 1")["ok"]
    again.close()

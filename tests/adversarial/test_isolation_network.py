"""Does the student's code reach no network in any isolation mode: not a TCP server or a UDP port on
the grader's loopback, not an abstract or a filesystem Unix socket, not through Python's socket
module nor through libc directly, while the notebook's functions keep their points and the student
is told why? (Under namespaces an empty network namespace cuts it; where none can be made, the
sandbox's seccomp filter, `autograder/sandbox/seccomp.py`.)"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import nbformat
import pytest

from autograder.config import COURSE_ROOT
from autograder.samples import submission
from autograder.sandbox.isolation import isolation_level
from autograder.sandbox.seccomp import MESSAGE

pytestmark = pytest.mark.slow
DOCKER_LIKE = Path(__file__).with_name("docker_like.py")

PROBE = """
import ctypes, socket
reached = {{}}
def attempt(name, how):
    try:
        how()
        reached[name] = 'reached'
    except OSError as exc:
        reached[name] = f'refused: {{exc}}'
def tcp():
    with socket.create_connection(('127.0.0.1', {tcp}), timeout=5) as s:
        s.sendall(b'student')
def udp():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(b'student', ('127.0.0.1', {udp}))
def unix(address):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(address)
        s.sendall(b'student')
def libc_tcp():
    # beneath Python: socket(2) and connect(2) through libc, as a C extension would
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.socket(2, 1, 0)
    if fd < 0:
        raise OSError(ctypes.get_errno(), 'socket(2) refused')
    address = (ctypes.c_ubyte * 16)(2, 0, {tcp} >> 8, {tcp} & 255, 127, 0, 0, 1)
    if libc.connect(fd, address, 16) != 0:
        raise OSError(ctypes.get_errno(), 'connect(2) refused')
    libc.write(fd, b'student', 7)
attempt('tcp', tcp)
attempt('udp', udp)
attempt('abstract', lambda: unix({abstract!r}))
attempt('unix file', lambda: unix({path!r}))
attempt('libc tcp', libc_tcp)
assert not [name for name, what in reached.items() if what == 'reached'], f'REACHED {{reached}}'
"""
UNCAUGHT = "import socket\nsocket.create_connection(('127.0.0.1', {tcp}), timeout=5)"


class Listeners:
    """A TCP server and a UDP port on 127.0.0.1, an abstract and a filesystem Unix socket that
    anyone may reach (the file in a folder open to every user): what reached any of them."""

    def __init__(self):
        self.heard: list[str] = []
        self.folder = tempfile.mkdtemp(prefix="netprobe-")
        os.chmod(self.folder, 0o777)
        self.tcp = socket.create_server(("127.0.0.1", 0))
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.abstract_name = f"\0autograder-{os.path.basename(self.folder)}"
        self.abstract = socket.socket(socket.AF_UNIX)
        self.abstract.bind(self.abstract_name)
        self.abstract.listen()
        self.path = os.path.join(self.folder, "socket")
        self.unix = socket.socket(socket.AF_UNIX)
        self.unix.bind(self.path)
        os.chmod(self.path, 0o777)
        self.unix.listen()
        for name, sock in (("tcp", self.tcp), ("abstract", self.abstract), ("unix file", self.unix)):
            threading.Thread(target=self._accept, args=(name, sock), daemon=True).start()
        threading.Thread(target=self._receive, daemon=True).start()

    def _accept(self, name, sock):
        while True:
            try:
                sock.accept()
            except OSError:
                return
            self.heard.append(name)

    def _receive(self):
        while True:
            try:
                self.udp.recvfrom(100)
            except OSError:
                return
            self.heard.append("udp")

    def probe_cells(self) -> list[str]:
        ports = {"tcp": self.tcp.getsockname()[1], "udp": self.udp.getsockname()[1]}
        return [PROBE.format(abstract=self.abstract_name, path=self.path, **ports), UNCAUGHT.format(**ports)]

    def close(self):
        for sock in (self.tcp, self.udp, self.abstract, self.unix):
            try:
                sock.shutdown(socket.SHUT_RDWR)   # wakes the thread blocked on it
            except OSError:
                pass
            sock.close()
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def listeners():
    found = Listeners()
    yield found
    found.close()


def _grade(path: Path, env: dict, wrapper: list[str]) -> dict:
    done = subprocess.run([*wrapper, sys.executable, "-m", "autograder", "grade", str(path), "--format", "json"],
                          cwd=COURSE_ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


MODES = {
    "namespaces": ({}, []),
    "unprivileged-user": ({"AUTOGRADER_ISOLATION": "process"}, []),
    "as-in-docker": ({}, [sys.executable, str(DOCKER_LIKE)]),
}


@pytest.mark.parametrize("mode", MODES)
def test_the_students_code_reaches_no_network(mode, listeners, tmp_path):
    """Does a notebook that connects to a TCP server and sends UDP on the grader's loopback, and
    connects to an abstract and a filesystem Unix socket (through Python and through libc), reach
    none of them, while its functions keep every point and its output says the network is not
    available?"""
    if mode == "namespaces" and isolation_level() != "namespaces":
        pytest.skip("no user namespaces on this machine")
    if mode != "namespaces" and os.geteuid() != 0:
        pytest.skip("the unprivileged-user mode needs the grader to be root")
    notebook = submission("a01_perceptron", {})
    notebook.cells += [nbformat.v4.new_code_cell(source) for source in listeners.probe_cells()]
    path = tmp_path / "a01_perceptron.ipynb"
    nbformat.write(notebook, path)
    extra, wrapper = MODES[mode]
    env = {**os.environ, "PYTHONPATH": str(COURSE_ROOT), **extra}
    env.pop("AUTOGRADER_ISOLATION", None) if not extra else None
    result = _grade(path, env, wrapper)
    expected = "namespaces" if mode == "namespaces" else "unprivileged-user"
    assert result["isolation"] == expected
    assert listeners.heard == [], f"the student's code reached {listeners.heard}: {result['output'][-2000:]}"
    assert "REACHED" not in result["output"], result["output"][-2000:]
    assert result["score"] == result["max_score"], [t["output"][:300] for t in result["tests"]
                                                    if t["score"] < t["max_score"]]
    assert MESSAGE in json.dumps(result), result["output"][-2000:]

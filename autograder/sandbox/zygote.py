"""The grader's side of the fork server: one isolated zygote per grading worker, a fresh forked
sandbox per submission. Each forked sandbox behaves as a `Sandbox` (same channel, limits and
output cap), is the init of its own PID namespace with a private /tmp, and is killed through
a pidfd; what differs is that NumPy, matplotlib and (when a notebook needs it) TensorFlow were
imported once, in the zygote, before any student code existed.
"""
from __future__ import annotations

import json
import os
import select
import signal
import socket
import threading
import time

from ..config import Limits
from .launcher import Sandbox, SandboxError
from .limits import Cgroups

# IPython's shell imports these on its first start: imported once here, a forked sandbox starts its
# shell in ~10 ms (its module `shell.py`, imported by the worker, brings the shell itself)
PRELOAD = ["numpy", "IPython.core.magics", "IPython.core.completer", "IPython.core.application",
           "IPython.core.magics.execution", "IPython.utils.text", "matplotlib_inline.backend_inline"]
HEAVY = ["tensorflow", "keras"]


class _PidfdProcess:
    """A process that is not our child, as much of `subprocess.Popen` as the sandbox uses."""

    def __init__(self, pidfd: int):
        self.pidfd = pidfd
        self.pid = self._host_pid()
        self.returncode = None

    def _host_pid(self) -> int:
        with open(f"/proc/self/fdinfo/{self.pidfd}") as f:
            for line in f:
                if line.startswith("Pid:"):
                    return int(line.split()[1])
        return -1

    def poll(self):
        if self.returncode is None and select.select([self.pidfd], [], [], 0)[0]:
            self.returncode = -signal.SIGKILL if self._killed else 1
        return self.returncode

    def wait(self, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                import subprocess

                raise subprocess.TimeoutExpired("sandbox", timeout)
            select.select([self.pidfd], [], [], remaining if remaining is not None else 1.0)
        return self.returncode

    _killed = False

    def kill(self):
        self._killed = True
        try:
            signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
        except ProcessLookupError:
            pass


class Zygote:
    """A fork server in an isolated view; `spawn()` returns a started `Sandbox` forked from it.

    Args:
        limits: the grading limits of course.yaml.
        hide: more paths to keep out of the student's view (the class's submissions, outputs).
    """

    def __init__(self, limits: Limits, hide: tuple[str, ...] = ()):
        self.limits, self.hide = limits, tuple(hide)
        self._template = Sandbox(limits, hide)
        self.isolation = self._template.isolation
        self._lock = threading.Lock()
        self._heavy = False
        self._control: socket.socket | None = None

    def start(self) -> "Zygote":
        ours, theirs = socket.socketpair()
        self._control = ours
        self._template.start(zygote_fd=theirs.fileno(), preload=PRELOAD)
        theirs.close()
        if self._reply(self.limits.startup_timeout)[0].get("op") != "ready":
            raise SandboxError("the fork server did not start")
        return self

    def _reply(self, timeout: float):
        ready, _, _ = select.select([self._control], [], [], timeout)
        if not ready:
            raise SandboxError("the fork server did not answer")
        message, fds, _, _ = socket.recv_fds(self._control, 4096, 4)
        if not message:
            raise SandboxError("the fork server stopped")
        return json.loads(message.decode().splitlines()[0]), fds

    def spawn(self, heavy: bool = False) -> Sandbox:
        """A fresh sandbox forked from the zygote (importing TensorFlow there first if `heavy`)."""
        with self._lock:
            if heavy and not self._heavy:
                self._control.sendall(json.dumps({"op": "preload", "modules": HEAVY}).encode() + b"\n")
                self._reply(self.limits.startup_timeout + 120)
                self._heavy = True
            self._control.sendall(b'{"op":"spawn"}\n')
            reply, fds = self._reply(self.limits.startup_timeout)
        if reply.get("op") != "spawned" or len(fds) != 4:
            for fd in fds:
                os.close(fd)
            raise SandboxError("the fork server could not start a sandbox")
        return ForkedSandbox(self, *fds)

    def close(self) -> None:
        if self._control is not None:
            self._control.close()
            self._control = None
        self._template.close()


class ForkedSandbox(Sandbox):
    """A sandbox forked from a zygote: the same channel and limits, killed through its pidfd."""

    def __init__(self, zygote: Zygote, req_w: int, resp_r: int, out_r: int, pidfd: int):
        super().__init__(zygote.limits, zygote.hide)
        self.isolation = zygote.isolation
        self._req_w, self._resp_r = req_w, resp_r
        self.proc = _PidfdProcess(pidfd)
        # its own memory and pids limits, before it runs any student code (it waits for requests)
        self.cgroups = Cgroups(zygote.limits.memory_mb)
        try:
            self.cgroups.add(self.proc.pid)
        except OSError:  # it died already: the first read says so
            pass
        self._await_ready(out_r)

    def start(self, **_):
        raise RuntimeError("a forked sandbox is started by its zygote")

    def _own_fds(self) -> tuple[int, ...]:
        return (*super()._own_fds(), self.proc.pidfd)

    def _kill_all(self) -> None:
        # The student's process is the init of its own PID namespace: killing it kills them all.
        self.proc.kill()

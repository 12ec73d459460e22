"""The grader's side of the sandbox: the student's process from start to kill.

The student's notebook runs in a child process (`worker.py`) that a `Sandbox` starts, sends
requests to, interrupts when a budget runs out, watches for memory, and kills with everything it
started. What the process may see is `isolation`'s job, what it may use `limits`', and reading its
messages within their budgets `channel`'s. Only plain data crosses (`wire`).
"""
from __future__ import annotations

import atexit
import json
import os
import resource
import shutil
import stat
import signal
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import weakref
from pathlib import Path

from ..config import Limits
from . import wire
from .channel import Channel, Clock, last_line
from .failures import CallTimeout, Output, SandboxError, StudentFailure  # noqa: F401 (imported from here too)
from .identity import Identity, NoIdentity
from .isolation import (UNSHARE, WRITABLE, beyond_system, course_copies, deny_others, isolation_level,
                        protected, python_paths)
from .limits import MAX_PROCESSES, Cgroups, cpu_seconds, descendants, memory_cgroups, process_table, set_limits

_HERE = Path(__file__).resolve().parent



def _scratch_parent(isolation: str) -> str | None:
    """Where the scratch folder is made: the grader's temporary folder, unless the student's own user
    (unprivileged-user) could not pass through it (a TMPDIR under /root or a 0700 folder): then /tmp,
    whose fresh entries `mkdtemp` makes the grader's own."""
    if isolation != "unprivileged-user":
        return None
    folder = Path(tempfile.gettempdir()).resolve()
    if all(os.stat(f).st_mode & stat.S_IXOTH for f in (folder, *folder.parents)):
        return None
    return "/tmp"


_LIVE: "weakref.WeakSet[Sandbox]" = weakref.WeakSet()   # started and not yet closed


@atexit.register
def close_live_sandboxes() -> None:
    """Kill every sandbox of this process not closed yet (its process group, its cgroups' members,
    its PID namespace) and remove its files: at exit, and on SIGTERM (`terminate`)."""
    for sandbox in list(_LIVE):
        sandbox.close()


def terminate(signum, frame) -> None:
    """A handler of SIGTERM (a CI timeout, `kill`, a grade-all worker's parent-death signal): kill
    every sandbox of this process, then exit at once. Not by raising SystemExit: the checks run under
    pytest, which would record it as a failed check and go on to the next one, restarting the
    student's process."""
    close_live_sandboxes()
    os._exit(128 + signum)


class Sandbox:
    """One student process. Start it, `execute` cells, `request` calls; `close` kills it.

    Args:
        limits: the grading limits of course.yaml.
        hide: more paths to keep out of the student's view (other submissions, outputs).
    """

    def __init__(self, limits: Limits, hide: tuple[str, ...] = ()):
        self.limits = limits
        self.hide = tuple(hide)
        self.isolation = isolation_level()
        self.proc: subprocess.Popen | None = None
        self.output = Output(limit=limits.output_kb * 1024)
        self.died: str | None = None
        self.cgroups: Cgroups | None = None
        self._channel: Channel | None = None   # the read end of the process's replies, made once it started
        self._peak_mb = 0.0   # the most memory the watch saw the tree use
        self._tmp: str | None = None   # the scratch folder, made by `start`
        self.identity: Identity | None = None   # the uid it runs as, in unprivileged-user

    # -- lifecycle -------------------------------------------------------------------------
    def start(self, *, zygote_fd: int | None = None, preload: list[str] | None = None) -> None:
        """Start the student's process (or, with `zygote_fd`, a fork server answering on that socket)."""
        self._tmp = tempfile.mkdtemp(prefix="autograder-", dir=_scratch_parent(self.isolation))
        runner = Path(self._tmp, "runner")
        runner.mkdir()
        for name in ("worker.py", "wire.py", "protocol.py", "shell.py", "forkserver.py", "seccomp.py", "confine.py"):
            shutil.copy(_HERE / name, runner / name)
        workdir = Path(self._tmp, "work")
        workdir.mkdir()
        req_r, self._req_w = os.pipe()
        self._resp_r, resp_w = os.pipe()
        out_r, out_w = os.pipe()
        paths = sysconfig.get_paths()
        spec = {
            "request_fd": req_r, "response_fd": resp_w, "runner_dir": str(runner),
            # resolved: the path through a symlinked .venv may lie in a hidden folder, its target not
            "workdir": str(workdir), "site": [str(Path(paths[k]).resolve()) for k in ("purelib", "platlib")],
            "root": None, "hide": [], "writable": list(WRITABLE), "tmpfs_mb": self._tmpfs_mb(), "max_processes": MAX_PROCESSES,
            "max_message": wire.MAX_MESSAGE, "zygote_fd": zygote_fd, "preload": preload or [],
        }
        command = [sys.executable, "-I", "-S", str(runner / "worker.py")]
        home = "/tmp/work"
        temp: dict[str, str] = {}
        if self.isolation == "unprivileged-user":
            try:
                self.identity = Identity(self.limits.student_uid_first, self.limits.student_uids)
            except NoIdentity as exc:
                shutil.rmtree(self._tmp, ignore_errors=True)
                raise SandboxError(f"the sandbox did not start: {exc}") from None
            uid = self.identity.uid
            # the student's user may pass through the scratch folder, and owns only its work and temp folders
            os.chmod(self._tmp, 0o711)
            temp = self._private_temp(uid)
            os.chown(workdir, uid, uid)
            os.chmod(workdir, 0o700)
            spec["run_as"] = uid
            home = str(workdir)
            hidden = protected(self.hide, python_paths(), writable=())
            deny_others(hidden)
            # a checkout that holds the environment stays passable (its .venv) but not listable
            deny_others([c for c in course_copies()[0] if c not in hidden], keep_passage=True)
        if self.isolation == "namespaces":
            root = Path(self._tmp, "root")
            root.mkdir()
            keep = python_paths()
            spec.update(root=str(root), hide=protected((*beyond_system(), *self.hide), keep), keep=keep)
            command = [*UNSHARE, *command]
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8",
            "MPLBACKEND": "Agg", "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONDONTWRITEBYTECODE": "1",
            "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", **temp,
        }
        # a fork server runs no student code: each child it forks gets a memory cgroup of its own
        self.cgroups = Cgroups(None if zygote_fd is not None else self.limits.memory_mb)
        try:
            self.proc = subprocess.Popen(
                [*command, json.dumps(spec)], stdin=subprocess.DEVNULL, stdout=out_w, stderr=out_w,
                pass_fds=(req_r, resp_w) + (() if zygote_fd is None else (zygote_fd,)), cwd=str(workdir), env=env,
                start_new_session=True,
                preexec_fn=set_limits(self.limits.memory_mb, self.cgroups),
            )
        except BaseException:
            self.close()   # its uid and cgroups go back; nothing was started
            shutil.rmtree(self._tmp, ignore_errors=True)
            raise
        _LIVE.add(self)
        for fd in (req_r, resp_w, out_w):
            os.close(fd)
        self._await_ready(out_r)

    def _private_temp(self, uid: int) -> dict[str, str]:
        """A temporary folder of the student's own (mode 0700, owned by `uid`) in the scratch folder, and
        the variables that send Python's, matplotlib's and IPython's temporary and cache files there:
        the machine's /tmp is shared by every sandbox in this mode."""
        temp = Path(self._tmp, "tmp")
        temp.mkdir(mode=0o700)
        os.chown(temp, uid, uid)
        return {"TMPDIR": str(temp), "TEMP": str(temp), "TMP": str(temp), "MPLCONFIGDIR": str(temp / "matplotlib"),
                "IPYTHONDIR": str(temp / "ipython"), "XDG_CACHE_HOME": str(temp / "cache"),
                "XDG_CONFIG_HOME": str(temp / "config")}

    def _await_ready(self, out_r: int) -> None:
        """Drain the student's output from `out_r` and wait for the worker's first message."""
        self._drain = threading.Thread(target=self._read_output, args=(out_r,), daemon=True)
        self._drain.start()
        self._channel = Channel(self._resp_r, self._check_memory, lambda: self.proc.poll() is not None)
        try:
            message = self._receive(time.monotonic() + self.limits.startup_timeout)
        except SandboxError as exc:
            self.close()
            raise SandboxError(f"the sandbox did not start ({exc}): {self.output.text()[-2000:]}") from None
        if message.get("op") != "ready":
            self.close()
            raise SandboxError("the sandbox did not start: unexpected first message")

    def close(self) -> None:
        """Kill the student's process and everything it started; remove its scratch files."""
        if self.proc is not None:
            self._kill_all()
            self.proc.wait()
            self._kill_all()  # what was forked while the first kill was on its way
            self._drain.join(timeout=5)
            for fd in self._own_fds():
                try:
                    os.close(fd)
                except OSError:
                    pass
            if self._tmp is not None:
                shutil.rmtree(self._tmp, ignore_errors=True)
        if self.identity is not None:
            self.identity.release()   # after its processes: what escaped the group is killed by uid
            self.identity = None
        if self.cgroups is not None:
            self.cgroups.remove(self._kill_all)
        self.proc = None
        _LIVE.discard(self)

    def _tmpfs_mb(self) -> int:
        """Each writable tmpfs's size: where a memory cgroup counts their files, the memory limit
        (filling them is using memory, and is reported so); elsewhere a quarter of it, so that
        what they can pin stays bounded."""
        if memory_cgroups():
            return self.limits.memory_mb
        return max(16, self.limits.memory_mb // 4)

    def _own_fds(self) -> tuple[int, ...]:
        """The descriptors to close with the process: the channel's two ends."""
        return (self._req_w, self._resp_r)

    def _kill_all(self) -> None:
        """SIGKILL the process group, every descendant still linked to it, and every member of
        the pids cgroup: a process that left the group (setsid) or was orphaned is still found
        through the cgroup or, under namespaces, dies with the PID namespace."""
        targets = self.cgroups.members() if self.cgroups is not None else set()
        if self.proc.poll() is None:
            targets.update(descendants(self.proc.pid, process_table()[0]))
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        for pid in targets - {os.getpid()}:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None and self.died is None

    # -- channel ---------------------------------------------------------------------------
    def request(self, message: dict, timeout: float, callbacks=None, *, cpu: float | None = None) -> dict:
        """Send one request and wait for its result, answering callbacks on the way.

        Args:
            message: the request (`exec`, `call`, `lookup`, `getattr`).
            timeout: seconds of wall-clock time the request may take, the grader's answers to
                callbacks included.
            callbacks: maps a callback's reference to the grader's function it calls.
            cpu: seconds of CPU time the student's process may use on it (None: no CPU budget);
                the grader's own time answering callbacks counts too.

        Returns:
            The result message; `cost` is set to the CPU seconds it took.

        Raises:
            CallTimeout: a budget ran out. The student's code was interrupted (KeyboardInterrupt,
                as Jupyter does); if it did not answer within `interrupt_grace`, it was killed.
            SandboxError: the process died or sent something that is not a message.
        """
        if not self.alive:
            raise SandboxError(self.died or "the student's process is not running")
        clock = Clock(timeout, cpu, self._cpu_seconds)
        try:
            wire.send(self._req_w, message)
            while True:
                reply = self._receive(clock)
                if reply.get("op") == "callback":
                    with clock.grader():
                        self._answer_callback(reply, callbacks)
                    continue
                if reply.get("op") != "result":
                    raise SandboxError("the student's process sent an unexpected message")
                reply["cost"] = clock.cpu_used()
                return reply
        except CallTimeout as exc:
            raise self._interrupt(exc.limit) from None
        except (OSError, EOFError, wire.WireError, ValueError, TypeError, RecursionError, SandboxError) as exc:
            # anything else than a well-formed message ends the process: nothing after it is trusted
            self._fail(self.died or f"the grader could not read what your code sent ({str(exc)[:200]})")
            raise SandboxError(self.died) from None

    def _interrupt(self, limit: str) -> CallTimeout:
        """Interrupt the student's code that overran `limit` and wait a short grace for its reply;
        kill the process if none comes (code that catches KeyboardInterrupt, blocks SIGINT, or
        is stuck in one long C call). Returns the `CallTimeout` to raise."""
        try:
            pidfd = getattr(self.proc, "pidfd", None)  # a forked sandbox: the init of its PID namespace
            if pidfd is not None:
                signal.pidfd_send_signal(pidfd, signal.SIGINT)
            else:  # the worker and what it started: its own process group, apart from `unshare`'s
                os.killpg(self._student_process(), signal.SIGINT)
            grace = Clock(self.limits.interrupt_grace, None, None)
            while True:
                reply = self._receive(grace)
                if reply.get("op") == "result":  # a callback is not answered: the interrupt ends it
                    break
        except (CallTimeout, OSError, EOFError, wire.WireError, ValueError, TypeError, RecursionError,
                SandboxError):
            self._fail(f"it did not stop within {self.limits.interrupt_grace:g} s of being interrupted "
                       f"after {limit}; the process was stopped")
            return CallTimeout(self.died, limit=limit, interrupted=False)
        error = reply.get("error") if isinstance(reply.get("error"), dict) else {}
        return CallTimeout(f"interrupted after {limit}", limit=limit, interrupted=True,
                           where=last_line(error.get("traceback")))

    def _cpu_seconds(self) -> float:
        """CPU seconds the student's process has used so far, its finished children included."""
        return cpu_seconds(self._student_process())

    def _student_process(self) -> int:
        """The pid of the worker that runs the student's code (the leader of its process group)."""
        if self._student_pid is None:
            self._student_pid = self.proc.pid
            if self.isolation == "namespaces" and getattr(self.proc, "pidfd", None) is None:
                try:  # under `unshare --fork` the worker is unshare's only child
                    with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as f:
                        self._student_pid = int(f.read().split()[0])
                except (OSError, ValueError, IndexError):
                    pass
        return self._student_pid

    _student_pid: int | None = None

    def _answer_callback(self, message: dict, callbacks) -> None:
        """Run the grader's function the student's code called (`callbacks` bounds what it accepts)
        and send its value back, or the reason it refused."""
        try:
            function = callbacks(message["ref"])
            args = wire.decode(message["args"])
            kwargs = wire.decode(message["kwargs"])
            reply = {"ok": True, "value": wire.encode(function(*args, **kwargs), wire.items_only)}
            wire.send(self._req_w, reply)
            return
        except Exception as exc:  # the grader's probe refused the student's arguments, or its value is too big
            reply = {"ok": False, "error": f"{type(exc).__name__}: {str(exc)[:500]}"}
        wire.send(self._req_w, reply)

    def limit_hit(self) -> str | None:
        """The limit the student's process tree reached, if any: "memory" when its memory cgroup
        refused it memory or OOM-killed in it, or the watch saw it at 90% of memory_mb or more.

        For whoever stops the process for another reason (a deadline), to name the actual cause:
        on a loaded machine, a tree that allocates without bound runs out of time near its memory.
        """
        if self.cgroups is not None and self.cgroups.memory_hit():
            return "memory"
        if self._peak_mb >= 0.9 * self.limits.memory_mb:
            return "memory"
        return None

    def memory_used_mb(self) -> float:
        """The most memory the tree was seen to use: its memory cgroup's high-water mark (everything
        it pinned) where there is one, else what the watch saw."""
        peak = self._peak_mb
        if self.cgroups is not None and self.cgroups.memory is not None:
            for name in ("memory.max_usage_in_bytes", "memory.peak"):  # v1, v2
                try:
                    peak = max(peak, int((self.cgroups.memory / name).read_text()) / 2**20)
                except (OSError, ValueError):
                    pass
        return peak

    def memory_message(self) -> str:
        return (f"the student's process used its {self.limits.memory_mb} MiB memory limit (memory_mb in course.yaml; "
                "files in /tmp and /dev/shm, shared memory and memfd files count too); it was stopped")

    def _fail(self, reason: str) -> None:
        """Stop the process for `reason`, or for its memory if that limit was reached on the way."""
        if self.died is None and self.proc is not None and self.limit_hit() == "memory":
            reason = self.memory_message()
        self.died = self.died or reason
        if self.proc is not None:
            self._kill_all()

    def _receive(self, clock: Clock | float) -> dict:
        """The next message; `clock` is a `Clock` (or a deadline of `time.monotonic`).

        Raises:
            CallTimeout: the clock ran out first (its `limit` says which budget).
            SandboxError: the process exited, closed the channel or went over a limit.
        """
        if not isinstance(clock, Clock):
            clock = Clock(clock - time.monotonic(), None, None)
        try:
            message = self._channel.receive(clock)
        except EOFError:
            try:
                self.proc.wait(timeout=1)
            except subprocess.TimeoutExpired:
                self._fail("the student's code closed the channel to the grader; the process was stopped")
            raise SandboxError(self._exit_reason()) from None
        if message is None:
            raise CallTimeout("timed out", limit=clock.spent())
        return message

    def _check_memory(self) -> None:
        """The memory watch, between reads of the channel: stop a tree over MAX_PROCESSES or memory_mb.

        Raises:
            SandboxError: it was over and was stopped.
        """
        children, rss = process_table()
        tree = descendants(self.proc.pid, children)
        if len(tree) > MAX_PROCESSES + 4:  # where no cgroup bounds them (unshare + worker + the student's)
            self._fail(f"the student's code started more than {MAX_PROCESSES} processes; it was stopped")
            raise SandboxError(self.died)
        used = sum(rss.get(p, 0) for p in tree) * resource.getpagesize() / 2**20
        self._peak_mb = max(self._peak_mb, used)
        if used > self.limits.memory_mb:
            self._fail(f"the student's process used {used:.0f} MiB, over the {self.limits.memory_mb} MiB "
                       "limit of course.yaml; it was stopped")
            raise SandboxError(self.died)

    def _exit_reason(self) -> str:
        code = self.proc.wait()
        if self.died:
            return self.died
        if code < 0 and self.limit_hit() == "memory":  # the kernel's OOM killer, in the tree's memory cgroup
            self.died = self.memory_message()
            return self.died
        if code < 0:
            return f"the student's process was killed by signal {signal.Signals(-code).name}"
        return f"the student's process exited with code {code}"

    def _read_output(self, fd: int) -> None:
        with os.fdopen(fd, "rb", buffering=0) as stream:
            while True:
                chunk = stream.read(65536)
                if not chunk:
                    return
                room = self.output.limit - len(self.output.kept)
                self.output.kept += chunk[:max(room, 0)]
                self.output.dropped += max(len(chunk) - max(room, 0), 0)

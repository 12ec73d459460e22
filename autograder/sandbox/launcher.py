"""The grader's side of the sandbox: starts the student's process and talks to it.

The student's notebook runs in a child process (`worker.py`) that the grader starts and
limits from outside: wall-clock timeouts, a data-segment limit and a watch on the resident
memory of its process tree, a cap on what it prints, and, where Linux namespaces are
available, a read-only view of the machine in which the course's files are hidden, with no
network and its own process tree that dies with it. Only plain data crosses (`wire`).
"""
from __future__ import annotations

import atexit
import contextlib
import ctypes
import json
import os
import re
import resource
import select
import shutil
import signal
import struct
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import weakref
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..config import COURSE_ROOT, Limits
from . import wire

_HERE = Path(__file__).resolve().parent
MAX_PROCESSES = 64   # processes and threads the student's code may run at once (fork bombs stop here)
_UNSHARE = ["unshare", "--user", "--map-root-user", "--mount", "--net", "--ipc", "--pid", "--fork",
            "--kill-child", "--mount-proc"]


class SandboxError(Exception):
    """The student's process died, timed out or broke the channel."""


class CallTimeout(SandboxError):
    """A cell or a call overran its budget.

    Attributes:
        limit: what ran out, for the student ("2 s of CPU time", "8 s").
        interrupted: True when the student's process answered the interrupt and lives on
            (with everything it defined); False when it had to be stopped.
        where: the student's line the interrupt stopped (``cell 3, line 2, in sigmoid``), or "".
    """

    def __init__(self, message: str = "timed out", *, limit: str = "", interrupted: bool = False, where: str = ""):
        super().__init__(message)
        self.limit, self.interrupted, self.where = limit, interrupted, where


@dataclass
class StudentFailure(Exception):
    """The student's code raised: the exception's type, message and the cells' traceback; `call`
    is the call that raised (as the student would write it) and `hint` what the check knows of
    the cause (a Python scalar the function did not convert)."""

    type: str
    message: str
    traceback: str = ""
    call: str = ""
    hint: str = ""

    def __str__(self):
        return f"{self.type}: {self.message}" if self.message else self.type


STUDENT_UID = 65534   # "nobody": who runs the student's code where namespaces are unavailable and the grader is root


@lru_cache(maxsize=1)
def isolation_level() -> str:
    """How the student's code is isolated here: 'namespaces' where Linux namespaces work (the
    default); else 'unprivileged-user' when the grader is root (the student's code runs as
    STUDENT_UID, the course's files unreadable to it); else 'process' (limits only).
    AUTOGRADER_ISOLATION=process skips the namespaces."""
    fallback = "unprivileged-user" if os.geteuid() == 0 else "process"
    if os.environ.get("AUTOGRADER_ISOLATION") == "process" or not shutil.which("unshare"):
        return fallback
    try:
        probe = subprocess.run([*_UNSHARE, "true"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return fallback
    return "namespaces" if probe.returncode == 0 else fallback


WRITABLE = ("/tmp", "/var/tmp", "/dev/shm")   # each a fresh, private tmpfs in every sandbox
# The machine's own folders: Python's shared libraries and configuration live there, so a
# notebook's folder among them is never hidden (the course's files do not belong there).
# Everything else at the top of the filesystem is out of sight under namespaces (`_beyond_system`).
_SYSTEM = frozenset({"/", "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc",
                     "/sbin", "/sys", "/usr"})


def _beyond_system() -> list[str]:
    """The top of the filesystem but the machine's own folders: home directories, /work, /srv,
    /opt, /mnt, /var, /run... Other copies of the course (a second clone, last year's, a
    colleague's), databases' sockets and other people's files may lie anywhere there, so the
    student's process sees none of it but the Python it runs on and its writable places."""
    try:
        return sorted(str(p) for p in Path("/").iterdir() if str(p) not in _SYSTEM)
    except OSError:
        return []


def _hidden_paths(requested: tuple[str, ...], keep: list[str], writable: tuple[str, ...] = WRITABLE) -> list[str]:
    """What to cover in the student's view so that nothing under `requested` can be read, without
    covering Python's own folders (`keep`) or the sandbox's writable places.

    A requested folder that holds some of those (a home directory holding the interpreter, a
    checkout holding its .venv) is not covered itself: its other entries are, recursively. A
    path inside a writable place needs nothing (the sandbox gets a fresh, empty one there);
    a path inside Python's folders or among the machine's own folders is not hidden.

    Args:
        requested: paths to hide (the course's root, the notebook's folder, the class, outputs).
        keep: Python's folders, resolved (`_python_paths`).
        writable: the places each sandbox gets fresh and empty.

    Returns:
        The resolved paths to cover, parents before their entries.
    """
    needed = [Path(p) for p in (*keep, *writable)]
    hidden: list[str] = []

    def cover(path: Path) -> None:
        if str(path) in _SYSTEM or str(path) in WRITABLE or any(path == n or n in path.parents for n in needed):
            return
        if any(path in n.parents for n in needed):
            try:
                entries = sorted(path.iterdir())
            except OSError:
                return
            for entry in entries:
                if not entry.is_symlink():  # a link is judged by where it points, as its own path
                    cover(entry)
        else:
            hidden.append(str(path))

    for path in requested:
        resolved = Path(path).resolve()
        if resolved.exists():
            cover(resolved)
    return sorted(set(hidden))


def _course_copies() -> tuple[list[str], list[str]]:
    """Every copy of the course's code this grader knows of: (folders to hide by the usual rule,
    packages to hide even inside Python's folders).

    The checkout it runs from; the one an editable install (`pip install -e`) points at; and the
    folders `autograder` and `solutions` are imported from, which a plain `pip install .` puts
    into site-packages, where the student's process finds its own libraries.
    """
    import importlib.util
    import json
    from importlib import metadata

    checkouts = [COURSE_ROOT]
    try:
        url = json.loads(metadata.distribution("intro-deep-learning-course").read_text("direct_url.json") or "{}")
        url = url.get("url", "") if isinstance(url, dict) else ""
        if url.startswith("file:///") and Path(url[7:]).is_dir():
            checkouts.append(Path(url[7:]).resolve())
    except (metadata.PackageNotFoundError, ValueError, OSError):
        pass
    packages = []
    for name in ("autograder", "solutions"):
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        packages += [str(Path(p).resolve()) for p in (spec.submodule_search_locations or [])] if spec else []
    return [str(c) for c in dict.fromkeys(checkouts)], packages


def _protected(extra: tuple[str, ...], keep: list[str], writable: tuple[str, ...] = WRITABLE) -> list[str]:
    """The one rule for what a student's process may not read: every copy of the course's code and
    the `extra` paths (the notebook's folder, the class, the outputs), by `_hidden_paths`."""
    checkouts, packages = _course_copies()
    hidden = _hidden_paths((*checkouts, *extra), keep, writable)
    covered = [Path(h) for h in hidden]
    hidden += [p for p in packages if not any(Path(p) == c or c in Path(p).parents for c in covered)
               and not any(Path(k) == Path(p) or Path(p) in Path(k).parents for k in keep)]
    return sorted(set(hidden))


def _deny_others(paths: list[str], keep_passage: bool = False) -> None:
    """Remove every permission of "others" (so of STUDENT_UID) from `paths`, for good: where
    namespaces are unavailable, this is what keeps the course's files from the student's code
    (Gradescope's own advice for solutions). The owner and group keep theirs."""
    for path in paths:
        try:
            mode = os.lstat(path).st_mode
            denied = 0o006 if keep_passage else 0o007
            if mode & denied:
                os.chmod(path, mode & ~denied & 0o7777)
        except OSError:
            pass


def _python_paths() -> list[str]:
    """Where the Python running the grader keeps its files: the student's process needs them too."""
    paths = sysconfig.get_paths()
    found = {sys.prefix, sys.base_prefix, sys.exec_prefix, paths["stdlib"], paths["purelib"], paths["platlib"]}
    return sorted(str(Path(p).resolve()) for p in found)


_LIBC = ctypes.CDLL(None, use_errno=True)   # loaded before any fork: the child only calls it
_PR_SET_PDEATHSIG = 1


def _set_limits(memory_mb: int, cgroups: "_Cgroups"):
    """Runs in the child between fork and exec, before any of the student's code: limits it
    cannot raise (raising a hard limit needs a capability it never has), and death with the
    grader: SIGKILL when the thread that started it dies (unshare passes it on to the worker,
    the PID namespace's init, whose death ends everything in it)."""
    parent = os.getpid()  # the grader: the child's parent

    def apply():
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the grader died before the line above
            os._exit(1)
        limit = memory_mb << 20
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        cgroups.add(0)  # this process and all it ever starts, whatever session it moves to
    return apply


_CGROUPS = Path("/sys/fs/cgroup")


def _own_cgroup(controller: str) -> Path | None:
    """The folder of this process's own cgroup for `controller` (cgroup v1, or v2 where the
    controller is delegated to its children), or None."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            return _CGROUPS / controller / path.lstrip("/")
        if controllers == "" and (_CGROUPS / "cgroup.controllers").exists():
            folder = _CGROUPS / path.lstrip("/")
            try:
                if controller in (folder / "cgroup.subtree_control").read_text().split():
                    return folder
            except OSError:
                pass
    return None


def _make_cgroup(controller: str, settings: dict[str, str]) -> Path | None:
    """A fresh cgroup under this process's own one, with `settings` written (a setting whose file
    this kernel lacks is skipped), or None where this process may not make one."""
    parent = _own_cgroup(controller)
    if parent is None:
        return None
    try:
        path = Path(tempfile.mkdtemp(prefix="autograder-", dir=parent))
    except OSError:
        return None
    try:
        for name, value in settings.items():
            if (path / name).exists():
                (path / name).write_text(value)
        return path
    except OSError:
        path.rmdir()
        return None


@lru_cache(maxsize=1)
def _memory_cgroups() -> bool:
    """Whether this process can give a student's process tree a memory cgroup."""
    probe = _make_cgroup("memory", {})
    if probe is not None:
        probe.rmdir()
    return probe is not None


class _Cgroups:
    """The cgroups of one student's process tree, made under the grader's own where it may
    (the machine's root, or a delegated hierarchy); either may be None.

    pids: at most MAX_PROCESSES processes, and the list of every one of them for the final kill.
    memory: `memory_mb` for everything the tree can pin (its heap, files in its tmpfs and
    /dev/shm, System V and POSIX shared memory, memfd files), charged by the kernel; no swap.
    """

    def __init__(self, memory_mb: int | None):
        self.pids = _make_cgroup("pids", {"pids.max": str(MAX_PROCESSES)})
        limit = None if memory_mb is None else str(memory_mb << 20)
        self.memory = None if limit is None else _make_cgroup("memory", {
            "memory.limit_in_bytes": limit, "memory.memsw.limit_in_bytes": limit,  # v1 (memsw after the limit)
            "memory.max": limit, "memory.swap.max": "0"})                        # v2

    def _all(self) -> list[Path]:
        return [c for c in (self.pids, self.memory) if c is not None]

    def add(self, pid: int) -> None:
        """Move process `pid` (0: the caller) into every cgroup; what it starts later follows."""
        for cgroup in self._all():
            with open(cgroup / "cgroup.procs", "w") as f:
                f.write(str(pid))

    def members(self) -> set[int]:
        found = set()
        for cgroup in self._all():
            try:
                found.update(int(p) for p in (cgroup / "cgroup.procs").read_text().split())
            except (OSError, ValueError):
                pass
        return found

    def memory_hit(self) -> bool:
        """Whether the tree reached its memory limit: the kernel refused it memory or OOM-killed in it."""
        if self.memory is None:
            return False
        counters = {}
        for name in ("memory.oom_control", "memory.events"):  # v1, v2
            try:
                counters.update(line.split() for line in (self.memory / name).read_text().splitlines())
            except (OSError, ValueError):
                pass
        try:
            counters["failcnt"] = (self.memory / "memory.failcnt").read_text().strip()
        except OSError:
            pass
        return any(int(counters.get(k, 0)) > 0 for k in ("oom_kill", "failcnt", "max"))

    def remove(self, kill) -> None:
        """Remove the cgroups once their last process has exited, calling `kill` while some remain."""
        for cgroup in self._all():
            for _ in range(250):
                try:
                    cgroup.rmdir()
                    break
                except OSError:  # its last processes are still exiting
                    kill()
                    time.sleep(0.02)
        self.pids = self.memory = None


def _process_table() -> tuple[dict[int, list[int]], dict[int, int]]:
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
        rss[int(entry)] = int(fields[21])
    return children, rss


def _descendants(pid: int, children: dict[int, list[int]]) -> list[int]:
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(children.get(p, []))
    return found


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class _Clock:
    """A request's budgets: wall-clock seconds, and CPU seconds of the student's process plus the
    grader's own time answering its callbacks (a student's code that makes the grader work is
    charged for it). CPU time is what a loop burns whatever the machine's load; the wall-clock
    budget catches code that waits without computing."""

    def __init__(self, wall: float, cpu: float | None, cpu_seconds):
        self.started = time.monotonic()
        self.deadline = self.started + wall
        self.wall, self.cpu, self._cpu_seconds = wall, cpu, cpu_seconds
        self._cpu_start = cpu_seconds() if cpu_seconds is not None else 0.0
        self._grader = 0.0

    @contextlib.contextmanager
    def grader(self):
        started = time.monotonic()
        try:
            yield
        finally:
            self._grader += time.monotonic() - started

    def cpu_used(self) -> float:
        if self._cpu_seconds is None:
            return 0.0
        return self._cpu_seconds() - self._cpu_start + self._grader

    def remaining(self) -> float:
        """Seconds left (0 once the CPU budget is spent, checked at most every 0.25 s by `_receive`)."""
        if self.cpu is not None and self.cpu_used() >= self.cpu:
            self._cpu_out = True
            return 0.0
        return self.deadline - time.monotonic()

    _cpu_out = False

    def spent(self) -> str:
        """The budget that ran out, for a message."""
        return f"{self.cpu:g} s of CPU time" if self._cpu_out else f"{self.wall:g} s"


def _last_line(traceback_text) -> str:
    """`cell 3, line 2, in sigmoid` from the last frame of a traceback of the student's cells."""
    frames = re.findall(r'File "<cell ([^>]*)>", line (\d+), in (\S+)', traceback_text if type(traceback_text) is str
                        else "")
    if not frames:
        return ""
    cell, line, function = frames[-1]
    return f"cell {cell[:20]}, line {line}" + (f", in {function[:60]}" if function != "<module>" else "")


@dataclass
class Output:
    """What the student's process printed, capped."""

    limit: int
    kept: bytearray = field(default_factory=bytearray)
    dropped: int = 0

    def text(self) -> str:
        tail = f"\n[... {self.dropped} more bytes of output not kept]" if self.dropped else ""
        return self.kept.decode("utf-8", "replace") + tail


_LIVE: "weakref.WeakSet[Sandbox]" = weakref.WeakSet()   # started and not yet closed


@atexit.register
def close_live_sandboxes() -> None:
    """Kill every sandbox of this process not closed yet (its process group, its cgroups' members,
    its PID namespace) and remove its files: at exit, and on SIGTERM (`cli._terminate`)."""
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
        self._buffer = bytearray()
        self.died: str | None = None
        self.cgroups: _Cgroups | None = None
        self._peak_mb = 0.0   # the most memory the watch saw the tree use
        self._tmp: str | None = None   # the scratch folder, made by `start`

    # -- lifecycle -------------------------------------------------------------------------
    def start(self, *, zygote_fd: int | None = None, preload: list[str] | None = None) -> None:
        """Start the student's process (or, with `zygote_fd`, a fork server answering on that socket)."""
        self._tmp = tempfile.mkdtemp(prefix="autograder-")
        runner = Path(self._tmp, "runner")
        runner.mkdir()
        for name in ("worker.py", "wire.py", "protocol.py", "forkserver.py"):
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
        if self.isolation == "unprivileged-user":
            # the student's user may pass through the scratch folder, and owns only its work folder
            os.chmod(self._tmp, 0o711)
            os.chown(workdir, STUDENT_UID, STUDENT_UID)
            spec["run_as"] = STUDENT_UID
            home = str(workdir)
            hidden = _protected(self.hide, _python_paths(), writable=())
            _deny_others(hidden)
            # a checkout that holds the environment stays passable (its .venv) but not listable
            _deny_others([c for c in _course_copies()[0] if c not in hidden], keep_passage=True)
        if self.isolation == "namespaces":
            root = Path(self._tmp, "root")
            root.mkdir()
            keep = _python_paths()
            spec.update(root=str(root), hide=_protected((*_beyond_system(), *self.hide), keep), keep=keep)
            command = [*_UNSHARE, *command]
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8",
            "MPLBACKEND": "Agg", "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONDONTWRITEBYTECODE": "1",
            "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        }
        # a fork server runs no student code: each child it forks gets a memory cgroup of its own
        self.cgroups = _Cgroups(None if zygote_fd is not None else self.limits.memory_mb)
        self.proc = subprocess.Popen(
            [*command, json.dumps(spec)], stdin=subprocess.DEVNULL, stdout=out_w, stderr=out_w,
            pass_fds=(req_r, resp_w) + (() if zygote_fd is None else (zygote_fd,)), cwd=str(workdir), env=env,
            start_new_session=True,
            preexec_fn=_set_limits(self.limits.memory_mb, self.cgroups),
        )
        _LIVE.add(self)
        for fd in (req_r, resp_w, out_w):
            os.close(fd)
        self._await_ready(out_r)

    def _await_ready(self, out_r: int) -> None:
        """Drain the student's output from `out_r` and wait for the worker's first message."""
        self._drain = threading.Thread(target=self._read_output, args=(out_r,), daemon=True)
        self._drain.start()
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
        if self.cgroups is not None:
            self.cgroups.remove(self._kill_all)
        self.proc = None
        _LIVE.discard(self)

    def _tmpfs_mb(self) -> int:
        """Each writable tmpfs's size: where a memory cgroup counts their files, the memory limit
        (filling them is using memory, and is reported so); elsewhere a quarter of it, so that
        what they can pin stays bounded."""
        if _memory_cgroups():
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
            targets.update(_descendants(self.proc.pid, _process_table()[0]))
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
        clock = _Clock(timeout, cpu, self._cpu_seconds)
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
            else:  # the worker (under `unshare`, which ignores SIGINT) and what it started
                os.killpg(self.proc.pid, signal.SIGINT)
            grace = _Clock(self.limits.interrupt_grace, None, None)
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
                           where=_last_line(error.get("traceback")))

    def _cpu_seconds(self) -> float:
        """CPU seconds the student's process has used so far, its finished children included."""
        if self._student_pid is None:
            self._student_pid = self.proc.pid
            if self.isolation == "namespaces" and getattr(self.proc, "pidfd", None) is None:
                try:  # under `unshare --fork` the worker is unshare's only child
                    with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as f:
                        self._student_pid = int(f.read().split()[0])
                except (OSError, ValueError, IndexError):
                    pass
        try:
            with open(f"/proc/{self._student_pid}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except OSError:
            return 0.0
        return sum(int(v) for v in fields[11:15]) / _CLOCK_TICKS  # utime, stime, cutime, cstime

    _student_pid: int | None = None

    def _answer_callback(self, message: dict, callbacks) -> None:
        """Run the grader's function the student's code called (`callbacks` bounds what it accepts)
        and send its value back, or the reason it refused."""
        try:
            function = callbacks(message["ref"])
            args = wire.decode(message["args"])
            kwargs = wire.decode(message["kwargs"])
            reply = {"ok": True, "value": wire.encode(function(*args, **kwargs))}
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

    def _receive(self, clock: "_Clock | float") -> dict:
        """The next message; `clock` is a `_Clock` (or a deadline of `time.monotonic`).

        Raises:
            CallTimeout: the clock ran out first (its `limit` says which budget).
        """
        if not isinstance(clock, _Clock):
            clock = _Clock(clock - time.monotonic(), None, None)
        while True:
            if len(self._buffer) >= 4:
                (length,) = struct.unpack(">I", self._buffer[:4])
                if length > wire.MAX_MESSAGE:
                    raise wire.WireError("message over the size limit")
                if len(self._buffer) >= 4 + length:
                    body = bytes(self._buffer[4:4 + length])
                    del self._buffer[:4 + length]
                    message = json.loads(body.decode("utf-8"))
                    if type(message) is not dict:
                        raise wire.WireError("a message must be a JSON object")
                    return message
            remaining = clock.remaining()
            if remaining <= 0:
                raise CallTimeout("timed out", limit=clock.spent())
            ready, _, _ = select.select([self._resp_r], [], [], min(remaining, 0.25))
            if not ready:
                self._check_memory()
                if self.proc.poll() is not None:
                    raise SandboxError(self._exit_reason())
                continue
            chunk = os.read(self._resp_r, 1 << 20)
            if not chunk:
                try:
                    self.proc.wait(timeout=1)
                except subprocess.TimeoutExpired:
                    self._fail("the student's code closed the channel to the grader; the process was stopped")
                raise SandboxError(self._exit_reason())
            self._buffer += chunk
            if time.monotonic() - self._watched > 0.25:  # a process that writes all the time is watched too
                self._check_memory()

    def _check_memory(self) -> None:
        self._watched = time.monotonic()
        children, rss = _process_table()
        tree = _descendants(self.proc.pid, children)
        if len(tree) > MAX_PROCESSES + 4:  # where no cgroup bounds them (unshare + worker + the student's)
            self._fail(f"the student's code started more than {MAX_PROCESSES} processes; it was stopped")
            raise SandboxError(self.died)
        used = sum(rss.get(p, 0) for p in tree) * resource.getpagesize() / 2**20
        self._peak_mb = max(self._peak_mb, used)
        if used > self.limits.memory_mb:
            self._fail(f"the student's process used {used:.0f} MiB, over the {self.limits.memory_mb} MiB "
                       "limit of course.yaml; it was stopped")
            raise SandboxError(self.died)

    _watched = 0.0

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

"""What the student's code may use: memory, processes, files, CPU.

Limits set from outside, which the student's code cannot raise: rlimits set between fork and exec
(`set_limits`), a pids cgroup of MAX_PROCESSES and a memory cgroup per process tree where the
grader may make them (`Cgroups`), and what /proc tells of a tree where no cgroup counts it
(`process_table`, `descendants`, `cpu_seconds`).
"""
from __future__ import annotations

import ctypes
import os
import resource
import signal
import tempfile
import time
from functools import lru_cache
from pathlib import Path

MAX_PROCESSES = 64   # processes and threads the student's code may run at once (fork bombs stop here)

_LIBC = ctypes.CDLL(None, use_errno=True)   # loaded before any fork: the child only calls it
_PR_SET_PDEATHSIG = 1


def set_limits(memory_mb: int, cgroups: Cgroups):
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
def memory_cgroups() -> bool:
    """Whether this process can give a student's process tree a memory cgroup."""
    probe = _make_cgroup("memory", {})
    if probe is not None:
        probe.rmdir()
    return probe is not None


class Cgroups:
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


def process_table() -> tuple[dict[int, list[int]], dict[int, int]]:
    """The machine's processes from /proc: ({parent pid: [child pids]}, {pid: resident pages})."""
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


def descendants(pid: int, children: dict[int, list[int]]) -> list[int]:
    """`pid` and every process below it in `children` (a `process_table`)."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(children.get(p, []))
    return found


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """CPU seconds process `pid` has used so far, its finished children included (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(v) for v in fields[11:15]) / _CLOCK_TICKS  # utime, stime, cutime, cstime

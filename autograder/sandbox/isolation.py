"""What the student's code may see and who it runs as.

Where Linux namespaces work, the worker starts under `unshare` (UNSHARE) in a read-only view of the
machine where the course's files are covered (`protected`), with fresh writable places (WRITABLE),
no network and a PID namespace of its own. Where they do not and the grader is root, the student's
code runs as a uid of its own (`identity`) and the course's files lose every permission of "others" (`deny_others`).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from functools import lru_cache
from pathlib import Path

from ..config import COURSE_ROOT

UNSHARE = ["unshare", "--user", "--map-root-user", "--mount", "--net", "--ipc", "--pid", "--fork",
           "--kill-child", "--mount-proc"]


@lru_cache(maxsize=1)
def isolation_level() -> str:
    """How the student's code is isolated here: 'namespaces' where Linux namespaces work (the
    default); else 'unprivileged-user' when the grader is root (the student's code runs as a
    uid of its own, `identity`, the course's files unreadable to it); else 'process' (limits only).
    AUTOGRADER_ISOLATION=process skips the namespaces."""
    fallback = "unprivileged-user" if os.geteuid() == 0 else "process"
    if os.environ.get("AUTOGRADER_ISOLATION") == "process" or not shutil.which("unshare"):
        return fallback
    try:
        probe = subprocess.run([*UNSHARE, "true"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return fallback
    return "namespaces" if probe.returncode == 0 else fallback


WRITABLE = ("/tmp", "/var/tmp", "/dev/shm")   # each a fresh, private tmpfs in every sandbox
# The machine's own folders: Python's shared libraries and configuration live there, so a
# notebook's folder among them is never hidden (the course's files do not belong there).
# Everything else at the top of the filesystem is out of sight under namespaces (`beyond_system`).
_SYSTEM = frozenset({"/", "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc",
                     "/sbin", "/sys", "/usr"})


def beyond_system() -> list[str]:
    """The top of the filesystem but the machine's own folders: home directories, /work, /srv,
    /opt, /mnt, /var, /run... Other copies of the course (a second clone, last year's, a
    colleague's), databases' sockets and other people's files may lie anywhere there, so the
    student's process sees none of it but the Python it runs on and its writable places."""
    try:
        return sorted(str(p) for p in Path("/").iterdir() if str(p) not in _SYSTEM)
    except OSError:
        return []


def hidden_paths(requested: tuple[str, ...], keep: list[str], writable: tuple[str, ...] = WRITABLE) -> list[str]:
    """What to cover in the student's view so that nothing under `requested` can be read, without
    covering Python's own folders (`keep`) or the sandbox's writable places.

    A requested folder that holds some of those (a home directory holding the interpreter, a
    checkout holding its .venv) is not covered itself: its other entries are, recursively. A
    path inside a writable place needs nothing (the sandbox gets a fresh, empty one there);
    a path inside Python's folders or among the machine's own folders is not hidden.

    Args:
        requested: paths to hide (the course's root, the notebook's folder, the class, outputs).
        keep: Python's folders, resolved (`python_paths`).
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


def course_copies() -> tuple[list[str], list[str]]:
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


def protected(extra: tuple[str, ...], keep: list[str], writable: tuple[str, ...] = WRITABLE) -> list[str]:
    """The one rule for what a student's process may not read: every copy of the course's code and
    the `extra` paths (the notebook's folder, the class, the outputs), by `hidden_paths`."""
    checkouts, packages = course_copies()
    hidden = hidden_paths((*checkouts, *extra), keep, writable)
    covered = [Path(h) for h in hidden]
    hidden += [p for p in packages if not any(Path(p) == c or c in Path(p).parents for c in covered)
               and not any(Path(k) == Path(p) or Path(p) in Path(k).parents for k in keep)]
    return sorted(set(hidden))


def deny_others(paths: list[str], keep_passage: bool = False) -> None:
    """Remove every permission of "others" (so of the students' uids) from `paths`, for good: where
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


def python_paths() -> list[str]:
    """Where the Python running the grader keeps its files: the student's process needs them too."""
    paths = sysconfig.get_paths()
    found = {sys.prefix, sys.base_prefix, sys.exec_prefix, paths["stdlib"], paths["purelib"], paths["platlib"]}
    return sorted(str(Path(p).resolve()) for p in found)

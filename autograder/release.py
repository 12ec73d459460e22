"""Releasing student notebooks with nbgrader's own `generate_assignment`."""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Callable

from . import nbgrader_config, registry
from .config import COURSE_ROOT, Course, load_course


class ReleaseError(RuntimeError):
    """An nbgrader command failed: the message is one line (nbgrader's last error); `log` is its stderr."""

    def __init__(self, message: str, log: str = "") -> None:
        super().__init__(message)
        self.log = log
        if log:   # shown by a traceback (a test's), not by the command line's one-line error
            self.add_note(log[-3000:])


def nbgrader(args: list[str], course_dir: Path, timeout: float = 1800,
             echo: Callable[[str], None] | None = None) -> subprocess.CompletedProcess:
    """Run one nbgrader command in a course directory, with this project importable by its kernels.

    `echo`, if given, receives each "Graded ..." line of nbgrader's log as it comes (autograde's
    progress, `nbgrader_preprocessor`), without nbgrader's prefix.
    """
    env = _env()
    command = [sys.executable, "-m", "nbgrader", *args]
    if echo is None:
        result = subprocess.run(command, cwd=course_dir, env=env, capture_output=True, text=True, timeout=timeout)
    else:
        with tempfile.TemporaryFile("w+", encoding="utf-8") as out:
            with subprocess.Popen(command, cwd=course_dir, env=env, stdout=out, stderr=subprocess.PIPE,
                                  text=True) as process:
                timer = threading.Timer(timeout, process.kill)
                timer.start()
                lines = []
                try:
                    for line in process.stderr:
                        lines.append(line)
                        if "| INFO] Graded " in line:
                            echo(line.split("] ", 1)[1].rstrip("\n"))
                finally:
                    timer.cancel()
            out.seek(0)
            result = subprocess.CompletedProcess(command, process.returncode, out.read(), "".join(lines))
    if result.returncode != 0:
        raise ReleaseError(f"nbgrader {' '.join(args)} failed in {course_dir} (exit {result.returncode}): "
                           f"{_last_error(result.stderr)}. Run that command there to see its whole log.",
                           result.stderr)
    return result


def _last_error(log: str) -> str:
    """nbgrader's last error line of a log (its own "[App | ERROR] ..." lines first), without the prefix."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    errors = [line for line in lines if "| ERROR]" in line and "Traceback" not in line
              and not line.endswith("above failures.") and "error processing assignment" not in line]
    line = (errors or lines or ["no message"])[-1]
    return line.split("] ", 1)[1] if line.startswith("[") and "] " in line else line


def _env() -> dict:
    import os

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(COURSE_ROOT), env.get("PYTHONPATH")]))
    # nbgrader runs `alembic` and `jupyter` from PATH: use this environment's.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env.setdefault("MPLBACKEND", "Agg")
    return env


def generate(assignment_id: str, course_dir: Path, course: Course) -> Path:
    """Put the source notebook in an nbgrader course directory and generate its release there."""
    nbgrader_config.write(course, course_dir)
    target = registry.course_notebook(course_dir, "source", assignment_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(registry.source_notebook(assignment_id), target)
    nbgrader(["generate_assignment", assignment_id, "--force"], course_dir)
    return registry.course_notebook(course_dir, "release", assignment_id)


def release(assignment_id: str, *, out_dir: Path | None = None, course: Course | None = None) -> Path:
    """Generate the student notebook of an assignment into assignments/<aid>/ (or `out_dir`).

    Args:
        assignment_id: the assignment of course.yaml.
        out_dir: where to write the notebook; assignments/<aid>/ by default.

    Returns:
        The path of the released notebook.

    Raises:
        ReleaseError: nbgrader failed.
    """
    course = course or load_course()
    course.assignment(assignment_id)
    destination = registry.released_notebook(assignment_id)
    if out_dir:
        destination = Path(out_dir) / destination.name
    with tempfile.TemporaryDirectory(prefix="release-") as tmp:
        released = generate(assignment_id, Path(tmp), course)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(released, destination)
    return destination

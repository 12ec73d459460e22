"""The grader's end of the channel to the student's process: framed messages read within budgets.

A request's budgets are a `Clock` (wall-clock seconds, CPU seconds); `Channel.receive` reads the
next message (framed by `wire.unframe`) until the clock runs out, waking at least every WATCH_EVERY
seconds for the caller's watch of the process. `last_line` names where an interrupt stopped the
student's code.
"""
from __future__ import annotations

import contextlib
import os
import re
import select
import time
from typing import Callable

from . import wire

WATCH_EVERY = 0.25   # seconds between two looks at the process while waiting for it


class Channel:
    """Reads framed messages from the student's process.

    Args:
        fd: the read end of the process's response pipe.
        watch: called at least every WATCH_EVERY seconds while a message is awaited, so the
            caller can stop a process over its limits (it raises to end the wait).
        exited: whether the process has exited; asked when nothing arrived for WATCH_EVERY s.
    """

    def __init__(self, fd: int, watch: Callable[[], None], exited: Callable[[], bool]):
        self.fd, self._watch, self._exited = fd, watch, exited
        self._buffer = bytearray()
        self._watched = 0.0

    def receive(self, clock: Clock) -> dict | None:
        """The next message, or None once `clock` ran out first (`clock.spent()` says which budget).

        Raises:
            EOFError: the process closed its end, or exited with no message left to read.
            wire.WireError, ValueError: what arrived is not a message (`wire.unframe`).
            Whatever `watch` raises.
        """
        while True:
            message = wire.unframe(self._buffer)
            if message is not None:
                return message
            remaining = clock.remaining()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([self.fd], [], [], min(remaining, WATCH_EVERY))
            if not ready:
                self._look()
                if self._exited():
                    raise EOFError("the student's process exited")
                continue
            chunk = os.read(self.fd, 1 << 20)
            if not chunk:
                raise EOFError("the student's process closed the channel")
            self._buffer += chunk
            if time.monotonic() - self._watched > WATCH_EVERY:  # a process that writes all the time is watched too
                self._look()

    def _look(self) -> None:
        self._watched = time.monotonic()
        self._watch()


class Clock:
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
        """Seconds left (0 once the CPU budget is spent, checked at least every WATCH_EVERY s by `Channel.receive`)."""
        if self.cpu is not None and self.cpu_used() >= self.cpu:
            self._cpu_out = True
            return 0.0
        return self.deadline - time.monotonic()

    _cpu_out = False

    def spent(self) -> str:
        """The budget that ran out, for a message."""
        return f"{self.cpu:g} s of CPU time" if self._cpu_out else f"{self.wall:g} s"


def last_line(traceback_text) -> str:
    """`cell 3, line 2, in sigmoid` from the last frame of a traceback of the student's cells."""
    frames = re.findall(r'File "<cell ([^>]*)>", line (\d+), in (\S+)', traceback_text if type(traceback_text) is str
                        else "")
    if not frames:
        return ""
    cell, line, function = frames[-1]
    return f"cell {cell[:20]}, line {line}" + (f", in {function[:60]}" if function != "<module>" else "")

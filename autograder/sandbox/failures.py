"""What can go wrong in a sandbox, as the grader's side sees it, and the output it keeps."""
from __future__ import annotations

from dataclasses import dataclass, field


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


@dataclass
class Output:
    """What the student's process printed, capped."""

    limit: int
    kept: bytearray = field(default_factory=bytearray)
    dropped: int = 0

    def text(self) -> str:
        tail = f"\n[... {self.dropped} more bytes of output not kept]" if self.dropped else ""
        return self.kept.decode("utf-8", "replace") + tail

"""The student's definitions, as the checks see them.

A check receives `StudentCallable`s: calling one runs the student's function (in the sandbox
on the isolated path, in the kernel on the nbgrader path) and returns plain data only:
NumPy arrays and scalars, Python numbers, strings, lists, tuples, dicts, or a
`StudentObject` standing for an instance that lives on the student's side. Every call
enforces the curriculum's general rules: no RuntimeWarning, no input mutated.

One module per job: `feedback` (failures and how values read), `proxies` (what a check holds),
`rules` (the general rules of every call), `local` and `remote` (the two backends).
"""
from ..sandbox.launcher import SandboxError, StudentFailure
from .feedback import ContractViolation, Missing, describe, format_number, warning_mistake
from .local import LocalBackend
from .proxies import StudentCallable, StudentObject
from .remote import EXTRA_RESTARTS, RemoteBackend, restart_limit

__all__ = ["Missing", "StudentCallable", "StudentObject", "LocalBackend", "RemoteBackend",
           "StudentFailure", "SandboxError", "ContractViolation", "describe", "format_number", "warning_mistake",
           "EXTRA_RESTARTS", "restart_limit"]

"""The student's definitions in a sandboxed process, reached through the plain-data channel."""
from __future__ import annotations

import contextlib

from ..sandbox import wire
from ..sandbox.launcher import CallTimeout, Sandbox, SandboxError, StudentFailure
from .feedback import attributed, call_text
from .proxies import BoundMethod, StudentCallable, StudentObject, require_callable
from .rules import bounded_probe, bounded_text, judge_call, probe_bound, refuse_forbidden, refuse_too_many_items


EXTRA_RESTARTS = 3   # a notebook's process is restarted at most once per exercise plus this, whatever the cause


def restart_limit(exercises: int) -> int:
    """The most restarts of a notebook's process with `exercises` graded exercises (docs/threat-model.md)."""
    return exercises + EXTRA_RESTARTS


class RemoteBackend:
    """The student's definitions in a sandboxed process, reached through the plain-data channel.

    If the process dies or times out, the notebook's cells are run again in a fresh one for
    the next check, at most `max_restarts` times in all (`restart_limit`).
    """

    def __init__(self, start_sandbox, run_cells, max_restarts: int = 3, *, max_cell_restarts: int = 0,
                 budgets=None, costs=None):
        self._start, self._run_cells, self.max_restarts = start_sandbox, run_cells, max_restarts
        self.max_cell_restarts = max_cell_restarts
        self.budgets, self.costs = budgets, costs   # `timing.Budgets` (None: the ceilings), `timing.Costs`
        self.sandbox: Sandbox | None = None
        self.generation = 0
        self.restarts = 0
        self.cell_restarts = 0
        self._probes: dict[int, object] = {}
        self._lent: dict[int, object] = {}   # the reference's functions the student's code may call now
        self._names: dict[tuple[int, str], dict] = {}
        self._broken: dict[str, str] = {}   # name -> how a call of it stopped the process
        self.forbidden: dict[str, str] = {}  # owner -> why it gets 0 (it used a forbidden framework)

    def ensure(self) -> Sandbox:
        """The running sandbox, started (or restarted after a failed call) with the cells run.

        A cell that breaks the process makes `run_cells` skip it and raise; the cells are then
        run again in a fresh process, so each bad cell costs one restart and only what it defines:
        at most one restart per cell (`max_cell_restarts`), all runs sharing the notebook's one
        `notebook_timeout`. A call that stops the process costs one restart too (its function is
        not called again). Restarts of either cause count against one `max_restarts`: a notebook
        of many cells that stop the process cannot buy itself a start-up per cell.

        Raises:
            SandboxError: the process stopped more often than those bounds allow.
        """
        if self.sandbox is not None and self.sandbox.alive:
            return self.sandbox
        cell_failed = False
        while True:
            if self.sandbox is not None:
                self.sandbox.close()
                if self.restarts + self.cell_restarts >= self.max_restarts:
                    raise SandboxError(f"your notebook's process stopped {self.restarts + self.cell_restarts + 1} "
                                       f"times, and is restarted at most {self.max_restarts} times (once per exercise "
                                       f"plus {EXTRA_RESTARTS}); the remaining checks were not run")
                if cell_failed:
                    if self.cell_restarts >= self.max_cell_restarts:
                        raise SandboxError("your notebook's cells stopped its process too many times; the remaining "
                                           "checks were not run")
                    self.cell_restarts += 1
                else:
                    self.restarts += 1
            self.generation += 1
            self.sandbox = self._start()
            try:
                self._run_cells(self.sandbox)
                return self.sandbox
            except SandboxError:
                cell_failed = True

    def close(self):
        if self.sandbox is not None:
            self.sandbox.close()

    def lookup(self, name: str):
        self._ref_of_name(name)
        return StudentCallable(self, ("name", name), name)

    def _ref_of_name(self, name: str) -> dict:
        """The reference to a top-level name in the current process (looked up once per process)."""
        self.ensure()
        key = (self.generation, name)
        if key not in self._names:
            reply = self._request({"op": "lookup", "name": name})
            found = {"kind": reply.get("kind"), "type": bounded_text(reply.get("type"), 100)}
            if found["kind"] != "missing" and type(reply.get("ref")) is not dict:
                found["kind"] = "value"   # nothing the grader could call
            require_callable(name, found)
            self._names[key] = reply["ref"]
        return self._names[key]

    def budget(self, label: str):
        """The `timing.Budget` of one call of `label` (course.yaml's call_timeout without budgets)."""
        if self.budgets is None:
            from ..timing import Budgets

            self.budgets = Budgets(self.ensure().limits, None)
        return self.budgets.call(label)

    def _request(self, message, callbacks=None, label: str | None = None):
        sandbox = self.ensure()
        budget = self.budget(label or "")
        reply = sandbox.request(message, budget.wall, callbacks, cpu=budget.cpu)
        if self.costs is not None and label:
            self.costs.call(label, reply["cost"])
        if reply.get("ok") is not True:
            error = reply.get("error")
            error = error if isinstance(error, dict) else {}
            raise StudentFailure(bounded_text(error.get("type"), 100) or "Error", bounded_text(error.get("message"), 2000),
                                 bounded_text(error.get("traceback"), 4000))
        return reply

    def _target(self, target):
        self.ensure()
        if target[0] == "name":
            return self._ref_of_name(target[1])
        generation, ref = target
        if generation != self.generation:
            raise SandboxError("this object was created in a process that has since been stopped")
        return ref

    def _grader_ref(self, value):
        # the student's own functions and objects (in a list or dict the check passes back, such as
        # an Adam state holding an object) go back as themselves, never as a grader's function
        if isinstance(value, (StudentCallable, StudentObject)):
            return self._target(value._target)
        if callable(value):
            self._probes[id(value)] = value
            return {"__ref__": id(value), "side": "grader", "type": getattr(value, "__name__", "function"),
                    "kind": "callable"}
        raise wire.WireError(f"cannot send a {type(value).__name__} to the student's code")

    def _encode_arg(self, value):
        if isinstance(value, (StudentCallable, StudentObject)):
            return self._target(value._target)
        return wire.encode(value, self._grader_ref)

    def _unless_broken(self, label: str, refusal) -> str:
        """The owner of `label` (the student's name before any dot). A name whose call stopped the
        process once is not run again: it would cost a restart (and the notebook's other exercises
        their time) on every remaining check; `refusal()` then says what was not done."""
        owner = label.split(".")[0]
        if owner in self._broken:
            raise StudentFailure("Stopped", f"{refusal()}: an earlier call of {owner} {self._broken[owner]}")
        return owner

    @contextlib.contextmanager
    def _stopping(self, owner: str):
        """Remember `owner` as broken if what runs inside stops the student's process."""
        try:
            yield
        except SandboxError as exc:
            self._broken[owner] = f"stopped your notebook's process ({exc})"
            raise

    def call(self, target, method, args, kwargs, label):
        refuse_forbidden(self.forbidden, label)
        owner = self._unless_broken(label, lambda: f"{call_text(label, args, kwargs)} was not called")
        ref = self._target(target)
        message = {"op": "call", "target": ref, "method": method,
                   "args": [self._encode_arg(a) for a in args],
                   "kwargs": {k: self._encode_arg(v) for k, v in kwargs.items()}}
        bound = probe_bound(args, kwargs)

        def probe(ref):
            function = self._lent[ref] if ref in self._lent else self._probes[ref]
            return lambda *a, **k: bounded_probe(function, bound, a, k)

        with self._stopping(owner):
            try:
                reply = self._request(message, callbacks=probe, label=label)
            except StudentFailure as exc:
                raise attributed(exc, label, args, kwargs) from None
            except CallTimeout as exc:
                if self.sandbox.limit_hit() == "memory":
                    # under load, a tree that allocates without bound runs out of time near its memory
                    self._broken[owner] = f"stopped your notebook's process ({self.sandbox.died})"
                    raise StudentFailure("MemoryLimit", f"{call_text(label, args, kwargs)}: "
                                         f"{self.sandbox.died or self.sandbox.memory_message()}") from None
                self._broken[owner] = f"did not return within {exc.limit}"
                where = f" at {exc.where}" if exc.where else ""
                stopped = (f"was interrupted{where}" if exc.interrupted
                           else "did not stop when interrupted, so your notebook's process was stopped")
                used, limit = self.sandbox.memory_used_mb(), self.sandbox.limits.memory_mb
                growing = (f", using {used:.0f} MiB of its {limit} MiB memory limit by then. Look for a loop that "
                           "never ends or keeps allocating" if used >= limit / 2 else ". Look for a loop that never ends")
                raise StudentFailure(
                    "Timeout", f"{call_text(label, args, kwargs)} did not return within {exc.limit} and {stopped}"
                    f"{growing}.") from None
        judge_call(self.forbidden, label, args, kwargs, reply)
        return self._decode(reply, label)

    @contextlib.contextmanager
    def substituted(self, functions: dict):
        """The student's code sees `functions` (the reference's, by name) in place of its own while
        inside. They stay here: the student's process gets functions that ask the grader, which
        answers them only until the block ends."""
        refs = {}
        for name, function in functions.items():
            self._lent[id(function)] = function
            refs[name] = {"__ref__": id(function), "side": "grader", "type": name, "kind": "callable"}
        try:
            self._forget_names(functions)
            self._request({"op": "lend", "names": refs})
            yield
        finally:
            self._forget_names(functions)
            self._lent.clear()
            if self.sandbox is not None and self.sandbox.alive:
                self._request({"op": "unlend"})

    def _forget_names(self, names) -> None:
        """Look these names up again on their next call: a check that calls a lent name itself
        (adam_update's checks call adam_init) then gets the lent function, as in-kernel."""
        for name in names:
            self._names.pop((self.generation, name), None)

    def _decode(self, reply, label):
        refuse_too_many_items(reply.get("value"), label)
        try:
            return wire.decode(reply.get("value"), lambda r: self._stand_in(r, label))
        except wire.WireError as exc:
            raise StudentFailure("Unreadable", str(exc), call=label) from None

    def _stand_in(self, ref, label):
        return StudentObject(self, (self.generation, ref), bounded_text(ref.get("type"), 100) or "object", label)

    def getattr(self, target, name, label):
        owner = self._unless_broken(label, lambda: f"{label} was not read")
        with self._stopping(owner):
            try:
                reply = self._request({"op": "getattr", "target": self._target(target), "name": name}, label=label)
            except CallTimeout as exc:
                self._broken[owner] = f"did not answer within {exc.limit}"
                raise StudentFailure("Timeout", f"reading {label} did not finish within {exc.limit}.") from None
        value = self._decode(reply, label)
        if isinstance(value, StudentObject) and value._type == "method":
            return BoundMethod(StudentObject(self, target, "object", label.rsplit(".", 1)[0]), name)
        return value

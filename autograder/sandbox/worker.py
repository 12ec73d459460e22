"""The student's side of the sandbox: runs notebook cells and answers the grader's calls.

Started by `autograder.sandbox.launcher` as ``python -I worker.py SPEC_JSON`` with this file
and `wire.py` copied into a scratch folder: it cannot import the rest of the project (and,
under namespaces, cannot even see it). SPEC_JSON gives the channel's file descriptors and,
when the launcher set up namespaces, the mounts to make before any student code runs.

Everything the student's code produces crosses back as plain data (`wire.encode`); objects
that cannot (instances, functions) are kept here and referred to by number.
"""
import json
import os
import select
import signal
import sys
import traceback


SPEC = json.loads(sys.argv[1])
sys.path[:0] = [SPEC["runner_dir"]]
sys.path.extend(p for p in SPEC["site"] if p not in sys.path)

import wire  # noqa: E402
import protocol  # noqa: E402  (its audit hook sees every import from now on, the zygote's preloads too)
import confine  # noqa: E402
try:
    import shell  # noqa: E402  (IPython's machinery: imported while the runner's folder is in sight)
except ImportError:  # a machine without IPython: cells run as plain Python
    shell = None

if SPEC.get("zygote_fd") is not None:
    import forkserver  # noqa: E402  (imported now: the runner's folder is out of sight once isolated)

wire.MAX_MESSAGE = int(SPEC.get("max_message") or wire.MAX_MESSAGE)

sys.path.remove(SPEC["runner_dir"])
for _name in ("wire", "protocol", "seccomp", "confine", "shell"):
    sys.modules.pop(_name, None)  # the student's code finds no channel module to patch by name
if SPEC.get("root"):
    confine.isolate(SPEC)
else:
    os.chdir(SPEC["workdir"])
    if SPEC.get("run_as") is not None:
        confine.become_user(SPEC)
    confine.no_network(SPEC)
REQ, RESP = SPEC["request_fd"], SPEC["response_fd"]
try:
    # A process group of its own, without `unshare`: the student's os.killpg(0, SIGKILL) killed
    # unshare, whose parent-death signal then killed this process a moment later, in the middle
    # of another exercise's call, which was charged for it. Here (the init of its PID namespace,
    # which its own namespace cannot kill) the call simply goes on; outside namespaces this
    # process is a session leader already.
    os.setsid()
except OSError:
    pass

_objects = {}        # id -> object kept on this side
_ids = {}            # id(object) -> id, so the same object gets the same number


NAMESPACE = {"__name__": "__main__", "__builtins__": __builtins__}
_SHELL = []          # the process's IPython shell: started by the first cell, or by a fork server before it forks


def _refer(value):
    if hasattr(value, "__next__"):
        return wire.iterated(value, _refer)
    key = id(value)
    if key not in _ids:
        _ids[key] = len(_objects) + 1
        _objects[_ids[key]] = value
    kind = "callable" if callable(value) else "object"
    return {"__ref__": _ids[key], "side": "student", "type": type(value).__name__, "kind": kind}


class _Interrupt:
    """The grader interrupts a cell or a call that overran its budget as Jupyter does: SIGINT, which
    raises KeyboardInterrupt in the student's code so that the reply comes back and the process
    (with everything the notebook defined) lives on. Outside the student's code (while a message
    is being written) the interrupt only waits: a half-written message would break the channel."""

    armed = False     # the student's code is running: an interrupt raises there
    pending = False   # an interrupt arrived while a message was being written

    @classmethod
    def handle(cls, signum, frame):
        if cls.armed:
            raise KeyboardInterrupt
        cls.pending = True

    @classmethod
    def sending(cls, fd, message):
        """`wire.send` that no interrupt cuts in half; a pending interrupt is raised after it."""
        armed, cls.armed = cls.armed, False
        try:
            wire.send(fd, message)
        finally:
            cls.armed = armed
        if armed and cls.pending:
            cls.pending = False
            raise KeyboardInterrupt


def _drain(fd):
    """Drop what is left unread of a message the grader sent before an interrupt (a probe's answer
    whose reading was interrupted): the grader sends nothing else while it waits for a result."""
    while select.select([fd], [], [], 0)[0]:
        if not os.read(fd, 1 << 20):
            return


class GraderFunction:
    """A function of the grader's, passed as an argument: calling it asks the grader. To the
    student's code it is a plain function (its type's name too, in their error messages)."""

    def __init__(self, ref):
        self._ref = ref["__ref__"]
        self.__name__ = self.__qualname__ = str(ref.get("type", "function"))

    def __repr__(self):
        return f"<function {self.__name__}>"

    def __call__(self, *args, **kwargs):
        _Interrupt.sending(RESP, {"op": "callback", "ref": self._ref,
                                  "args": wire.encode(list(args), _refer), "kwargs": wire.encode(kwargs, _refer)})
        reply = wire.receive(REQ)  # an interrupt may cut this: the grader does not answer after its deadline
        if not reply.get("ok"):
            raise RuntimeError(reply.get("error", "the grader's function failed"))
        return wire.decode(reply["value"], _resolve)


def _resolve(ref):
    if ref.get("side") == "grader":
        return GraderFunction(ref)
    return _objects[ref["__ref__"]]


def _error(exc):
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith("<cell")]
    where = "".join(traceback.format_list(frames[-5:]))
    kind = "Unreadable" if isinstance(exc, wire.WireError) else type(exc).__name__  # named by the grader
    return {"type": kind, "message": str(exc)[:2000], "traceback": where[-4000:]}


def _call(message):
    target = _resolve(message["target"]) if isinstance(message["target"], dict) else NAMESPACE[message["target"]]
    args = wire.decode(message["args"], _resolve)
    kwargs = wire.decode(message["kwargs"], _resolve)
    if message.get("method"):
        target = getattr(target, message["method"])
    value, captured = protocol.call(target, args, kwargs)
    return {"value": wire.encode(value, _refer), **captured}


def _lookup(message):
    name = message["name"]
    reply = protocol.lookup(NAMESPACE, name)
    reply["ref"] = _refer(NAMESPACE[name]) if reply["kind"] in ("class", "callable") else None
    return reply


def _getattr(message):
    obj = _resolve(message["target"])
    return {"value": wire.encode(getattr(obj, message["name"]), _refer)}


def _exec(message):
    """Run one cell as a Jupyter kernel does (IPython's shell); what it raised is its result."""
    index = message.get("index", "?")
    if shell is None:
        exec(compile(message["code"], f"<cell {index}>", "exec"), NAMESPACE)
        return {}
    error = _shell().run(message["code"], index)
    if error is not None:
        raise error
    return {}


def _shell():
    if not _SHELL:
        _SHELL.append(shell.start(NAMESPACE))
    return _SHELL[0]


_RESTORE = []     # what puts the student's own values back, while the grader lends its functions


def _lend(message):
    """The grader's functions in place of the student's, by name (a check run again to see whether
    an earlier function's mistake is the cause): calling one asks the grader."""
    _unlend(message)
    _RESTORE.append(protocol.lend([NAMESPACE], {name: GraderFunction(ref) for name, ref in message["names"].items()}))
    return {}


def _unlend(message):
    while _RESTORE:
        _RESTORE.pop()()
    return {}


GraderFunction.__name__ = GraderFunction.__qualname__ = "function"

HANDLERS = {"exec": _exec, "call": _call, "lookup": _lookup, "getattr": _getattr, "lend": _lend, "unlend": _unlend}


def serve():
    signal.signal(signal.SIGINT, _Interrupt.handle)
    server = os.getpid()
    wire.send(RESP, {"op": "ready", "pid": server})
    while True:
        try:
            message = wire.receive(REQ)
        except EOFError:
            return
        if message.get("op") == "shutdown":
            return
        _Interrupt.pending = False  # one that came after the last reply was sent is not for this request
        try:
            _Interrupt.armed = True
            try:
                reply = HANDLERS[message["op"]](message)
            finally:
                _Interrupt.armed = False
            reply["ok"] = True
        except BaseException as exc:  # a student's SystemExit or KeyboardInterrupt is reported too
            try:
                reply = {"ok": False, "error": _error(exc)}
            except BaseException:  # an exception whose __str__ itself raises
                reply = {"ok": False, "error": {"type": "Error", "message": "(the exception could not be shown)",
                                                "traceback": ""}}
        if os.getpid() != server:
            # a copy the student's code forked, back here when its code returned or was interrupted:
            # it must never answer (or read) on the channel, which is the server's alone
            os._exit(0)
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException:  # the student's code may have replaced or closed them
            pass
        _drain(REQ)
        try:
            wire.send(RESP, {"op": "result", **reply})
        except (wire.WireError, TypeError, ValueError) as exc:
            wire.send(RESP, {"op": "result", "ok": False,  # the grader names this failure to the student
                             "error": {"type": "Unreadable", "message": str(exc)[:2000], "traceback": ""}})
        sys.stdout.flush()


if __name__ == "__main__":
    if SPEC.get("zygote_fd") is not None:
        wire.send(RESP, {"op": "ready", "pid": os.getpid()})
        if shell is not None:
            _shell()  # once, not per forked sandbox (~50 ms each); no student code has run
        forkserver.run(globals(), SPEC["zygote_fd"], SPEC)
    else:
        serve()
    os._exit(0)

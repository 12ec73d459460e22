"""The worker's side of grading on Dask: a plugin that keeps the worker's warm zygote, and the
task that grades one notebook's bytes with it. Imported on every worker (by reference, when
the plugin and the tasks are unpickled there), so the autograder must be installed there."""
from __future__ import annotations

import collections
import concurrent.futures as cf
import hashlib
import logging
import os
import shutil
import tempfile
import threading
from pathlib import Path

from distributed import WorkerPlugin, get_worker

from ..config import COURSE_ROOT, Course, load_course
from . import PLUGIN_NAME, ClusterError

logger = logging.getLogger(__name__)

_MAX_ZYGOTES = 4   # per worker: one per (limits, hidden paths); the oldest is closed beyond this


def code_fingerprint() -> str:
    """A hash of the grading code here (the autograder package and the reference solutions):
    a worker with other checks or solutions than the instructor's would give other scores."""
    digest = hashlib.sha256()
    for folder in ("autograder", "solutions"):
        for path in sorted((COURSE_ROOT / folder).rglob("*.py")):
            digest.update(str(path.relative_to(COURSE_ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _refusal(nthreads: int) -> str | None:
    """Why this worker must not grade, or None.

    Args:
        nthreads: the worker's threads (the checks run one notebook at a time per process).
    """
    from ..sandbox.isolation import isolation_level

    if nthreads != 1:
        return (f"this worker has {nthreads} threads; the autograder grades one notebook at a time per "
                "worker process. Start workers with `dask worker ADDRESS --nthreads 1 --nworkers N`.")
    if isolation_level() != "namespaces" and os.environ.get("AUTOGRADER_ISOLATION") != "process":
        return ("this host cannot create Linux user namespaces (`unshare --user --map-root-user --mount --net "
                "--pid --fork true` fails or `unshare` is missing), so the student's code could read this "
                "machine's files and use the network. Grade on hosts that allow unprivileged user namespaces "
                "(e.g. sysctl kernel.unprivileged_userns_clone=1), or, knowingly, start this worker with "
                "AUTOGRADER_ISOLATION=process to grade with process isolation only (docs/threat-model.md).")
    return None


class SandboxPlugin(WorkerPlugin):
    """A Dask worker plugin: the worker's warm zygote and its spool folder for notebooks.

    Started on the worker's set-up (the zygote imports NumPy and matplotlib once), closed on
    its teardown; it outlives `grade-all` runs, so a second run pays no start-up. Registered
    once per cluster (`idempotent`): registering it again keeps the running zygotes.
    """

    idempotent = True
    name = PLUGIN_NAME

    def setup(self, worker) -> None:
        # Dask's statistical profiler walks the stack of the running task every 10 ms, holding the
        # GIL: on the checks' deep pytest stacks that made a notebook cost 15-20% more on a worker
        # than in grade-all's local pool. Nobody reads a grading worker's profile.
        for name in ("profile", "profile-cycle"):
            callback = worker.periodic_callbacks.pop(name, None)
            if callback is not None:
                callback.stop()
        self.refusal = _refusal(worker.state.nthreads)
        self.fingerprint = code_fingerprint()
        self.spool = tempfile.mkdtemp(prefix="autograder-spool-")
        self._zygotes: collections.OrderedDict = collections.OrderedDict()
        self._lock = threading.Lock()
        # Every zygote is started from this one thread, which lives as long as the plugin: a
        # zygote dies with the thread that started it (PR_SET_PDEATHSIG follows the parent
        # thread), and one started by the warm-up's own thread, ended, broke the pipe of every
        # notebook of a class whose folders the worker cannot see (a remote worker's case).
        self._starter = cf.ThreadPoolExecutor(1, thread_name_prefix="autograder-zygotes")
        if self.refusal:
            logger.error("autograder: this worker refuses to grade: %s", self.refusal)
            return
        # Warm up now, off the worker's event loop, so that the first notebook finds it done.
        threading.Thread(target=self._warm_up, daemon=True).start()

    def _warm_up(self) -> None:
        """Start the usual zygote, and import the grader (pytest, the engine, NumPy) in this
        process, as a local pool's worker inherits them from grade-all's."""
        self.zygote(load_course().limits, ())
        from .. import grade  # noqa: F401  (what grade-all's per-submission function runs; not grade_all: a layer up)

    def teardown(self, worker) -> None:
        with self._lock:
            for zygote in self._zygotes.values():
                if zygote is not None:
                    zygote.close()
            self._zygotes.clear()
        self._starter.shutdown(wait=False, cancel_futures=True)
        shutil.rmtree(self.spool, ignore_errors=True)

    def hidden(self, extra: tuple[str, ...]) -> tuple[str, ...]:
        """The paths a student's process must not see here: the spool, and those of `extra`
        (the instructor's class and output folders) that exist on this host."""
        return (self.spool, *sorted(p for p in set(extra) if os.path.exists(p)))

    def zygote(self, limits, extra: tuple[str, ...]):
        """The warm zygote for these limits and hidden paths (started on first use), or None
        where this host grades with process isolation (allowed by AUTOGRADER_ISOLATION=process)."""
        from ..sandbox.isolation import isolation_level
        from ..sandbox.zygote import Zygote

        if isolation_level() != "namespaces":
            return None
        key = (limits, self.hidden(extra))
        with self._lock:
            if key not in self._zygotes:
                self._zygotes[key] = self._starter.submit(Zygote(limits, key[1]).start).result()
                if len(self._zygotes) > _MAX_ZYGOTES:
                    self._zygotes.popitem(last=False)[1].close()
            self._zygotes.move_to_end(key)
            return self._zygotes[key]


def worker_status(dask_worker, fingerprint: str) -> str | None:
    """Run on every worker before a class: why it would not grade (None: it will)."""
    plugin = dask_worker.plugins.get(PLUGIN_NAME)
    if plugin is None or not hasattr(plugin, "refusal"):
        return "the autograder's worker plugin is not set up on this worker"
    if plugin.refusal:
        return plugin.refusal
    if plugin.fingerprint != fingerprint:
        return ("this worker runs another version of the autograder's checks or solutions than the instructor "
                f"({plugin.fingerprint} here, {fingerprint} there); install the same version on every worker")
    return None


def grade_remote(function, student: str, assignment: str | None, name: str, data: bytes, course: Course,
                  hide: tuple[str, ...], original: str, fingerprint: str, note: str = "") -> dict:
    """The task run on a worker: write the notebook's bytes into the spool and grade them with
    grade-all's per-submission `function`, in a sandbox forked from this worker's zygote.

    Returns:
        `function`'s plain result, with the worker's spool path replaced by `original` (the
        path on the instructor's machine), so that it reads as the local pool's.

    Raises:
        ClusterError: this worker refuses to grade (the reason is the message).
    """
    from ..submissions import Submission

    worker = get_worker()
    refusal = worker_status(worker, fingerprint)
    if refusal:
        raise ClusterError(f"worker {worker.address} refuses to grade: {refusal}")
    plugin = worker.plugins[PLUGIN_NAME]
    folder = Path(tempfile.mkdtemp(dir=plugin.spool))
    path = folder / name
    try:
        path.write_bytes(data)
        result = function(Submission(student, assignment, path, note=note), course, plugin.hidden(hide),
                          zygote=plugin.zygote(course.limits, hide))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return _replace_path(result, str(path), original)


def _replace_path(value, old: str, new: str):
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, dict):
        return {k: _replace_path(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_path(v, old, new) for v in value]
    return value



"""The instructor's side of grading on Dask: a `concurrent.futures` executor that sends each
submission's bytes to the cluster and turns every task, finished or failed, into one plain
result for its student."""
from __future__ import annotations

import collections
import concurrent.futures as cf
import contextlib
import queue
import re
import ssl
import threading
import time
import uuid
from pathlib import Path

from distributed import Client, KilledWorker, LocalCluster
from distributed.security import Security

from ..config import Course
from ..notebook import MAX_NOTEBOOK_BYTES
from ..submissions import refusal
from ..ungraded import ungraded_result
from . import KILLS_ALLOWED, PLUGIN_NAME, ClusterError, SchedulerAddress
from .credentials import RunCredentials
from .worker import SandboxPlugin, code_fingerprint, grade_remote, worker_status

WORKER_TIMEOUT = 120   # seconds to wait for the scheduler and its first worker


def _configure_scheduler(dask_scheduler, kills_allowed: int) -> None:
    """Run on the scheduler: a submission is given up after kills_allowed + 1 worker deaths."""
    dask_scheduler.allowed_failures = kills_allowed


class ClusterExecutor(cf.Executor):
    """A `concurrent.futures` executor for grade-all's per-submission function, on a Dask cluster.

    `submit(function, submission, course, hide)` sends the notebook's bytes to a worker and
    returns a future of `function`'s plain result there; a task that fails (a worker that
    refuses, a notebook that killed two workers) gives that student an error result instead,
    so that every submission gets exactly one result.

    Args:
        scheduler: where to grade (`SchedulerAddress`, or its address alone): ``local:N`` for a
            `LocalCluster` of N single-threaded worker processes on this machine, secured with
            TLS credentials made for it and closed with the executor; ``tls://host:port`` with
            the grader's TLS files; a plain ``tcp://`` address only if marked insecure.
        timeout: seconds to wait for the scheduler and the first worker.

    Raises:
        ClusterError: an address refused (plain TCP, TLS without credentials), no scheduler or
            no worker answered, or a worker refuses to grade.
    """

    def __init__(self, scheduler: SchedulerAddress | str, *, timeout: float = WORKER_TIMEOUT):
        if isinstance(scheduler, str):
            scheduler = SchedulerAddress(scheduler)
        self._cluster = None
        if scheduler.address.startswith("local:"):
            self._cluster = local_cluster(scheduler.address)
            scheduler = self._cluster.scheduler
        self.scheduler = scheduler   # the address graded on, with the grader's credentials
        address = scheduler.address
        try:
            self.client = Client(address, timeout=f"{timeout}s", set_as_default=False,
                                 security=client_security(scheduler))
        except (OSError, ssl.SSLError, ValueError) as exc:
            self._close_cluster()
            raise ClusterError(f"no Dask scheduler answered at {address} ({exc}). Expected the address of a "
                               "running `dask scheduler` (tls://host:8786, with the TLS files its workers use) "
                               "or local:N.") from None
        try:
            self._prepare(address, timeout)
        except BaseException:
            self.shutdown()
            raise
        self._queue: collections.deque = collections.deque()
        self._wake = threading.Condition()
        self._closing = False
        self._feeder = threading.Thread(target=self._feed, name="autograder-cluster-feeder", daemon=True)
        self._feeder.start()

    def _prepare(self, address: str, timeout: float) -> None:
        try:
            self.client.wait_for_workers(1, timeout=timeout)
        except TimeoutError:
            raise ClusterError(f"no worker joined the scheduler at {address} within {timeout:g} s. Start workers "
                               f"with `dask worker {address} --nthreads 1`.") from None
        self.client.run_on_scheduler(_configure_scheduler, kills_allowed=KILLS_ALLOWED)
        self.client.register_plugin(SandboxPlugin(), name=PLUGIN_NAME)
        self.fingerprint = code_fingerprint()
        refusals = {w: r for w, r in self.client.run(worker_status, fingerprint=self.fingerprint).items() if r}
        if refusals:
            raise ClusterError("workers refuse to grade:\n" + "\n".join(f"  {w}: {r}" for w, r in refusals.items()))

    # -- concurrent.futures.Executor -------------------------------------------------------
    def submit(self, function, submission, course: Course, hide: tuple[str, ...]) -> cf.Future:
        """Queue one submission; its future's result is `function`'s plain result for it."""
        future: cf.Future = cf.Future()
        path = Path(submission.path)
        try:
            with open(path, "rb") as f:
                data = f.read(MAX_NOTEBOOK_BYTES + 1) if path.is_file() and not path.is_symlink() else None
        except OSError:
            data = None
        if submission.refused or refusal(path, submission.links) or data is None or len(data) > MAX_NOTEBOOK_BYTES:
            # Not sent (a worker would see a plain file): graded where it is, which gives the local
            # pool's reason for its zero. A student's code never runs in this process either way.
            future.set_result(function(submission, course, hide))
            return future
        task = (function, submission.student, submission.assignment, path.name, data, course, tuple(hide),
                str(submission.path), self.fingerprint, submission.note)
        with self._wake:
            self._queue.append((task, submission, course, future))
            self._wake.notify()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        feeder = getattr(self, "_feeder", None)
        if feeder is not None:
            with self._wake:
                self._closing = True
                if cancel_futures:
                    for *_, future in self._queue:
                        future.cancel()
                    self._queue.clear()
                self._wake.notify()
            if wait:
                feeder.join()
        self.client.close()
        self._close_cluster()

    def _close_cluster(self) -> None:
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    # -- the feeder thread -----------------------------------------------------------------
    def _feed(self) -> None:
        try:
            self._feed_until_closed()
        except BaseException as exc:  # the scheduler is gone: nothing more can be graded there
            with self._wake:
                pending = [future for *_, future in self._queue] + list(self._running_futures)
                self._queue.clear()
            for future in pending:
                if not future.done():
                    future.set_exception(ClusterError(f"lost the Dask cluster while grading: {exc}"))

    _running_futures: tuple = ()

    def _feed_until_closed(self) -> None:
        """Send queued submissions while the cluster has idle threads; resolve finished ones.

        A finished task frees its thread at once: the next submission is sent before that task's
        result is fetched (a round trip to its worker), so that the worker does not wait for it.
        """
        running: dict = {}
        landed: list = []   # finished on the cluster, results not yet fetched
        finished: queue.SimpleQueue = queue.SimpleQueue()
        while True:
            with self._wake:
                while not self._queue and not running and not landed and not self._closing:
                    self._wake.wait()
                if self._closing and not self._queue and not running and not landed:
                    return
                slots = self._slots() if self._queue else 0
                while self._queue and len(running) < slots:
                    task, submission, course, future = self._queue.popleft()
                    if future.set_running_or_notify_cancel():
                        remote = self.client.submit(grade_remote, *task, key=_task_key(submission.student),
                                                    retries=0)
                        running[remote.key] = (remote, submission, course, future)
                        remote.add_done_callback(lambda done: finished.put(done.key))
                self._running_futures = tuple(future for *_, future in [*running.values(), *landed])
            for remote, submission, course, future in landed:
                future.set_result(_outcome(remote, submission, course))
                remote.release()
            landed.clear()
            try:
                key = finished.get(timeout=0.2)   # woken again soon: new submissions may be queued
            except queue.Empty:
                continue
            landed.append(running.pop(key))
            with contextlib.suppress(queue.Empty):
                while True:
                    landed.append(running.pop(finished.get_nowait()))

    _threads: tuple[float, int] = (0.0, 0)

    def _slots(self) -> int:
        """The cluster's threads (at least one, so that a class waits for a worker to come back),
        asked of the scheduler at most once a second: the feeder wakes up after every notebook."""
        asked, threads = self._threads
        if time.monotonic() - asked > 1:
            threads = max(1, sum(self.client.nthreads().values()))
            self._threads = (time.monotonic(), threads)
        return threads


def _task_key(student: str) -> str:
    """A unique task key that names the student, for the scheduler's dashboard and logs."""
    return f"grade-{re.sub(r'[^A-Za-z0-9_.]', '_', student)[:64]}-{uuid.uuid4().hex}"


def _outcome(remote, submission, course: Course) -> dict:
    """A finished task's result, or an error result for its student when the task failed."""
    if remote.status == "finished":
        return remote.result()
    try:
        exc = remote.exception()
    except BaseException as cancelled:  # cancelled on the scheduler
        exc = cancelled
    if isinstance(exc, KilledWorker):
        reason = (f"not graded: {KILLS_ALLOWED + 1} workers died in a row while grading this notebook (out of "
                  "memory, or killed); it was not tried again")
    elif isinstance(exc, ClusterError):
        reason = f"not graded: {exc}"
    else:
        reason = f"internal error while grading on the cluster: {type(exc).__name__}: {exc}"
    data = ungraded_result(submission, course, reason)
    data["student"] = submission.student
    data["notebook"] = str(submission.path)
    return data


def client_security(scheduler: SchedulerAddress) -> Security | None:
    """The grader's side of the TLS handshake for `scheduler`: its files, else Dask's configuration
    (encryption required either way); None for a plain-TCP address the instructor allowed."""
    if scheduler.tls is not None:
        return scheduler.tls.security()
    if scheduler.address.startswith("tls://"):
        return Security(require_encryption=True)
    return None


class LocalGradingCluster:
    """A `LocalCluster` on this machine that admits only holders of this run's credentials.

    Attributes:
        scheduler: its address with the grader's TLS files, for `ClusterExecutor` or `grade_all`.
    """

    def __init__(self, workers: int):
        self._credentials = RunCredentials()
        try:
            security = self._credentials.files.security()
            # The sandboxes enforce the memory limits; Dask's own (a share of the machine per worker,
            # counting TensorFlow in the worker) would restart workers that are within them.
            self._cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, memory_limit=0,
                                         dashboard_address=None, host="127.0.0.1", protocol="tls://",
                                         security=security)
        except BaseException:
            self._credentials.close()
            raise
        self.scheduler = SchedulerAddress(self._cluster.scheduler_address, self._credentials.files)

    def close(self) -> None:
        """Stop the scheduler and the workers, then remove the credentials."""
        try:
            self._cluster.close()
        finally:
            self._credentials.close()


def local_cluster(spec: str) -> LocalGradingCluster:
    """A secured cluster of N single-threaded worker processes on this machine, from ``local:N``."""
    count = spec.removeprefix("local:")
    if not count.isdigit() or int(count) < 1:
        raise ClusterError(f"Expected --scheduler local:N with N a number of workers >= 1. Received: {spec!r}")
    return LocalGradingCluster(int(count))

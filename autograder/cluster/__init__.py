"""Grading a class on a Dask distributed cluster (`grade-all --scheduler ADDRESS`).

The grader's process (the Dask client, `executor.py`) reads each notebook and sends its bytes,
with the student and assignment ids, to the cluster; no filesystem is shared. On each worker a
`worker.SandboxPlugin` keeps one warm isolated zygote for the worker's life, and each
submission is graded by grade-all's own per-submission function in a sandbox forked from it,
with the same limits. Results come back as plain JSON-able dicts and are written by grade-all
exactly as the local pool's are.

Fault tolerance is Dask's: a task whose worker dies is run again on another worker, and the
scheduler gives up on a task after `KILLS_ALLOWED + 1` workers died while running it
(`KilledWorker`), which is recorded as an error for that student. The client keeps no more
submissions on the cluster than it has threads, so a worker only ever holds the submission it
is grading, and only that one is blamed when it dies.

The cluster admits the grader only: Dask's mutual TLS, with credentials made for each `local:N`
run (`credentials`), or given for a remote ``tls://`` scheduler (`SchedulerAddress`); a plain
``tcp://`` scheduler is refused unless the instructor says otherwise.

This module stays light (no Dask import at the top): the command line imports it.
"""
from __future__ import annotations

from dataclasses import dataclass

from .credentials import TLSFiles

PLUGIN_NAME = "autograder-sandbox"
KILLS_ALLOWED = 1   # a worker may die once under a submission; a second death in a row is the submission's


class ClusterError(RuntimeError):
    """The cluster cannot grade: no scheduler or worker, or workers that refuse to (the message says why)."""


INSECURE_OPTION = "--insecure-scheduler"


@dataclass(frozen=True)
class SchedulerAddress:
    """Where to grade, and how the grader proves to the cluster that it is the grader.

    Args:
        address: ``local:N`` (N worker processes on this machine, with TLS credentials made for
            the run), ``tls://host:port``, or, only with `insecure`, a plain ``tcp://`` one.
        tls: the grader's TLS files for a ``tls://`` scheduler; None takes them from Dask's
            configuration (``distributed.comm.tls.ca-file``, ``.client.cert``, ``.client.key``).
        insecure: the instructor's explicit consent to a scheduler without TLS.

    Raises:
        ClusterError: a plain-TCP address without `insecure`, a ``tls://`` one without
            credentials, or TLS files given where they are not used (the message says which).
    """
    address: str
    tls: TLSFiles | None = None
    insecure: bool = False

    def __post_init__(self):
        address = self.address
        if address.startswith("local:"):
            if self.tls is not None:
                raise ClusterError(f"Expected no --tls-* files with --scheduler {address}: a local cluster makes "
                                   "credentials of its own for each run. Received: --tls-cert " + self.tls.cert)
            return
        if address.startswith("tls://"):
            if self.tls is None and not _tls_configured():
                raise ClusterError(f"Expected TLS credentials for --scheduler {address}: give --tls-ca-file, "
                                   "--tls-cert and --tls-key (or set Dask's distributed.comm.tls.ca-file, "
                                   ".client.cert and .client.key); docs/cluster.md says how to make them.")
            return
        if self.tls is not None:
            raise ClusterError(f"Expected a tls://host:port scheduler with --tls-* files. Received: {address}; "
                               "start the scheduler with --protocol tls and the same files (docs/cluster.md).")
        if not self.insecure:
            raise ClusterError(f"refusing to grade on {address}: a scheduler without TLS runs any code that anyone "
                               "who reaches its port sends (a student's notebook included), so it could read and "
                               "change every submission and grade. Start it with --protocol tls and "
                               "--tls-ca-file/--tls-cert/--tls-key and give them here too (docs/cluster.md), use "
                               f"local:N, or, if only you and the workers can reach it, add {INSECURE_OPTION}.")

    def __str__(self) -> str:
        return self.address

    @classmethod
    def from_options(cls, address: str | None, *, ca_file: str | None = None, cert: str | None = None,
                     key: str | None = None, insecure: bool = False) -> "SchedulerAddress | None":
        """The command line's `--scheduler` and its options, checked; None for no cluster.

        Raises:
            ClusterError: options without `--scheduler`, or only some of the three TLS files.
        """
        given = {"--tls-ca-file": ca_file, "--tls-cert": cert, "--tls-key": key}
        if address is None:
            used = [name for name, value in given.items() if value] + ([INSECURE_OPTION] if insecure else [])
            if used:
                raise ClusterError(f"Expected --scheduler ADDRESS with {', '.join(used)}. Received no --scheduler; "
                                   "add it, or drop those options to grade with the local pool.")
            return None
        if any(given.values()) and not all(given.values()):
            missing = ", ".join(name for name, value in given.items() if not value)
            raise ClusterError(f"Expected all three of --tls-ca-file, --tls-cert and --tls-key. Received no {missing}.")
        return cls(address, TLSFiles(ca_file, cert, key) if ca_file else None, insecure)


def _tls_configured() -> bool:
    """Does Dask's configuration give a client its TLS files (e.g. DASK_DISTRIBUTED__COMM__TLS__CA_FILE)?"""
    import dask.config

    return bool(dask.config.get("distributed.comm.tls.ca-file", None)
                and dask.config.get("distributed.comm.tls.client.cert", None))

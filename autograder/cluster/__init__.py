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

This module stays light (no Dask import): the command line imports `ClusterError` from it.
"""

PLUGIN_NAME = "autograder-sandbox"
KILLS_ALLOWED = 1   # a worker may die once under a submission; a second death in a row is the submission's


class ClusterError(RuntimeError):
    """The cluster cannot grade: no scheduler or worker, or workers that refuse to (the message says why)."""

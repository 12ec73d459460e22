"""Grading a class on a real Dask cluster: a `dask scheduler` and two `dask worker --nthreads 1`
processes on 127.0.0.1, secured with TLS as docs/cluster.md says, started and stopped here,
against the local pool's grades."""
import csv
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest

from autograder.cluster import PLUGIN_NAME, ClusterError, SchedulerAddress
from autograder.cluster.credentials import write_credentials
from autograder.config import COURSE_ROOT, load_course
from autograder.grade_all import _grade_one, grade_all
from autograder import store
from autograder.registry import sample_class, sample_notebook
from autograder.samples import submission
from autograder.submissions import Submission

distributed = pytest.importorskip("distributed")
pytest.importorskip("cryptography")
from autograder.cluster.executor import ClusterExecutor  # noqa: E402

DASK = [sys.executable, "-m", "dask"]   # this interpreter: the workers' sandboxes see what the local pool's do
A = "a01_perceptron"
STARTUP = 120   # seconds: bounded waits for processes that import Dask on a loaded machine


def _start(args: list[str], scratch: Path, **env) -> subprocess.Popen:
    # Its own session: the test stops the nanny and the worker it started together.
    with open(scratch.parent / f"{args[0]}-{time.monotonic_ns()}.log", "wb") as log:
        return subprocess.Popen([*DASK, *args], cwd=COURSE_ROOT, start_new_session=True, stdout=log, stderr=log,
                                env={**os.environ, "PYTHONPATH": str(COURSE_ROOT), "TMPDIR": str(scratch), **env})


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


class Cluster:
    """A scheduler and its workers on 127.0.0.1, with a client to watch them, all with one set of
    TLS credentials (`scheduler`: the address and the grader's files, for `grade_all`)."""

    def __init__(self, root: Path):
        self.root, self.scratch = root, root / "scratch"
        self.scratch.mkdir()
        self.processes: list[subprocess.Popen] = []
        tls = write_credentials(root / "tls")
        self.tls_options = ["--tls-ca-file", tls.ca_file, "--tls-cert", tls.cert, "--tls-key", tls.key]
        scheduler_file = root / "scheduler.json"
        # --idle-timeout: a scheduler left behind by a killed test run stops by itself.
        self.processes.append(_start(["scheduler", "--protocol", "tls", "--host", "127.0.0.1", "--port", "0",
                                      "--no-dashboard", "--scheduler-file", str(scheduler_file), "--idle-timeout",
                                      "900", *self.tls_options], self.scratch))
        deadline = time.monotonic() + STARTUP
        while not scheduler_file.exists():
            assert time.monotonic() < deadline, "the dask scheduler did not start"
            assert self.processes[0].poll() is None, "the dask scheduler exited"
            time.sleep(0.2)
        time.sleep(0.2)  # the file is written in one go, but give it a moment to be complete
        self.address = json.loads(scheduler_file.read_text())["address"]
        self.scheduler = SchedulerAddress(self.address, tls)
        self.client = distributed.Client(self.address, timeout=f"{STARTUP}s", set_as_default=False,
                                         security=tls.security())
        for _ in range(2):
            self.add_worker()
        self.wait_for_workers(2)

    def add_worker(self, **env) -> subprocess.Popen:
        worker = _start(["worker", self.address, "--nthreads", "1", "--host", "127.0.0.1", "--no-dashboard",
                         "--death-timeout", "60", *self.tls_options], self.scratch, **env)
        self.processes.append(worker)
        return worker

    def wait_for_workers(self, count: int) -> None:
        self.client.wait_for_workers(count, timeout=STARTUP)

    def kill_worker_grading(self, student: str, spare: tuple[str, ...] = ()) -> str:
        """SIGKILL the worker process that is grading this student's notebook (its task key names the
        student), other than those of `spare` (killed already). Asked of the workers what they are
        executing, not of the scheduler what it assigned: the kill lands while the notebook runs."""
        deadline = time.monotonic() + STARTUP
        while time.monotonic() < deadline:
            executing = self.client.run(lambda dask_worker: [str(ts.key) for ts in dask_worker.state.executing],
                                       on_error="ignore")
            for worker, keys in executing.items():
                if worker not in spare and any(f"-{student}-" in str(key) for key in keys):
                    time.sleep(1)   # well into it (the notebook's last cell takes 20 s)
                    pid = self.client.run(os.getpid, workers=[worker])[worker]
                    os.kill(pid, signal.SIGKILL)
                    return worker
            time.sleep(0.1)
        raise AssertionError(f"no worker was grading {student}'s notebook to kill")

    def suspicious(self) -> int:
        """How many times, in total, a worker died while running one of the cluster's tasks."""
        return self.client.run_on_scheduler(
            lambda dask_scheduler: sum(p.suspicious for p in dask_scheduler.task_prefixes.values()))

    def close(self) -> None:
        self.client.close()
        for process in reversed(self.processes):
            _stop(process)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    cluster = Cluster(tmp_path_factory.mktemp("cluster"))
    yield cluster
    cluster.close()


def _csv_rows(out: Path) -> list[dict]:
    with open(out / "grades.csv", newline="") as f:
        return list(csv.DictReader(f))


def _without_times(data: dict) -> dict:
    return {k: v for k, v in data.items() if k != "execution_time"}


@pytest.mark.parametrize("assignment", [A, "a03_loss"])
def test_a_cluster_grades_the_samples_as_the_local_pool_does(cluster, tmp_path, assignment):
    """Do two Dask workers give the local pool's grades.csv rows and per-student results?"""
    root = sample_class(assignment)
    local = grade_all(root, out=tmp_path / "local", jobs=2, progress=False)
    remote = grade_all(root, out=tmp_path / "cluster", progress=False, scheduler=cluster.scheduler)
    assert _csv_rows(tmp_path / "cluster") == _csv_rows(tmp_path / "local")
    assert [_without_times(d) for d in remote] == [_without_times(d) for d in local]
    assert all(d["isolation"] == "namespaces" for d in remote)
    for data in local:
        written = json.loads(store.result_path(tmp_path / "cluster", data).read_text())
        assert _without_times(written) == _without_times(data)   # the instructor's path, not a worker's
    assert (tmp_path / "cluster" / "summary.txt").read_text() == (tmp_path / "local" / "summary.txt").read_text()
    # Dask's statistical profiler (a stack walk of the running task every 10 ms) is off on grading workers
    profilers = cluster.client.run(lambda dask_worker: sorted(n for n in dask_worker.periodic_callbacks
                                                              if n.startswith("profile")))
    assert profilers and all(names == [] for names in profilers.values()), profilers


def test_a_worker_grades_a_class_whose_folders_it_cannot_see(cluster):
    """Does the worker's warm zygote (the one for no class folder, as on a worker of another
    machine) grade? It used to die with the thread that warmed it up: every notebook a broken pipe."""
    with ClusterExecutor(cluster.scheduler) as pool:
        result = pool.submit(_grade_one, Submission("ada", A, sample_notebook(A, "ada_perfect")), load_course(),
                             ()).result()
    assert result["score"] == 12 and result["isolation"] == "namespaces", result.get("error")


def test_the_workers_plugin_leaves_nothing_behind(cluster):
    """When the plugin is removed (as when a worker closes), are its zygotes and spool folders gone?"""
    def scratch():
        return sorted(p.name for p in cluster.scratch.iterdir() if p.name.startswith("autograder-"))

    assert any(name.startswith("autograder-spool-") for name in scratch())   # the graded classes made them
    cluster.client.unregister_worker_plugin(PLUGIN_NAME)   # each worker's teardown
    assert scratch() == []


def _class_with_a_slow_notebook(folder: Path) -> dict[str, float]:
    """The a01 sample class and 'aaa_slow', a perfect notebook with a 20 s cell."""
    expected = {"ada_perfect": 12, "bob_stub": 0, "cem_slide_typo": 10, "dee_overflow": 11.5,
                "eli_no_bias": 8, "aaa_slow": 12}
    for student in expected:
        target = folder / student / A / f"{A}.ipynb"
        target.parent.mkdir(parents=True)
        if student == "aaa_slow":
            notebook = submission(A, {})
            notebook.cells.append(nbformat.v4.new_code_cell("import time\ntime.sleep(20)"))
            nbformat.write(notebook, target)
        else:
            target.write_bytes(sample_notebook(A, student).read_bytes())
    return expected


def _grade_while_killing(cluster, folder: Path, out: Path, kills: int) -> tuple[list[dict], list[str]]:
    killed: list[str] = []

    def killer():
        for _ in range(kills):
            killed.append(cluster.kill_worker_grading("aaa_slow", spare=tuple(killed)))

    thread = threading.Thread(target=killer)
    thread.start()
    try:
        results = grade_all(folder, out=out, progress=False, scheduler=cluster.scheduler)
    finally:
        thread.join()
    return results, killed


@pytest.mark.slow
def test_a_worker_killed_mid_class_loses_no_student(cluster, tmp_path):
    """When a worker is SIGKILLed while grading, is every student still graded exactly once?"""
    cluster.wait_for_workers(2)
    expected = _class_with_a_slow_notebook(tmp_path / "class")
    before = cluster.suspicious()
    results, killed = _grade_while_killing(cluster, tmp_path / "class", tmp_path / "out", kills=1)
    assert len(killed) == 1 and cluster.suspicious() == before + 1   # it died while grading a notebook
    assert sorted(d["student"] for d in results) == sorted(expected)
    assert {d["student"]: d["score"] for d in results} == expected
    assert not any(d.get("error") for d in results)
    assert sorted(r["student_id"] for r in _csv_rows(tmp_path / "out")) == sorted(expected)
    assert sorted(d["student"] for d in store.load_all(tmp_path / "out")) == sorted(expected)


@pytest.mark.slow
def test_a_notebook_that_kills_two_workers_is_an_error_and_the_class_goes_on(cluster, tmp_path):
    """Is a submission whose grading killed two workers in a row an error for that student alone?"""
    cluster.wait_for_workers(2)   # the nannies restarted the worker killed before
    expected = _class_with_a_slow_notebook(tmp_path / "class")
    results, killed = _grade_while_killing(cluster, tmp_path / "class", tmp_path / "out", kills=2)
    assert len(killed) == 2
    by_student = {d["student"]: d for d in results}
    assert sorted(by_student) == sorted(expected)
    slow = by_student.pop("aaa_slow")
    assert slow["score"] == 0 and "2 workers died in a row while grading this notebook" in slow["error"]
    assert {s: d["score"] for s, d in by_student.items()} == {s: expected[s] for s in by_student}
    assert not any(d.get("error") for d in by_student.values())


@pytest.mark.slow
def test_a_worker_without_user_namespaces_refuses_to_grade(cluster, tmp_path):
    """Does a worker on a host without user namespaces refuse to grade, saying why, instead of grading weaker?"""
    cluster.wait_for_workers(2)
    # No `unshare` on its PATH: this worker cannot create namespaces (and was not told it may do without).
    worker = cluster.add_worker(PATH=str(tmp_path / "empty"))
    try:
        cluster.wait_for_workers(3)
        nbformat.write(submission(A, {}), tmp_path / "ada.ipynb")
        with pytest.raises(ClusterError) as refused:
            grade_all(tmp_path, out=tmp_path / "out", assignment=A, progress=False, scheduler=cluster.scheduler)
        assert "refuse to grade" in str(refused.value) and "cannot create Linux user namespaces" in str(refused.value)
        assert "AUTOGRADER_ISOLATION=process" in str(refused.value)
        assert not (tmp_path / "out" / "ada").exists()
    finally:
        _stop(worker)


def test_a_bad_local_cluster_size_is_a_clear_error(tmp_path):
    """Does `--scheduler local:0` say what it expected, in one line, without a traceback?"""
    run = subprocess.run([sys.executable, "-m", "autograder", "grade-all", str(sample_class(A)), "--scheduler",
                          "local:0", "--out", str(tmp_path)], capture_output=True, text=True, timeout=120,
                         cwd=COURSE_ROOT, env={**os.environ, "PYTHONPATH": str(COURSE_ROOT)})
    assert run.returncode == 2
    assert "Expected --scheduler local:N with N a number of workers >= 1. Received: 'local:0'" in run.stderr
    assert "Traceback" not in run.stderr

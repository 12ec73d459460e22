"""Does the Dask cluster admit the grader only? A `local:N` cluster's TLS, refused strangers, the
credentials' folder, and the rules for a remote scheduler's address."""
import os
import stat

import pytest

from autograder.cli import main
from autograder.cluster import ClusterError, SchedulerAddress
from autograder.cluster.credentials import write_credentials
from autograder.config import load_course
from autograder.grade_all import _grade_one
from autograder.registry import sample_notebook
from autograder.submissions import Submission

distributed = pytest.importorskip("distributed")
pytest.importorskip("cryptography")
import dask.config  # noqa: E402
from distributed.security import Security  # noqa: E402

from autograder.cluster.executor import ClusterExecutor  # noqa: E402

A = "a01_perceptron"


def _refused(address: str, security) -> str:
    """Try to connect as a client would; the reason it was refused (the test fails if it was not)."""
    try:
        client = distributed.Client(address, timeout="30s", security=security, set_as_default=False)
    except Exception as exc:  # refused: which exception depends on how the handshake broke
        return f"{type(exc).__name__}: {exc}"
    try:
        pid = client.run_on_scheduler(os.getpid)
    finally:
        client.close()
    raise AssertionError(f"a client without the run's credentials ran code on the scheduler (pid {pid})")


def test_a_local_cluster_admits_only_the_grader(tmp_path):
    """Is a client without the run's credentials (plain TCP, or TLS with a certificate of its own)
    refused by a `local:1` cluster, while the grader's grades, and are the credentials private and
    removed at the end?"""
    notebook = sample_notebook(A, "ada_perfect")
    with ClusterExecutor("local:1") as pool:
        address = pool.client.scheduler.address
        assert address.startswith("tls://127.0.0.1:")   # loopback only, and encrypted
        plain = _refused(address.replace("tls://", "tcp://", 1), None)
        stranger = _refused(address, Security.temporary())   # a self-signed certificate, not the run's CA
        assert plain and stranger
        tls = pool.scheduler.tls
        folder = os.path.dirname(tls.key)
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
        for path in (tls.ca_file, tls.cert, tls.key):
            assert os.path.dirname(path) == folder and stat.S_IMODE(os.stat(path).st_mode) == 0o600
        result = pool.submit(_grade_one, Submission("ada", A, notebook), load_course(), ()).result()
    assert result["score"] == 12 and not result.get("error"), result.get("error")
    assert not os.path.exists(folder)


def _grade_all(tmp_path, capsys, *options: str) -> tuple[int, str]:
    """`grade-all` on the command line (in this process: it stops before any cluster is reached);
    its exit status and what it wrote on stderr."""
    code = main(["grade-all", str(tmp_path / "class"), "--assignment", A, "--out", str(tmp_path / "out"),
                 "--no-progress", *options])
    return code, capsys.readouterr().err


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:9", "127.0.0.1:9"])
def test_a_plain_tcp_scheduler_is_refused_unless_the_instructor_says_so(tmp_path, capsys, address):
    """Is a scheduler without TLS refused in one line that says the risk and the ways out, before
    anything is graded, and allowed when the instructor says so?"""
    (tmp_path / "class").mkdir()
    (tmp_path / "class" / "ada.ipynb").write_bytes(sample_notebook(A, "ada_perfect").read_bytes())
    code, message = _grade_all(tmp_path, capsys, "--scheduler", address)
    assert code == 2 and len(message.strip().splitlines()) == 1, message
    assert f"refusing to grade on {address}" in message and "--tls-ca-file" in message
    assert "--insecure-scheduler" in message and "docs/cluster.md" in message
    assert not (tmp_path / "out" / A / "ada.json").exists()
    allowed = SchedulerAddress.from_options(address, insecure=True)
    assert allowed.address == address and allowed.tls is None


def test_a_tls_scheduler_takes_dasks_configuration_when_no_file_is_given(monkeypatch):
    """Without --tls-* files, are Dask's own TLS settings (its environment variables) enough?"""
    with pytest.raises(ClusterError, match="Expected TLS credentials"):
        SchedulerAddress("tls://127.0.0.1:9")
    with dask.config.set({"distributed.comm.tls.ca-file": "ca.pem", "distributed.comm.tls.client.cert": "cert.pem",
                          "distributed.comm.tls.client.key": "key.pem"}):
        assert SchedulerAddress("tls://127.0.0.1:9").tls is None


@pytest.mark.parametrize("options, expected", [
    (["--scheduler", "tls://127.0.0.1:9"], "Expected TLS credentials for --scheduler tls://127.0.0.1:9"),
    (["--scheduler", "tls://127.0.0.1:9", "--tls-ca-file", "ca.pem"],
     "Expected all three of --tls-ca-file, --tls-cert and --tls-key. Received no --tls-cert, --tls-key"),
    (["--scheduler", "local:1", "--tls-ca-file", "a", "--tls-cert", "b", "--tls-key", "c"],
     "Expected no --tls-* files with --scheduler local:1"),
    (["--scheduler", "tcp://127.0.0.1:9", "--tls-ca-file", "a", "--tls-cert", "b", "--tls-key", "c"],
     "Expected a tls://host:port scheduler with --tls-* files"),
    (["--tls-ca-file", "a", "--tls-cert", "b", "--tls-key", "c"], "Expected --scheduler ADDRESS with --tls-ca-file"),
    (["--insecure-scheduler"], "Expected --scheduler ADDRESS with --insecure-scheduler"),
])
def test_tls_options_that_cannot_work_are_a_clear_error(tmp_path, capsys, options, expected):
    """Are TLS options that are missing, partial or misplaced a one-line error before grading?"""
    (tmp_path / "class").mkdir()
    code, message = _grade_all(tmp_path, capsys, *options)
    assert code == 2 and expected in message and len(message.strip().splitlines()) == 1, message


def test_credentials_are_never_overwritten(tmp_path):
    """Does making credentials in a folder that has some refuse, keeping the old ones?"""
    first = write_credentials(tmp_path / "tls")
    before = open(first.key, "rb").read()
    with pytest.raises(FileExistsError, match="exists already"):
        write_credentials(tmp_path / "tls")
    assert open(first.key, "rb").read() == before

"""The cluster's TLS credentials: a certificate authority of its own and one certificate signed by
it, for the scheduler, the workers and the grader alike. Dask's TLS is mutual: an endpoint admits
a peer only if the peer shows a certificate signed by that CA, so whoever lacks the key (a student's
code among them) cannot talk to the cluster at all.

`grade-all --scheduler local:N` makes a fresh set for each run in a folder only its user can
read, and removes it when the cluster closes (`executor.ClusterExecutor`). For a cluster across
machines, make a set once and copy it to every machine (docs/cluster.md):

    python -m autograder.cluster.credentials FOLDER [--days 365]
"""
from __future__ import annotations

import datetime
import ipaddress
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

CA_FILE, CERT_FILE, KEY_FILE = "ca.pem", "cert.pem", "key.pem"


@dataclass(frozen=True)
class TLSFiles:
    """The three files a Dask endpoint needs: the CA's certificate, its own certificate, its key."""
    ca_file: str
    cert: str
    key: str

    def security(self):
        """Dask's `Security` for every role (scheduler, worker, client), encryption required."""
        from distributed.security import Security

        roles = {f"tls_{role}_{part}": path for role in ("scheduler", "worker", "client")
                 for part, path in (("cert", self.cert), ("key", self.key))}
        return Security(tls_ca_file=self.ca_file, require_encryption=True, **roles)


def write_credentials(folder: str | Path, *, days: int = 1, name: str = "autograder grading cluster") -> TLSFiles:
    """Make a CA and a certificate signed by it, in `folder` (created mode 0700; files 0600).

    Args:
        folder: where to write ca.pem, cert.pem and key.pem (made if missing; an existing folder
            is made 0700 too). The CA's own key is not kept: nobody can sign another certificate.
        days: how long the certificates are valid.
        name: the certificates' common name.

    Returns:
        The paths of the three files.

    Raises:
        FileExistsError: `folder` already holds one of the files (credentials are never overwritten:
            machines that hold the old ones would be locked out).
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    folder = Path(folder)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    files = TLSFiles(*(str(folder / f) for f in (CA_FILE, CERT_FILE, KEY_FILE)))
    for path in (files.ca_file, files.cert, files.key):
        if os.path.lexists(path):
            raise FileExistsError(f"Expected a folder without TLS credentials; {path} exists already. Remove the "
                                  "old set everywhere or write the new one into another folder.")
    now = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)   # clocks differ a little
    until = now + datetime.timedelta(days=days)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(until)
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(until)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            # Dask checks no host name (its peers are often IP addresses); these are for other tools.
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                           critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    _write_private(files.ca_file, ca.public_bytes(pem))
    _write_private(files.cert, cert.public_bytes(pem))
    _write_private(files.key, key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                serialization.NoEncryption()))
    return files


def _write_private(path: str, data: bytes) -> None:
    """Write a new file readable by its owner only (created 0600, never through an existing name)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


class RunCredentials:
    """A fresh set of credentials for one `local:N` cluster, in a private temporary folder removed by `close`."""

    def __init__(self):
        self.folder = tempfile.mkdtemp(prefix="autograder-tls-")   # mode 0700
        try:
            self.files = write_credentials(self.folder)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m autograder.cluster.credentials",
                                     description="Make TLS credentials for a Dask grading cluster (docs/cluster.md).")
    parser.add_argument("folder", help="where to write ca.pem, cert.pem and key.pem (made mode 0700)")
    parser.add_argument("--days", type=int, default=365, help="validity in days (default: 365)")
    args = parser.parse_args(argv)
    try:
        files = write_credentials(args.folder, days=args.days)
    except FileExistsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"--tls-ca-file {files.ca_file} --tls-cert {files.cert} --tls-key {files.key}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

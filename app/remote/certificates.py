"""Certificates for mutual TLS between the app and its workers (Dask's own TLS security).

``make_certificates(folder)`` writes a private certificate authority and two key pairs it
signed: one for the worker side (scheduler and workers) and one for the app side (client).
Dask requires a certificate from both ends of every connection, so only holders of
``client-key.pem`` (the authentication secret) can submit work.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

from latent_atelier.app.remote.addresses import CERT_FILES, WORKER_CERT_FILES

VALID_DAYS = 3650


def _key() -> Any:
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1())


def _name(common: str) -> Any:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _certificate(subject: str, key: Any, issuer: str, issuer_key: Any, ca: bool) -> Any:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    now = dt.datetime.now(dt.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    return builder.sign(issuer_key, hashes.SHA256())


def _write(path: Path, data: bytes, secret: bool) -> None:
    path.write_bytes(data)
    if secret:
        os.chmod(path, 0o600)


def make_certificates(folder: str | Path) -> list[Path]:
    """Write ``ca.pem``, ``worker.pem``/``worker-key.pem`` and ``client.pem``/``client-key.pem``
    into ``folder`` (created; existing files are not overwritten). Returns the paths."""
    from cryptography.hazmat.primitives import serialization

    out = Path(folder).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    names = sorted({*CERT_FILES, *WORKER_CERT_FILES})
    existing = [n for n in names if (out / n).exists()]
    if existing:
        raise FileExistsError(f"{out} already holds {', '.join(existing)}: use another folder")
    pem = serialization.Encoding.PEM
    ca_key = _key()
    ca = _certificate("latent-atelier CA", ca_key, "latent-atelier CA", ca_key, ca=True)
    _write(out / "ca.pem", ca.public_bytes(pem), secret=False)
    for role in ("worker", "client"):
        key = _key()
        cert = _certificate(f"latent-atelier {role}", key, "latent-atelier CA", ca_key, ca=False)
        _write(out / f"{role}.pem", cert.public_bytes(pem), secret=False)
        key_bytes = key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        _write(out / f"{role}-key.pem", key_bytes, secret=True)
    return [out / n for n in names]


def dask_security(folder: Path | None, role: str) -> Any:
    """A ``distributed.Security`` for ``role`` ("client" or "worker"); None for plain TCP."""
    if folder is None:
        return None
    from distributed import Security

    cert, key = str(folder / f"{role}.pem"), str(folder / f"{role}-key.pem")
    kwargs = {"tls_ca_file": str(folder / "ca.pem"), "tls_client_cert": cert, "tls_client_key": key}
    if role == "worker":
        kwargs.update(
            tls_scheduler_cert=cert, tls_scheduler_key=key, tls_worker_cert=cert, tls_worker_key=key
        )
    return Security(require_encryption=True, **kwargs)

"""Worker addresses: what may be reached without ceremony, and what needs TLS (no Dask import).

Loopback (127.0.0.0/8, ::1, localhost) is the user's own machine: plain TCP is fine. Any
other address must use ``tls://`` with a certificate folder (mutual TLS: the worker only
talks to holders of a client key signed by its own certificate authority), else it is refused
with :data:`SETUP_ADVICE`.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PORT = 8786
SCHEMES = ("tcp", "tls")
CERT_FILES = ("ca.pem", "client.pem", "client-key.pem")  # what the app's side needs
WORKER_CERT_FILES = ("ca.pem", "worker.pem", "worker-key.pem")  # what the worker side needs

SETUP_ADVICE = (
    "On the GPU machine run `latent-atelier-worker --make-certs certs/` once, start the worker "
    "with `latent-atelier-worker --listen tls://0.0.0.0:{port} --tls-dir certs/`, copy "
    "certs/ca.pem, certs/client.pem and certs/client-key.pem to this machine (keep "
    "client-key.pem secret: it is the password), and give that folder as the worker's "
    "certificate folder (preference 'worker_tls_dir', or --tls-dir on the command line)."
)


class RemoteSetupError(ValueError):
    """A worker address or its security settings cannot be used; the message says what to do."""


@dataclass(frozen=True)
class WorkerAddress:
    """A parsed ``scheme://host:port``."""

    scheme: str
    host: str
    port: int

    @property
    def url(self) -> str:
        """The address as Dask writes it."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    @property
    def is_loopback(self) -> bool:
        """True for this machine only (127.0.0.0/8, ::1, localhost)."""
        if self.host.lower() == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


def parse_address(text: str) -> WorkerAddress:
    """``[tcp|tls://]host[:port]`` (default scheme tcp, default port 8786)."""
    text = (text or "").strip()
    if not text:
        raise RemoteSetupError("no worker address given (e.g. tcp://127.0.0.1:8786)")
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "tcp", text
    scheme = scheme.lower()
    if scheme not in SCHEMES:
        raise RemoteSetupError(f"worker address {text!r}: the scheme must be tcp:// or tls://")
    if rest.startswith("["):  # [v6]:port
        host, _, tail = rest[1:].partition("]")
        port_text = tail.lstrip(":")
    elif rest.count(":") == 1:
        host, port_text = rest.split(":")
    else:
        host, port_text = rest, ""
    if not host:
        raise RemoteSetupError(f"worker address {text!r} has no host")
    try:
        port = int(port_text) if port_text else DEFAULT_PORT
    except ValueError:
        raise RemoteSetupError(f"worker address {text!r}: the port must be a number") from None
    if not 0 <= port <= 65535:
        raise RemoteSetupError(f"worker address {text!r}: the port must be 0..65535")
    return WorkerAddress(scheme, host, port)


def check_secure(
    address: WorkerAddress, tls_dir: str | Path | None, files: tuple[str, ...] = CERT_FILES
) -> Path | None:
    """The certificate folder to use for ``address`` (None: plain loopback TCP).

    Raises :class:`RemoteSetupError` for a non-loopback address without ``tls://`` or
    without a folder holding ``files``.
    """
    advice = SETUP_ADVICE.format(port=address.port or DEFAULT_PORT)
    if address.scheme == "tcp":
        if address.is_loopback:
            return None
        raise RemoteSetupError(
            f"refusing unencrypted {address.url}: only this machine's own (loopback) address "
            f"may be used without TLS and a secret. {advice}"
        )
    if tls_dir is None or not str(tls_dir).strip():
        raise RemoteSetupError(f"{address.url} needs a certificate folder. {advice}")
    folder = Path(tls_dir).expanduser()
    missing = [name for name in files if not (folder / name).is_file()]
    if missing:
        raise RemoteSetupError(f"the certificate folder {folder} lacks {', '.join(missing)}. {advice}")
    return folder

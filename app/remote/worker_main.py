"""``latent-atelier-worker``: serve Operations to the app from this (GPU) machine.

    latent-atelier-worker --listen tcp://127.0.0.1:8786           # this machine only
    latent-atelier-worker --make-certs certs/                      # once, for the network
    latent-atelier-worker --listen tls://0.0.0.0:8786 --tls-dir certs/

Starts a Dask scheduler on the address and ``--workers`` worker processes beside it, then
waits until Ctrl-C. Any address but loopback needs ``tls://`` and the certificate folder.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from latent_atelier.app.remote.addresses import (
    WORKER_CERT_FILES,
    RemoteSetupError,
    check_secure,
    parse_address,
)


def build_parser() -> argparse.ArgumentParser:
    """The worker's command line."""
    p = argparse.ArgumentParser(
        prog="latent-atelier-worker", description="Serve Operations to the app from this (GPU) machine."
    )
    p.add_argument(
        "--listen", default=None, help="address to serve on, e.g. tcp://127.0.0.1:8786 or tls://0.0.0.0:8786"
    )
    p.add_argument(
        "--tls-dir", default=None, help="folder with ca.pem, worker.pem, worker-key.pem (from --make-certs)"
    )
    p.add_argument(
        "--make-certs",
        metavar="DIR",
        default=None,
        help="write a new certificate authority and worker/client keys into DIR, then exit",
    )
    p.add_argument("--workers", type=int, default=1, help="worker processes (default 1 per GPU)")
    p.add_argument("--threads", type=int, default=1, help="jobs at once per worker process")
    p.add_argument(
        "--device",
        default=None,
        help="device for every job: cpu, cuda, cuda:N, mps (default: best available)",
    )
    return p


def _serve(url: str, folder, workers: int, threads: int, device: str | None) -> None:
    import dask

    from latent_atelier.app.remote.certificates import dask_security
    from latent_atelier.app.remote.session import LOCAL_HTTP, dask_settings, import_distributed

    distributed = import_distributed()
    scheme, _, rest = url.partition("://")
    host, _, port = rest.rpartition(":")
    env = {"LATENT_ATELIER_DEVICE": device} if device else {}
    settings = {**dask_settings(), "distributed.nanny.environ": env}
    with dask.config.set(settings):
        cluster = distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=threads,
            processes=True,
            host=host.strip("[]"),
            scheduler_port=int(port),
            protocol=f"{scheme}://",
            security=dask_security(folder, "worker"),
            dashboard_address=LOCAL_HTTP,
            silence_logs=logging.WARNING,
        )
    print(
        f"latent-atelier worker: {workers} process(es) serving at {cluster.scheduler_address}; Ctrl-C stops",
        flush=True,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        cluster.close()


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``latent-atelier-worker``."""
    args = build_parser().parse_args(argv)
    try:
        if args.make_certs:
            from latent_atelier.app.remote.certificates import make_certificates

            for path in make_certificates(args.make_certs):
                print(f"wrote {path}")
            print(
                "Keep worker-key.pem on this machine; copy ca.pem, client.pem and "
                "client-key.pem to the app's machine (client-key.pem is the secret)."
            )
            return 0
        if not args.listen:
            raise RemoteSetupError("give --listen ADDRESS (e.g. tcp://127.0.0.1:8786), or --make-certs DIR")
        if args.workers < 1 or args.threads < 1:
            raise RemoteSetupError("--workers and --threads must be at least 1")
        address = parse_address(args.listen)
        folder = check_secure(address, args.tls_dir, WORKER_CERT_FILES)
        _serve(address.url, folder, args.workers, args.threads, args.device)
        return 0
    except (RemoteSetupError, FileExistsError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())

"""`latent-atelier-worker --listen tcp://127.0.0.1:PORT` starts a worker in one command; the app
connects to it, and SIGTERM stops it cleanly."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

from latent_atelier.app.remote.addresses import RemoteSetupError
from latent_atelier.app.remote.session import RemoteSession


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_worker_command_serves_jobs_and_stops_on_sigterm() -> None:
    address = f"tcp://127.0.0.1:{_free_port()}"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "latent_atelier.app.remote.worker_main",
            "--listen",
            address,
            "--device",
            "cpu",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 180
        session = None
        while session is None:
            assert proc.poll() is None, proc.stdout.read()
            try:
                session = RemoteSession.connect(address, timeout_s=5)
            except RemoteSetupError:
                assert time.monotonic() < deadline, "the worker did not come up in 180 s"
                time.sleep(1)
        with session:
            session.client.wait_for_workers(1, timeout=180)
            info = session.model_info("random:stylegan2:32:0:16")
            assert (info["arch"], info["resolution"], info["device"]) == ("stylegan2", 32, "cpu")
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0
        assert f"serving at {address}" in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

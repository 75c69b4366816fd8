"""The real application in a child process: its environment (offscreen, settings and state in
a temporary folder), reading its progress lines, killing it, and recovery files of a dead
session for it to find."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEAD_SESSION = "999999999-dead"  # a process id no system hands out


def app_env(tmp: Path) -> dict[str, str]:
    """Offscreen, one compute thread, settings and state under ``tmp``."""
    return {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_CONFIG_HOME": str(tmp / "config"),
        "XDG_STATE_HOME": str(tmp / "state"),
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": str(REPO),
    }


def recovery_folder(tmp: Path) -> Path:
    """Where an app started with :func:`app_env` keeps its recovery files."""
    return tmp / "state" / "latent-atelier" / "recovery"


def start_app(driver: str, tmp: Path, *args: str) -> subprocess.Popen:
    """Run the Python ``driver`` source with ``args``; stdout and stderr are read as text."""
    return subprocess.Popen(
        [sys.executable, "-c", driver, *args],
        cwd=REPO,
        env=app_env(tmp),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_app(driver: str, tmp: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the Python ``driver`` source with ``args`` to its end; its output is captured as text."""
    return subprocess.run(
        [sys.executable, "-c", driver, *args],
        cwd=REPO,
        env=app_env(tmp),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def wait_for_line(proc: subprocess.Popen, marker: str, timeout: float) -> str:
    """The first stdout line starting with ``marker``; kills the app and fails if none comes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith(marker):
            return line
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise AssertionError(f"the app never printed {marker}: {proc.stderr.read()[-2000:]}")


def sigkill(proc: subprocess.Popen) -> None:
    """Kill the app as a crash would, and check it died of that."""
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    proc.stdout.close()
    proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL


def write_dead_session_recovery(folder: Path) -> Path:
    """A recovery file left by a session whose process is gone; returns its ``.ora``."""
    import numpy as np

    from latent_atelier.app.document.document import Document
    from latent_atelier.app.document.recovery import RecoveryStore

    dead = RecoveryStore(folder, session_id=DEAD_SESSION)
    doc = Document.from_image(np.zeros((8, 8, 3), np.float32))
    dead.write(dead.snapshot(doc))
    note = folder / f"{DEAD_SESSION}.json"
    note.write_text(note.read_text().replace(f'"pid": {os.getpid()}', '"pid": 999999999'))
    return folder / f"{DEAD_SESSION}.ora"

"""`latent-atelier --quit-after-start` shows the window and exits 0 (the bundle's start check),
and never waits on a question nobody is there to answer."""

from __future__ import annotations

import subprocess
import sys
import time

from tests.gui.app_process import app_env, recovery_folder, write_dead_session_recovery


def _quit_after_start(tmp_path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "latent_atelier.app.qt.main", "--quit-after-start"],
        env=app_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_quit_after_start_shows_the_window_and_exits(tmp_path) -> None:
    proc = _quit_after_start(tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "window shown: astronaut" in proc.stdout


def test_a_scripted_start_skips_the_recovery_question_and_keeps_the_file(tmp_path) -> None:
    left_over = write_dead_session_recovery(recovery_folder(tmp_path))
    t0 = time.monotonic()
    proc = _quit_after_start(tmp_path)  # a modal question would hang until the timeout
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert time.monotonic() - t0 < 60
    assert "window shown: astronaut" in proc.stdout
    assert left_over.exists()  # still offered at the next interactive start

"""`latent-atelier --quit-after-start` shows the window and exits 0 (the bundle's start check)."""

from __future__ import annotations

import os
import subprocess
import sys


def test_quit_after_start_shows_the_window_and_exits(tmp_path) -> None:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_CONFIG_HOME": str(tmp_path / "c"),
        "XDG_STATE_HOME": str(tmp_path / "s"),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "latent_atelier.app.qt.main", "--quit-after-start"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "window shown: astronaut" in proc.stdout

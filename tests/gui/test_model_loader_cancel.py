"""A stuck or slow model load: it can be cancelled, a new load then works, and the app
quits cleanly while it still runs (the old QThread loader aborted the process)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from PySide6.QtCore import QSettings

from latent_atelier.app.qt.models.model_manager import ModelManager

REPO = Path(__file__).resolve().parents[2]


def test_a_stuck_load_is_cancelled_and_the_next_load_works(qtbot, tmp_path, monkeypatch):
    import latent_atelier.models.zoo as zoo

    release = threading.Event()
    real = zoo.load_model

    def slow(spec, device=None, **kw):
        if str(spec).endswith("stuck.pkl"):
            release.wait(60)  # a load that does not come back by itself
            return real("random:stylegan2:32:7:32", device)
        return real(spec, device, **kw)

    monkeypatch.setattr(zoo, "load_model", slow)
    manager = ModelManager(QSettings(str(tmp_path / "m.ini"), QSettings.Format.IniFormat))
    loaded: list = []
    manager.loaded.connect(loaded.append)
    manager.load_async(tmp_path / "stuck.pkl")
    assert manager.is_loading
    with qtbot.waitSignal(manager.failed, timeout=5_000) as blocker:
        assert manager.cancel_load()
    assert "cancelled" in blocker.args[0] and not manager.is_loading
    with qtbot.waitSignal(manager.loaded, timeout=60_000):
        manager.load_async("random:stylegan2:32:0:32")
    assert manager.info.name == "random:stylegan2:32:0:32"
    release.set()  # the stuck load finishes late: its result is dropped
    time.sleep(0.5)
    qtbot.wait(200)
    assert manager.info.name == "random:stylegan2:32:0:32" and len(loaded) == 1


QUIT_DRIVER = """
import sys, time
import latent_atelier.models.zoo as zoo
def stuck(spec, device=None, **kw):
    while True:  # a load that never ends
        time.sleep(0.05)
zoo.load_model = stuck
from PySide6.QtCore import QTimer
from latent_atelier.app.qt.main import build_window
app, w = build_window(["--no-sample"])
manager = w.operations.manager
manager.load_async("/nowhere/stuck.pkl")
print("LOADING", manager.is_loading, flush=True)
QTimer.singleShot(300, w.close)
QTimer.singleShot(300, app.quit)
t0 = time.monotonic()
app.exec()
print("QUIT", round(time.monotonic() - t0, 2), flush=True)
"""


def test_the_app_quits_cleanly_while_a_load_is_stuck(tmp_path):
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_CONFIG_HOME": str(tmp_path / "c"),
        "XDG_STATE_HOME": str(tmp_path / "s"),
    }
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", QUIT_DRIVER], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "LOADING True" in proc.stdout and "QUIT" in proc.stdout
    quit_s = float(proc.stdout.split("QUIT")[1].split()[0])
    assert quit_s < 10, proc.stdout  # closing waits at most ~2 s for the loader
    assert "Destroyed while thread" not in proc.stderr and "Aborted" not in proc.stderr
    assert time.monotonic() - t0 < 120


def test_model_menu_stops_a_stuck_load(window, qtbot, tmp_path, monkeypatch):
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QFileDialog

    import latent_atelier.models.zoo as zoo

    release = threading.Event()
    monkeypatch.setattr(zoo, "load_model", lambda spec, device=None, **kw: release.wait(60))
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", staticmethod(lambda *_a, **_k: (str(tmp_path / "stuck.pkl"), ""))
    )
    manager = window.operations.manager
    stop = window.findChild(QAction, "stop_model_load")
    assert stop is not None and not stop.isEnabled()
    load = next(a for a in window.findChildren(QAction) if a.text() == "&Load model…")
    load.trigger()  # Model > Load model..., the dialog answering stuck.pkl
    qtbot.waitUntil(lambda: manager.is_loading and stop.isEnabled(), timeout=5_000)
    stop.trigger()  # Model > Stop loading the model
    assert not manager.is_loading and not stop.isEnabled()
    assert "stuck.pkl" not in manager.status_text()
    release.set()

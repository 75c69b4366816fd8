"""A window closed while the operations are still being found (they import torch, which takes
seconds on a cold start) is not called back once it is gone."""

from __future__ import annotations

import threading

from PySide6.QtCore import QCoreApplication, QEvent, QSettings

from latent_atelier.app.document.preferences import Preferences
from latent_atelier.app.document.recovery import RecoveryStore
from latent_atelier.app.qt.main_window import MainWindow
from latent_atelier.app.qt.operations import controller as controller_module


def test_closing_the_window_before_discovery_ends_raises_nothing(qtbot, tmp_path, monkeypatch):
    release = threading.Event()
    real = controller_module._find_operations

    def slow_discovery() -> dict:
        release.wait(30)
        return real()

    monkeypatch.setattr(controller_module, "_find_operations", slow_discovery)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(Preferences(), RecoveryStore(tmp_path / "recovery"), settings=settings)
    window.show()
    qtbot.waitExposed(window)
    window.operations.discover_async()
    worker = window.operations._discovery
    assert worker is not None and worker.running
    release.set()  # discovery ends while the window closes; its outcome is still queued
    window.close()
    window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert worker.wait(30000)
    qtbot.wait(200)  # the queued outcome arrives: a call into the deleted window fails the test

"""The editor with "Run jobs on" set to a loopback worker: Run in the operations dock sends the
job there, its result becomes the usual pending layer, and the status bar names the worker."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings, Qt

from latent_atelier.app.document.preferences import Preferences
from latent_atelier.app.document.recovery import RecoveryStore
from latent_atelier.app.qt.jobs.remote_target import close_sessions
from latent_atelier.app.qt.main_window import MainWindow
from latent_atelier.app.qt.resources_path import sample_photo
from latent_atelier.app.remote.session import RemoteSession

MODEL = "random:stylegan2:32:0:16"


@pytest.fixture
def worker_address():
    with RemoteSession.local(n_workers=1) as cluster:
        yield cluster.client.scheduler.address
        close_sessions()


def test_run_in_the_dock_goes_to_the_worker_and_comes_back_as_a_pending_layer(
    qtbot, tmp_path, worker_address
) -> None:
    prefs = Preferences(worker_address=worker_address, autosave_seconds=0)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(prefs, RecoveryStore(tmp_path / "recovery"), settings=settings)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert window.open_path(sample_photo())
    ops = window.operations
    ops.discover_now()
    ops.manager.load_now(MODEL)  # what the worker is told to load (by its spec)
    page = ops.panel.select("embed")
    page.form.set_values({"steps_w": 2, "steps_noise": 0})
    with qtbot.waitSignal(ops.runner.finished, timeout=180_000) as done:
        qtbot.mouseClick(ops.panel.run_button, Qt.MouseButton.LeftButton)
    job, result = done.args
    assert job.remote is not None and job.context["where"].startswith("cpu on ")
    assert "latent" in result.outputs
    qtbot.waitUntil(lambda: ops.pending.active, timeout=10_000)
    assert any(layer.pending for layer in window.document.layers)
    assert f"on {job.context['where']}" in window.status.currentMessage()

"""CPU threads and precision: set in Preferences by keyboard, saved, shown in the status bar,
and used by the next job."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from latent_atelier.models import devices
from tests.gui.conftest import run_embed


def test_preferences_threads_and_precision_reach_the_next_job(ops, qtbot, tmp_path, monkeypatch):
    from latent_atelier.app.document.preferences import Preferences
    from latent_atelier.app.qt.dialogs.preferences_dialog import PreferencesDialog

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setattr(devices, "_policy", devices._policy)
    window = ops.window
    label = ops.status_widget.compute_label
    assert label.text() == "1 thread"  # OMP_NUM_THREADS=1 in the tests; known before torch
    dialog = PreferencesDialog(window.preferences, window)
    assert dialog.threads.specialValueText().startswith("every core")
    dialog.show()
    dialog.threads.setFocus()
    dialog.threads.lineEdit().selectAll()
    qtbot.keyClicks(dialog.threads, "1")
    dialog.precision.setFocus()
    qtbot.keyClicks(dialog.precision, "f")  # keyboard search: "float32"
    ok = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
    assert dialog.result() == dialog.DialogCode.Accepted
    dialog.apply()  # what Edit > Preferences does after OK
    window.preferences.save()
    saved = Preferences.load()
    assert (saved.threads, saved.precision) == (1, "float32")

    run_embed(qtbot, ops)
    qtbot.waitUntil(lambda: label.text() == "1 thread, float32", timeout=10_000)
    assert devices.compute_policy().precision == "float32"


def test_a_damaged_thread_count_in_the_file_falls_back_to_every_core(tmp_path):
    from latent_atelier.app.document.preferences import Preferences

    path = tmp_path / "preferences.json"
    path.write_text('{"threads": -3, "precision": "fp4", "undo_budget_mb": 512}')
    prefs = Preferences.load(path)
    assert (prefs.threads, prefs.precision, prefs.undo_budget_mb) == (0, "auto", 512)

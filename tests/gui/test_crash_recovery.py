"""Kill the running app with SIGKILL after an autosave; the next start offers the work back."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gui.app_process import (
    app_env,
    recovery_folder,
    run_app,
    sigkill,
    start_app,
    wait_for_line,
    write_dead_session_recovery,
)
from tests.gui.conftest import SAMPLE

# Starts the real application (build_window is what `latent-atelier FILE` runs), paints a
# stroke with mouse events on the canvas, shortens the autosave period, and reports.
DRIVER = """
import sys
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from latent_atelier.app.qt.main import build_window

app, w = build_window([sys.argv[1]])
w.add_layer("paint")
w.brush_settings.color = (1.0, 0.0, 1.0)
c = w.canvas
def at(x, y):
    p = c.doc_to_widget(x, y)
    return QPoint(round(p.x()), round(p.y()))
QTest.mousePress(c, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(100, 150))
for i in range(1, 11):
    QTest.mouseMove(c, at(100 + 30 * i, 150))
QTest.mouseRelease(c, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(400, 150))
w.autosave.written.connect(lambda p: print("AUTOSAVED", p, flush=True))
w.autosave.set_interval(0.5)
print("PAINTED", flush=True)
app.exec()
"""


def test_sigkill_after_autosave_then_restart_recovers_the_stroke(tmp_path, monkeypatch, qtbot) -> None:
    proc = start_app(DRIVER, tmp_path, str(SAMPLE))
    try:
        wait_for_line(proc, "PAINTED", 60)
        saved = wait_for_line(proc, "AUTOSAVED", 30).split(maxsplit=1)[1].strip()
        assert Path(saved).exists()
    finally:
        sigkill(proc)

    # restart: the same entry point, in this process, answering "Yes" to the offer
    from PySide6.QtWidgets import QMessageBox

    from latent_atelier.app.qt.main import build_window

    for key, value in app_env(tmp_path).items():
        if key.startswith("XDG_"):
            monkeypatch.setenv(key, value)
    asked: list[str] = []

    def answer_yes(_parent, title, _text, buttons=None, _default=None):
        asked.append(title)
        if buttons is not None and buttons & QMessageBox.StandardButton.Discard:
            return QMessageBox.StandardButton.Discard  # the unsaved-changes prompt at close
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", staticmethod(answer_yes))
    _app, window = build_window([str(SAMPLE)])
    qtbot.addWidget(window)
    assert asked == ["Recover unsaved work?"]
    doc = window.document
    assert [lay.kind.value for lay in doc.layers] == ["photo", "paint"]
    paint = doc.layers[1].pixels
    assert paint[150, 250, 3] > 0.9 and paint[150, 250, 0] > 0.9 and paint[150, 250, 1] < 0.1
    assert paint[300, 250, 3] == 0
    assert doc.dirty  # recovered work is unsaved until the user saves it
    assert window.close()
    assert asked[-1] == "Unsaved changes"
    assert not list(recovery_folder(tmp_path).glob("*.ora"))  # a clean close discards the recovery files


def test_declining_recovery_discards_it(make_window, tmp_path, monkeypatch) -> None:
    recovery = tmp_path / "rec"
    write_dead_session_recovery(recovery)
    window = make_window(recovery_dir=recovery)
    assert not window.offer_recovery()  # the autouse fixture answers "No"
    assert not list(recovery.glob("*.ora"))


@pytest.mark.parametrize("with_file", [False, True])
def test_startup_does_not_import_torch(tmp_path, with_file) -> None:
    script = (
        "import sys, json\n"
        "from latent_atelier.app.qt.main import build_window\n"
        "app, w = build_window(sys.argv[1:])\n"
        "print(json.dumps({'torch': 'torch' in sys.modules, 'visible': w.isVisible(),"
        " 'layers': len(w.document.layers) if w.document else 0}))\n"
    )
    args = [str(SAMPLE)] if with_file else ["--no-sample"]
    out = run_app(script, tmp_path, *args)
    assert out.returncode == 0, out.stderr[-2000:]
    import json

    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"torch": False, "visible": True, "layers": 1 if with_file else 0}


def test_autosave_writes_only_new_changes_and_save_discards(window, tmp_path) -> None:
    from tests.gui.conftest import drag, line

    autosave = window.autosave
    assert not autosave.autosave_now()  # freshly opened: nothing to save
    window.add_layer("paint")
    drag(window, line(50, 50, 200, 50))
    assert autosave.autosave_now()
    autosave.wait()
    ora = autosave.store.ora_path
    assert ora.exists()
    assert not autosave.autosave_now()  # unchanged since the last autosave
    drag(window, line(50, 80, 200, 80))
    assert autosave.autosave_now()
    autosave.wait()
    assert window.save_to(tmp_path / "saved.ora")
    assert not ora.exists()  # a real save makes the recovery copy unnecessary

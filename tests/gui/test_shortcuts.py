"""Every keyboard shortcut of the window, typed over the canvas as a person does, with its
effect checked (the tool keys are in test_tools.py)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog
from test_menus import close_next_dialog

from latent_atelier.app.document.layers import LayerKind
from tests.gui.conftest import SAMPLE, drag, line

CTRL, SHIFT, ALT = (
    Qt.KeyboardModifier.ControlModifier,
    Qt.KeyboardModifier.ShiftModifier,
    Qt.KeyboardModifier.AltModifier,
)


def type_keys(window, key: Qt.Key, mods=Qt.KeyboardModifier.NoModifier) -> None:
    """The key (with modifiers) typed while the pointer is over the canvas."""
    window.activateWindow()
    QTest.qWaitForWindowActive(window)  # after a dialog closed, the window is active again
    window.canvas.setFocus()
    QTest.keyClick(window.canvas, key, mods)


def test_every_shortcut_is_covered_here_or_in_test_tools(window) -> None:
    tested = {
        "Ctrl+Z",
        "Ctrl+Shift+Z",
        "Ctrl+Y",
        "Ctrl+0",
        "Ctrl+1",
        "Ctrl++",
        "Ctrl+=",
        "Ctrl+-",
        "Alt+M",
        "Alt+H",
        "Ctrl+Shift+N",
        "Ctrl+J",
        "Shift+Del",
        "[",
        "]",
        "F1",
        "Ctrl+N",
        "Ctrl+O",
        "Ctrl+S",
        "Ctrl+Shift+S",
        "Ctrl+E",
        "Ctrl+,",
        "Ctrl+Q",
        "Ctrl+Return",
        "B",
        "E",
        "G",
        "L",
        "I",
    }
    have = {seq.toString() for action in window.actions() for seq in action.shortcuts()}
    assert have <= tested, have - tested


def test_edit_and_layer_shortcuts(window) -> None:
    doc = window.document
    type_keys(window, Qt.Key.Key_N, CTRL | SHIFT)  # add a paint layer
    assert doc.active_layer.kind == LayerKind.PAINT
    layer = doc.active_layer
    drag(window, line(100, 100, 300, 100))
    painted = layer.pixels.copy()
    type_keys(window, Qt.Key.Key_Z, CTRL)
    assert layer.pixels[..., 3].max() == 0
    type_keys(window, Qt.Key.Key_Z, CTRL | SHIFT)
    np.testing.assert_array_equal(layer.pixels, painted)
    type_keys(window, Qt.Key.Key_Z, CTRL)
    type_keys(window, Qt.Key.Key_Y, CTRL)
    np.testing.assert_array_equal(layer.pixels, painted)
    type_keys(window, Qt.Key.Key_J, CTRL)
    assert len(doc.layers) == 3 and doc.active_layer.name.endswith("copy")
    type_keys(window, Qt.Key.Key_Delete, SHIFT)
    assert len(doc.layers) == 2


def test_view_shortcuts(window) -> None:
    canvas = window.canvas
    fitted = canvas.view.zoom  # a new document is shown fitted
    type_keys(window, Qt.Key.Key_1, CTRL)
    assert canvas.view.zoom == pytest.approx(1.0)
    type_keys(window, Qt.Key.Key_Equal, CTRL)
    assert canvas.view.zoom > 1.0
    type_keys(window, Qt.Key.Key_Minus, CTRL)
    type_keys(window, Qt.Key.Key_Minus, CTRL)
    assert canvas.view.zoom < 1.0
    type_keys(window, Qt.Key.Key_0, CTRL)
    assert canvas.view.zoom == pytest.approx(fitted)
    type_keys(window, Qt.Key.Key_M, ALT)
    assert not canvas.show_masks
    type_keys(window, Qt.Key.Key_M, ALT)
    assert canvas.show_masks
    type_keys(window, Qt.Key.Key_H, ALT)
    assert canvas.hide_photo


def test_brush_size_keys(window) -> None:
    window.brush_settings.size = 20.0
    type_keys(window, Qt.Key.Key_BracketRight)
    assert window.brush_settings.size == 25.0
    type_keys(window, Qt.Key.Key_BracketLeft)
    assert window.brush_settings.size == 20.0


def test_file_and_help_shortcuts(window, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    answers = {"save": "", "open": ""}
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *_a, **_k: (answers["save"], "")))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *_a, **_k: (answers["open"], "")))
    answers["save"] = str(tmp_path / "p.ora")
    type_keys(window, Qt.Key.Key_S, CTRL)  # first save: asks where
    assert (tmp_path / "p.ora").exists() and not window.document.dirty
    answers["save"] = str(tmp_path / "q.ora")
    type_keys(window, Qt.Key.Key_S, CTRL | SHIFT)
    assert (tmp_path / "q.ora").exists()
    answers["save"] = str(tmp_path / "flat.png")
    type_keys(window, Qt.Key.Key_E, CTRL)
    assert (tmp_path / "flat.png").exists()
    answers["open"] = str(SAMPLE)
    type_keys(window, Qt.Key.Key_N, CTRL)
    assert window.document.path is None or str(window.document.path) == str(SAMPLE)
    answers["open"] = str(tmp_path / "p.ora")
    type_keys(window, Qt.Key.Key_O, CTRL)
    assert window.document.path == tmp_path / "p.ora"
    for key, mods, title in (
        (Qt.Key.Key_F1, Qt.KeyboardModifier.NoModifier, "Keyboard shortcuts"),
        (Qt.Key.Key_Comma, CTRL, "Preferences"),
    ):
        seen: list[str] = []
        close_next_dialog(seen)
        type_keys(window, key, mods)
        assert seen == [title]


def test_run_and_quit_shortcuts(qtbot, window, ops) -> None:
    page = ops.panel.select("embed")
    page.form.set_values({"steps_w": 2, "steps_noise": 2})
    with qtbot.waitSignal(ops.runner.finished, timeout=120_000) as blocker:
        type_keys(window, Qt.Key.Key_Return, CTRL)
    assert blocker.args[0].operation.name == "embed"
    ops.pending.discard()
    type_keys(window, Qt.Key.Key_Q, CTRL)
    qtbot.waitUntil(lambda: not window.isVisible())

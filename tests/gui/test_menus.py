"""Every menu entry picked from its menu with the mouse, as a person does, and its effect
checked. File dialogs answer with paths under the test's folder; modal dialogs are closed
by a timer once they show."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QFileDialog
from test_tools import menu_named, pick_from_menu

from latent_atelier.app.document.layers import LayerKind
from tests.gui.conftest import SAMPLE, drag, line

#: every entry of the menu bar, title -> entries; each is picked by a test below
EXERCISED = {
    "File": [
        "New from image…",
        "Open…",
        "Save",
        "Save As (.ora)…",
        "Export flattened (PNG/JPEG/TIFF)…",
        "Export layers as PSD…",
        "Export layer…",
        "Quit",
    ],
    "Edit": ["Undo", "Redo", "Preferences…"],
    "View": [
        "Fit in window",
        "100%",
        "Zoom in",
        "Zoom out",
        "Show mask overlay",
        "Hide the photo (see cut-outs)",
    ],
    "Layer": ["Add paint layer", "Add mask layer", "Add label layer", "Duplicate layer", "Delete layer"],
    "Tools": [
        "Brush",
        "Eraser",
        "Fill bucket",
        "Lasso fill",
        "Colour picker",
        "Smaller brush",
        "Bigger brush",
    ],
    "Model": ["Load model…", "Use the demo model", "Run operation", "Cancel job"],
    "Help": ["Keyboard shortcuts", "About Latent Atelier"],
}


def entries(window, title: str) -> list[str]:
    """The enabled, clickable entries of a menu (no separators, hints or sub-menus)."""
    return [
        a.text().replace("&", "")
        for a in menu_named(window, title).actions()
        if not a.isSeparator() and a.menu() is None and a.isEnabled()
    ]


def pick(window, title: str, text: str) -> None:
    """Click the entry ``text`` of menu ``title``."""
    for action in menu_named(window, title).actions():
        if action.text().replace("&", "") == text:
            assert action.isEnabled(), f"{title} > {text} is greyed out"
            pick_from_menu(window, title, action)
            return
    raise AssertionError(f"no '{text}' in the {title} menu")


def close_next_dialog(seen: list[str], accept: bool = True) -> None:
    """When a modal dialog shows, note its title and close it (OK or Cancel)."""

    def close() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(20, close)
            return
        seen.append(dialog.windowTitle())
        dialog.accept() if accept else dialog.reject()

    QTimer.singleShot(0, close)


@pytest.fixture
def dialogs(monkeypatch):
    """File dialogs answer what the test puts in the returned dict ('' = Cancel)."""
    answers = {"save": "", "open": ""}
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *_a, **_k: (answers["save"], "")))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *_a, **_k: (answers["open"], "")))
    return answers


def test_menu_bar_order_and_every_entry_is_exercised(window) -> None:
    titles = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert titles == list(EXERCISED)  # Help last, as in every program
    window.add_layer("paint")  # layer entries enabled
    drag(window, line(10, 10, 50, 10))  # Undo enabled
    window.undo()  # and Redo
    for title, wanted in EXERCISED.items():
        have = entries(window, title)
        assert set(have) == set(wanted), (title, set(have) ^ set(wanted))


def test_file_menu_saves_exports_and_opens(window, dialogs, tmp_path, errors) -> None:
    window.add_layer("paint")
    drag(window, line(100, 100, 300, 100))
    for text, name in (
        ("Save As (.ora)…", "a.ora"),
        ("Export flattened (PNG/JPEG/TIFF)…", "f.png"),
        ("Export layers as PSD…", "l.psd"),
        ("Export layer…", "layer.png"),
    ):
        dialogs["save"] = str(tmp_path / name)
        pick(window, "File", text)
        assert (tmp_path / name).stat().st_size > 0, text
    assert not window.document.dirty  # saved as a.ora
    drag(window, line(100, 200, 300, 200))
    assert window.document.dirty
    pick(window, "File", "Save")  # to the same project, without asking
    assert not window.document.dirty
    dialogs["open"] = str(SAMPLE)
    pick(window, "File", "New from image…")
    assert len(window.document.layers) == 1 and SAMPLE.stem in window.windowTitle()
    dialogs["open"] = str(tmp_path / "a.ora")
    pick(window, "File", "Open…")
    assert len(window.document.layers) == 2 and Path(window.document.path) == tmp_path / "a.ora"
    painted = window.document.layers[1].pixels[..., 3]
    assert painted[200, 200] > 0.5 and painted[100, 200] > 0.5  # both strokes were saved
    assert not errors


def test_file_quit_closes_the_window(window, qtbot) -> None:
    pick(window, "File", "Quit")
    qtbot.waitUntil(lambda: not window.isVisible())


def test_edit_menu_undo_redo_and_preferences(window, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    window.add_layer("paint")
    layer = window.document.active_layer
    drag(window, line(100, 100, 300, 100))
    painted = layer.pixels.copy()
    pick(window, "Edit", "Undo")
    assert layer.pixels[..., 3].max() == 0
    pick(window, "Edit", "Redo")
    np.testing.assert_array_equal(layer.pixels, painted)
    seen: list[str] = []
    close_next_dialog(seen)
    pick(window, "Edit", "Preferences…")
    assert seen == ["Preferences"]
    assert (tmp_path / "config").exists()  # OK saved the preferences file


def test_view_menu_zooms_and_toggles(window) -> None:
    canvas = window.canvas
    fitted = canvas.view.zoom  # a new document is shown fitted
    pick(window, "View", "100%")
    assert canvas.view.zoom == pytest.approx(1.0)
    pick(window, "View", "Zoom in")
    assert canvas.view.zoom > 1.0
    pick(window, "View", "Zoom out")
    pick(window, "View", "Zoom out")
    assert canvas.view.zoom < 1.0
    pick(window, "View", "Fit in window")
    assert canvas.view.zoom == pytest.approx(fitted)
    window.add_layer("mask")
    assert canvas.show_masks
    pick(window, "View", "Show mask overlay")
    assert not canvas.show_masks and not window.actions_.mask_overlay.isChecked()
    pick(window, "View", "Hide the photo (see cut-outs)")
    assert canvas.hide_photo
    canvas.repaint()
    assert canvas.cache.pixel(256, 256)[3] == 0  # the photo is out of the view
    pick(window, "View", "Hide the photo (see cut-outs)")
    canvas.repaint()
    assert canvas.cache.pixel(256, 256)[3] == 255


def test_layer_menu_adds_duplicates_and_deletes(window) -> None:
    doc = window.document
    for text, kind in (
        ("Add paint layer", LayerKind.PAINT),
        ("Add mask layer", LayerKind.MASK),
        ("Add label layer", LayerKind.LABELS),
    ):
        pick(window, "Layer", text)
        assert doc.active_layer.kind == kind
    assert len(doc.layers) == 4
    pick(window, "Layer", "Duplicate layer")
    assert len(doc.layers) == 5 and doc.active_layer.name.endswith("copy")
    pick(window, "Layer", "Delete layer")
    pick(window, "Layer", "Delete layer")
    assert [lay.kind for lay in doc.layers] == [LayerKind.PHOTO, LayerKind.PAINT, LayerKind.MASK]


def test_tools_menu_brush_size(window) -> None:
    window.brush_settings.size = 20.0
    pick(window, "Tools", "Bigger brush")
    assert window.brush_settings.size == 25.0
    pick(window, "Tools", "Smaller brush")
    pick(window, "Tools", "Smaller brush")
    assert window.brush_settings.size == 16.0
    assert window.tool_options.size_slider.value() == 16.0


def test_help_menu_shows_the_shortcuts_and_about(window) -> None:
    seen: list[str] = []
    close_next_dialog(seen)
    pick(window, "Help", "Keyboard shortcuts")
    close_next_dialog(seen)
    pick(window, "Help", "About Latent Atelier")
    assert seen == ["Keyboard shortcuts", "About Latent Atelier"]


def test_model_menu_runs_cancels_and_loads(qtbot, window, ops, dialogs) -> None:
    page = ops.panel.select("embed")
    page.form.set_values({"steps_w": 2, "steps_noise": 2})
    with qtbot.waitSignal(ops.runner.finished, timeout=120_000):
        pick(window, "Model", "Run operation")
    assert ops.pending.active
    ops.pending.discard()
    page.form.set_values({"steps_w": 5000, "steps_noise": 0})
    with qtbot.waitSignal(ops.runner.started, timeout=60_000):
        ops.run_current()
    with qtbot.waitSignal(ops.runner.cancelled, timeout=60_000):
        pick(window, "Model", "Cancel job")
    assert not ops.pending.active
    from latent_atelier.app.qt.models.model_manager import demo_model_path

    if not demo_model_path().exists():
        pytest.skip("no demo model in this checkout")
    dialogs["open"] = ""  # Load model… cancelled: the model stays
    pick(window, "Model", "Load model…")
    assert ops.manager.info.name == "tiny"
    dialogs["open"] = str(demo_model_path())
    with qtbot.waitSignal(ops.manager.loaded, timeout=60_000):
        pick(window, "Model", "Load model…")
    assert ops.manager.info.name == demo_model_path().name
    ops.manager.set_generator(ops.manager.generator, "tiny")
    with qtbot.waitSignal(ops.manager.loaded, timeout=60_000):
        pick(window, "Model", "Use the demo model")
    assert ops.manager.info.name == demo_model_path().name


def test_export_layer_offers_a_file_name_without_a_colon(window, monkeypatch) -> None:
    offered: list[str] = []

    def ask(_parent, _title, start, _filter):  # type: ignore[no-untyped-def]
        offered.append(start)
        return "", ""  # the user cancels

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(ask))
    window.add_layer("mask")
    window.document.set_layer_props(window.document.active_id, name="Cut out subject: alpha")
    pick(window, "File", "Export layer…")
    assert Path(offered[0]).name == "Cut out subject - alpha.png"


def test_file_stem_is_valid_everywhere() -> None:
    from latent_atelier.app.qt.file_names import file_stem

    assert file_stem('a/b\\c*?"<>|: d. ') == "a_b_c______ - d"
    assert file_stem(" ... ") == "untitled"
    assert ":" not in file_stem("x:y") and file_stem("x:y") == "x - y"

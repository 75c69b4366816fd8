"""Layers, history and tool-options docks; drag and drop; shortcuts; preferences."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDropEvent

from latent_atelier.app.qt.docks.layers_dock import LAYER_ID_ROLE, single_move
from tests.gui.conftest import SAMPLE, drag, line


def test_single_move_finds_the_one_moved_layer() -> None:
    assert single_move(["a", "b", "c"], ["c", "a", "b"]) == ("c", 0)
    assert single_move(["a", "b", "c"], ["b", "c", "a"]) == ("a", 2)
    assert single_move(["a", "b", "c"], ["a", "b", "c"]) is None
    assert single_move(["a", "b", "c", "d"], ["b", "a", "d", "c"]) is None


def test_layer_list_shows_stack_top_first_and_edits_props(window) -> None:
    window.add_layer("paint")
    window.add_layer("mask")
    doc = window.document
    lst = window.layers_dock.list
    assert lst.ids_top_first() == [lay.id for lay in reversed(doc.layers)]
    assert lst.item(0).icon().availableSizes() or not lst.item(0).icon().isNull()

    paint_id = lst.item(1).data(LAYER_ID_ROLE)
    lst.item(1).setCheckState(Qt.CheckState.Unchecked)
    assert not doc.layer(paint_id).visible
    lst.item(1).setText("Sketch")
    assert doc.layer(paint_id).name == "Sketch"
    assert lst.item(1).text() == "Sketch" and lst.item(1).data(LAYER_ID_ROLE) == paint_id

    lst.setCurrentRow(2)  # the photo
    assert doc.active_layer.kind.value == "photo"
    window.layers_dock.opacity.setValue(40)
    assert doc.active_layer.opacity == 0.4
    window.layers_dock.opacity.setValue(30)
    assert doc.history.labels()[-1] == "Layer opacity"
    assert doc.history.labels().count("Layer opacity") == 1  # a drag is one undo step
    window.layers_dock.lock_button.setChecked(True)
    assert doc.active_layer.locked


def test_reorder_by_drag_calls_move_layer(window) -> None:
    window.add_layer("paint")
    window.add_layer("mask")
    doc = window.document
    lst = window.layers_dock.list
    top = lst.takeItem(0)  # simulate the result of an internal drag: top row to the bottom
    top_id = top.data(LAYER_ID_ROLE)
    lst.addItem(top)
    lst.order_dropped.emit()
    assert doc.layers[0].id == top_id
    assert doc.history.labels()[-1].startswith("Move")
    assert lst.ids_top_first() == [lay.id for lay in reversed(doc.layers)]
    window.undo()
    assert doc.layers[-1].id == top_id


def test_duplicate_delete_and_history_jump(window) -> None:
    doc = window.document
    window.add_layer("paint")
    drag(window, line(100, 100, 300, 100))
    window.actions_.duplicate.trigger()
    assert len(doc.layers) == 3 and doc.active_layer.name.endswith("copy")
    window.actions_.delete.trigger()
    assert len(doc.layers) == 2
    hist = window.history_dock.list
    assert hist.count() == len(doc.history.steps) + 1
    hist.itemClicked.emit(hist.item(1))  # just after "Add Paint 1"
    assert doc.history.index == 1
    assert doc.layers[-1].pixels[..., 3].max() == 0  # the stroke is undone
    hist.itemClicked.emit(hist.item(hist.count() - 1))
    assert len(doc.layers) == 2 and doc.history.index == len(doc.history.steps)


def _drop(window, paths) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(
        QPoint(400, 300).toPointF(),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(event)


def test_drop_opens_a_document_or_adds_a_background_layer(make_window) -> None:
    w = make_window()
    assert w.document is None
    _drop(w, [SAMPLE])
    assert w.document is not None and len(w.document.layers) == 1
    other = SAMPLE.with_name("coffee.png")
    _drop(w, [other])
    bottom = w.document.layers[0]
    assert bottom.kind.value == "background" and bottom.name == "coffee"
    assert bottom.pixels.shape[:2] == (w.document.height, w.document.width)


def test_shortcuts_table_lists_krita_style_keys(window) -> None:
    from latent_atelier.app.qt.dialogs.shortcuts_dialog import shortcut_rows

    rows = dict(shortcut_rows(window.all_actions()))
    assert rows["Undo"] == "Ctrl+Z"
    assert rows["Redo"].startswith("Ctrl+Shift+Z")
    assert rows["Brush"] == "B" and rows["Eraser"] == "E" and rows["Fill bucket"] == "G"
    assert rows["Fit in window"] == "Ctrl+0" and rows["100%"] == "Ctrl+1"
    assert rows["Show mask overlay"] == "Alt+M"


def test_preferences_dialog_writes_preferences(window, tmp_path, monkeypatch) -> None:
    from latent_atelier.app.document.preferences import Preferences
    from latent_atelier.app.qt.dialogs.preferences_dialog import PreferencesDialog

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    dialog = PreferencesDialog(window.preferences, window)
    dialog.device.setCurrentText("cpu")
    dialog.autosave.setValue(5)  # below the allowed minimum: clamped to 10
    dialog.undo_budget.setValue(256)
    dialog.model_path.setText("/models/ffhq.pt")
    dialog.apply()
    window.apply_preferences()
    window.preferences.save()
    saved = Preferences.load()
    assert (saved.device, saved.autosave_seconds, saved.undo_budget_mb) == ("cpu", 10, 256)
    assert saved.default_model == "/models/ffhq.pt"
    assert window.document.history.budget_bytes == 256 * 1024 * 1024
    assert window.autosave.interval_s == 10


def test_window_state_and_recent_files_persist(make_window, tmp_path) -> None:
    first = make_window()
    first.open_path(SAMPLE)
    first.resize(700, 500)  # the offscreen screen is 800 x 600
    size = (first.width(), first.height())  # 700 x 500 unless the docks' minimum widths say more
    assert size != (800, 600) or size == (700, 500)
    first.close()
    second = make_window()
    assert second.settings.recent_files()[0] == str(SAMPLE.resolve())
    assert (second.width(), second.height()) == size
    recent_menu = second.actions_.recent_menu
    assert recent_menu.actions()[0].text() == SAMPLE.name

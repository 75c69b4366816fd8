"""Every kind of layer has a context menu in the Layers panel (right-click a row): rename,
visible, locked, blend mode, duplicate, delete, export, and the overlay colour for masks
and mattes. Right-clicking makes the row's layer the active one, as in Krita and GIMP."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QFileDialog, QMenu

from latent_atelier.app.document.layers import LayerKind, new_layer
from latent_atelier.app.qt.docks.layers_dock import LAYER_ID_ROLE

KINDS = [kind for kind in LayerKind]


def add_kind(window, kind: LayerKind) -> str:
    """A layer of ``kind`` above the photo; returns its id."""
    doc = window.document
    if kind == LayerKind.PHOTO:
        return doc.layers[0].id
    layer = new_layer(kind, f"{kind.value} layer", size=doc.size)
    doc.add_layer(layer)
    return layer.id


def right_click_and_pick(window, layer_id: str, *path: str) -> list[str]:
    """Right-click the layer's row, pick ``path`` (e.g. "Blend mode", "Multiply") in the menu
    that opens; returns the menu's entries."""
    lst = window.layers_dock.list
    row = lst.ids_top_first().index(layer_id)
    seen: list[str] = []

    def choose() -> None:
        menu = QApplication.activePopupWidget()
        if not isinstance(menu, QMenu):
            QTimer.singleShot(20, choose)
            return
        seen.extend(a.text() for a in menu.actions() if not a.isSeparator())
        current = menu
        for text in path:
            action = next(a for a in current.actions() if a.text().replace("&", "") == text)
            if action.menu() is not None:
                current = action.menu()
                continue
            menu.close()
            action.trigger()
            return
        menu.close()

    QTimer.singleShot(0, choose)
    point = lst.visualItemRect(lst.item(row)).center()
    QTest.mouseClick(lst.viewport(), Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier, point)
    lst.customContextMenuRequested.emit(point)  # offscreen Qt sends no context-menu event
    return seen


@pytest.mark.parametrize("kind", KINDS, ids=[k.value for k in KINDS])
def test_every_layer_kind_has_a_menu_that_sets_its_blend_mode(window, kind) -> None:
    layer_id = add_kind(window, kind)
    window.document.set_active(
        window.document.layers[0].id if kind != LayerKind.PHOTO else window.document.layers[-1].id
    )
    entries = right_click_and_pick(window, layer_id, "Blend mode", "Multiply")
    layer = window.document.layer(layer_id)
    assert layer.blend == "multiply"
    assert window.document.active_id == layer_id
    assert {
        "Rename…",
        "Visible",
        "Locked",
        "Blend mode",
        "Duplicate layer",
        "Delete layer",
        "Export layer…",
    } <= {e.replace("&", "") for e in entries}
    assert ("Overlay colour…" in entries) == kind.is_scalar
    window.document.undo()
    assert layer.blend == "normal"


def test_menu_entries_act_on_the_clicked_row(window, monkeypatch, tmp_path) -> None:
    doc = window.document
    window.add_layer("paint")
    paint = doc.active_id
    window.add_layer("mask")  # the active layer now
    right_click_and_pick(window, paint, "Locked")
    assert doc.layer(paint).locked
    right_click_and_pick(window, paint, "Visible")
    assert not doc.layer(paint).visible
    right_click_and_pick(window, paint, "Duplicate layer")
    assert doc.active_layer.name == "Paint 1 copy" and len(doc.layers) == 4
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *_a, **_k: (str(tmp_path / "p.png"), ""))
    )
    right_click_and_pick(window, doc.layers[0].id, "Export layer…")
    assert (tmp_path / "p.png").stat().st_size > 0
    right_click_and_pick(window, paint, "Delete layer")
    assert paint not in [lay.id for lay in doc.layers]


def test_the_blend_box_under_the_list_sets_the_active_layer(window, qtbot) -> None:
    window.add_layer("paint")
    layer = window.document.active_layer
    combo = window.layers_dock.blend
    combo.activated.emit(combo.findData("screen"))  # what choosing it in the list does
    assert layer.blend == "screen"
    window.document.set_active(window.document.layers[0].id)
    assert combo.currentData() == "normal"
    window.document.set_active(layer.id)
    assert combo.currentData() == "screen"
    rows = window.layers_dock.list
    assert rows.item(0).data(LAYER_ID_ROLE) == layer.id
    assert np.isfinite(window.document.composite()).all()

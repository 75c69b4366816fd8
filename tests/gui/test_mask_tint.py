"""Mask layers in their own overlay colours: distinct on the canvas, changeable, undoable."""

from __future__ import annotations

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QColorDialog

from latent_atelier.app.document.layers import MASK_TINTS
from latent_atelier.app.qt.docks.layers_dock import LAYER_ID_ROLE, OVERLAY_COLOUR_TEXT
from tests.gui.conftest import drag, line


def _stroke_colour(window, y: int) -> tuple[int, int, int, int]:
    drag(window, line(100, y, 400, y))
    window.canvas.repaint()
    return window.canvas.cache.pixel(250, y)


def _swatch_colour(window, layer_id: str) -> QColor:
    """The colour in the corner swatch of the layer's row icon."""
    from latent_atelier.app.qt.docks.layers_dock import TINT_SWATCH_SIZE
    from latent_atelier.app.qt.thumbnails import THUMB_SIZE

    lst = window.layers_dock.list
    row = lst.ids_top_first().index(layer_id)
    image = lst.item(row).icon().pixmap(THUMB_SIZE, THUMB_SIZE).toImage()
    corner = THUMB_SIZE - 1 - TINT_SWATCH_SIZE // 2
    return image.pixelColor(corner, corner)


def test_two_mask_layers_differ_and_the_overlay_colour_is_undoable(window, qtbot, monkeypatch) -> None:
    doc = window.document
    window.actions_.add_mask.trigger()
    first = doc.active_layer
    fg = _stroke_colour(window, 200)
    window.actions_.add_mask.trigger()
    second = doc.active_layer
    bg = _stroke_colour(window, 320)
    assert first.kind.value == second.kind.value == "mask"
    assert (first.tint, second.tint) == MASK_TINTS[:2]
    assert fg[:3] != bg[:3]
    assert fg[1] < bg[1]  # the second (green) stroke is greener than the first (red)

    dock = window.layers_dock
    menu = dock.context_menu(second.id)
    overlay = [a for a in menu.actions() if a.text() == OVERLAY_COLOUR_TEXT]
    assert len(overlay) == 1
    photo = doc.layers[0]
    photo_menu = dock.context_menu(photo.id)  # every layer has a menu, but only masks and
    assert OVERLAY_COLOUR_TEXT not in [a.text() for a in photo_menu.actions()]  # mattes a tint
    assert _swatch_colour(window, second.id).green() > 150

    asked: list[QColor] = []

    def pick(initial, _parent=None, _title="", *_args):
        asked.append(QColor(initial))
        return QColor(40, 80, 250)

    monkeypatch.setattr(QColorDialog, "getColor", staticmethod(pick))
    overlay[0].trigger()
    assert asked and asked[0].green() > 150  # the dialog starts at the current colour
    assert second.tint == (40 / 255, 80 / 255, 250 / 255)
    window.canvas.repaint()
    blue = window.canvas.cache.pixel(250, 320)
    assert blue[2] > bg[2] and blue[1] < bg[1]
    qtbot.waitUntil(lambda: _swatch_colour(window, second.id).blue() > 200, timeout=10_000)

    window.actions_.undo.trigger()
    assert second.tint == MASK_TINTS[1]
    window.canvas.repaint()
    assert window.canvas.cache.pixel(250, 320) == bg
    window.actions_.redo.trigger()
    assert second.tint == (40 / 255, 80 / 255, 250 / 255)

    monkeypatch.setattr(QColorDialog, "getColor", staticmethod(lambda *_a: QColor()))  # cancelled
    steps = len(doc.history.steps)
    dock.choose_overlay_colour(second.id)
    assert second.tint == (40 / 255, 80 / 255, 250 / 255) and len(doc.history.steps) == steps
    assert dock.list.item(0).data(LAYER_ID_ROLE) == second.id

"""After a cut-out: its notes in full under Run, and a check box that shows the trimap it used."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from latent_atelier.app.document.document import Document
from latent_atelier.app.document.layers import LayerKind, new_layer
from tests.gui.conftest import install_tiny_operations


@pytest.fixture
def ops(window):
    controller = install_tiny_operations(window, "furrygan")
    photo = np.full((48, 64, 3), 0.2, np.float32)
    photo[10:40, 20:44] = 0.8
    window.set_document(Document.from_image(photo, "portrait"))
    return controller


def _run_matte(qtbot, ops, values: dict):
    page = ops.panel.select("matte")
    page.form.set_values(values)
    with qtbot.waitSignal(ops.runner.finished, timeout=120_000) as blocker:
        qtbot.mouseClick(ops.panel.run_button, Qt.MouseButton.LeftButton)
    return blocker.args[1]


def _click_box(qtbot, box) -> None:
    """A click on the check box's indicator, where a person clicks."""
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))


def _shown(window, x: int, y: int) -> tuple[int, int, int, int]:
    """What the canvas shows at document pixel (x, y)."""
    window.canvas.repaint()
    return window.canvas.cache.pixel(x, y)


def test_the_trimap_overlay_toggles_and_notes_show_in_full(qtbot, window, ops):
    view = window.matte_view
    assert not view.isVisible()
    empty = _run_matte(qtbot, ops, {"source": "generator", "steps_w": 2, "steps_noise": 1})
    if (empty.outputs["alpha"] >= 0.5).mean() < 0.002:  # a random tiny model draws nothing
        assert "empty" in view.notes.text() and view.notes.isVisibleTo(window)
    ops.pending.discard()
    doc = window.document
    fg = np.zeros((48, 64), np.float32)
    fg[20:30, 28:36] = 1.0
    bg = np.zeros((48, 64), np.float32)
    bg[:4], bg[-4:] = 1.0, 1.0
    doc.add_layer(new_layer(LayerKind.MASK, "fg strokes", pixels=fg))
    doc.add_layer(new_layer(LayerKind.MASK, "bg strokes", pixels=bg))
    result = _run_matte(qtbot, ops, {"source": "painted"})
    assert (result.outputs["alpha"][10:40, 20:44] >= 0.5).mean() > 0.9
    assert view.isVisibleTo(window) and view.show_trimap.isEnabled()
    trimap = view.trimap_layer()
    assert trimap is not None and trimap.pending and not trimap.visible
    y, x = np.unravel_index(np.argmax(trimap.pixels), trimap.pixels.shape[:2])
    assert trimap.pixels[y, x] > 0  # some of the photo is subject or unknown in the trimap
    before = _shown(window, x, y)
    _click_box(qtbot, view.show_trimap)
    assert view.show_trimap.isChecked() and trimap.visible
    shown = _shown(window, x, y)
    _click_box(qtbot, view.show_trimap)
    assert not trimap.visible and _shown(window, x, y) == before
    assert shown != before  # the overlay was drawn on the canvas
    assert view.notes.text() == (
        "; ".join(result.notes)[:1].upper() + "; ".join(result.notes)[1:] + "." if result.notes else ""
    )

"""Open the sample photo, paint a stroke with mouse events, undo and redo it exactly."""

from __future__ import annotations

import numpy as np

from latent_atelier.app.document.layers import LayerKind
from tests.gui.conftest import SAMPLE, drag, line


def test_sample_photo_opens_as_one_photo_layer(window) -> None:
    doc = window.document
    assert doc is not None and len(doc.layers) == 1
    assert doc.layers[0].kind == LayerKind.PHOTO
    assert doc.size == (512, 512)
    assert SAMPLE.stem in window.windowTitle()


def test_stroke_paints_along_the_path_then_undo_redo_are_exact(window) -> None:
    window.add_layer("paint")
    doc = window.document
    layer = doc.active_layer
    assert layer.kind == LayerKind.PAINT
    window.brush_settings.color = (1.0, 0.0, 0.0)
    window.brush_settings.size = 12.0
    before = layer.pixels.copy()
    steps_before = len(doc.history.steps)

    drag(window, line(100, 200, 400, 260))

    after = layer.pixels.copy()
    alpha = after[..., 3]
    for x, y in line(100, 200, 400, 260, n=7):  # every point on the path got paint
        assert alpha[round(y), round(x)] > 0.5, (x, y)
        assert after[round(y), round(x), 0] > 0.9 and after[round(y), round(x), 1] < 0.1
    assert alpha[50, 50] == 0 and alpha[450, 450] == 0  # far from the path: untouched
    assert len(doc.history.steps) == steps_before + 1  # one stroke, one step

    window.actions_.undo.trigger()
    np.testing.assert_array_equal(layer.pixels, before)
    window.actions_.redo.trigger()
    np.testing.assert_array_equal(layer.pixels, after)


def test_canvas_shows_the_stroke_after_repaint(window, qtbot) -> None:
    window.add_layer("paint")
    window.brush_settings.color = (0.0, 0.0, 1.0)
    drag(window, line(60, 60, 200, 60))
    window.canvas.repaint()
    r, _g, b, a = window.canvas.cache.pixel(130, 60)
    assert b > 200 and r < 40 and a == 255


def test_eraser_and_locked_layer(window) -> None:
    window.add_layer("paint")
    layer = window.document.active_layer
    window.brush_settings.color = (0.0, 1.0, 0.0)
    drag(window, line(100, 100, 300, 100))
    assert layer.pixels[100, 200, 3] > 0.5
    window.set_tool(window.canvas.tool_kind.__class__("eraser"))
    drag(window, line(100, 100, 300, 100))
    assert layer.pixels[100, 200, 3] < 0.05
    window.document.set_layer_props(layer.id, locked=True)
    painted = layer.pixels.copy()
    window.set_tool(window.canvas.tool_kind.__class__("brush"))
    drag(window, line(100, 300, 300, 300))
    np.testing.assert_array_equal(layer.pixels, painted)  # locked: nothing changes
    assert "locked" in window.statusBar().currentMessage()


def _tablet_stroke(window, points, pressure: float) -> None:
    from PySide6.QtCore import QEvent, QPointF, Qt
    from PySide6.QtGui import QPointingDevice, QTabletEvent

    canvas = window.canvas
    device = QPointingDevice.primaryPointingDevice()
    kinds = [QEvent.Type.TabletPress] + [QEvent.Type.TabletMove] * (len(points) - 2)
    kinds.append(QEvent.Type.TabletRelease)
    for kind, (x, y) in zip(kinds, points):
        pos = canvas.doc_to_widget(x, y)
        event = QTabletEvent(
            kind, device, pos, QPointF(canvas.mapToGlobal(pos)), pressure,
            0.0, 0.0, 0.0, 0.0, 0.0, Qt.KeyboardModifier.NoModifier,
            Qt.MouseButton.LeftButton, Qt.MouseButton.LeftButton,
        )  # fmt: skip
        canvas.tabletEvent(event)
        assert event.isAccepted()


def test_tablet_pressure_narrows_the_stroke(window) -> None:
    window.add_layer("paint")
    layer = window.document.active_layer
    window.brush_settings.size = 40.0
    window.brush_settings.hardness = 1.0
    _tablet_stroke(window, line(100, 100, 400, 100), pressure=1.0)
    _tablet_stroke(window, line(100, 300, 400, 300), pressure=0.25)
    alpha = layer.pixels[..., 3]
    full = int((alpha[:, 250] > 0.5).sum())
    light = int((alpha[200:, 250] > 0.5).sum())
    assert 36 <= full <= 50  # about the 40 px brush diameter
    assert 0 < light < full / 2
    assert len(window.document.history.steps) == 3  # add layer + two strokes

"""The background's handles on the canvas, dragged with the mouse: inside moves the frame,
a corner scales it about the opposite corner, keeping its aspect ratio."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from latent_atelier.app.qt.compositing.handles import BackgroundHandles


def drag(canvas, start, end, steps: int = 5) -> None:
    left, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    QTest.mousePress(canvas, left, none, start)
    for i in range(1, steps + 1):
        QTest.mouseMove(canvas, start + (end - start) * (i / steps))
    QTest.mouseRelease(canvas, left, none, end)


def at(canvas, x: float, y: float):
    return canvas.doc_to_widget(x, y).toPoint()


@pytest.fixture
def handles(window):
    handles = BackgroundHandles(window.canvas)
    handles.edit((100.0, 80.0, 120.0, 60.0))
    return handles


def test_dragging_inside_moves_the_frame(window, handles) -> None:
    canvas, chosen = window.canvas, []
    handles.rect_chosen.connect(lambda *r: chosen.append(r))
    scale = canvas.view.scale
    drag(canvas, at(canvas, 160, 110), at(canvas, 200, 130))
    assert len(chosen) == 1
    x, y, w, h = chosen[0]
    assert (w, h) == (120.0, 60.0)
    assert x == pytest.approx(140, abs=2 / scale) and y == pytest.approx(100, abs=2 / scale)


def test_dragging_a_corner_scales_about_the_opposite_one(window, handles) -> None:
    canvas, chosen = window.canvas, []
    handles.rect_chosen.connect(lambda *r: chosen.append(r))
    drag(canvas, at(canvas, 220, 140), at(canvas, 280, 170))  # bottom right, +50 %
    x, y, w, h = chosen[0]
    assert (x, y) == (100.0, 80.0)  # the top-left corner stays
    assert w / h == pytest.approx(2.0, rel=1e-6)  # the aspect ratio too
    assert w == pytest.approx(180, rel=0.05)


def test_no_frame_no_drag(window, handles) -> None:
    handles.edit(None)
    chosen: list = []
    handles.rect_chosen.connect(lambda *r: chosen.append(r))
    drag(window.canvas, at(window.canvas, 160, 110), at(window.canvas, 200, 130))
    assert chosen == []

"""Canvas view: zoom about the cursor, fit, 100%, panning, dirty-rect repaints, overlays."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from latent_atelier.app.qt.canvas.view_transform import ViewTransform
from tests.gui.conftest import drag, line, widget_point


def test_zoom_about_keeps_the_point_under_the_cursor() -> None:
    view = ViewTransform(scale=0.5, dx=10, dy=20)
    before = view.to_doc(123, 77)
    view.zoom_about(3.0, 123, 77)
    assert view.scale == pytest.approx(1.5)
    assert view.to_doc(123, 77) == pytest.approx(before)


def test_hundred_percent_means_one_device_pixel_per_document_pixel() -> None:
    view = ViewTransform(device_pixel_ratio=2.0)
    view.set_zoom(1.0, 0, 0)
    assert view.scale == pytest.approx(0.5) and view.zoom == pytest.approx(1.0)


def test_fit_and_actual_pixels_actions(window) -> None:
    canvas = window.canvas
    window.actions_.actual.trigger()
    assert canvas.view.zoom == pytest.approx(1.0)
    window.actions_.fit.trigger()
    x0, y0 = canvas.view.to_widget(0, 0)
    x1, y1 = canvas.view.to_widget(512, 512)
    assert x0 >= 0 and y0 >= 0 and x1 <= canvas.width() and y1 <= canvas.height()
    assert max(x1 - x0, y1 - y0) > 0.8 * min(canvas.width(), canvas.height())
    assert window.status.zoom_label.text().endswith("%")


def _wheel(canvas, pos: QPointF, notches: int, mods=Qt.KeyboardModifier.NoModifier) -> None:
    """A mouse wheel turned ``notches`` clicks over ``pos`` (positive: away from the user)."""
    from PySide6.QtCore import QPoint as P
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    event = QWheelEvent(
        pos,
        canvas.mapToGlobal(pos),
        P(0, 0),
        P(0, 120 * notches),
        Qt.MouseButton.NoButton,
        mods,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(canvas, event)


def test_ctrl_wheel_zooms_around_cursor(window) -> None:
    canvas = window.canvas
    pos = QPointF(widget_point(window, 300, 200))
    doc_before = canvas.widget_to_doc(pos)
    scale = canvas.view.scale
    _wheel(canvas, pos, 2, Qt.KeyboardModifier.ControlModifier)
    assert canvas.view.scale == pytest.approx(scale * 1.25**2)
    assert canvas.widget_to_doc(pos) == pytest.approx(doc_before)


def test_wheel_scrolls_and_shift_wheel_scrolls_sideways(window) -> None:
    window.add_layer("paint")
    canvas = window.canvas
    pos = QPointF(widget_point(window, 300, 200))
    scale, dx, dy = canvas.view.scale, canvas.view.dx, canvas.view.dy
    _wheel(canvas, pos, -2)  # towards the user: the picture moves up (scrolls down)
    assert canvas.view.scale == scale
    assert (canvas.view.dx, canvas.view.dy) == pytest.approx((dx, dy - 120))
    _wheel(canvas, pos, 1, Qt.KeyboardModifier.ShiftModifier)
    assert (canvas.view.dx, canvas.view.dy) == pytest.approx((dx + 60, dy - 120))
    assert canvas.view.scale == scale
    assert window.document.active_layer.pixels[..., 3].max() == 0  # nothing painted


def test_middle_drag_and_space_drag_pan_without_painting(window) -> None:
    window.add_layer("paint")
    layer = window.document.active_layer
    canvas = window.canvas
    start = canvas.view.dx, canvas.view.dy
    mid, none = Qt.MouseButton.MiddleButton, Qt.KeyboardModifier.NoModifier
    QTest.mousePress(canvas, mid, none, QPoint(300, 300))
    QTest.mouseMove(canvas, QPoint(340, 320))
    QTest.mouseRelease(canvas, mid, none, QPoint(340, 320))
    assert (canvas.view.dx - start[0], canvas.view.dy - start[1]) == pytest.approx((40, 20))

    canvas.setFocus()
    QTest.keyPress(canvas, Qt.Key.Key_Space)
    drag(window, line(100, 100, 200, 150))
    QTest.keyRelease(canvas, Qt.Key.Key_Space)
    assert layer.pixels[..., 3].max() == 0  # space-drag panned, it did not paint
    assert canvas.view.dx != start[0] + 40


def test_a_dab_recomputes_only_its_dirty_rect(window) -> None:
    window.add_layer("paint")
    canvas = window.canvas
    canvas.repaint()
    cache = canvas.cache
    assert not cache.has_pending
    before = cache.recomputed_pixels
    window.brush_settings.size = 8
    drag(window, [(256, 256), (258, 256)])
    canvas.repaint()
    touched = cache.recomputed_pixels - before
    assert 0 < touched < 40 * 40  # a few dabs, not the 512 x 512 document


def test_mask_overlay_toggle_and_photo_alone_key(window) -> None:
    window.add_layer("mask")
    drag(window, line(100, 300, 400, 300))
    canvas = window.canvas
    canvas.repaint()
    with_mask = canvas.cache.pixel(250, 300)
    window.actions_.mask_overlay.trigger()  # Alt+M
    assert not canvas.show_masks
    canvas.repaint()
    without = canvas.cache.pixel(250, 300)
    assert with_mask != without
    window.actions_.mask_overlay.trigger()

    window.add_layer("paint")
    window.brush_settings.color = (0.0, 1.0, 0.0)
    drag(window, line(100, 100, 400, 100))
    canvas.repaint()
    painted = canvas.cache.pixel(250, 100)
    canvas.setFocus()
    QTest.keyPress(canvas, Qt.Key.Key_Backslash)
    assert canvas.photo_only
    canvas.repaint()
    photo = canvas.cache.pixel(250, 100)
    QTest.keyRelease(canvas, Qt.Key.Key_Backslash)
    assert not canvas.photo_only
    canvas.repaint()
    assert canvas.cache.pixel(250, 100) == painted != photo


def test_bracket_keys_change_brush_size_and_picker_sets_colour(window) -> None:
    from latent_atelier.app.qt.canvas.tools import ToolKind

    size = window.brush_settings.size
    window.actions_.size_up.trigger()
    assert window.brush_settings.size > size
    window.actions_.size_down.trigger()
    window.actions_.size_down.trigger()
    assert window.brush_settings.size < size
    window.set_tool(ToolKind.PICKER)
    drag(window, [(260, 330)])
    expected = window.document.composite(rect=(260, 330, 1, 1))[0, 0, :3]
    assert window.brush_settings.color == pytest.approx(tuple(expected))
    assert window.brush_settings.color != (0.0, 0.0, 0.0)
    assert "background-color" in window.tool_options.color_button.styleSheet()

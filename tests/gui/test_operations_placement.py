"""The placement box on the canvas: drag/resize it, and operations use it."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from latent_atelier.app.document.document import Document
from latent_atelier.app.qt.operations.slot_pickers import BOX
from latent_atelier.app.qt.placement.geometry import SquareBox
from latent_atelier.editors.placement import Placement
from tests.gui.conftest import install_tiny_operations


@pytest.fixture
def ops(window):
    """A wide 200 x 120 photo (not square) and a tiny 32 px model."""
    controller = install_tiny_operations(window)
    photo = np.random.default_rng(1).random((120, 200, 3), dtype=np.float32)
    window.set_document(Document.from_image(photo, "wide"))
    window.canvas.fit()
    return controller


def press_move_release(canvas, start, end, steps: int = 6) -> None:
    left, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    QTest.mousePress(canvas, left, none, start)
    for i in range(1, steps + 1):
        p = start + (end - start) * (i / steps)
        QTest.mouseMove(canvas, p)
    QTest.mouseRelease(canvas, left, none, end)


def widget_point(window, x, y):
    p = window.canvas.doc_to_widget(x, y)
    return p.toPoint()


def test_default_box_is_the_largest_centred_square(ops):
    box = ops.overlay.box
    assert (box.x, box.y, box.side) == (40.0, 0.0, 120.0)


def test_dragging_moves_and_resizes_the_box_without_painting(qtbot, window, ops):
    ops.panel.place_button.setChecked(True)
    history = window.document.history.index
    pixels = window.document.layers[0].pixels.copy()
    scale = window.canvas.view.scale
    start = widget_point(window, 100, 60)  # inside the box
    end = widget_point(window, 80, 60)
    press_move_release(window.canvas, start, end)
    box = ops.overlay.box
    assert box.x == pytest.approx(40.0 + (end.x() - start.x()) / scale, abs=1e-6)
    assert box.side == 120.0
    corner = widget_point(window, box.x + box.side, box.y + box.side)  # bottom-right
    smaller = widget_point(window, box.x + box.side - 30, box.y + box.side - 30)
    press_move_release(window.canvas, corner, smaller)
    assert ops.overlay.box.side == pytest.approx(120 - 30, abs=2.0)
    assert ops.overlay.box.x == pytest.approx(box.x)  # the top-left corner stays
    assert window.document.history.index == history  # the brush never touched the photo
    assert np.array_equal(window.document.layers[0].pixels, pixels)
    ops.panel.place_button.setChecked(False)
    press_move_release(window.canvas, widget_point(window, 20, 20), widget_point(window, 30, 30))
    assert ops.overlay.box.side == pytest.approx(90, abs=2.0)  # place mode off: untouched


def test_operations_get_the_box_at_model_resolution_and_store_it(qtbot, window, ops):
    ops.overlay.box = SquareBox(70.0, 10.0, 100.0)
    page = ops.panel.select("embed")
    page.form.set_values({"steps_w": 1, "steps_noise": 1})
    with qtbot.waitSignal(ops.runner.finished, timeout=120_000) as blocker:
        job = ops.run_current()
    used = job.inputs["placement"]
    expected = Placement.from_box(70.0, 10.0, 100.0, 32, (120, 200))
    assert isinstance(used, Placement) and used.size == 32
    np.testing.assert_allclose(used.matrix, expected.matrix)
    result = blocker.args[1].outputs["result"]
    photo = window.document.layers[0].pixels
    outside = np.ones((120, 200), bool)
    outside[5:115, 65:175] = False  # the box plus the feathered edge
    assert np.array_equal(result[outside], photo[outside])  # pasted back only in the box
    ops.pending.accept()
    assert window.document.layers[0].placement is not None
    np.testing.assert_allclose(window.document.layers[0].placement.matrix, expected.matrix)
    ops.refresh_pickers()
    assert page.pickers.choices()["placement"] == window.document.layers[0].id


def test_a_dragged_box_becomes_every_operations_region(qtbot, window, ops):
    photo = window.document.layers[0]
    photo.placement = Placement.from_box(0.0, 0.0, 60.0, 32, (120, 200))  # from an earlier run
    page = ops.panel.select("embed")
    ops.refresh_pickers()
    assert page.pickers.choices()["placement"] == photo.id  # the stored region, by default
    ops.panel.place_button.setChecked(True)
    press_move_release(window.canvas, widget_point(window, 100, 60), widget_point(window, 90, 60))
    for name in ("embed", "inpaint"):
        page = ops.panel.select(name)
        ops.refresh_pickers()
        assert page.pickers.choices()["placement"] == BOX  # the user's box from now on
    window.set_document(window.document)  # another document: the defaults again
    ops.refresh_pickers()
    assert page.pickers.choices()["placement"] == photo.id


def test_align_face_sets_the_box_from_the_align_operation(qtbot, window, ops):
    page = ops.panel.pages["align"]
    page.form.set_values({"points": "80,40 120,40 100,80"})  # eyes and mouth, by hand
    with qtbot.waitSignal(ops.runner.finished, timeout=60_000):
        ops.panel.align_button.click()
    aligned = ops.overlay.aligned
    assert isinstance(aligned, Placement)
    assert not any(lay.pending for lay in window.document.layers)  # no layers, just the box
    page = ops.panel.select("embed")
    page.form.set_values({"steps_w": 1, "steps_noise": 1})
    with qtbot.waitSignal(ops.runner.finished, timeout=120_000):
        job = ops.run_current()
    np.testing.assert_allclose(job.inputs["placement"].matrix, aligned.at_size(32).matrix)

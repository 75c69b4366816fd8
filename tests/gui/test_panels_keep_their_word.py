"""A pick the user did not make never changes an operation's inputs, and a button never
switches the operations page (issue: Align face switched the page away, and selecting a
layer to export it made it the matte's foreground mask)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from latent_atelier.app.qt.docks.layers_dock import LAYER_ID_ROLE
from tests.gui.conftest import install_tiny_operations


def choose_operation(ops, name: str):  # type: ignore[no-untyped-def]
    """Pick ``name`` in the operation list as a person does; returns its page."""
    combo = ops.panel.op_combo
    combo.setCurrentIndex(combo.findData(name))
    return ops.panel.current_page


def click_layer_row(window, layer_id: str) -> None:
    """Click a layer's row in the Layers panel (selects it)."""
    lst = window.layers_dock.list
    for row in range(lst.count()):
        item = lst.item(row)
        if item.data(LAYER_ID_ROLE) == layer_id:
            rect = lst.visualItemRect(item)
            QTest.mouseClick(
                lst.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, rect.center()
            )
            return
    raise AssertionError(f"no row for {layer_id}")


def test_align_face_keeps_the_page_and_its_settings(qtbot, window, ops) -> None:
    page = choose_operation(ops, "embed")
    page.form.set_values({"steps_w": 2, "steps_noise": 3})
    inputs = page.pickers.choices()
    ops.panel.pages["align"].form.set_values({"points": "80,40 120,40 100,80"})
    with qtbot.waitSignal(ops.runner.finished, timeout=60_000):
        QTest.mouseClick(ops.panel.align_button, Qt.MouseButton.LeftButton)
    qtbot.wait(50)
    assert ops.panel.current_page is page and ops.panel.op_combo.currentData() == "embed"
    assert page.form.values()["steps_w"] == 2 and page.form.values()["steps_noise"] == 3
    assert page.pickers.choices()["photo"] == inputs["photo"]
    with qtbot.waitSignal(ops.runner.finished, timeout=120_000) as blocker:
        QTest.mouseClick(ops.panel.run_button, Qt.MouseButton.LeftButton)
    job = blocker.args[0]
    assert job.operation.name == "embed"  # Run runs the page the user set up
    assert (job.params.steps_w, job.params.steps_noise) == (2, 3)


@pytest.fixture
def furry_ops(window):
    return install_tiny_operations(window, "furrygan")


def test_selecting_layers_leaves_the_matte_inputs_alone(qtbot, window, furry_ops) -> None:
    ops, doc = furry_ops, window.document
    page = choose_operation(ops, "matte")
    window.add_layer("mask")
    first = doc.active_id
    window.add_layer("mask")
    second = doc.active_id
    qtbot.wait(50)
    before = page.pickers.choices()
    assert before["fg_mask"] is None and before["bg_mask"] is None
    for layer_id in (first, second, doc.layers[0].id, first):  # e.g. to export them
        click_layer_row(window, layer_id)
        assert doc.active_id == layer_id
        qtbot.wait(20)
    assert page.pickers.choices() == before
    assert ops.panel.current_page is page
    page.form.set_values({"steps_w": 2, "steps_noise": 2})
    with qtbot.waitSignal(ops.runner.finished, timeout=120_000) as blocker:
        QTest.mouseClick(ops.panel.run_button, Qt.MouseButton.LeftButton)
    job = blocker.args[0]
    assert job.operation.name == "matte"
    assert job.inputs.get("fg_mask") is None and job.inputs.get("bg_mask") is None


def test_a_pick_in_the_combo_box_is_kept_over_layer_changes(qtbot, window, furry_ops) -> None:
    ops, doc = furry_ops, window.document
    page = choose_operation(ops, "matte")
    window.add_layer("mask")
    strokes = doc.active_id
    qtbot.wait(50)
    picker = page.pickers.pickers["fg_mask"]
    picker.activated.emit(picker.findData(strokes))  # the user picks it in the list
    window.add_layer("mask")
    click_layer_row(window, doc.layers[0].id)
    doc.remove_layer(doc.layers[-1].id)
    qtbot.wait(50)
    assert page.pickers.choices()["fg_mask"] == strokes
    doc.remove_layer(strokes)  # its layer goes away: the optional slot is empty again
    qtbot.wait(50)
    assert page.pickers.choices()["fg_mask"] is None


def _wheel_over(widget, notches: int = -3) -> None:
    from PySide6.QtCore import QPoint, QPointF
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    pos = QPointF(widget.rect().center())
    event = QWheelEvent(
        pos,
        QPointF(widget.mapToGlobal(pos.toPoint())),
        QPoint(0, 0),
        QPoint(0, 120 * notches),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)


def test_scrolling_the_dock_over_a_field_does_not_change_it(qtbot, window, ops) -> None:
    page = choose_operation(ops, "embed")
    window.canvas.setFocus()
    steps = page.form.editors["steps_w"]
    before = steps.value()
    _wheel_over(ops.panel.op_combo)
    _wheel_over(steps)
    for picker in page.pickers.pickers.values():
        _wheel_over(picker)
    assert ops.panel.op_combo.currentData() == "embed"
    assert steps.value() == before
    steps.setFocus()  # clicked or tabbed into: now the wheel is for it
    qtbot.waitUntil(steps.hasFocus)
    _wheel_over(steps, 1)
    assert steps.value() != before

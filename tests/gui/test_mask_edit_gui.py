"""The label-map editor and mask-edit in the window: face classes, brush and fill by class,
show/hide per class, the edited map in the project, one undo step for the result."""

from __future__ import annotations

import numpy as np
import torch
from PySide6.QtCore import Qt

from latent_atelier.app.document.layers import LayerKind
from latent_atelier.app.qt.canvas.tools import ToolKind
from latent_atelier.models.mask_guided.classes import HAIR, LEFT_EYE, MOUTH, RIGHT_EYE, SKIN
from latent_atelier.models.mask_guided.config import MaskGuidedConfig
from latent_atelier.models.mask_guided.io import MaskGuidedModel, save_model
from latent_atelier.models.mask_guided.networks import FaceParser, MaskGuidedGenerator
from tests.gui.conftest import drag, line

TINY = MaskGuidedConfig(size=32, width=4, code_dim=8, feat_channels=4, n_res=1, parser_width=4)


def _tiny_model(tmp_path) -> str:
    torch.manual_seed(0)
    path = tmp_path / "tiny-mask-guided.safetensors"
    save_model(
        path,
        MaskGuidedModel(TINY, generator=MaskGuidedGenerator(TINY), parser=FaceParser(4)),
        dtype=torch.float32,
    )
    return str(path)


def _paint_face(window) -> None:
    """On the active label layer: skin everywhere (fill), eyes and a mouth (brush)."""
    pw = window.layers_dock.palette
    pw.select_segment(SKIN)
    window.set_tool(ToolKind.FILL)
    drag(window, [(256, 300)])
    window.set_tool(ToolKind.BRUSH)
    window.brush_settings.size = 16
    for cls, stroke in (
        (RIGHT_EYE, line(190, 230, 230, 230)),
        (LEFT_EYE, line(290, 230, 330, 230)),
        (MOUTH, line(220, 350, 300, 350)),
    ):
        pw.select_segment(cls)
        drag(window, stroke)


def test_paint_a_class_then_mask_edit_is_one_undo_step(qtbot, window, ops, tmp_path) -> None:
    doc = window.document
    photo = doc.layers[0]
    window.actions_.add_labels.trigger()
    original = doc.active_layer
    pw = window.layers_dock.palette
    pw.use_face_classes()
    assert [s.name for s in original.palette.segments][:3] == ["skin", "hair", "left eye"]
    assert original.palette.get(HAIR).color == (110, 60, 20)
    _paint_face(window)
    assert original.pixels[300, 100] == SKIN and original.pixels[230, 210] == RIGHT_EYE
    assert original.pixels[350, 260] == MOUTH

    window.actions_.duplicate.trigger()  # the copy is the map to edit
    edited = doc.active_layer
    assert edited.kind == LayerKind.LABELS and edited is not original
    pw.select_segment(HAIR)
    assert window.brush_settings.label == HAIR
    window.brush_settings.size = 40
    drag(window, line(150, 110, 360, 110))  # more hair on the forehead
    assert edited.pixels[110, 256] == HAIR and original.pixels[110, 256] == SKIN

    # show/hide per class: untick hair, the canvas stops drawing it; the pixels stay
    window.canvas.repaint()
    shown = window.canvas.cache.pixel(256, 110)
    item = next(pw.list.item(r) for r in range(pw.list.count()) if "hair" in pw.list.item(r).text())
    item.setCheckState(Qt.CheckState.Unchecked)  # as a click on its tick box does
    assert not edited.palette.get(HAIR).visible and edited.pixels[110, 256] == HAIR
    window.canvas.repaint()
    assert window.canvas.cache.pixel(256, 110) != shown
    window.undo()  # visibility is an undo step too
    assert edited.palette.get(HAIR).visible

    page = ops.panel.select("mask-edit")
    page.pickers.refill(doc)
    assert page.pickers.pickers["edited"].layer_id() == edited.id
    assert page.pickers.pickers["labels"].layer_id() == original.id
    page.form.set_values({"mask_model": _tiny_model(tmp_path)})
    with qtbot.waitSignal(ops.runner.finished, timeout=120_000) as blocker:
        assert ops.run_current() is not None
    result = blocker.args[1]
    # no region was placed: the face is framed from the painted map's eyes and mouth
    assert any("placed by the label map's eyes and mouth" in n for n in result.notes)
    assert ops.pending.active
    steps = doc.history.index
    ops.panel.pending_strip.accept_button.click()
    assert doc.history.index == steps + 1
    added = doc.layers[-1]
    assert added.kind == LayerKind.RESULT and not added.pending
    assert np.allclose(added.pixels, result.outputs["result"])
    changed = np.abs(added.pixels[..., :3] - photo.pixels[..., :3]).max(axis=2) > 1e-4
    assert changed[110, 256] and not changed[480, 20]  # redrawn where the map changed only
    window.undo()
    assert doc.history.index == steps and added not in doc.layers


def test_edited_map_and_hidden_classes_are_saved_in_the_project(make_window, window, tmp_path) -> None:
    window.actions_.add_labels.trigger()
    layer = window.document.active_layer
    pw = window.layers_dock.palette
    pw.use_face_classes()
    _paint_face(window)
    pw.set_segment_visible(MOUTH, False)
    path = tmp_path / "edited.ora"
    assert window.save_to(path)
    fresh = make_window()
    assert fresh.open_path(path)
    again = fresh.document.layers[-1]
    assert again.kind == LayerKind.LABELS
    assert np.array_equal(again.pixels, layer.pixels)
    assert again.palette.get(MOUTH).name == "lips/mouth" and not again.palette.get(MOUTH).visible
    assert again.palette.get(SKIN).visible


def test_a_box_the_person_placed_is_used_instead_of_the_map_framing(qtbot, window, ops, tmp_path) -> None:
    from latent_atelier.editors.placement import Placement
    from tests.gui.test_operations_placement import press_move_release, widget_point

    doc = window.document
    window.actions_.add_labels.trigger()
    pw = window.layers_dock.palette
    pw.use_face_classes()
    _paint_face(window)
    window.actions_.duplicate.trigger()
    pw.select_segment(HAIR)
    window.brush_settings.size = 40
    drag(window, line(150, 110, 360, 110))
    # Place mode: drag the box's bottom-right corner in by 112 px
    ops.panel.place_button.setChecked(True)
    box = ops.overlay.box
    corner = widget_point(window, box.x + box.side, box.y + box.side)
    press_move_release(
        window.canvas, corner, widget_point(window, box.x + box.side - 112, box.y + box.side - 112)
    )
    ops.panel.place_button.setChecked(False)
    placed = ops.overlay.box
    assert placed.side < box.side - 100

    page = ops.panel.select("mask-edit")
    page.pickers.refill(doc)
    page.form.set_values({"mask_model": _tiny_model(tmp_path)})
    with qtbot.waitSignal(ops.runner.finished, timeout=120_000) as blocker:
        job = ops.run_current()
    result = blocker.args[1]
    assert not any("placed by the label map" in n for n in result.notes)
    used = job.inputs["placement"]
    expected = Placement.from_box(placed.x, placed.y, placed.side, TINY.size, (doc.height, doc.width))
    assert isinstance(used, Placement)
    np.testing.assert_allclose(used.at_size(TINY.size).matrix, expected.matrix, atol=1e-9)

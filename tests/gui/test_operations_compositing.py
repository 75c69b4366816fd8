"""Matte, then composite: a dropped background goes under the cut-out; variants; export.

Uses a tiny random FurryGAN (32 px) injected into the model manager and a small document.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from latent_atelier.app.document.document import Document
from latent_atelier.app.document.layers import LayerKind
from latent_atelier.app.qt.operations.slot_pickers import NONE
from latent_atelier.app.qt.placement.geometry import SquareBox
from latent_atelier.editors.placement import Placement
from tests.gui.conftest import install_tiny_operations, tiny_generator


@pytest.fixture
def ops(window):
    """Operations on a 64 x 48 portrait-ish document with a tiny FurryGAN loaded."""
    controller = install_tiny_operations(window, "furrygan")
    rng = np.random.default_rng(0)
    photo = np.full((48, 64, 3), 0.2, np.float32)
    photo[10:40, 20:44] = 0.8 + 0.1 * rng.random((30, 24, 3), dtype=np.float32)
    window.set_document(Document.from_image(photo, "portrait"))
    return controller


def run_and_wait(qtbot, ops, name: str, values: dict | None = None):
    page = ops.panel.select(name)
    if values:
        page.form.set_values(values)
    with qtbot.waitSignal(ops.runner.finished, timeout=120_000) as blocker:
        assert ops.run_current() is not None
    return blocker.args[1]


def matte(qtbot, ops):
    result = run_and_wait(qtbot, ops, "matte", {"steps_w": 2, "steps_noise": 2})
    ops.pending.accept()
    return result


def drop_files(window, paths) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(
        QPointF(100, 100),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(event)  # what Qt calls when files are dropped on the window


def write_background(path, color=(0.1, 0.3, 0.9), size=(30, 20)) -> None:
    from latent_atelier.app.document.image_write import write_image

    write_image(path, np.tile(np.array(color, np.float32), (size[1], size[0], 1)))


def test_matte_gives_a_matte_and_a_foreground_in_one_step(qtbot, window, ops):
    doc = window.document
    steps = doc.history.index
    result = matte(qtbot, ops)
    assert doc.history.index == steps + 1
    kinds = [lay.kind for lay in doc.layers]
    assert LayerKind.MATTE in kinds
    fg = [lay for lay in doc.layers if lay.kind == LayerKind.RESULT]
    assert len(fg) == 1 and fg[0].pixels.shape == (48, 64, 4)
    assert np.allclose(fg[0].pixels, result.outputs["foreground"])
    assert doc.layers[0].latent is not None  # the FurryGAN embedding stays with the photo


def test_a_waiting_cutout_is_shown_without_the_photo(qtbot, window, ops):
    canvas, action = window.canvas, window.actions_.hide_photo
    assert not canvas.hide_photo
    edited = run_and_wait(qtbot, ops, "embed", {"steps_w": 1, "steps_noise": 1})
    ops.pending.accept()  # an opaque result above the photo: hidden too
    edited_id = next(lay.id for lay in window.document.layers if lay.kind == LayerKind.RESULT)
    assert edited.outputs
    run_and_wait(qtbot, ops, "matte", {"steps_w": 2, "steps_noise": 2})
    assert canvas.hide_photo and action.isChecked()
    photo = window.document.layers[0]
    shown = canvas._include_ids(window.document)
    assert shown is not None and photo.id not in shown and edited_id not in shown
    assert any(lay.pending and lay.pixels.shape[-1] == 4 for lay in window.document.layers if lay.id in shown)
    ops.pending.accept()
    assert not canvas.hide_photo and not action.isChecked()  # back as the user had it
    action.trigger()  # View > Hide the photo, by hand: stays on
    assert canvas.hide_photo
    run_and_wait(qtbot, ops, "matte", {"steps_w": 2, "steps_noise": 2})
    ops.pending.discard()
    assert canvas.hide_photo


def test_a_second_matte_reuses_the_photos_embedding(qtbot, window, ops):
    first = matte(qtbot, ops)
    assert "embed_psnr" in first.metrics
    page = ops.panel.select("matte")
    page.pickers.refill(window.document)  # what a run does first
    picker = page.pickers.pickers["latent"]
    assert picker.value_source() == window.document.layers[0].id  # the photo's own latent
    again = run_and_wait(qtbot, ops, "matte", {"steps_w": 2, "steps_noise": 2})
    assert "embed_psnr" not in again.metrics  # no second embedding
    np.testing.assert_allclose(again.outputs["generator_alpha"], first.outputs["generator_alpha"], atol=1e-6)


def test_choosing_no_latent_survives_the_run_and_embeds_again(qtbot, window, ops):
    matte(qtbot, ops)
    page = ops.panel.select("matte")
    page.pickers.refill(window.document)
    picker = page.pickers.pickers["latent"]
    picker.choose(NONE)  # what picking "(none)" in the combo box does
    again = run_and_wait(qtbot, ops, "matte", {"steps_w": 2, "steps_noise": 2})
    assert picker.value_source() is None
    assert "embed_psnr" in again.metrics  # the user's "(none)" was kept: embedded again


def test_an_operations_advice_on_its_settings_shows_in_the_status_bar(qtbot, window, ops, monkeypatch):
    from latent_atelier.editors.matting.matte import Matte

    seen: list = []

    def advice(_self, params):
        seen.append(params.steps_w)
        return ["these settings work against each other"]

    monkeypatch.setattr(Matte, "advice", advice)
    result = run_and_wait(qtbot, ops, "matte", {"steps_w": 2, "steps_noise": 2})
    assert seen == [2]  # asked with the page's settings
    assert result.outputs["alpha"] is not None  # advice only: the job ran
    assert "These settings work against each other" in window.status.currentMessage()
    note = ops.panel.note_label
    assert note.isVisibleTo(ops.panel) and note.text() == "These settings work against each other."
    monkeypatch.setattr(Matte, "advice", lambda _self, _params: [])
    run_and_wait(qtbot, ops, "matte", {"steps_w": 2, "steps_noise": 2})
    assert not note.isVisibleTo(ops.panel) and note.text() == ""  # the next run has nothing to say


def test_a_moved_box_does_not_reuse_a_latent_made_for_the_old_box(qtbot, window, ops):
    matte(qtbot, ops)
    photo = window.document.layers[0]
    assert photo.latent is not None and photo.placement is not None
    window.document.set_layer_props(photo.id, name="Portrait A")
    ops.overlay.box = SquareBox(0.0, 0.0, 40.0)  # the user drags the box to the corner ...
    ops.overlay.box_edited.emit()  # ... and lets go
    again = run_and_wait(qtbot, ops, "matte", {"steps_w": 2, "steps_noise": 2})
    assert "embed_psnr" in again.metrics  # the stale latent was not used
    assert "box moved" in window.status.currentMessage()  # said, and still there when done
    assert "The box moved since the latent of Portrait A was made" in window.status.currentMessage()
    ops.pending.accept()
    expected = Placement.from_box(0.0, 0.0, 40.0, photo.placement.size, (48, 64))
    np.testing.assert_allclose(window.document.layers[0].placement.matrix, expected.matrix)
    third = run_and_wait(qtbot, ops, "matte", {"steps_w": 2, "steps_noise": 2})
    assert "embed_psnr" not in third.metrics  # same box: the new latent is reused


def test_dropped_background_goes_under_the_foreground_and_composites(qtbot, tmp_path, window, ops):
    doc = window.document
    matte(qtbot, ops)
    bg_file = tmp_path / "sky.png"
    write_background(bg_file)
    steps = doc.history.index
    drop_files(window, [bg_file])
    assert ops.last_error is None
    assert doc.history.index == steps + 1  # one undo step
    bg = [lay for lay in doc.layers if lay.kind == LayerKind.BACKGROUND]
    assert len(bg) == 1
    fg_index = next(
        i for i, lay in enumerate(doc.layers) if lay.kind == LayerKind.RESULT and lay.pixels.shape[2] == 4
    )
    assert doc.index_of(bg[0].id) == fg_index - 1  # right under the cut-out
    assert bg[0].rect[2] >= 64 and bg[0].rect[3] >= 48  # covers the document

    page = ops.panel.select("composite")
    ops.refresh_pickers()
    choices = page.pickers.choices()
    assert choices["background"] == bg[0].id
    assert choices["alpha"] is not None and choices["foreground"] is not None
    result = run_and_wait(qtbot, ops, "composite")
    ops.pending.accept()
    comp = result.outputs["composite"]
    alpha = doc.layer(choices["alpha"]).pixels
    clear = alpha <= 1e-4
    if clear.any():  # where the subject is absent the background shows
        assert np.abs(comp[clear] - np.array([0.1, 0.3, 0.9])).max() < 0.01  # 8-bit file
    assert doc.layers[-1].kind == LayerKind.RESULT

    paths = ops.compositing.export_to(tmp_path / "out")
    names = sorted(p.name for p in paths)
    assert any("composite" in n for n in names)
    assert any("foreground" in n for n in names)
    assert any("alpha" in n for n in names)
    assert all(p.exists() and p.stat().st_size > 0 for p in paths)


def test_background_handles_move_and_scale_as_undo_steps(qtbot, tmp_path, window, ops):
    doc = window.document
    matte(qtbot, ops)
    bg_file = tmp_path / "bg.png"
    write_background(bg_file, size=(64, 48))
    drop_files(window, [bg_file])
    bg = next(lay for lay in doc.layers if lay.kind == LayerKind.BACKGROUND)
    ops.panel.move_bg_button.setChecked(True)
    assert ops.compositing.handles.isVisible()
    x, y, w, h = bg.rect
    steps = doc.history.index
    ops.compositing.handles.rect_chosen.emit(x + 5, y - 3, w, h)  # a move
    assert bg.offset == (x + 5, y - 3)
    ops.compositing.handles.rect_chosen.emit(x, y, w * 2, h * 2)  # a scale
    assert (bg.width, bg.height) == (w * 2, h * 2)
    assert doc.history.index == steps + 2
    doc.undo()
    doc.undo()
    assert bg.rect == (x, y, w, h)


def test_generated_backgrounds_are_variants_to_pick_from(qtbot, window, ops):
    doc = window.document
    matte(qtbot, ops)
    before = len(doc.layers)
    steps = doc.history.index
    run_and_wait(qtbot, ops, "generate-background", {"count": 3})
    strip = ops.panel.pending_strip.strip
    assert strip.count() == 3 and strip.isVisible()
    shown = [lay for lay in doc.layers if lay.pending]
    assert len(shown) == 1
    strip.setCurrentRow(2)
    shown2 = [lay for lay in doc.layers if lay.pending]
    assert len(shown2) == 1 and shown2[0] is not shown[0]
    assert shown2[0] is ops.pending.proposal.variants[2]
    ops.pending.accept()
    assert len(doc.layers) == before + 1
    assert doc.history.index == steps + 1
    added = shown2[0]
    assert added.kind == LayerKind.BACKGROUND and added.pixels.shape[:2] == (48, 64)
    fg = next(lay for lay in doc.layers if lay.kind == LayerKind.RESULT)
    assert doc.index_of(added.id) < doc.index_of(fg.id)  # under the foreground


def test_composite_over_generated_backgrounds_loads_the_model(qtbot, window, ops):
    matte(qtbot, ops)
    result = run_and_wait(qtbot, ops, "composite", {"generate_background": 2})
    composites = result.outputs["composites"]
    assert len(composites) == 2 and composites[0].shape == (48, 64, 3)
    assert not np.array_equal(composites[0], composites[1])  # two different backgrounds
    assert ops.panel.pending_strip.strip.count() == 2


def test_operations_needing_furrygan_refuse_a_stylegan2_model(qtbot, window, ops):
    ops.manager.set_generator(tiny_generator("stylegan2"), "sg2")
    page = ops.panel.pages["matte"]
    assert page.note.text().startswith("Needs a furrygan model")
    ops.panel.select("matte")
    with qtbot.waitSignal(ops.runner.failed, timeout=60_000) as blocker:
        ops.run_current()
    assert "furrygan" in blocker.args[1]
    from PySide6.QtWidgets import QMessageBox

    boxes = [b for b in window.findChildren(QMessageBox) if b.objectName() == "operation_error"]
    assert boxes and "furrygan" in boxes[-1].text() and boxes[-1].isVisible()
    assert not any(lay.pending for lay in window.document.layers)

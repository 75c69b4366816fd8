"""Document model and undo history: exact pixels, bbox-only storage, budget, reorder/delete."""

from __future__ import annotations

import numpy as np
import pytest

from latent_atelier.app.document.document import Document, changed_box
from latent_atelier.app.document.history import PixelStep
from latent_atelier.app.document.layers import LayerKind, LayerLocked, Palette, new_layer


def _photo(h: int = 64, w: int = 96, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((h, w, 3), dtype=np.float32)


def _paint_rect(doc: Document, layer_id: str, rect, value) -> None:
    edit = doc.begin_edit(layer_id, "Stroke")
    x, y, w, h = rect
    edit.before_change(rect)
    doc.layer(layer_id).pixels[y : y + h, x : x + w] = value
    edit.commit()


def test_undo_redo_restore_exact_pixels():
    doc = Document.from_image(_photo())
    lid = doc.layers[0].id
    before = doc.layer(lid).pixels.copy()
    _paint_rect(doc, lid, (10, 5, 20, 12), (0.25, 0.5, 0.75))
    after = doc.layer(lid).pixels.copy()
    assert not np.array_equal(before, after)
    doc.undo()
    assert np.array_equal(doc.layer(lid).pixels, before)
    doc.redo()
    assert np.array_equal(doc.layer(lid).pixels, after)


def test_pixel_step_stores_only_changed_bbox():
    doc = Document(4096, 4096)
    layer = doc.add_layer(new_layer(LayerKind.PAINT, "Ink", size=(4096, 4096)))
    edit = doc.begin_edit(layer.id, "Dab")
    edit.before_change((1000, 2000, 300, 300))  # snapshot a generous area
    layer.pixels[2010:2017, 1003:1008] = 1.0  # change only 5x7 pixels
    rect = edit.commit()
    assert rect == (1003, 2010, 5, 7)
    step = doc.history.steps[-1]
    assert isinstance(step, PixelStep)
    assert step.old.shape == (7, 5, 4) and step.new.shape == (7, 5, 4)
    assert step.nbytes < 2 * 7 * 5 * 4 * 4 + 1024


def test_cancel_restores_and_adds_no_step():
    doc = Document.from_image(_photo())
    lid = doc.layers[0].id
    before = doc.layer(lid).pixels.copy()
    n = len(doc.history.steps)
    edit = doc.begin_edit(lid, "Stroke")
    edit.before_change((0, 0, 200, 200))
    doc.layer(lid).pixels[:] = 0.0
    edit.cancel()
    assert np.array_equal(doc.layer(lid).pixels, before)
    assert len(doc.history.steps) == n


def test_budget_evicts_oldest_steps():
    doc = Document(256, 256, undo_budget_bytes=200_000)
    layer = doc.add_layer(new_layer(LayerKind.PAINT, size=(256, 256)))
    for i in range(30):  # each step holds 2 * 40*40*4*4 = 51 KB
        _paint_rect(doc, layer.id, (i * 5, i * 5, 40, 40), (i + 1) / 31.0)
    assert doc.history.total_bytes <= 200_000
    assert doc.history.evicted > 0
    assert len(doc.history.steps) < 31
    # what remains still undoes exactly, step by step
    while doc.can_undo:
        doc.undo()
    assert not doc.can_undo


def test_history_survives_reorder_and_delete():
    doc = Document.from_image(_photo())
    photo_id = doc.layers[0].id
    ink = doc.add_layer(new_layer(LayerKind.PAINT, "Ink", size=(96, 64)))
    mask = doc.add_layer(new_layer(LayerKind.MASK, "Mask", size=(96, 64)))
    _paint_rect(doc, ink.id, (2, 2, 10, 10), 0.5)
    ink_painted = ink.pixels.copy()
    doc.move_layer(ink.id, 2)
    assert [lay.id for lay in doc.layers] == [photo_id, mask.id, ink.id]
    doc.remove_layer(ink.id)
    assert ink.id not in [lay.id for lay in doc.layers]
    _paint_rect(doc, mask.id, (0, 0, 5, 5), 1.0)
    doc.undo()  # mask paint
    doc.undo()  # delete: the same layer object comes back at its index
    assert doc.layers[2] is ink and np.array_equal(ink.pixels, ink_painted)
    doc.undo()  # move
    assert [lay.id for lay in doc.layers] == [photo_id, ink.id, mask.id]
    doc.undo()  # paint on ink
    assert not ink.pixels.any()
    doc.history.jump_to(len(doc.history.steps))
    assert [lay.id for lay in doc.layers] == [photo_id, mask.id]
    assert mask.pixels[:5, :5].min() == 1.0


def test_props_undo_and_merge_key():
    doc = Document.from_image(_photo())
    lid = doc.layers[0].id
    n = len(doc.history.steps)
    for v in (0.9, 0.7, 0.5):
        doc.set_layer_props(lid, merge_key="opacity-drag", opacity=v)
    assert len(doc.history.steps) == n + 1
    doc.set_layer_props(lid, name="Portrait", visible=False)
    doc.undo()
    assert doc.layer(lid).name == "Photo" and doc.layer(lid).visible
    doc.undo()
    assert doc.layer(lid).opacity == 1.0
    with pytest.raises(ValueError, match="opacity"):
        doc.set_layer_props(lid, opacity=2.0)
    with pytest.raises(ValueError, match="not editable"):
        doc.set_layer_props(lid, pixels=None)


def test_replace_pixels_one_step_and_shape_change():
    doc = Document.from_image(_photo())
    lid = doc.layers[0].id
    orig = doc.layer(lid).pixels.copy()
    new = orig.copy()
    new[30:40, 50:60] = 0.0
    rect = doc.replace_pixels(lid, new, "Inpaint")
    assert rect == (50, 30, 10, 10)
    assert doc.history.steps[-1].new.shape == (10, 10, 3)
    bigger = np.zeros((10, 10, 4), np.float32)
    doc.replace_pixels(lid, bigger, "Crop", offset=(5, 6))
    assert doc.layer(lid).pixels.shape == (10, 10, 4) and doc.layer(lid).offset == (5, 6)
    doc.undo()
    doc.undo()
    assert np.array_equal(doc.layer(lid).pixels, orig) and doc.layer(lid).offset == (0, 0)


def test_locked_layer_refuses_edits():
    doc = Document.from_image(_photo())
    lid = doc.layers[0].id
    doc.set_layer_props(lid, locked=True)
    with pytest.raises(LayerLocked, match="locked"):
        doc.begin_edit(lid, "Stroke")


def test_events_and_dirty_flag():
    doc = Document.from_image(_photo())
    events = []
    doc.add_listener(events.append)
    assert not doc.dirty
    lid = doc.layers[0].id
    _paint_rect(doc, lid, (1, 2, 3, 4), 0.0)
    kinds = [e.kind for e in events]
    assert "pixels" in kinds and "history" in kinds
    pixel_events = [e for e in events if e.kind == "pixels"]
    assert pixel_events[-1].rect == (1, 2, 3, 4) and pixel_events[-1].layer_id == lid
    assert doc.dirty
    doc.mark_saved()
    assert not doc.dirty
    doc.undo()
    assert doc.dirty
    doc.redo()
    assert not doc.dirty


def test_composite_source_over_opacity_offset_and_rect():
    doc = Document(4, 4, [new_layer(LayerKind.BACKGROUND, size=(4, 4))])
    red = np.zeros((2, 2, 4), np.float32)
    red[..., 0] = 1.0
    red[..., 3] = 1.0
    doc.add_layer(new_layer(LayerKind.PAINT, "Red", pixels=red, opacity=0.5, offset=(1, 1)))
    out = doc.composite()
    assert out.shape == (4, 4, 4)
    np.testing.assert_allclose(out[0, 0], [1, 1, 1, 1])
    np.testing.assert_allclose(out[1, 1], [1, 0.5, 0.5, 1], atol=1e-6)
    part = doc.composite(rect=(1, 1, 2, 1))
    np.testing.assert_allclose(part, out[1:2, 1:3])
    only_red = doc.composite(include=[doc.layers[1].id])
    assert only_red[0, 0, 3] == 0.0 and abs(only_red[1, 1, 3] - 0.5) < 1e-6


def test_label_layer_rgba_uses_palette():
    pal = Palette()
    skin = pal.add("skin", (255, 0, 0))
    hair = pal.add("hair")
    ids = np.array([[0, skin.id], [hair.id, 0]], np.int32)
    layer = new_layer(LayerKind.LABELS, "Segments", pixels=ids, palette=pal)
    rgba = layer.rgba()
    assert rgba[0, 0, 3] == 0.0 and rgba[0, 1, 3] == 0.5
    np.testing.assert_allclose(rgba[0, 1, :3], [1, 0, 0])
    assert pal.color_lut().shape == (256, 3)
    pal.rename(hair.id, "Hair")
    pal.remove(skin.id)
    assert [s.name for s in pal.segments] == ["Hair"]


def test_duplicate_layer_is_independent():
    doc = Document.from_image(_photo())
    src = doc.layers[0]
    dup = doc.duplicate_layer(src.id)
    assert dup.id != src.id and doc.index_of(dup.id) == 1
    dup.pixels[0, 0] = 0.0
    assert src.pixels[0, 0].any()
    doc.undo()
    assert len(doc.layers) == 1


def test_changed_box():
    a = np.zeros((5, 6), np.float32)
    b = a.copy()
    assert changed_box(a, b) is None
    b[1, 2] = 1
    b[3, 4] = 1
    assert changed_box(a, b) == (2, 1, 3, 3)

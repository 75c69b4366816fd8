"""Brush strokes, fills and picking on every layer kind."""

from __future__ import annotations

import numpy as np
import pytest

from latent_atelier.app.document.brush import (
    BrushError,
    BrushSettings,
    StrokePainter,
    dab_mask,
    flood_fill,
    lasso_fill,
    pick_color,
)
from latent_atelier.app.document.document import Document
from latent_atelier.app.document.layers import LayerKind, LayerLocked, Palette, new_layer


def _doc_with(kind: LayerKind, w: int = 128, h: int = 96, **kw) -> tuple[Document, str]:
    doc = Document(w, h, [new_layer(LayerKind.BACKGROUND, size=(w, h))])
    layer = doc.add_layer(new_layer(kind, size=(w, h), **kw))
    return doc, layer.id


def test_dab_on_large_layer_touches_only_its_rect():
    doc, lid = _doc_with(LayerKind.PAINT, 4096, 4096)
    layer = doc.layer(lid)
    painter = StrokePainter(doc, lid, BrushSettings(size=30, hardness=0.5, color=(1, 0, 0)))
    rect = painter.press(2000.5, 1000.5)
    x, y, w, h = rect
    assert w <= 34 and h <= 34
    inside = layer.pixels[y : y + h, x : x + w, 3]
    assert inside.max() == 1.0
    assert np.count_nonzero(layer.pixels[..., 3]) == np.count_nonzero(inside)
    # the edit snapshotted only the few tiles under the dab, not the layer
    assert sum(t.nbytes for t in painter._edit._tiles.values()) <= 4 * 128 * 128 * 16
    final = painter.release()
    step = doc.history.steps[-1]
    assert step.new.shape[:2] == (final[3], final[2]) and final[2] <= 34


def test_stroke_is_one_step_and_undo_is_exact():
    doc, lid = _doc_with(LayerKind.PAINT)
    layer = doc.layer(lid)
    n = len(doc.history.steps)
    painter = StrokePainter(doc, lid, BrushSettings(size=8, color=(0, 0, 1), opacity=0.6))
    painter.press(10, 10)
    painter.move_to(60, 40, pressure=0.5)
    painter.move_to(100, 20)
    rect = painter.release()
    assert len(doc.history.steps) == n + 1
    assert rect is not None and layer.pixels[..., 3].max() > 0
    # overlapping dabs of one stroke never exceed the stroke opacity
    assert layer.pixels[..., 3].max() == pytest.approx(0.6, abs=1e-6)
    painted = layer.pixels.copy()
    doc.undo()
    assert not layer.pixels.any()
    doc.redo()
    assert np.array_equal(layer.pixels, painted)


def test_spacing_places_continuous_line():
    doc, lid = _doc_with(LayerKind.MASK)
    painter = StrokePainter(doc, lid, BrushSettings(size=6, hardness=1.0))
    painter.press(10.5, 50.5)
    painter.move_to(110.5, 50.5)
    painter.release()
    row = doc.layer(lid).pixels[50, 10:111]
    assert row.min() > 0.99  # no gaps between dabs


def test_eraser_on_paint_and_mask():
    doc, lid = _doc_with(LayerKind.PAINT)
    layer = doc.layer(lid)
    layer.pixels[..., 3] = 1.0
    p = StrokePainter(doc, lid, BrushSettings(size=10, hardness=1.0, eraser=True))
    p.press(50.5, 50.5)
    p.release()
    assert layer.pixels[50, 50, 3] == 0.0 and layer.pixels[0, 0, 3] == 1.0
    doc2, mid = _doc_with(LayerKind.MATTE)
    doc2.layer(mid).pixels[:] = 1.0
    p2 = StrokePainter(doc2, mid, BrushSettings(size=10, hardness=1.0, eraser=True))
    p2.press(20.5, 20.5)
    p2.release()
    assert doc2.layer(mid).pixels[20, 20] == 0.0


def test_label_brush_writes_hard_ids():
    pal = Palette()
    skin, hair = pal.add("skin"), pal.add("hair")
    doc, lid = _doc_with(LayerKind.LABELS, palette=pal)
    for seg, x in ((skin, 30.5), (hair, 80.5)):
        p = StrokePainter(doc, lid, BrushSettings(size=12, hardness=0.3, label=seg.id))
        p.press(x, 40.5)
        p.release()
    ids = doc.layer(lid).pixels
    assert set(np.unique(ids)) == {0, skin.id, hair.id}
    assert ids[40, 30] == skin.id and ids[40, 80] == hair.id
    p = StrokePainter(doc, lid, BrushSettings(size=40, eraser=True))
    p.press(30.5, 40.5)
    p.release()
    assert ids[40, 30] == 0 and ids[40, 80] == hair.id


def test_rgb_photo_brush_and_eraser_refused():
    doc = Document.from_image(np.full((40, 40, 3), 0.5, np.float32))
    lid = doc.layers[0].id
    p = StrokePainter(doc, lid, BrushSettings(size=6, hardness=1.0, color=(1, 1, 1)))
    p.press(20.5, 20.5)
    p.release()
    np.testing.assert_allclose(doc.layer(lid).pixels[20, 20], [1, 1, 1])
    with pytest.raises(BrushError, match="alpha"):
        StrokePainter(doc, lid, BrushSettings(eraser=True))


def test_locked_layer_refused():
    doc, lid = _doc_with(LayerKind.PAINT, locked=True)
    with pytest.raises(LayerLocked, match="unlock"):
        StrokePainter(doc, lid, BrushSettings())


def test_offset_layer_uses_document_coordinates():
    doc = Document(100, 100)
    layer = doc.add_layer(new_layer(LayerKind.MASK, size=(20, 20), offset=(50, 60)))
    p = StrokePainter(doc, layer.id, BrushSettings(size=4, hardness=1.0))
    rect = p.press(55.5, 65.5)
    p.release()
    assert layer.pixels[5, 5] == 1.0
    assert rect[0] >= 50 and rect[1] >= 60


def test_flood_fill_tolerance_and_connectivity():
    doc, lid = _doc_with(LayerKind.MASK, 20, 10)
    px = doc.layer(lid).pixels
    px[:, 10] = 1.0  # a wall splits the layer
    px[2, 2] = 0.05
    rect = flood_fill(doc, lid, 1, 1, 0.5, tolerance=0.1)
    assert rect == (0, 0, 10, 10)
    assert px[:, :10].min() == 0.5 and px[:, 11:].max() == 0.0
    doc.undo()
    assert px[2, 2] == pytest.approx(0.05) and px[0, 0] == 0.0
    flood_fill(doc, lid, 1, 1, 0.5, tolerance=0.0)
    assert px[2, 2] == pytest.approx(0.05)


def test_lasso_fill_on_labels_and_bad_value():
    doc, lid = _doc_with(LayerKind.LABELS, 50, 50)
    rect = lasso_fill(doc, lid, [(10, 10), (40, 10), (40, 40), (10, 40)], 3)
    ids = doc.layer(lid).pixels
    assert ids[25, 25] == 3 and ids[5, 5] == 0 and ids[45, 45] == 0
    assert rect[0] >= 9 and rect[2] <= 32
    with pytest.raises(BrushError, match="segment id"):
        lasso_fill(doc, lid, [(0, 0), (5, 0), (5, 5)], (1.0, 0.0, 0.0))


def test_pick_color_reads_composite():
    doc, lid = _doc_with(LayerKind.PAINT, 10, 10)
    doc.layer(lid).pixels[3, 4] = (0.2, 0.4, 0.6, 1.0)
    assert pick_color(doc, 4.2, 3.7) == pytest.approx((0.2, 0.4, 0.6))
    assert pick_color(doc, 0, 0) == pytest.approx((1.0, 1.0, 1.0))


def test_dab_mask_profile():
    m = dab_mask(10.0, 10.0, 5.0, 0.5, (0, 0, 20, 20))
    assert m[9, 9] == 1.0 and m[0, 0] == 0.0
    assert 0.0 < m[9, 13] < 1.0  # soft edge


def test_zero_length_moves_and_falling_pressure():
    doc, lid = _doc_with(LayerKind.MASK)
    p = StrokePainter(doc, lid, BrushSettings(size=30, hardness=1.0))
    p.press(20.5, 20.5, pressure=1.0)
    assert p.move_to(20.5, 20.5, pressure=1.0) is None  # no movement, no new dab
    p.move_to(21.5, 20.5, pressure=0.1)  # the spacing shrinks below what was travelled
    p.move_to(60.5, 20.5, pressure=0.1)
    p.release()
    assert doc.layer(lid).pixels[20, 21:60].min() > 0.99

"""Label layers: paint two named segments with the segment palette."""

from __future__ import annotations

import numpy as np

from latent_atelier.app.document.layers import LayerKind
from tests.gui.conftest import drag, line


def test_paint_two_named_segments(window) -> None:
    window.actions_.add_labels.trigger()
    layer = window.document.active_layer
    assert layer.kind == LayerKind.LABELS
    palette_widget = window.layers_dock.palette
    assert palette_widget.isVisibleTo(window.layers_dock)

    hair = palette_widget.add_segment("hair")
    skin = palette_widget.add_segment("skin")
    assert [s.name for s in layer.palette.segments][-2:] == ["hair", "skin"]

    palette_widget.select_segment(hair)
    assert window.brush_settings.label == hair
    window.brush_settings.size = 10
    drag(window, line(200, 80, 320, 80))
    palette_widget.select_segment(skin)
    assert window.brush_settings.label == skin
    drag(window, line(200, 200, 320, 200))

    assert layer.pixels[80, 260] == hair
    assert layer.pixels[200, 260] == skin
    assert layer.pixels[140, 260] == 0
    ids, counts = np.unique(layer.pixels, return_counts=True)
    assert set(ids) == {0, hair, skin} and counts.min() > 100
    # the canvas shows them in their palette colours
    window.canvas.repaint()
    assert window.canvas.cache.pixel(260, 80) != window.canvas.cache.pixel(260, 140)


def test_rename_recolour_delete_segment_are_undoable(window) -> None:
    window.add_layer("labels")
    layer = window.document.active_layer
    pw = window.layers_dock.palette
    sid = pw.add_segment("eyes")
    pw.select_segment(sid)
    drag(window, line(100, 100, 150, 100))
    pw.rename_segment(sid, "left eye")
    pw.recolor_segment(sid, (10, 200, 30))
    assert layer.palette.get(sid).name == "left eye"
    assert layer.palette.get(sid).color == (10, 200, 30)
    assert "left eye" in pw.list.currentItem().text()

    pw.delete_segment(sid)
    assert not np.any(layer.pixels == sid)
    assert all(s.id != sid for s in layer.palette.segments)
    window.undo()  # palette back
    window.undo()  # pixels back
    assert np.any(layer.pixels == sid)
    assert layer.palette.get(sid).name == "left eye"


def test_fill_and_lasso_on_label_layer(window) -> None:
    from latent_atelier.app.qt.canvas.tools import ToolKind

    window.add_layer("labels")
    layer = window.document.active_layer
    window.set_tool(ToolKind.LASSO)
    drag(window, [(100, 100), (200, 100), (200, 200), (100, 200)])
    assert layer.pixels[150, 150] == window.brush_settings.label
    assert layer.pixels[250, 250] == 0
    window.set_tool(ToolKind.FILL)
    drag(window, [(400, 400)])
    assert layer.pixels[400, 400] == window.brush_settings.label
    assert layer.pixels[150, 150] == window.brush_settings.label

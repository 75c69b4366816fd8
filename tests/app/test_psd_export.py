"""Layered PSD export, read back with psd-tools."""

from __future__ import annotations

import numpy as np
import pytest
from psd_tools import PSDImage

from latent_atelier.app.document.document import Document
from latent_atelier.app.document.layers import LayerKind, new_layer
from latent_atelier.app.document.psd_export import export_psd


def _doc() -> Document:
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, (40, 50, 3)).astype(np.float32) / 255
    doc = Document.from_image(photo, "Photo")
    ink = np.zeros((10, 12, 4), np.float32)
    ink[..., 1] = 1.0
    ink[..., 3] = 1.0
    doc.add_layer(new_layer(LayerKind.PAINT, "Green ink", pixels=ink, opacity=0.4, offset=(5, 7)))
    doc.add_layer(new_layer(LayerKind.MASK, "Hole", size=(50, 40), visible=False))
    return doc


@pytest.mark.parametrize("depth", [8, 16])
def test_psd_has_layers_names_opacity_visibility(tmp_path, depth):
    doc = _doc()
    path = tmp_path / "out.psd"
    export_psd(doc, path, bit_depth=depth)
    psd = PSDImage.open(path)
    assert psd.size == (50, 40) and psd.depth == depth
    layers = list(psd)
    assert [lay.name for lay in layers] == ["Photo", "Green ink", "Hole"]
    assert [lay.opacity for lay in layers] == [255, round(0.4 * 255), 255]
    assert [lay.visible for lay in layers] == [True, True, False]
    ink = layers[1]
    assert (ink.left, ink.top, ink.width, ink.height) == (5, 7, 12, 10)
    px = ink.numpy()
    np.testing.assert_allclose(px[3, 3, :3], [0, 1, 0], atol=1e-3)
    photo = layers[0].numpy()[..., :3]
    np.testing.assert_allclose(photo, doc.layers[0].pixels, atol=1.0 / 255)


def test_bad_depth_refused(tmp_path):
    with pytest.raises(ValueError, match="8 or 16"):
        export_psd(_doc(), tmp_path / "x.psd", bit_depth=12)

"""Flattened, single-layer and matte exports through the shared writers, read back."""

from __future__ import annotations

import numpy as np
import pytest

from latent_atelier.app.document.document import Document
from latent_atelier.app.document.export import export_file, export_flattened, export_layer, export_matte
from latent_atelier.app.document.image_read import read_image
from latent_atelier.app.document.image_write import read_matte
from latent_atelier.app.document.layers import LayerKind, Palette, new_layer


def _doc() -> Document:
    rng = np.random.default_rng(0)
    doc = Document.from_image(rng.random((30, 40, 3), np.float32))
    ink = np.zeros((30, 40, 4), np.float32)
    ink[5:10, 5:10] = (1.0, 0.0, 0.0, 0.5)
    doc.add_layer(new_layer(LayerKind.PAINT, "Ink", pixels=ink))
    doc.add_layer(
        new_layer(LayerKind.MATTE, "Matte", pixels=rng.random((10, 12), np.float32), offset=(35, 25))
    )
    return doc


def test_flattened_png_16bit_matches_composite(tmp_path):
    doc = _doc()
    doc.layers[2].visible = False
    path = export_flattened(doc, tmp_path / "flat.png", bit_depth=16)
    img = read_image(path)
    assert img.bit_depth == 16 and img.has_alpha
    np.testing.assert_allclose(img.pixels, doc.composite(), atol=1 / 65535)


def test_flattened_jpeg_over_white_and_psd_by_suffix(tmp_path):
    doc = Document(8, 8, [new_layer(LayerKind.PAINT, size=(8, 8))])  # fully transparent
    img = read_image(export_file(doc, tmp_path / "flat.jpg"))
    assert img.pixels.min() > 0.95  # transparent became white, not black
    assert export_file(_doc(), tmp_path / "layers.psd").stat().st_size > 0


def test_single_layer_exports(tmp_path):
    doc = _doc()
    ink = read_image(export_layer(doc, doc.layers[1].id, tmp_path / "ink.png"))
    np.testing.assert_allclose(ink.pixels, doc.layers[1].pixels, atol=1 / 255)
    pal = Palette()
    seg = pal.add("skin", (0, 255, 0))
    ids = np.zeros((4, 4), np.int32)
    ids[1, 1] = seg.id
    labels = doc.add_layer(new_layer(LayerKind.LABELS, pixels=ids, palette=pal))
    out = read_image(export_layer(doc, labels.id, tmp_path / "labels.png")).pixels
    np.testing.assert_allclose(out[1, 1], [0, 1, 0, 1])
    assert out[0, 0, 3] == 0.0


def test_matte_export_in_document_frame(tmp_path):
    doc = _doc()
    matte = doc.layers[2]
    for name, depth, tol in (("m.png", 16, 1 / 65535), ("m.exr", "half", 1e-3)):
        back = read_matte(export_matte(doc, matte.id, tmp_path / name, depth))
        assert back.shape == (30, 40)
        np.testing.assert_allclose(back[25:30, 35:40], matte.pixels[:5, :5], atol=tol)
        assert back[:25].max() == 0.0
    with pytest.raises(ValueError, match="not a mask or matte"):
        export_matte(doc, doc.layers[0].id, tmp_path / "x.png")

"""OpenRaster interchange with an independent implementation (pyora), both directions."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from pyora import Project

from latent_atelier.app.document.document import Document
from latent_atelier.app.document.layers import LayerKind, Palette, new_layer
from latent_atelier.app.document.ora import load_ora, save_ora


def test_pyora_reads_our_file(tmp_path):
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, (30, 40, 3)).astype(np.float32) / np.float32(255)
    doc = Document.from_image(photo, "Photo")
    ink = np.zeros((8, 10, 4), np.float32)
    ink[..., 2], ink[..., 3] = 1.0, 1.0
    doc.add_layer(new_layer(LayerKind.PAINT, "Ink", pixels=ink, offset=(3, 4), opacity=0.5, visible=False))
    pal = Palette()
    pal.add("skin")
    doc.add_layer(new_layer(LayerKind.LABELS, "Segments", pixels=np.ones((30, 40), np.int32), palette=pal))
    path = tmp_path / "ours.ora"
    save_ora(doc, path)
    project = Project.load(str(path))
    assert tuple(project.dimensions) == (40, 30)
    layers = {layer.name: layer for layer in project.iter_layers}
    assert set(layers) == {"Photo", "Ink", "Segments"}
    assert tuple(layers["Ink"].offsets) == (3, 4)
    assert layers["Ink"].opacity == pytest.approx(0.5) and not layers["Ink"].visible
    photo_back = np.asarray(layers["Photo"].get_image_data(raw=True))
    assert np.array_equal(photo_back[..., :3], np.round(photo * 255).astype(np.uint8))


def test_we_read_pyora_file(tmp_path):
    project = Project.new(40, 30)
    project.add_layer(
        Image.fromarray(np.full((10, 10, 4), 200, np.uint8)), "A", offsets=(5, 6), opacity=0.3, visible=False
    )
    project.add_group("G", offsets=(0, 0))
    project.add_layer(Image.fromarray(np.full((4, 4, 4), 100, np.uint8)), "G/B", offsets=(1, 2))
    path = tmp_path / "theirs.ora"
    project.save(str(path))  # entry names with a leading slash, as pyora writes them
    doc = load_ora(path)
    by = {layer.name: layer for layer in doc.layers}
    assert set(by) == {"A", "B"}
    assert by["A"].offset == (5, 6) and by["A"].opacity == pytest.approx(0.3)
    assert not by["A"].visible and by["B"].visible and by["B"].offset == (1, 2)
    np.testing.assert_allclose(by["B"].pixels[0, 0], [100 / 255] * 4, atol=1e-6)

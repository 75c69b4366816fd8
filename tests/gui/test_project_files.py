"""Save .ora, reopen in a fresh window; a corrupt .ora shows an error and loses nothing."""

from __future__ import annotations

import numpy as np

from tests.gui.conftest import drag, line


def _paint_some_layers(window) -> None:
    window.add_layer("paint")
    window.brush_settings.color = (0.2, 0.6, 1.0)
    drag(window, line(50, 50, 450, 300))
    window.document.set_layer_props(window.document.active_layer.id, opacity=0.6, name="Scribble")
    window.add_layer("labels")
    pw = window.layers_dock.palette
    face = pw.add_segment("face")
    pw.select_segment(face)
    drag(window, line(220, 150, 300, 150))
    pw.recolor_segment(face, (250, 20, 120))


def test_save_and_reopen_identical(make_window, window, tmp_path) -> None:
    _paint_some_layers(window)
    path = tmp_path / "project.ora"
    assert window.save_to(path)
    assert not window.document.dirty
    assert "*" not in window.windowTitle()

    fresh = make_window()
    assert fresh.open_path(path)
    a, b = window.document, fresh.document
    assert (a.width, a.height) == (b.width, b.height)
    assert [lay.name for lay in a.layers] == [lay.name for lay in b.layers]
    assert [lay.kind for lay in a.layers] == [lay.kind for lay in b.layers]
    for la, lb in zip(a.layers, b.layers):
        assert la.opacity == lb.opacity and la.visible == lb.visible
        np.testing.assert_allclose(la.pixels, lb.pixels, atol=1 / 65535)
        if la.palette is not None:
            assert la.palette.to_list() == lb.palette.to_list()
    assert str(path.resolve()) in fresh.settings.recent_files()


def test_corrupt_ora_shows_error_and_keeps_the_open_document(window, errors, tmp_path) -> None:
    _paint_some_layers(window)
    doc = window.document
    pixels = [lay.pixels.copy() for lay in doc.layers]
    bad = tmp_path / "broken.ora"
    bad.write_bytes(b"PK\x03\x04 this is not really a zip archive")

    assert not window.open_path(bad)
    assert errors and "broken.ora" in errors[-1][1]
    assert window.document is doc
    assert doc.dirty
    for before, lay in zip(pixels, doc.layers):
        np.testing.assert_array_equal(before, lay.pixels)


def test_export_flattened_psd_and_layer(window, tmp_path) -> None:
    from PIL import Image

    from latent_atelier.app.qt.document_io import export_flattened, export_layer, export_psd

    _paint_some_layers(window)
    png = tmp_path / "flat.png"
    export_flattened(window.document, png)
    export_flattened(window.document, tmp_path / "flat.jpg")
    export_psd(window.document, tmp_path / "layers.psd")
    export_layer(window.document, window.document.active_layer.id, tmp_path / "labels.png")
    with Image.open(png) as opened:
        assert opened.size == (512, 512)
    with Image.open(tmp_path / "flat.jpg") as opened:
        assert opened.mode == "RGB"
    assert (tmp_path / "layers.psd").stat().st_size > 1000
    with Image.open(tmp_path / "labels.png") as opened:
        assert opened.mode == "RGBA"

"""Layer blend modes: the W3C formulas in the composite, undoable, and kept through .ora
(``composite-op``) and PSD."""

from __future__ import annotations

import numpy as np
import pytest

from latent_atelier.app.document.blend import BLEND_MODES, ORA_COMPOSITE_OPS, blend_colours
from latent_atelier.app.document.document import Document
from latent_atelier.app.document.layers import new_layer

BACK = np.array([0.2, 0.5, 0.8], np.float32)
TOP = np.array([0.6, 0.3, 0.9], np.float32)
EXPECTED = {
    "normal": TOP,
    "multiply": BACK * TOP,
    "screen": BACK + TOP - BACK * TOP,
    # overlay: backdrop <= 0.5 -> 2 b t, else 1 - 2 (1 - b)(1 - t)
    "overlay": np.array([2 * 0.2 * 0.6, 2 * 0.5 * 0.3, 1 - 2 * 0.2 * 0.1], np.float32),
    "darken": np.minimum(BACK, TOP),
    "lighten": np.maximum(BACK, TOP),
}


def two_layer_doc(mode: str, opacity: float = 1.0) -> Document:
    back = new_layer("photo", "back", pixels=np.broadcast_to(BACK, (4, 6, 3)).copy())
    top_px = np.zeros((4, 6, 4), np.float32)
    top_px[..., :3] = TOP
    top_px[:, :3, 3] = 1.0  # the right half of the top layer is transparent
    top = new_layer("paint", "top", pixels=top_px, blend=mode, opacity=opacity)
    return Document(6, 4, [back, top])


@pytest.mark.parametrize("mode", BLEND_MODES)
def test_each_mode_composites_with_its_formula(mode) -> None:
    out = two_layer_doc(mode).composite()
    np.testing.assert_allclose(out[0, 0, :3], EXPECTED[mode], atol=1e-6)
    np.testing.assert_allclose(out[0, 5, :3], BACK, atol=1e-6)  # transparent: backdrop shows
    assert (out[..., 3] == 1).all()


def test_half_opacity_mixes_the_blend_with_the_backdrop() -> None:
    out = two_layer_doc("multiply", opacity=0.5).composite()
    np.testing.assert_allclose(out[0, 0, :3], 0.5 * BACK + 0.5 * BACK * TOP, atol=1e-6)


def test_over_transparency_a_blended_layer_shows_its_own_colour() -> None:
    top_px = np.zeros((2, 2, 4), np.float32)
    top_px[..., :3], top_px[..., 3] = TOP, 1.0
    doc = Document(2, 2, [new_layer("paint", "top", pixels=top_px, blend="multiply")])
    np.testing.assert_allclose(doc.composite()[0, 0, :3], TOP, atol=1e-6)


def test_blend_is_an_undoable_property_and_bad_names_are_refused() -> None:
    doc = two_layer_doc("normal")
    top = doc.layers[1]
    doc.set_layer_props(top.id, blend="screen")
    np.testing.assert_allclose(doc.composite()[0, 0, :3], EXPECTED["screen"], atol=1e-6)
    doc.undo()
    assert top.blend == "normal"
    with pytest.raises(ValueError, match="multiply"):
        doc.set_layer_props(top.id, blend="dissolve")
    assert top.copy().blend == "normal"


def test_blend_colours_match_the_table() -> None:
    for mode in BLEND_MODES:
        np.testing.assert_allclose(blend_colours(mode, BACK, TOP), EXPECTED[mode], atol=1e-6)


@pytest.mark.parametrize("mode", BLEND_MODES)
def test_modes_round_trip_through_openraster(tmp_path, mode) -> None:
    from latent_atelier.app.document.ora import load_ora, save_ora

    path = tmp_path / "b.ora"
    save_ora(two_layer_doc(mode), path)
    import zipfile

    stack = zipfile.ZipFile(path).read("stack.xml").decode()
    assert f'composite-op="{ORA_COMPOSITE_OPS[mode]}"' in stack
    doc = load_ora(path)
    assert doc.layers[1].blend == mode
    np.testing.assert_allclose(doc.composite()[0, 0, :3], EXPECTED[mode], atol=1 / 255)


def test_an_unsupported_composite_op_reads_as_normal(tmp_path) -> None:
    from latent_atelier.app.document.ora import load_ora, save_ora

    path = tmp_path / "b.ora"
    save_ora(two_layer_doc("multiply"), path)
    import zipfile

    with zipfile.ZipFile(path) as zf:
        entries = {n: zf.read(n) for n in zf.namelist()}
    entries["stack.xml"] = entries["stack.xml"].replace(b"svg:multiply", b"svg:color-dodge")
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    assert load_ora(path).layers[1].blend == "normal"


def test_modes_round_trip_through_psd(tmp_path) -> None:
    from psd_tools import PSDImage
    from psd_tools.constants import BlendMode

    from latent_atelier.app.document.psd_export import export_psd

    back = new_layer("photo", "back", pixels=np.broadcast_to(BACK, (4, 6, 3)).copy())
    layers = [back]
    for mode in BLEND_MODES:
        px = np.zeros((4, 6, 4), np.float32)
        px[..., :3], px[..., 3] = TOP, 1.0
        layers.append(new_layer("paint", mode, pixels=px, blend=mode))
    export_psd(Document(6, 4, layers), tmp_path / "b.psd")
    psd = PSDImage.open(tmp_path / "b.psd")
    read = {layer.name: layer.blend_mode for layer in psd}
    assert read["multiply"] == BlendMode.MULTIPLY and read["screen"] == BlendMode.SCREEN
    assert read["overlay"] == BlendMode.OVERLAY and read["darken"] == BlendMode.DARKEN
    assert read["lighten"] == BlendMode.LIGHTEN and read["normal"] == BlendMode.NORMAL

"""Per-layer overlay tints of mask and matte layers: defaults, display, copy, undo, ORA."""

from __future__ import annotations

import zipfile
from xml.etree import ElementTree as ET

import numpy as np
import pytest

from latent_atelier.app.document.document import Document
from latent_atelier.app.document.layers import (
    MASK_TINT,
    MASK_TINTS,
    LayerKind,
    check_tint,
    new_layer,
    next_mask_tint,
    tint_from_hex,
    tint_to_hex,
    to_rgba,
)
from latent_atelier.app.document.ora import NS, decode_png, load_ora, save_ora

GREEN = (0.0, 1.0, 0.0)


def _doc() -> Document:
    photo = np.full((8, 10, 3), 0.5, np.float32)
    return Document.from_image(photo)


def _add_mask(doc: Document, **props) -> str:
    """Add a mask layer the way the GUI's "Add mask layer" does (next free tint)."""
    layer = new_layer(LayerKind.MASK, size=doc.size, tint=next_mask_tint(doc.layers), **props)
    return doc.add_layer(layer).id


def test_default_tints_are_fixed_and_clearly_different() -> None:
    assert MASK_TINTS[0] == MASK_TINT
    assert len({tint_to_hex(t) for t in MASK_TINTS}) == len(MASK_TINTS) >= 6
    for i, a in enumerate(MASK_TINTS):
        for b in MASK_TINTS[i + 1 :]:
            assert np.abs(np.subtract(a, b)).sum() > 0.4, (a, b)


def test_new_mask_layers_get_distinct_tints() -> None:
    doc = _doc()
    ids = [_add_mask(doc) for _ in MASK_TINTS]
    tints = [doc.layer(i).tint for i in ids]
    assert tints == list(MASK_TINTS)
    # all taken: the least used one comes next, the first of them on a tie
    assert next_mask_tint(doc.layers) == MASK_TINTS[0]


def test_next_tint_skips_tints_used_by_masks_and_mattes_only() -> None:
    doc = _doc()
    doc.add_layer(new_layer(LayerKind.MATTE, size=doc.size))  # no tint: shows MASK_TINT
    doc.add_layer(new_layer(LayerKind.PAINT, size=doc.size, tint=MASK_TINTS[1]))  # not a mask
    assert next_mask_tint(doc.layers) == MASK_TINTS[1]
    removed = _add_mask(doc)
    assert doc.layer(removed).tint == MASK_TINTS[1]
    doc.remove_layer(removed)
    assert next_mask_tint(doc.layers) == MASK_TINTS[1]  # freed again


def test_rgba_uses_the_layer_tint() -> None:
    px = np.full((4, 5), 0.8, np.float32)
    default = new_layer(LayerKind.MASK, pixels=px).rgba()
    green = new_layer(LayerKind.MATTE, pixels=px, tint=GREEN).rgba()
    assert np.allclose(default[..., :3], MASK_TINT)
    assert np.allclose(green[..., :3], GREEN)
    assert np.allclose(green[..., 3], default[..., 3])
    # the free function keeps working without a tint and honours one when given
    assert np.allclose(to_rgba(px, LayerKind.MASK, None)[..., :3], MASK_TINT)
    assert np.allclose(to_rgba(px, LayerKind.MASK, None, GREEN)[..., :3], GREEN)


def test_composite_shows_two_masks_in_different_colours() -> None:
    doc = _doc()
    a, b = _add_mask(doc), _add_mask(doc)
    for lid, x in ((a, 1), (b, 6)):
        px = doc.layer(lid).pixels.copy()
        px[:, x : x + 2] = 1.0
        doc.replace_pixels(lid, px, "stroke")
    out = doc.composite()
    assert not np.allclose(out[4, 1, :3], out[4, 6, :3], atol=0.05)


def test_copy_and_duplicate_keep_the_tint() -> None:
    doc = _doc()
    lid = _add_mask(doc)
    doc.set_layer_props(lid, tint=GREEN)
    assert doc.layer(lid).copy(new_id=True).tint == GREEN
    assert doc.duplicate_layer(lid).tint == GREEN


def test_tint_change_is_one_undoable_step() -> None:
    doc = _doc()
    lid = _add_mask(doc)
    before = doc.layer(lid).tint
    events = []
    doc.add_listener(events.append)
    doc.set_layer_props(lid, tint=GREEN)
    assert doc.layer(lid).tint == GREEN
    assert any(e.kind == "props" and e.layer_id == lid and e.rect for e in events)
    doc.undo()
    assert doc.layer(lid).tint == before
    doc.redo()
    assert doc.layer(lid).tint == GREEN
    doc.set_layer_props(lid, tint=None)
    assert doc.layer(lid).tint is None
    doc.undo()
    assert doc.layer(lid).tint == GREEN


@pytest.mark.parametrize("bad", [(1.0, 0.0), (2.0, 0.0, 0.0), "red", (float("nan"), 0, 0), 3])
def test_bad_tints_are_refused(bad) -> None:
    doc = _doc()
    lid = _add_mask(doc)
    with pytest.raises(ValueError, match="three numbers"):
        doc.set_layer_props(lid, tint=bad)
    with pytest.raises(ValueError, match="three numbers"):
        check_tint(bad)


def test_hex_form_round_trips() -> None:
    for tint in (*MASK_TINTS, GREEN, check_tint((0.3, 0.61, 0.07))):
        assert tint_from_hex(tint_to_hex(tint)) == tint
    assert tint_to_hex(GREEN) == "#00ff00"
    for bad in ("", "00ff00", "#00ff0", "#00ff0g", "#00ff00ff"):
        with pytest.raises(ValueError, match="#rrggbb"):
            tint_from_hex(bad)


def test_ora_round_trip_keeps_tints(tmp_path) -> None:
    doc = _doc()
    red, custom, plain = _add_mask(doc), _add_mask(doc), _add_mask(doc)
    doc.set_layer_props(custom, tint=(0.2, 0.4, 0.6))
    doc.set_layer_props(plain, tint=None)
    doc.layer(custom).pixels[2:4, 2:4] = 1.0
    path = tmp_path / "tints.ora"
    save_ora(doc, path)
    back = load_ora(path)
    assert back.layer(red).tint == MASK_TINTS[0]
    assert back.layer(custom).tint == check_tint((0.2, 0.4, 0.6))
    assert back.layer(plain).tint is None
    # the PNG other programs see is drawn in the layer's own tint
    with zipfile.ZipFile(path) as zf:
        root = ET.fromstring(zf.read("stack.xml"))
        el = next(e for e in root.iter("layer") if e.get(f"{{{NS}}}id") == custom)
        assert el.get(f"{{{NS}}}tint") == "#336699"
        shown = decode_png(zf.read(el.get("src")), "overlay")
    assert tuple(shown[3, 3, :3]) == (0x33, 0x66, 0x99) and shown[3, 3, 3] > 0


def _rewrite_tint(src, dst, new_value: str | None) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "stack.xml":
                text = data.decode()
                start = text.index('la:tint="')
                end = text.index('"', start + len('la:tint="'))
                attr = "" if new_value is None else f'la:tint="{new_value}"'
                data = (text[:start] + attr + text[end + 1 :]).encode()
            zout.writestr(info, data)


@pytest.mark.parametrize("bad", ["not a colour", "#12345", "#gg0000", "[1, 2, 3]", "", None])
def test_malformed_or_missing_tint_loads_with_the_default(tmp_path, bad) -> None:
    doc = _doc()
    lid = _add_mask(doc)
    doc.set_layer_props(lid, tint=GREEN)
    save_ora(doc, tmp_path / "good.ora")
    _rewrite_tint(tmp_path / "good.ora", tmp_path / "bad.ora", bad)
    back = load_ora(tmp_path / "bad.ora")
    layer = back.layer(lid)
    assert layer.tint is None
    assert np.allclose(layer.rgba()[..., :3], MASK_TINT)


def test_psd_export_draws_masks_in_their_tint(tmp_path) -> None:
    from psd_tools import PSDImage

    from latent_atelier.app.document.psd_export import export_psd

    doc = _doc()
    lid = _add_mask(doc)
    doc.set_layer_props(lid, tint=GREEN)
    px = np.ones(doc.layer(lid).pixels.shape, np.float32)
    doc.replace_pixels(lid, px, "fill")
    export_psd(doc, tmp_path / "out.psd")
    psd = PSDImage.open(tmp_path / "out.psd")
    mask = next(lay for lay in psd if lay.name == doc.layer(lid).name)
    rgba = np.asarray(mask.numpy())
    assert np.allclose(rgba[..., :3], GREEN, atol=0.02)

"""OpenRaster project files: exact round trip, spec conformance, foreign files, damage."""

from __future__ import annotations

import io
import struct
import zipfile
from xml.etree import ElementTree as ET

import numpy as np
import pytest
import torch
from PIL import Image

from latent_atelier.app.document.brush import BrushSettings, StrokePainter
from latent_atelier.app.document.document import Document
from latent_atelier.app.document.layers import LayerKind, Palette, new_layer
from latent_atelier.app.document.ora import NS, ProjectError, load_ora, save_ora
from latent_atelier.editors.placement import Placement
from latent_atelier.models.generator import Latent

W, H = 80, 60


def _rich_document() -> Document:
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, (H, W, 3)).astype(np.float32) / np.float32(255)
    doc = Document.from_image(photo, "Portrait")
    ink = doc.add_layer(new_layer(LayerKind.PAINT, "Scribbles", size=(W, H), opacity=0.65))
    p = StrokePainter(doc, ink.id, BrushSettings(size=9, hardness=0.4, color=(0.3, 0.6, 0.9), opacity=0.77))
    p.press(5, 5)
    p.move_to(70, 50, pressure=0.6)
    p.release()
    mask = doc.add_layer(
        new_layer(
            LayerKind.MASK, "Hole", pixels=rng.random((20, 30), np.float32), offset=(7, 9), visible=False
        )
    )
    pal = Palette()
    pal.add("skin", (230, 180, 150))
    pal.add("hair")
    ids = rng.integers(0, 3, (H, W)).astype(np.int32)
    labels = doc.add_layer(new_layer(LayerKind.LABELS, "Segments", pixels=ids, palette=pal, locked=True))
    latent = Latent({"w": torch.randn(1, 4, 8)}, [torch.randn(1, 1, 4, 4), torch.randn(1, 1, 8, 8)])
    result = new_layer(
        LayerKind.RESULT,
        "Inpainted",
        pixels=rng.random((H, W, 4), np.float32),
        latent=latent,
        placement=Placement.centered((H, W), 64),
        operation={"name": "inpaint", "params": {"steps_w": 200, "seed": 3}},
        pending=True,
        extras={"notes.txt": b"hello \x00 bytes"},
    )
    doc.add_layer(result)
    doc.add_layer(
        new_layer(LayerKind.MATTE, "Matte", pixels=np.linspace(0, 1, W * H, dtype=np.float32).reshape(H, W))
    )
    doc.set_active(mask.id)
    assert labels.id in [lay.id for lay in doc.layers]
    return doc


def test_save_and_reopen_is_identical(tmp_path):
    doc = _rich_document()
    path = tmp_path / "project.ora"
    save_ora(doc, path)
    back = load_ora(path)
    assert (back.width, back.height) == (W, H)
    assert back.path == path and not back.dirty and not back.can_undo
    assert back.active_id == doc.active_id
    assert len(back.layers) == len(doc.layers)
    for a, b in zip(doc.layers, back.layers):
        assert (a.id, a.name, a.kind, a.visible, a.locked, a.offset, a.pending) == (
            b.id,
            b.name,
            b.kind,
            b.visible,
            b.locked,
            b.offset,
            b.pending,
        )
        assert a.opacity == b.opacity
        assert a.pixels.dtype == b.pixels.dtype and np.array_equal(a.pixels, b.pixels), a.name
        assert a.palette == b.palette
        assert a.operation == b.operation and a.extras == b.extras
    src, dst = doc.layers[4], back.layers[4]
    assert set(dst.latent.w) == {"w"}
    assert torch.equal(src.latent.w["w"], dst.latent.w["w"])
    assert all(torch.equal(x, y) for x, y in zip(src.latent.noise, dst.latent.noise))
    assert np.array_equal(src.placement.matrix, dst.placement.matrix)
    assert dst.placement.size == 64 and dst.placement.photo_shape == (H, W)
    assert np.array_equal(doc.composite(), back.composite())


def test_mimetype_first_and_stored_uncompressed(tmp_path):
    path = tmp_path / "p.ora"
    save_ora(_rich_document(), path)
    raw = path.read_bytes()
    # local file header: signature, ..., name length at 26, extra length at 28, name at 30
    assert raw[:4] == b"PK\x03\x04"
    (method,) = struct.unpack("<H", raw[8:10])
    name_len, extra_len = struct.unpack("<HH", raw[26:30])
    assert method == 0 and extra_len == 0
    assert raw[30 : 30 + name_len] == b"mimetype"
    assert raw[38:54] == b"image/openraster"
    with zipfile.ZipFile(path) as zf:
        first = zf.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED


def test_written_file_follows_openraster_spec(tmp_path):
    doc = _rich_document()
    path = tmp_path / "p.ora"
    save_ora(doc, path)
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        assert {"mimetype", "stack.xml", "mergedimage.png", "Thumbnails/thumbnail.png"} <= names
        root = ET.fromstring(zf.read("stack.xml"))
        assert root.tag == "image" and root.get("version")
        assert (int(root.get("w")), int(root.get("h"))) == (W, H)
        stacks = [c for c in root if c.tag == "stack"]
        assert len(stacks) == 1
        layers = list(stacks[0])
        assert [el.get("name") for el in layers] == [lay.name for lay in reversed(doc.layers)]
        for el in layers:
            assert el.tag == "layer"
            src = el.get("src")
            assert src.startswith("data/") and src.endswith(".png") and src in names
            img = Image.open(io.BytesIO(zf.read(src)))
            assert img.format == "PNG"
            int(el.get("x")), int(el.get("y"))
            assert 0.0 <= float(el.get("opacity")) <= 1.0
            assert el.get("visibility") in ("visible", "hidden")
            assert el.get("composite-op") == "svg:src-over"
            for key in el.attrib:  # anything outside the spec is in our namespace
                assert key in {
                    "name",
                    "src",
                    "x",
                    "y",
                    "opacity",
                    "visibility",
                    "composite-op",
                    "edit-locked",
                } or key.startswith(f"{{{NS}}}")
            for key, value in el.attrib.items():
                if key.startswith(f"{{{NS}}}") and "/" in value:
                    assert value.startswith("latent-atelier/") and value in names
        merged = Image.open(io.BytesIO(zf.read("mergedimage.png")))
        assert merged.size == (W, H) and merged.mode == "RGBA"
        thumb = Image.open(io.BytesIO(zf.read("Thumbnails/thumbnail.png")))
        assert max(thumb.size) <= 256
        other = [
            n
            for n in names
            if n not in {"mimetype", "stack.xml", "mergedimage.png", "Thumbnails/thumbnail.png"}
        ]
        assert all(n.startswith(("data/", "latent-atelier/")) for n in other)


def test_thumbnail_of_large_document_is_at_most_256(tmp_path):
    doc = Document.from_image(np.zeros((300, 700, 3), np.float32))
    save_ora(doc, tmp_path / "big.ora")
    with zipfile.ZipFile(tmp_path / "big.ora") as zf:
        thumb = Image.open(io.BytesIO(zf.read("Thumbnails/thumbnail.png")))
    assert thumb.size == (256, 110)


def _png(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    return buf.getvalue()


def test_reads_ora_written_like_krita_gimp_mypaint(tmp_path):
    """A hand-made file in other programs' style: nested groups, offsets, hidden layers,
    their own extra attributes and entries, no extras of ours."""
    bg = np.full((50, 40, 3), 200, np.uint8)
    red = np.zeros((10, 12, 4), np.uint8)
    red[..., 0], red[..., 3] = 255, 128
    gray = np.full((5, 6), 77, np.uint8)
    blue = np.zeros((4, 4, 4), np.uint8)
    blue[..., 2], blue[..., 3] = 255, 255
    stack_xml = """<?xml version='1.0' encoding='UTF-8'?>
<image w="40" h="50" version="0.0.1" xres="300" yres="300" name="sketch">
  <stack>
    <layer name="Ink" src="data/ink.png" x="3" y="4" opacity="0.5" visibility="visible"
           composite-op="svg:src-over" selected="true" mypaint_strokemap_v2="data/ink.dat"/>
    <stack name="Group" x="10" y="20" opacity="0.5" visibility="visible" isolation="isolate">
      <layer name="Red" src="data/red.png" x="1" y="2" opacity="0.8" visibility="visible"/>
      <stack name="Hidden group" visibility="hidden">
        <layer name="Blue" src="data/blue.png" x="0" y="0"/>
      </stack>
    </stack>
    <layer name="Gray" src="data/gray.png" visibility="hidden" opacity="1.0"/>
    <layer name="Background" src="data/bg.png" background_tile="data/tile.png"/>
  </stack>
</image>"""
    path = tmp_path / "foreign.ora"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), b"image/openraster")
        zf.writestr("stack.xml", stack_xml, compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr("data/ink.png", _png(blue))
        zf.writestr("data/red.png", _png(red))
        zf.writestr("data/blue.png", _png(blue))
        zf.writestr("data/gray.png", _png(gray))
        zf.writestr("data/bg.png", _png(bg))
        zf.writestr("data/ink.dat", b"\x00strokemap")
        zf.writestr("data/tile.png", _png(bg[:4, :4]))
        zf.writestr("Thumbnails/thumbnail.png", _png(bg))
        zf.writestr("mergedimage.png", _png(bg))
        zf.writestr("documentinfo.xml", "<document-info/>")
    doc = load_ora(path)
    assert (doc.width, doc.height) == (40, 50)
    names = [lay.name for lay in doc.layers]
    assert names == ["Background", "Gray", "Blue", "Red", "Ink"]  # bottom first
    by = {lay.name: lay for lay in doc.layers}
    assert all(lay.kind == LayerKind.PAINT and lay.pixels.shape[2] == 4 for lay in doc.layers)
    assert by["Red"].offset == (11, 22) and by["Red"].opacity == pytest.approx(0.4)
    assert by["Ink"].offset == (3, 4) and by["Ink"].opacity == pytest.approx(0.5)
    assert by["Blue"].offset == (10, 20) and not by["Blue"].visible
    assert not by["Gray"].visible and by["Background"].visible
    np.testing.assert_allclose(by["Red"].pixels[0, 0], [1, 0, 0, 128 / 255], atol=1e-6)
    np.testing.assert_allclose(by["Gray"].pixels[0, 0], [77 / 255] * 3 + [1], atol=1e-6)
    assert by["Background"].pixels[..., 3].min() == 1.0
    out = doc.composite()
    assert out.shape == (50, 40, 4) and out[0, 0, 3] == 1.0
    # re-save in our format and read again: the same layers come back
    save_ora(doc, tmp_path / "again.ora")
    again = load_ora(tmp_path / "again.ora")
    assert [lay.name for lay in again.layers] == names
    assert np.array_equal(again.composite(), out)


def _corrupt_variants(good: bytes) -> dict[str, bytes]:
    def rezip(mutate) -> bytes:
        src = zipfile.ZipFile(io.BytesIO(good))
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as dst:
            for info in src.infolist():
                data = mutate(info.filename, src.read(info.filename))
                if data is not None:
                    dst.writestr(info.filename, data)
        return buf.getvalue()

    return {
        "random.ora": b"\x13\x37" * 500,
        "truncated.ora": good[: len(good) // 2],
        "no-stack.ora": rezip(lambda n, d: None if n == "stack.xml" else d),
        "bad-xml.ora": rezip(lambda n, d: b"<image w='3'" if n == "stack.xml" else d),
        "missing-layer.ora": rezip(lambda n, d: None if n.startswith("data/") else d),
        "bad-png.ora": rezip(lambda n, d: b"not png" if n.startswith("data/") else d),
        "bad-npy.ora": rezip(lambda n, d: b"junk" if n.endswith(".npy") else d),
        "wrong-mime.ora": rezip(lambda n, d: b"application/zip" if n == "mimetype" else d),
        "entities.ora": rezip(
            lambda n, d: (
                (
                    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aa">]>'
                    b"<image w='1' h='1'><stack/></image>"
                )
                if n == "stack.xml"
                else d
            )
        ),
    }


def test_corrupt_files_raise_project_error_and_change_nothing(tmp_path):
    doc = _rich_document()
    good_path = tmp_path / "good.ora"
    save_ora(doc, good_path)
    good = good_path.read_bytes()
    before = [lay.pixels.copy() for lay in doc.layers]
    n_steps = len(doc.history.steps)
    for name, data in _corrupt_variants(good).items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(ProjectError, match=name):
            load_ora(path)
        assert path.read_bytes() == data  # reading never rewrites
    assert all(np.array_equal(a, lay.pixels) for a, lay in zip(before, doc.layers))
    assert len(doc.history.steps) == n_steps and good_path.read_bytes() == good
    with pytest.raises(ProjectError, match="no such file"):
        load_ora(tmp_path / "absent.ora")


def test_failed_save_keeps_the_old_file(tmp_path):
    doc = _rich_document()
    path = tmp_path / "p.ora"
    save_ora(doc, path)
    old = path.read_bytes()
    labels = next(lay for lay in doc.layers if lay.kind == LayerKind.LABELS)
    labels.pixels[0, 0] = 70000  # cannot be stored: the save fails part-way
    with pytest.raises(ProjectError, match=r"outside 0\.\.65535"):
        save_ora(doc, path)
    assert path.read_bytes() == old
    assert [p.name for p in tmp_path.iterdir()] == ["p.ora"]  # no temp file left behind


def test_imported_16bit_photo_is_stored_as_16bit_png_exactly(tmp_path):
    import cv2

    from latent_atelier.app.document.image_read import read_image

    rgb16 = np.random.default_rng(5).integers(0, 65536, (12, 9, 3), dtype=np.uint16)
    (tmp_path / "deep.png").write_bytes(cv2.imencode(".png", rgb16[..., ::-1])[1].tobytes())
    doc = Document.from_image(read_image(tmp_path / "deep.png").pixels)
    save_ora(doc, tmp_path / "deep.ora")
    with zipfile.ZipFile(tmp_path / "deep.ora") as zf:
        assert not [n for n in zf.namelist() if n.endswith(".npy")]  # no float side-car needed
        src = ET.fromstring(zf.read("stack.xml")).find("stack/layer").get("src")
        assert zf.read(src)[24] == 16  # the PNG header's bit depth
    assert np.array_equal(load_ora(tmp_path / "deep.ora").layers[0].pixels, doc.layers[0].pixels)

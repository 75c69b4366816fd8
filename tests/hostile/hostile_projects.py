"""Hostile .ora projects, built small and fast (shared by the loader and the GUI tests)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
from forge import add_zero_member, zero_png

NS = "https://latent-atelier.org/ns/openraster/1"


def _stack(width: int, height: int, layers: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><image version="0.0.6" w="{width}" '
        f'h="{height}" xmlns:la="{NS}"><stack>{layers}</stack></image>'
    ).encode()


def _ora(
    path: Path,
    stack_xml: bytes,
    entries: dict[str, bytes] | None = None,
    zeros: dict[str, int] | None = None,
    prefix: dict[str, bytes] | None = None,
) -> Path:
    """An .ora zip: mimetype first, stack.xml, ``entries``, and members of many zeros."""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), b"image/openraster")
        zf.writestr("stack.xml", stack_xml)
        for name, data in (entries or {}).items():
            zf.writestr(name, data)
        for name, n in (zeros or {}).items():
            add_zero_member(zf, name, n, (prefix or {}).get(name, b""))
    return path


def _small_png(w: int = 64, h: int = 64) -> bytes:
    return zero_png(w, h, 8, 6)


def _npy_header(shape: tuple[int, ...], dtype: str = "<f4") -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buf.getvalue()


def build_hostile_projects(d: Path) -> dict[str, Path]:
    """Every hostile project, written into folder ``d`` (milliseconds, a few MB in all)."""
    files = {}
    # a 30000 x 30000 16-bit mask layer in a 64 x 64 document (1.8 GB of samples, 1.8 MB file)
    files["huge_mask"] = _ora(
        d / "huge_mask.ora",
        _stack(64, 64, '<layer name="m" src="data/m.png" la:kind="mask" la:data="x/m16.png"/>'),
        {"data/m.png": _small_png(), "x/m16.png": zero_png(30000, 30000, 16, 0)},
    )
    # a 16384 x 16384 RGBA layer (1 GB 8-bit, 4 GB as float32)
    files["huge_layer"] = _ora(
        d / "huge_layer.ora",
        _stack(4096, 4096, '<layer name="big" src="data/big.png"/>'),
        {"data/big.png": zero_png(16384, 16384, 8, 6)},
    )
    # a 572-byte-class project declaring a 16384 x 16384 document
    files["huge_document"] = _ora(
        d / "huge_document.ora",
        _stack(16384, 16384, '<layer name="a" src="data/a.png"/>'),
        {"data/a.png": _small_png(4, 4)},
    )
    # a 3 GB extras entry, compressed to 3 MB
    files["huge_extra"] = _ora(
        d / "huge_extra.ora",
        _stack(64, 64, '<layer name="a" src="data/a.png" la:extras="x/extras.json"/>'),
        {"data/a.png": _small_png(), "x/extras.json": b'{"blob": "x/blob.bin"}'},
        zeros={"x/blob.bin": 3 << 30},
    )
    # a layer latent .npz holding 1 GB of zeros
    npz = io.BytesIO()
    with zipfile.ZipFile(npz, "w") as zf:
        add_zero_member(zf, "w__main.npy", 1 << 30, _npy_header((1 << 28,)))
    files["latent_zeros"] = _ora(
        d / "latent_zeros.ora",
        _stack(64, 64, '<layer name="a" src="data/a.png" la:latent="x/latent.npz"/>'),
        {"data/a.png": _small_png(), "x/latent.npz": npz.getvalue()},
    )
    # an internal entity in a UTF-16 stack.xml (the old byte check missed it)
    utf16 = (
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE image [<!ENTITY w "64">]>'
        '<image w="&w;" h="64"><stack><layer name="a" src="data/a.png"/></stack></image>'
    )
    files["utf16_entity"] = _ora(d / "utf16_entity.ora", utf16.encode("utf-16"), {"data/a.png": _small_png()})
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE image [<!ENTITY a "aaaaaaaaaa">'
        + "".join(
            f'<!ENTITY {c} "{("&" + p + ";") * 10}">' for c, p in zip("bcdefghij", "abcdefghi", strict=True)
        )
        + ']><image w="64" h="64" name="&j;"><stack/></image>'
    )
    files["billion_laughs"] = _ora(d / "laughs.ora", laughs.encode(), {})
    # 40 distinct 4096 x 4096 layers: 10 GB as float32 from a 2.6 MB file
    layers = "".join(f'<layer name="l{i}" src="data/l{i}.png"/>' for i in range(40))
    big = zero_png(4096, 4096, 8, 6)
    files["many_layers"] = _ora(
        d / "many_layers.ora", _stack(4096, 4096, layers), {f"data/l{i}.png": big for i in range(40)}
    )
    # one huge-but-allowed PNG entry shared by 600 layers
    shared = "".join(f'<layer name="l{i}" src="data/l.png"/>' for i in range(600))
    files["shared_entry"] = _ora(
        d / "shared.ora", _stack(2048, 2048, shared), {"data/l.png": zero_png(2048, 2048, 8, 6)}
    )
    # stacks nested 100 000 deep
    files["deep_stacks"] = _ora(
        d / "deep.ora", _stack(64, 64, "<stack>" * 100_000 + "</stack>" * 100_000), {}
    )
    # 30 000 zip entries (the central directory alone; the limit is 20 000)
    many = d / "many_entries.ora"
    with zipfile.ZipFile(many, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), b"image/openraster")
        zf.writestr("stack.xml", _stack(64, 64, ""))
        for i in range(30_000):
            zf.writestr(zipfile.ZipInfo(f"x/{i}"), b"")
    files["many_entries"] = many
    # a JPEG where a PNG layer belongs
    files["not_png"] = _ora(
        d / "jpeg.ora",
        _stack(64, 64, '<layer name="a" src="data/a.png"/>'),
        {"data/a.png": b"\xff\xd8\xff\xe0" + bytes(100)},
    )
    return files

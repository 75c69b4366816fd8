"""OpenRaster (``.ora``) project files: our own, and those Krita, GIMP and MyPaint write.

Layout written (OpenRaster 0.0.6): an uncompressed ``mimetype`` entry first, ``stack.xml``,
one ``data/*.png`` per layer, ``Thumbnails/thumbnail.png`` (at most 256 px) and
``mergedimage.png``. Other programs see every layer as an ordinary PNG layer (masks as a
tinted overlay, label maps in their palette colours). Our extras live under
``latent-atelier/`` and are named by attributes in our own XML namespace, which other
programs ignore:

- ``la:id``, ``la:kind``, ``la:pending``: the layer's identity and kind
- ``la:data``: masks/mattes and label maps as 16-bit grayscale PNG (the exact values)
- ``la:exact``: float32 ``.npy`` when 8/16-bit PNG cannot hold the pixels exactly
- ``la:palette``, ``la:placement``, ``la:operation``: JSON; ``la:latent``: ``.npz``
- ``composite-op`` (standard) carries the blend mode: ``svg:src-over``, ``svg:multiply``,
  ``svg:screen``, ``svg:overlay``, ``svg:darken``, ``svg:lighten`` (others read as normal)
- ``la:tint``: a mask's or matte's overlay colour as ``#rrggbb`` (a malformed value is
  ignored: the layer shows the default tint)
- ``la:extras``: JSON mapping of extra names to entries carried along as bytes

Reading never executes anything (no pickles; ``np.load(allow_pickle=False)``).
"""

from __future__ import annotations

import io
import json
import os
import posixpath
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import cv2
import numpy as np

from latent_atelier.app.document.blend import ORA_COMPOSITE_OPS, blend_from_composite_op
from latent_atelier.app.document.document import Document
from latent_atelier.app.document.layers import (
    Layer,
    LayerKind,
    Palette,
    Tint,
    check_pixels,
    new_layer,
    tint_from_hex,
    tint_to_hex,
)
from latent_atelier.app.document.limits import MAX_IMAGE_PIXELS, image_size_problem
from latent_atelier.models.atomic import atomic_open
from latent_atelier.models.untrusted import (
    BudgetError,
    MiB,
    check_npz,
    check_zip,
    human_bytes,
    load_npy,
    parse_xml,
    read_zip_entry,
    zip_entry_count,
)

MIMETYPE = b"image/openraster"
ORA_VERSION = "0.0.6"
NS = "https://latent-atelier.org/ns/openraster/1"
EXTRAS_DIR = "latent-atelier"
THUMBNAIL_MAX = 256
MAX_LAYER_PIXELS = MAX_IMAGE_PIXELS  # a document and each layer (see limits.py)
LAYER_AREA_FACTOR = 4  # a layer may cover at most 4x the document's area


def _memory_bytes() -> int:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 16 << 30


# every layer's float32 pixels together: 8 GB, or half the machine's memory if less
MAX_DECODED_BYTES = min(8 << 30, _memory_bytes() // 2)
MAX_ENTRIES = 20_000
MAX_LAYERS = 1000
MAX_STACK_DEPTH = 32
MAX_XML_BYTES = 16 * MiB
MAX_JSON_BYTES = 16 * MiB
MAX_LATENT_BYTES = 256 * MiB  # unpacked arrays of one latent .npz
MAX_EXTRA_BYTES = 64 * MiB  # one extra entry
MAX_EXTRAS_BYTES = 256 * MiB  # all extra entries together
MAX_PNG_ENTRY_BYTES = 2 << 30  # a layer's PNG file as stored in the zip
ZIP_TIME = (2020, 1, 1, 0, 0, 0)

ET.register_namespace("la", NS)


class ProjectError(Exception):
    """A project file cannot be read or written; the message says what to do."""


def _q(name: str) -> str:
    return f"{{{NS}}}{name}"


# -- PNG codec --------------------------------------------------------------------------------
def encode_png(pixels: np.ndarray, bit_depth: int) -> bytes:
    """PNG bytes of float [0, 1] pixels (HxW, HxWx3 or HxWx4) at 8 or 16 bits."""
    scale, dtype = (255.0, np.uint8) if bit_depth == 8 else (65535.0, np.uint16)
    q = np.round(np.clip(pixels, 0.0, 1.0) * scale).astype(dtype)
    return encode_png_ints(q)


def encode_png_ints(q: np.ndarray) -> bytes:
    """PNG bytes of uint8/uint16 samples (RGB order)."""
    if q.ndim == 3:
        q = q[..., [2, 1, 0, 3]] if q.shape[2] == 4 else q[..., ::-1]
    ok, buf = cv2.imencode(".png", np.ascontiguousarray(q), [cv2.IMWRITE_PNG_COMPRESSION, 3])
    if not ok:
        raise ProjectError("could not encode a layer as PNG")
    return buf.tobytes()


def png_header(data: bytes, what: str) -> tuple[int, int, int]:
    """``(width, height, channels)`` from a PNG's IHDR chunk, before anything is decoded."""
    if len(data) < 33 or data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ProjectError(f"{what} is not a PNG image (OpenRaster layers are PNG)")
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    channels = {0: 1, 2: 3, 3: 3, 4: 2, 6: 4}.get(data[25])
    if channels is None:
        raise ProjectError(f"{what} has an unknown PNG colour type {data[25]}")
    return width, height, channels


def decode_png(data: bytes, what: str) -> np.ndarray:
    """uint8/uint16 samples (RGB order) of a PNG whose size is within the limits."""
    width, height, _ = png_header(data, what)
    problem = image_size_problem(width, height)
    if problem:
        raise ProjectError(f"{what}: {problem}")
    arr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if arr is None:
        raise ProjectError(f"{what} is not a readable PNG image")
    if arr.ndim == 3:
        arr = arr[..., [2, 1, 0, 3]] if arr.shape[2] == 4 else arr[..., 2::-1]
    return arr


def _to_float(q: np.ndarray) -> np.ndarray:
    scale = np.float32(255.0 if q.dtype == np.uint8 else 65535.0)
    return q.astype(np.float32) / scale


def _exact_depth(px: np.ndarray) -> int | None:
    """8 or 16 when that PNG depth reproduces float32 ``px`` bit for bit, else None."""
    for depth, scale in ((8, 255.0), (16, 65535.0)):
        q = np.round(np.clip(px, 0.0, 1.0) * scale)
        if np.array_equal(q.astype(np.float32) / np.float32(scale), px):
            return depth
    return None


# -- writing ------------------------------------------------------------------------------------
@dataclass
class _Writer:
    zf: zipfile.ZipFile

    def put(self, name: str, data: bytes, compress: bool = True) -> None:
        info = zipfile.ZipInfo(name, ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        info.external_attr = 0o644 << 16
        self.zf.writestr(info, data)

    def put_npy(self, name: str, arr: np.ndarray) -> None:
        buf = io.BytesIO()
        np.save(buf, np.ascontiguousarray(arr), allow_pickle=False)
        self.put(name, buf.getvalue())

    def put_json(self, name: str, obj: Any) -> None:
        self.put(name, json.dumps(obj, indent=1).encode("utf-8"))


def save_ora(doc: Document, path: str | os.PathLike, extra_entries: dict[str, bytes] | None = None) -> None:
    """Write ``doc`` to an OpenRaster file atomically (the old file stays on any failure).

    ``extra_entries`` (name -> bytes) are stored too (the recovery bookkeeping, for one).
    """
    target = Path(path)
    try:
        with atomic_open(target) as fh, zipfile.ZipFile(fh, "w", allowZip64=True) as zf:
            writer = _Writer(zf)
            _write_all(writer, doc)
            for name, data in (extra_entries or {}).items():
                writer.put(name, data)
    except ProjectError:
        raise
    except OSError as exc:
        raise ProjectError(f"could not save {target}: {exc.strerror or exc}") from exc


def _write_all(w: _Writer, doc: Document) -> None:
    w.put("mimetype", MIMETYPE, compress=False)
    root = ET.Element(
        "image",
        {"version": ORA_VERSION, "w": str(doc.width), "h": str(doc.height), "xres": "72", "yres": "72"},
    )
    root.set(_q("version"), "1")
    if doc.active_id:
        root.set(_q("active"), doc.active_id)
    stack = ET.SubElement(root, "stack")
    for i, layer in reversed(list(enumerate(doc.layers))):  # stack.xml lists the top first
        stack.append(_write_layer(w, layer, f"layer{i:03d}"))
    xml = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    w.put("stack.xml", xml)
    merged = doc.composite()
    w.put("mergedimage.png", encode_png(merged, 8))
    w.put("Thumbnails/thumbnail.png", encode_png(_thumbnail(merged), 8))


def _write_layer(w: _Writer, layer: Layer, uid: str) -> ET.Element:
    src = f"data/{uid}.png"
    el = ET.Element(
        "layer",
        {
            "name": layer.name,
            "src": src,
            "x": str(int(layer.offset[0])),
            "y": str(int(layer.offset[1])),
            "opacity": repr(float(layer.opacity)),
            "visibility": "visible" if layer.visible else "hidden",
            "composite-op": ORA_COMPOSITE_OPS[layer.blend],
            "edit-locked": "true" if layer.locked else "false",
        },
    )
    el.set(_q("id"), layer.id)
    el.set(_q("kind"), layer.kind.value)
    if layer.pending:
        el.set(_q("pending"), "true")
    if layer.tint is not None:
        el.set(_q("tint"), tint_to_hex(layer.tint))
    base = f"{EXTRAS_DIR}/{uid}"
    px = layer.pixels
    if layer.kind.is_color:
        depth = _exact_depth(px)
        w.put(src, encode_png(px, depth or 16))
        if depth is None:
            w.put_npy(f"{base}-pixels.npy", px)
            el.set(_q("exact"), f"{base}-pixels.npy")
    else:
        w.put(src, encode_png(layer.rgba(), 8))  # what other programs show
        if layer.kind == LayerKind.LABELS:
            if px.min(initial=0) < 0 or px.max(initial=0) > 65535:
                raise ProjectError(f"layer '{layer.name}' has segment ids outside 0..65535")
            w.put(f"{base}-labels.png", encode_png_ints(px.astype(np.uint16)))
            el.set(_q("data"), f"{base}-labels.png")
        else:
            w.put(f"{base}-mask.png", encode_png(px, 16))
            el.set(_q("data"), f"{base}-mask.png")
            if _exact_depth(px) is None:
                w.put_npy(f"{base}-pixels.npy", px)
                el.set(_q("exact"), f"{base}-pixels.npy")
    if layer.palette is not None:
        w.put_json(f"{base}-palette.json", layer.palette.to_list())
        el.set(_q("palette"), f"{base}-palette.json")
    if layer.latent is not None:
        w.put(f"{base}-latent.npz", layer.latent.to_bytes())
        el.set(_q("latent"), f"{base}-latent.npz")
    if layer.placement is not None:
        w.put_json(f"{base}-placement.json", layer.placement.to_dict())
        el.set(_q("placement"), f"{base}-placement.json")
    if layer.operation is not None:
        w.put_json(f"{base}-operation.json", layer.operation)
        el.set(_q("operation"), f"{base}-operation.json")
    if layer.extras:
        names = {}
        for j, (key, data) in enumerate(sorted(layer.extras.items())):
            names[key] = f"{base}-extra{j:02d}.bin"
            w.put(names[key], bytes(data))
        w.put_json(f"{base}-extras.json", names)
        el.set(_q("extras"), f"{base}-extras.json")
    return el


def _thumbnail(rgba: np.ndarray) -> np.ndarray:
    h, w = rgba.shape[:2]
    scale = min(1.0, THUMBNAIL_MAX / max(h, w))
    if scale >= 1.0:
        return rgba
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(rgba, size, interpolation=cv2.INTER_AREA)


# -- reading --------------------------------------------------------------------------------------
def load_ora(path: str | os.PathLike) -> Document:
    """Read an OpenRaster file (ours or another program's) into a new Document.

    Nested stacks are flattened (their offsets, opacity and visibility applied to their
    layers). Raises :class:`ProjectError` with a clear message for anything unreadable.
    """
    p = Path(path)
    try:
        count = zip_entry_count(p)  # before zipfile builds an object for every entry
        if count is not None and count > MAX_ENTRIES:
            raise BudgetError(f"it has {count} entries; the limit is {MAX_ENTRIES}")
        with zipfile.ZipFile(p) as zf:
            doc = _read_all(zf, p)
    except ProjectError as exc:
        raise ProjectError(f"{p}: {exc}") from exc
    except BudgetError as exc:
        raise ProjectError(f"{p}: {exc}") from exc
    except MemoryError:
        raise ProjectError(f"{p}: not enough memory to open this project") from None
    except RecursionError:
        raise ProjectError(f"{p}: the project is nested too deeply to read") from None
    except FileNotFoundError:
        raise ProjectError(f"{p}: no such file") from None
    except zipfile.BadZipFile as exc:
        raise ProjectError(f"{p}: not an OpenRaster file (not a zip archive: {exc})") from exc
    except Exception as exc:  # any decoding failure means the project is damaged
        raise ProjectError(f"{p}: the project file is damaged ({type(exc).__name__}: {exc})") from exc
    doc.path = p
    doc.mark_saved()
    return doc


def _entry_key(name: str) -> str:
    """Entry names compared without a leading slash or ``./`` (some writers add them)."""
    return posixpath.normpath(name.replace("\\", "/").lstrip("/"))


class _Reader:
    """Zip entries read under size caps, and the pixel budget of the whole project."""

    def __init__(self, zf: zipfile.ZipFile) -> None:
        check_zip(zf, MAX_ENTRIES, 1 << 62, "the project")
        self.zf = zf
        self.names = {_entry_key(n): n for n in zf.namelist() if not n.endswith("/")}
        self.doc_size = (0, 0)
        self.decoded_left = MAX_DECODED_BYTES
        self.extras_left = MAX_EXTRAS_BYTES
        self.layers = 0

    def get(self, name: str, cap: int = MAX_JSON_BYTES) -> bytes:
        key = _entry_key(name)
        if key not in self.names:
            raise ProjectError(f"the entry '{name}' is missing")
        return read_zip_entry(self.zf, self.names[key], cap, f"the entry '{name}'")

    def head(self, name: str, n: int = 64) -> bytes:
        """The first ``n`` bytes of an entry (a PNG header), without reading the rest."""
        key = _entry_key(name)
        if key not in self.names:
            raise ProjectError(f"the entry '{name}' is missing")
        with self.zf.open(self.names[key]) as fh:
            return fh.read(n)

    def npy(self, name: str, cap: int) -> np.ndarray:
        return load_npy(self.get(name, cap + 4096), cap, f"the entry '{name}'")

    def json(self, name: str) -> Any:
        return json.loads(self.get(name, MAX_JSON_BYTES).decode("utf-8"))

    def charge(self, what: str, width: int, height: int, channels: int) -> None:
        """Check a layer's size against the document and the budget, before decoding it."""
        problem = image_size_problem(width, height)
        if problem:
            raise ProjectError(f"{what}: {problem}")
        doc_w, doc_h = self.doc_size
        if width * height > LAYER_AREA_FACTOR * doc_w * doc_h:
            raise ProjectError(
                f"{what} is {width} x {height} px, more than {LAYER_AREA_FACTOR}x the "
                f"{doc_w} x {doc_h} document: the project is damaged or forged"
            )
        nbytes = width * height * max(channels, 1) * 4
        if nbytes > self.decoded_left:
            raise ProjectError(
                f"its layers need more than {human_bytes(MAX_DECODED_BYTES)} of memory "
                "(the limit): remove layers in the program that wrote it"
            )
        self.decoded_left -= nbytes


def _read_all(zf: zipfile.ZipFile, p: Path) -> Document:
    r = _Reader(zf)
    names = set(r.names)
    if "mimetype" in names and r.get("mimetype").strip() != MIMETYPE:
        raise ProjectError("not an OpenRaster file (its mimetype is not image/openraster)")
    if "stack.xml" not in names:
        raise ProjectError("not an OpenRaster file (stack.xml is missing)")
    root = parse_xml(r.get("stack.xml", MAX_XML_BYTES), "stack.xml")
    if root.tag != "image":
        raise ProjectError("stack.xml has no <image> root")
    width, height = int(root.get("w", "0")), int(root.get("h", "0"))
    problem = image_size_problem(width, height)
    if problem:
        raise ProjectError(f"the document cannot be opened: {problem}")
    r.doc_size = (width, height)
    top = root.find("stack")
    if top is None:
        raise ProjectError("stack.xml has no root <stack>")
    _check_pixel_budget(r, top)
    layers_top_first: list[Layer] = []
    _read_stack(r, top, (0, 0), 1.0, True, layers_top_first, 0)
    doc = Document(width, height, list(reversed(layers_top_first)))
    active = root.get(_q("active"))
    if active and any(lay.id == active for lay in doc.layers):
        doc.active_id = active
    return doc


def _pixel_entry(el: ET.Element) -> tuple[str, int]:
    """The entry decoding a layer will read, and its channels once decoded."""
    kind = LayerKind(el.get(_q("kind"), LayerKind.PAINT.value))
    single = kind.is_scalar or kind == LayerKind.LABELS
    if el.get(_q("exact")):
        return el.get("src") or "", 1 if single else 4
    if single:
        return el.get(_q("data")) or "", 1
    return el.get("src") or "", 4


def _check_pixel_budget(r: _Reader, top: ET.Element) -> None:
    """Every layer's size from its PNG header against the document and the budget, and
    each pixel entry used once, before any layer is decoded."""
    seen: set[str] = set()
    todo = [(top, 0)]
    count = 0
    while todo:
        stack, depth = todo.pop()
        if depth > MAX_STACK_DEPTH:
            raise ProjectError(f"stacks are nested more than {MAX_STACK_DEPTH} deep (the limit)")
        for child in stack:
            if child.tag == "stack":
                todo.append((child, depth + 1))
                continue
            if child.tag != "layer":
                continue
            count += 1
            if count > MAX_LAYERS:
                raise ProjectError(f"it has more than {MAX_LAYERS} layers (the limit)")
            entry, channels = _pixel_entry(child)
            if not entry:
                continue  # reading the layer says what is missing
            key = _entry_key(entry)
            if key in seen:
                raise ProjectError(f"two layers use the entry '{entry}': the project is damaged or forged")
            seen.add(key)
            width, height, _ = png_header(r.head(entry), entry)
            r.charge(entry, width, height, channels)


def _read_stack(
    r: _Reader,
    stack: ET.Element,
    origin: tuple[int, int],
    opacity: float,
    visible: bool,
    out: list[Layer],
    depth: int,
) -> None:
    if depth > MAX_STACK_DEPTH:
        raise ProjectError(f"stacks are nested more than {MAX_STACK_DEPTH} deep (the limit)")
    ox = origin[0] + _int_attr(stack, "x")
    oy = origin[1] + _int_attr(stack, "y")
    for child in stack:
        if child.tag == "stack":
            _read_stack(
                r, child, (ox, oy), opacity * _opacity(child), visible and _visible(child), out, depth + 1
            )
        elif child.tag == "layer":
            r.layers += 1
            if r.layers > MAX_LAYERS:
                raise ProjectError(f"it has more than {MAX_LAYERS} layers (the limit)")
            out.append(_read_layer(r, child, (ox, oy), opacity, visible))
        # text, filter and unknown elements are ignored


def _int_attr(el: ET.Element, key: str) -> int:
    return round(float(el.get(key, "0") or 0))


def _opacity(el: ET.Element) -> float:
    return min(1.0, max(0.0, float(el.get("opacity", "1") or 1)))


def _visible(el: ET.Element) -> bool:
    return el.get("visibility", "visible") != "hidden"


def _read_layer(r: _Reader, el: ET.Element, origin: tuple[int, int], opacity: float, visible: bool) -> Layer:
    src = el.get("src")
    if not src:
        raise ProjectError(f"layer '{el.get('name', '?')}' has no src")
    kind = LayerKind(el.get(_q("kind"), LayerKind.PAINT.value))
    pixels = _read_pixels(r, el, src, kind)
    props: dict[str, Any] = {
        "visible": visible and _visible(el),
        "opacity": opacity * _opacity(el),
        "locked": el.get("edit-locked", "false") == "true",
        "offset": (origin[0] + _int_attr(el, "x"), origin[1] + _int_attr(el, "y")),
        "pending": el.get(_q("pending")) == "true",
        "blend": blend_from_composite_op(el.get("composite-op")),  # unsupported ops: normal
    }
    if el.get(_q("id")):
        props["id"] = el.get(_q("id"))
    props["tint"] = _read_tint(el.get(_q("tint")))
    if el.get(_q("palette")):
        props["palette"] = Palette.from_list(r.json(el.get(_q("palette"), "")))
    if el.get(_q("latent")):
        data = r.get(el.get(_q("latent"), ""), MAX_LATENT_BYTES)
        check_npz(data, MAX_LATENT_BYTES, "a layer latent")
        from latent_atelier.models.generator import Latent  # torch is imported only when a latent is present

        props["latent"] = Latent.from_bytes(data, source="layer latent")
    if el.get(_q("placement")):
        from latent_atelier.editors.placement import Placement

        props["placement"] = Placement.from_dict(r.json(el.get(_q("placement"), "")))
    if el.get(_q("operation")):
        props["operation"] = r.json(el.get(_q("operation"), ""))
    if el.get(_q("extras")):
        entries = r.json(el.get(_q("extras"), ""))
        props["extras"] = {str(k): _read_extra(r, str(v)) for k, v in entries.items()}
    return new_layer(kind, el.get("name") or "Layer", pixels=pixels, **props)


def _read_extra(r: _Reader, name: str) -> bytes:
    data = r.get(name, min(MAX_EXTRA_BYTES, r.extras_left))
    r.extras_left -= len(data)
    return data


def _read_tint(text: str | None) -> Tint | None:
    """The ``la:tint`` attribute; None (the default tint) when absent or malformed."""
    if not text:
        return None
    try:
        return tint_from_hex(text)
    except ValueError:
        return None


def _read_pixels(r: _Reader, el: ET.Element, src: str, kind: LayerKind) -> np.ndarray:
    exact = el.get(_q("exact"))
    if exact:
        channels = 1 if kind.is_scalar or kind == LayerKind.LABELS else 4
        width, height, _ = png_header(r.head(src), src)  # charged by _check_pixel_budget
        return check_pixels(kind, r.npy(exact, width * height * channels * 4))
    data_entry = el.get(_q("data"))
    if kind == LayerKind.LABELS:
        if not data_entry:
            raise ProjectError("a label layer has no label data")
        q = _decode_charged(r, data_entry, 1)
        return check_pixels(kind, q.astype(np.int32))
    if kind.is_scalar:
        if not data_entry:
            raise ProjectError(f"a {kind.value} layer has no mask data")
        return check_pixels(kind, _to_float(_decode_charged(r, data_entry, 1)))
    q = _decode_charged(r, src, 4)
    px = _to_float(q)
    if px.ndim == 2:
        px = np.repeat(px[..., None], 3, axis=2)
    if px.shape[2] == 2:  # gray + alpha
        px = np.concatenate([np.repeat(px[..., :1], 3, axis=2), px[..., 1:]], axis=2)
    if kind == LayerKind.PAINT and px.shape[2] == 3:
        px = np.concatenate([px, np.ones((*px.shape[:2], 1), np.float32)], axis=2)
    return check_pixels(kind, px)


def _decode_charged(r: _Reader, name: str, channels: int) -> np.ndarray:
    """Decode a layer PNG whose size :func:`_check_pixel_budget` accepted from its header."""
    data = r.get(name, MAX_PNG_ENTRY_BYTES)
    _w, _h, found = png_header(data, name)
    if channels == 1 and found != 1:  # masks and label maps are single-channel data
        raise ProjectError(f"{name} has {found} channels; mask and label data have one")
    return decode_png(data, name)

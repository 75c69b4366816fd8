"""A journal of finished strokes beside the autosave: a crash loses at most the stroke in
progress (no Qt).

:class:`JournalRecorder` watches a document's history. A pixel step that was just applied,
undone or redone becomes one record of the 128 px tiles it changed (their new content: a
stroke is replayed whole or not at all); a
blank layer just added becomes a record of its kind, size and properties; anything else
(layers removed, properties, very large replacements) is reported so that the caller
autosaves at once instead.

:class:`StrokeJournal` appends records to a file. Record layout (little-endian):
``b"LAJ1"``, u32 header length, JSON header (layer id, each tile's x, y, height and width,
the dtype and channels), u64 data length, the tiles' pixels one after the other, u32 CRC-32
of header and pixels. Each record is one ``os.writev``
call, so once :meth:`StrokeJournal.append` returns the bytes belong to the OS and a
killed process loses none of them; a background thread ``fdatasync``\\ s them against
power loss. :func:`replay` applies the records of a journal in order and stops at the
first torn or damaged one (the stroke a crash interrupted).
"""

from __future__ import annotations

import contextlib
import json
import os
import struct
import threading
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

from latent_atelier.app.document.history import InsertLayerStep, PixelStep
from latent_atelier.app.document.layers import (
    Layer,
    LayerKind,
    Palette,
    new_layer,
    tint_from_hex,
    tint_to_hex,
)

if TYPE_CHECKING:
    from latent_atelier.app.document.document import DocEvent, Document

MAGIC = b"LAJ1"
TILE = 128
MAX_RECORD_BYTES = 64 << 20  # a change larger than this is autosaved, not journaled
MAX_HEADER_BYTES = 4096
_DTYPES = {"float32": np.float32, "int32": np.int32}


class StrokeJournal:
    """An append-only journal file (created on first use)."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._fd: int | None = None
        self._dirty = threading.Event()
        self._closing = False
        self._syncer: threading.Thread | None = None

    def append(self, layer_id: str, x: int, y: int, block: np.ndarray) -> None:
        """Add one record: ``block`` is the layer's content at layer position ``(x, y)``."""
        self.append_tiles(layer_id, [(x, y, block)])

    def append_tiles(self, layer_id: str, tiles: list[tuple[int, int, np.ndarray]]) -> None:
        """Add one record of several blocks of a layer (replayed all together or not at all)."""
        blocks = [np.ascontiguousarray(b) for _x, _y, b in tiles]
        dtype = blocks[0].dtype
        extra = blocks[0].shape[2:]
        if dtype.name not in _DTYPES or any(b.dtype != dtype or b.shape[2:] != extra for b in blocks):
            raise ValueError("journal tiles are float32 or int32, all of one layout")
        boxes = [
            [int(x), int(y), int(b.shape[0]), int(b.shape[1])]
            for (x, y, _), b in zip(tiles, blocks, strict=True)
        ]
        data = b"".join(b.data.cast("B") for b in blocks) if len(blocks) > 1 else blocks[0].data
        self._write(
            {"op": "pixels", "layer": layer_id, "tiles": boxes, "dtype": dtype.name, "channels": list(extra)},
            memoryview(data).cast("B"),
        )

    def append_blank_layer(self, layer: Layer, index: int) -> None:
        """Add a record of a blank layer inserted at ``index`` (its pixels are implied)."""
        self._write(
            {
                "op": "insert",
                "index": int(index),
                "id": layer.id,
                "kind": layer.kind.value,
                "name": layer.name,
                "size": [layer.width, layer.height],
                "offset": list(layer.offset),
                "opacity": float(layer.opacity),
                "visible": bool(layer.visible),
                "locked": bool(layer.locked),
                "tint": tint_to_hex(layer.tint) if layer.tint is not None else None,
                "palette": layer.palette.to_list() if layer.palette is not None else None,
            },
            memoryview(b""),
        )

    def _write(self, meta: dict, data: memoryview) -> None:
        header = json.dumps(meta).encode()
        crc = zlib.crc32(data, zlib.crc32(header))
        parts: list[bytes | memoryview] = [
            MAGIC + struct.pack("<I", len(header)) + header + struct.pack("<Q", data.nbytes),
            data,
            struct.pack("<I", crc),
        ]
        fd = self._open()
        total = sum(len(p) for p in parts)
        written = os.writev(fd, parts)
        if written != total:  # a short write (a full disk): finish it or fail loudly
            rest = b"".join(bytes(p) for p in parts)[written:]
            while rest:
                rest = rest[os.write(fd, rest) :]
        self._dirty.set()

    def _open(self) -> int:
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            self._syncer = threading.Thread(target=self._sync_loop, name="journal-sync", daemon=True)
            self._syncer.start()
        return self._fd

    def _sync_loop(self) -> None:
        while not self._closing:
            self._dirty.wait()
            self._dirty.clear()
            fd = self._fd
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.fdatasync(fd)

    def close(self) -> None:
        """Flush to disk and close (the file stays)."""
        if self._fd is None:
            return
        self._closing = True
        self._dirty.set()
        if self._syncer is not None:
            self._syncer.join(timeout=5)
        with contextlib.suppress(OSError):
            os.fdatasync(self._fd)
        os.close(self._fd)
        self._fd = None


def read_records(
    path: str | os.PathLike,
) -> Iterator[tuple[dict, list[tuple[int, int, np.ndarray]] | None]]:
    """``(header, tiles)`` of each whole record, in order; stops at a torn one."""
    with open(path, "rb") as fh:
        while True:
            try:
                header, data = _read_record(fh)
            except _TornRecordError:
                return
            try:
                meta = json.loads(header)
                blocks = None
                if meta.get("op") == "pixels":
                    blocks = _split_tiles(meta, data)
            except (ValueError, KeyError, TypeError):
                return
            yield meta, blocks


class _TornRecordError(Exception):
    """The journal ends here: a record cut short or damaged (the crash hit mid-write)."""


def _read(fh: BinaryIO, n: int) -> bytes:
    data = fh.read(n)
    if len(data) < n:
        raise _TornRecordError
    return data


def _read_sized(fh: BinaryIO, length_format: str, limit: int) -> bytes:
    """A length (packed as ``length_format``), then that many bytes; none above ``limit``."""
    (n,) = struct.unpack(length_format, _read(fh, struct.calcsize(length_format)))
    if n > limit:
        raise _TornRecordError
    return _read(fh, n)


def _read_record(fh: BinaryIO) -> tuple[bytes, bytes]:
    """The header and data of the next whole record (checked against its CRC)."""
    if _read(fh, len(MAGIC)) != MAGIC:
        raise _TornRecordError
    header = _read_sized(fh, "<I", MAX_HEADER_BYTES)
    data = _read_sized(fh, "<Q", MAX_RECORD_BYTES)
    (crc,) = struct.unpack("<I", _read(fh, 4))
    if crc != zlib.crc32(data, zlib.crc32(header)):
        raise _TornRecordError
    return header, data


def _split_tiles(meta: dict, data: bytes) -> list[tuple[int, int, np.ndarray]]:
    dtype = np.dtype(_DTYPES[meta["dtype"]])
    extra = tuple(int(c) for c in meta["channels"])
    flat = np.frombuffer(data, dtype)
    out, start = [], 0
    for x, y, h, w in meta["tiles"]:
        n = int(h) * int(w) * int(np.prod(extra, dtype=np.int64))
        if n <= 0 or start + n > flat.size:
            raise ValueError("tile outside the record")
        out.append((int(x), int(y), flat[start : start + n].reshape(int(h), int(w), *extra)))
        start += n
    if start != flat.size:
        raise ValueError("record longer than its tiles")
    return out


def replay(path: str | os.PathLike, doc: Document) -> tuple[int, int]:
    """Apply a journal's records to ``doc``; returns (applied, skipped). A record whose
    layer is gone or whose block does not fit that layer is skipped."""
    applied = skipped = 0
    for meta, tiles in read_records(path):
        if meta.get("op") == "insert":
            ok = _insert_blank(doc, meta)
            applied, skipped = applied + ok, skipped + (not ok)
            continue
        try:
            layer_id = str(meta["layer"])
            px = doc.layer(layer_id).pixels
        except (KeyError, ValueError, TypeError):
            skipped += 1
            continue
        if not tiles or not all(_fits(px, x, y, block) for x, y, block in tiles):
            skipped += 1
            continue
        for x, y, block in tiles:
            doc._write_pixels(layer_id, x, y, block)
        applied += 1
    return applied, skipped


def _fits(px: np.ndarray, x: int, y: int, block: np.ndarray) -> bool:
    h, w = block.shape[:2]
    return (
        x >= 0
        and y >= 0
        and y + h <= px.shape[0]
        and x + w <= px.shape[1]
        and block.shape[2:] == px.shape[2:]
        and block.dtype == px.dtype
    )


def _insert_blank(doc: Document, meta: dict) -> bool:
    try:
        width, height = (int(v) for v in meta["size"])
        if width * height > 4 * doc.width * doc.height or any(lay.id == meta["id"] for lay in doc.layers):
            return False
        palette = Palette.from_list(meta["palette"]) if meta.get("palette") else None
        layer = new_layer(
            LayerKind(meta["kind"]),
            str(meta["name"]),
            size=(width, height),
            id=str(meta["id"]),
            offset=tuple(int(v) for v in meta["offset"]),
            opacity=float(meta["opacity"]),
            visible=bool(meta["visible"]),
            locked=bool(meta["locked"]),
            palette=palette,
            tint=tint_from_hex(meta["tint"]) if meta.get("tint") else None,
        )
    except (KeyError, ValueError, TypeError):
        return False
    doc._insert_layer(layer, int(meta.get("index", len(doc.layers))))
    return True


def is_blank(layer: Layer) -> bool:
    """True when ``layer`` holds only its kind's blank value (what a new layer holds)."""
    px = layer.pixels
    return bool((px == 1).all()) if layer.kind == LayerKind.BACKGROUND else not px.any()


class JournalRecorder:
    """Watches ``doc``'s history: each pixel step applied, undone or redone goes to
    ``record(layer_id, [(x, y, tile), ...])`` as its changed tiles; a blank layer added to
    ``record_layer(layer, index)``; any other change calls ``on_other()`` (the caller
    autosaves then)."""

    def __init__(
        self,
        doc: Document,
        record: Callable[[str, list[tuple[int, int, np.ndarray]]], None],
        on_other: Callable[[], None],
        record_layer: Callable[[Layer, int], None] | None = None,
    ) -> None:
        self.doc = doc
        self._record = record
        self._record_layer = record_layer
        self._on_other = on_other
        self._prev = (doc.history.top, doc.history.index)
        doc.add_listener(self._on_event)

    def detach(self) -> None:
        """Stop watching."""
        with contextlib.suppress(ValueError):
            self.doc.remove_listener(self._on_event)

    def _on_event(self, event: DocEvent) -> None:
        if event.kind != "history":
            return
        h = self.doc.history
        prev_top, prev_index = self._prev
        top = h.top
        self._prev = (top, h.index)
        if top is prev_top and h.index == prev_index:
            if top is not None and not isinstance(top, PixelStep):
                self._on_other()  # a property step that merged a newer change
            return
        if prev_top is not None and h.index < len(h.steps) and h.steps[h.index] is prev_top:
            self._journal(prev_top, undo=True)  # one step undone
        elif top is not None and (
            (h.index >= 2 and h.steps[h.index - 2] is prev_top) or (h.index == 1 and prev_top is None)
        ):
            self._journal(top, undo=False)  # one step pushed or redone
        else:
            self._on_other()

    def _journal(self, step: object, undo: bool) -> None:
        if (
            isinstance(step, InsertLayerStep)
            and not undo
            and self._record_layer is not None
            and is_blank(step.layer)
        ):
            self._record_layer(step.layer, step.index)
            return
        if not isinstance(step, PixelStep) or step.new.nbytes > MAX_RECORD_BYTES:
            self._on_other()
            return
        target, other = (step.old, step.new) if undo else (step.new, step.old)
        h, w = target.shape[:2]
        tiles = []
        for ty in range(0, h, TILE):
            for tx in range(0, w, TILE):
                tile = target[ty : ty + TILE, tx : tx + TILE]
                if not np.array_equal(tile, other[ty : ty + TILE, tx : tx + TILE]):
                    tiles.append((step.x + tx, step.y + ty, tile))
        if tiles:
            self._record(step.layer_id, tiles)

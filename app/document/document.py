"""The Document: ordered layers, an observer list, undoable edits and compositing (no Qt).

Coordinates: document rects are ``(x, y, w, h)`` in document pixels; a layer lies at its
``offset``. :class:`PixelEdit` rects are in the layer's own pixel coordinates, while the
rects it returns and every :class:`DocEvent` rect are in document coordinates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from latent_atelier.app.document.blend import NORMAL, check_blend, mix_with_backdrop
from latent_atelier.app.document.history import (
    DEFAULT_BUDGET_BYTES,
    History,
    InsertLayerStep,
    MoveLayerStep,
    PixelStep,
    PropsStep,
    RemoveLayerStep,
    ReplaceStep,
)
from latent_atelier.app.document.layers import (
    Layer,
    LayerKind,
    LayerLocked,
    Rect,
    check_pixels,
    check_tint,
    new_layer,
)

EDIT_TILE = 128
EVENT_KINDS = frozenset({"layers", "pixels", "props", "active", "history", "saved"})
EDITABLE_PROPS = frozenset(
    {
        "name",
        "visible",
        "opacity",
        "locked",
        "offset",
        "palette",
        "latent",
        "placement",
        "operation",
        "pending",
        "extras",
        "tint",
        "blend",
    }
)


@dataclass(frozen=True)
class DocEvent:
    """What changed: ``kind`` in EVENT_KINDS, the layer concerned, the document rect."""

    kind: str
    layer_id: str | None = None
    rect: Rect | None = None


def intersect(a: Rect, b: Rect) -> Rect | None:
    """Intersection of two rects, None when empty."""
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    if x1 <= x0 or y1 <= y0:
        return None
    return (x0, y0, x1 - x0, y1 - y0)


def union(a: Rect | None, b: Rect | None) -> Rect | None:
    """Bounding rect of two rects (either may be None)."""
    if a is None:
        return b
    if b is None:
        return a
    x0, y0 = min(a[0], b[0]), min(a[1], b[1])
    x1, y1 = max(a[0] + a[2], b[0] + b[2]), max(a[1] + a[3], b[1] + b[3])
    return (x0, y0, x1 - x0, y1 - y0)


class Document:
    """Ordered layers (index 0 = bottom) with undo history and change notifications."""

    def __init__(
        self,
        width: int,
        height: int,
        layers: Iterable[Layer] = (),
        *,
        undo_budget_bytes: int = DEFAULT_BUDGET_BYTES,
    ) -> None:
        if width <= 0 or height <= 0:
            raise ValueError(f"a document needs a positive size, got {width}x{height}")
        self.width = int(width)
        self.height = int(height)
        self.layers: list[Layer] = list(layers)
        self.active_id: str | None = self.layers[-1].id if self.layers else None
        self.path: Path | None = None
        self.history = History(budget_bytes=undo_budget_bytes)
        self.history.bind(self)
        self._listeners: list[Callable[[DocEvent], None]] = []
        self._saved_top: object | None = None
        self._force_dirty = False

    @classmethod
    def from_image(cls, pixels: np.ndarray, name: str = "Photo", **kwargs: Any) -> Document:
        """A document holding one photo layer."""
        layer = new_layer(LayerKind.PHOTO, name, pixels=pixels)
        return cls(layer.width, layer.height, [layer], **kwargs)

    # -- observers -----------------------------------------------------------------------
    def add_listener(self, fn: Callable[[DocEvent], None]) -> None:
        """Call ``fn(event)`` after every change."""
        self._listeners.append(fn)

    def remove_listener(self, fn: Callable[[DocEvent], None]) -> None:
        """Stop calling ``fn``."""
        self._listeners.remove(fn)

    def _emit(self, kind: str, layer_id: str | None = None, rect: Rect | None = None) -> None:
        event = DocEvent(kind, layer_id, rect)
        for fn in list(self._listeners):
            fn(event)

    def _history_changed(self) -> None:
        self._emit("history")

    # -- lookup --------------------------------------------------------------------------
    @property
    def size(self) -> tuple[int, int]:
        """(width, height)."""
        return (self.width, self.height)

    def layer(self, id: str) -> Layer:
        """The layer with ``id`` (KeyError when not in the document)."""
        for layer in self.layers:
            if layer.id == id:
                return layer
        raise KeyError(f"no layer with id {id!r} in this document")

    def index_of(self, id: str) -> int:
        """Stack position of layer ``id`` (0 = bottom)."""
        for i, layer in enumerate(self.layers):
            if layer.id == id:
                return i
        raise KeyError(f"no layer with id {id!r} in this document")

    @property
    def active_layer(self) -> Layer | None:
        """The layer tools act on."""
        if self.active_id is None:
            return None
        try:
            return self.layer(self.active_id)
        except KeyError:
            return None

    def set_active(self, id: str | None) -> None:
        """Make layer ``id`` the active one (not an undo step)."""
        if id is not None:
            self.layer(id)
        if id != self.active_id:
            self.active_id = id
            self._emit("active", id)

    # -- saved state ---------------------------------------------------------------------
    @property
    def dirty(self) -> bool:
        """True when the document differs from its last save."""
        return self._force_dirty or self.history.top is not self._saved_top

    @dirty.setter
    def dirty(self, value: bool) -> None:
        if value:
            self._force_dirty = True
        else:
            self.mark_saved()

    def mark_saved(self, path: str | Path | None = None) -> None:
        """Remember the current state as saved (optionally at ``path``)."""
        if path is not None:
            self.path = Path(path)
        self._saved_top = self.history.top
        self._force_dirty = False
        self._emit("saved")

    # -- undoable layer operations -------------------------------------------------------
    def add_layer(self, layer: Layer, index: int | None = None, label: str | None = None) -> Layer:
        """Insert ``layer`` (on top when ``index`` is None) as one step; it becomes active."""
        if any(lay.id == layer.id for lay in self.layers):
            raise ValueError(f"layer {layer.id} is already in this document")
        layer.pixels = check_pixels(layer.kind, layer.pixels)
        index = len(self.layers) if index is None else max(0, min(int(index), len(self.layers)))
        self._insert_layer(layer, index)
        self.history.push(InsertLayerStep(layer, index, label or f"Add {layer.name}"))
        self.set_active(layer.id)
        return layer

    def remove_layer(self, id: str) -> None:
        """Delete layer ``id`` as one step (the step keeps the layer for undo)."""
        index = self.index_of(id)
        layer = self.layers[index]
        self._remove_layer(id)
        self.history.push(RemoveLayerStep(layer, index, f"Delete {layer.name}"))

    def move_layer(self, id: str, new_index: int) -> None:
        """Move layer ``id`` to ``new_index`` in the stack as one step."""
        old = self.index_of(id)
        new_index = max(0, min(int(new_index), len(self.layers) - 1))
        if new_index == old:
            return
        self._move_layer(id, new_index)
        self.history.push(MoveLayerStep(id, old, new_index, f"Move {self.layer(id).name}"))

    def duplicate_layer(self, id: str) -> Layer:
        """A copy of layer ``id`` placed right above it, as one step."""
        src = self.layer(id)
        dup = src.copy(new_id=True)
        dup.name = f"{src.name} copy"
        return self.add_layer(dup, self.index_of(id) + 1, f"Duplicate {src.name}")

    def set_layer_props(self, id: str, merge_key: Any = None, **props: Any) -> None:
        """Change properties (name, visible, opacity, locked, offset, palette, tint, ...) as one step.

        Consecutive calls with the same non-None ``merge_key`` (an opacity drag) merge into
        one step.
        """
        unknown = set(props) - EDITABLE_PROPS
        if unknown:
            raise ValueError(f"not editable layer properties: {sorted(unknown)}")
        layer = self.layer(id)
        props = {k: _normalise_prop(k, v) for k, v in props.items()}
        before = {k: _prop_copy(getattr(layer, k)) for k in props}
        if all(_same(before[k], props[k]) for k in props):
            return
        self._apply_props(id, props)
        label = "Layer " + ", ".join(sorted(props))
        key = (merge_key, id) if merge_key is not None else None
        self.history.push(PropsStep(id, before, dict(props), label, key))

    def replace_pixels(
        self, id: str, new_pixels: np.ndarray, label: str, offset: tuple[int, int] | None = None
    ) -> Rect | None:
        """Swap a layer's pixels as one step; stores only the changed box when sizes match."""
        layer = self.layer(id)
        if layer.locked:
            raise LayerLocked(f"layer '{layer.name}' is locked: unlock it to change it")
        new = check_pixels(layer.kind, new_pixels)
        new_offset = layer.offset if offset is None else (int(offset[0]), int(offset[1]))
        if new.shape == layer.pixels.shape and new_offset == layer.offset:
            box = changed_box(layer.pixels, new)
            if box is None:
                return None
            x, y, w, h = box
            old = layer.pixels[y : y + h, x : x + w].copy()
            step = PixelStep(id, x, y, old, new[y : y + h, x : x + w].copy(), label)
            self._write_pixels(id, x, y, step.new)
            self.history.push(step)
            return (x + layer.offset[0], y + layer.offset[1], w, h)
        step = ReplaceStep(id, layer.pixels, new, layer.offset, new_offset, label)
        old_rect = layer.rect
        self._set_pixels(id, new.copy(), new_offset)
        self.history.push(step)
        return union(old_rect, self.layer(id).rect)

    def begin_edit(self, layer_id: str, label: str) -> PixelEdit:
        """Start an in-place pixel edit (one brush stroke); commit it to make one step."""
        layer = self.layer(layer_id)
        if layer.locked:
            raise LayerLocked(f"layer '{layer.name}' is locked: unlock it to paint on it")
        return PixelEdit(self, layer, label)

    def undo(self) -> None:
        """Undo one step."""
        self.history.undo(self)

    def redo(self) -> None:
        """Redo one step."""
        self.history.redo(self)

    @property
    def can_undo(self) -> bool:
        """True when there is a step to undo."""
        return self.history.can_undo

    @property
    def can_redo(self) -> bool:
        """True when there is a step to redo."""
        return self.history.can_redo

    # -- raw changes (used by history steps; no history of their own) ---------------------
    def _insert_layer(self, layer: Layer, index: int) -> None:
        self.layers.insert(min(index, len(self.layers)), layer)
        self._emit("layers", layer.id, self._clip(layer.rect))

    def _remove_layer(self, id: str) -> Layer:
        index = self.index_of(id)
        layer = self.layers.pop(index)
        if self.active_id == id:
            nxt = self.layers[min(index, len(self.layers) - 1)].id if self.layers else None
            self.active_id = nxt
            self._emit("active", nxt)
        self._emit("layers", id, self._clip(layer.rect))
        return layer

    def _move_layer(self, id: str, index: int) -> None:
        layer = self.layers.pop(self.index_of(id))
        self.layers.insert(index, layer)
        self._emit("layers", id, self._clip(layer.rect))

    def _apply_props(self, id: str, props: dict[str, Any]) -> None:
        layer = self.layer(id)
        old_rect = layer.rect
        for k, v in props.items():
            setattr(layer, k, _prop_copy(v))
        self._emit("props", id, self._clip(union(old_rect, layer.rect)))

    def _write_pixels(self, id: str, x: int, y: int, block: np.ndarray) -> None:
        layer = self.layer(id)
        h, w = block.shape[:2]
        layer.pixels[y : y + h, x : x + w] = block
        layer.revision += 1
        self._emit("pixels", id, self._clip((x + layer.offset[0], y + layer.offset[1], w, h)))

    def _set_pixels(self, id: str, pixels: np.ndarray, offset: tuple[int, int]) -> None:
        layer = self.layer(id)
        old_rect = layer.rect
        layer.pixels = pixels
        layer.offset = offset
        layer.revision += 1
        self._emit("pixels", id, self._clip(union(old_rect, layer.rect)))

    def _clip(self, rect: Rect | None) -> Rect | None:
        return None if rect is None else intersect(rect, (0, 0, self.width, self.height))

    # -- compositing ---------------------------------------------------------------------
    def composite(self, rect: Rect | None = None, include: Iterable[str] | None = None) -> np.ndarray:
        """Flatten layers (source-over, layer opacity, blend mode) into HxWx4 float32 straight alpha.

        ``include`` (layer ids) draws exactly those layers, visible or not; by default
        every visible layer is drawn. ``rect`` limits the work to a document rectangle.
        """
        area = (0, 0, self.width, self.height) if rect is None else self._clip(rect)
        if area is None:
            return np.zeros((0, 0, 4), np.float32)
        ax, ay, aw, ah = area
        wanted = None if include is None else set(include)
        rgb = np.zeros((ah, aw, 3), np.float32)  # premultiplied accumulator
        alpha = np.zeros((ah, aw), np.float32)
        for layer in self.layers:
            shown = layer.visible if wanted is None else layer.id in wanted
            if not shown or layer.opacity <= 0:
                continue
            part = intersect(layer.rect, area)
            if part is None:
                continue
            px, py, pw, ph = part
            region = (px - layer.offset[0], py - layer.offset[1], pw, ph)
            sl = (slice(py - ay, py - ay + ph), slice(px - ax, px - ax + pw))
            if (
                layer.kind.is_color
                and layer.pixels.shape[2] == 3
                and layer.opacity >= 1.0
                and layer.blend == NORMAL
            ):
                lx, ly = region[0], region[1]
                rgb[sl] = layer.pixels[ly : ly + ph, lx : lx + pw]  # opaque: replaces below
                alpha[sl] = 1.0
                continue
            src = layer.rgba(region)
            colour = mix_with_backdrop(layer.blend, src[..., :3], rgb[sl], alpha[sl])
            a = src[..., 3] * np.float32(layer.opacity)
            keep = 1.0 - a
            dst_rgb = rgb[sl]
            dst_rgb *= keep[..., None]
            dst_rgb += colour * a[..., None]
            dst_a = alpha[sl]
            dst_a *= keep
            dst_a += a
        out = np.empty((ah, aw, 4), np.float32)
        np.divide(rgb, alpha[..., None], out=out[..., :3], where=alpha[..., None] > 0)
        out[..., :3][alpha <= 0] = 0.0
        out[..., 3] = alpha
        np.clip(out, 0.0, 1.0, out=out)
        return out


class PixelEdit:
    """An in-place edit of one layer that becomes one history step on :meth:`commit`.

    Call :meth:`before_change` with the layer rect you are about to modify; the old pixels
    of the touched tiles are kept until commit, which stores only the changed bounding box.
    """

    def __init__(self, doc: Document, layer: Layer, label: str, tile: int = EDIT_TILE) -> None:
        self.doc = doc
        self.layer = layer
        self.label = label
        self.tile = tile
        self._tiles: dict[tuple[int, int], np.ndarray] = {}
        self._open = True

    def _tile_range(self, rect: Rect) -> tuple[range, range] | None:
        clipped = intersect(rect, (0, 0, self.layer.width, self.layer.height))
        if clipped is None:
            return None
        x, y, w, h = clipped
        t = self.tile
        return range(y // t, (y + h - 1) // t + 1), range(x // t, (x + w - 1) // t + 1)

    def before_change(self, rect: Rect) -> None:
        """Snapshot the tiles under ``rect`` (layer coordinates) before modifying them."""
        if not self._open:
            raise RuntimeError("this edit is already committed or cancelled")
        tr = self._tile_range(rect)
        if tr is None:
            return
        t = self.tile
        px = self.layer.pixels
        for ty in tr[0]:
            for tx in tr[1]:
                if (ty, tx) not in self._tiles:
                    self._tiles[ty, tx] = px[ty * t : (ty + 1) * t, tx * t : (tx + 1) * t].copy()

    def original(self, rect: Rect) -> np.ndarray:
        """The pixels of ``rect`` (layer coordinates, inside the layer) as before the edit."""
        x, y, w, h = rect
        out = self.layer.pixels[y : y + h, x : x + w].copy()
        t = self.tile
        for (ty, tx), old in self._tiles.items():
            part = intersect((tx * t, ty * t, old.shape[1], old.shape[0]), rect)
            if part is None:
                continue
            px, py, pw, ph = part
            out[py - y : py - y + ph, px - x : px - x + pw] = old[
                py - ty * t : py - ty * t + ph, px - tx * t : px - tx * t + pw
            ]
        return out

    def notify(self, rect: Rect) -> None:
        """Tell listeners that ``rect`` (layer coordinates) changed during the edit."""
        ox, oy = self.layer.offset
        moved = (rect[0] + ox, rect[1] + oy, rect[2], rect[3])
        self.doc._emit("pixels", self.layer.id, self.doc._clip(moved))

    def changed_rect(self) -> Rect | None:
        """Bounding box (layer coordinates) of the pixels that differ from before."""
        box: Rect | None = None
        t = self.tile
        px = self.layer.pixels
        for (ty, tx), old in self._tiles.items():
            cur = px[ty * t : ty * t + old.shape[0], tx * t : tx * t + old.shape[1]]
            tile_box = changed_box(old, cur)
            if tile_box is not None:
                bx, by, bw, bh = tile_box
                box = union(box, (bx + tx * t, by + ty * t, bw, bh))
        return box

    def commit(self) -> Rect | None:
        """Push one history step holding the changed box; returns its document rect."""
        if not self._open:
            raise RuntimeError("this edit is already committed or cancelled")
        self._open = False
        box = self.changed_rect()
        if box is None:
            self._tiles.clear()
            return None
        x, y, w, h = box
        old = self.original(box)
        new = self.layer.pixels[y : y + h, x : x + w].copy()
        self._tiles.clear()
        self.layer.revision += 1
        self.doc.history.push(PixelStep(self.layer.id, x, y, old, new, self.label))
        ox, oy = self.layer.offset
        rect = self.doc._clip((x + ox, y + oy, w, h))
        self.doc._emit("pixels", self.layer.id, rect)
        return rect

    def cancel(self) -> None:
        """Put the old pixels back; no history step."""
        if not self._open:
            return
        self._open = False
        t = self.tile
        dirty: Rect | None = None
        for (ty, tx), old in self._tiles.items():
            h, w = old.shape[:2]
            self.layer.pixels[ty * t : ty * t + h, tx * t : tx * t + w] = old
            dirty = union(dirty, (tx * t, ty * t, w, h))
        self._tiles.clear()
        if dirty is not None:
            self.notify(dirty)


def changed_box(old: np.ndarray, new: np.ndarray) -> Rect | None:
    """Bounding box (x, y, w, h) where two same-shaped arrays differ, None if equal."""
    diff = old != new
    if diff.ndim == 3:
        diff = diff.any(axis=2)
    rows = np.flatnonzero(diff.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(diff[rows[0] : rows[-1] + 1].any(axis=0))
    return (int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1))


def _normalise_prop(key: str, value: Any) -> Any:
    if key == "opacity":
        value = float(value)
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"opacity must be within 0..1, got {value}")
    elif key == "offset":
        value = (int(value[0]), int(value[1]))
    elif key in ("visible", "locked", "pending"):
        value = bool(value)
    elif key == "name":
        value = str(value)
    elif key == "tint":
        value = check_tint(value)
    elif key == "blend":
        value = check_blend(value)
    return value


def _prop_copy(value: Any) -> Any:
    if hasattr(value, "copy") and not isinstance(value, np.ndarray | str | bytes):
        return value.copy()
    return value


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except (ValueError, TypeError):
        return a is b

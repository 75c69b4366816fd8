"""Brush strokes, fills and the colour picker on document layers (numpy, no Qt).

Every dab touches only its own bounding box. A stroke keeps a coverage buffer (the most
any dab of this stroke covered each pixel) and blends the *original* pixels with it, so
overlapping dabs of one stroke do not build up beyond the brush opacity, as in Krita's
and Photoshop's default brush mode. One stroke is one undo step.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from latent_atelier.app.document.document import Document, PixelEdit, intersect, union
from latent_atelier.app.document.layers import Layer, LayerKind, LayerLocked, Rect


class BrushError(ValueError):
    """A brush or fill cannot act on this layer as asked."""


@dataclass
class BrushSettings:
    """Brush tip and paint. ``size`` is the diameter in document pixels."""

    size: float = 20.0
    hardness: float = 0.8
    opacity: float = 1.0
    spacing: float = 0.15
    color: tuple[float, float, float] = (0.0, 0.0, 0.0)
    eraser: bool = False
    label: int = 1


def dab_mask(cx: float, cy: float, radius: float, hardness: float, rect: Rect) -> np.ndarray:
    """Coverage (0..1) of a round dab centred at ``cx, cy`` over ``rect`` (same coordinates).

    Full inside ``radius * hardness``, a smooth fall-off to 0 at ``radius``, with at least a
    one-pixel antialiased edge.
    """
    x, y, w, h = rect
    dx = (np.arange(x, x + w, dtype=np.float32) + 0.5 - np.float32(cx)) ** 2
    dy = (np.arange(y, y + h, dtype=np.float32) + 0.5 - np.float32(cy)) ** 2
    d = np.sqrt(dy[:, None] + dx[None, :])
    ramp = max(radius * (1.0 - min(max(hardness, 0.0), 1.0)), 1.0)
    a = np.clip((np.float32(radius) - d) / np.float32(ramp), 0.0, 1.0)
    return a * a * (3.0 - 2.0 * a)


def _check_paintable(layer: Layer, eraser: bool) -> None:
    if layer.locked:
        raise LayerLocked(f"layer '{layer.name}' is locked: unlock it to paint on it")
    if eraser and layer.kind.is_color and layer.pixels.shape[2] == 3:
        raise BrushError(
            f"layer '{layer.name}' has no alpha channel to erase: paint on a paint layer instead"
        )


class StrokePainter:
    """Paints one stroke: ``press``, any number of ``move_to``, then ``release``."""

    def __init__(self, doc: Document, layer_id: str, settings: BrushSettings) -> None:
        self.doc = doc
        self.layer = doc.layer(layer_id)
        self.settings = settings
        _check_paintable(self.layer, settings.eraser)
        if self.layer.kind == LayerKind.LABELS and not 0 <= settings.label <= 65535:
            raise BrushError(f"segment id {settings.label} is outside 0..65535")
        self._edit: PixelEdit | None = None
        self._coverage: np.ndarray | None = None
        self._last: tuple[float, float, float] | None = None
        self._residual = 0.0

    # -- stroke --------------------------------------------------------------------------
    def press(self, x: float, y: float, pressure: float = 1.0) -> Rect | None:
        """Start the stroke with one dab at document point ``x, y``; returns the dirty rect."""
        label = "Erase" if self.settings.eraser else "Brush stroke"
        self._edit = self.doc.begin_edit(self.layer.id, label)
        if self.layer.kind != LayerKind.LABELS:  # lazily zeroed: only touched pages cost
            self._coverage = np.zeros(self.layer.pixels.shape[:2], np.float32)
        self._last = (x, y, pressure)
        self._residual = 0.0
        return self._finish(self._dab(x, y, pressure))

    def move_to(self, x: float, y: float, pressure: float = 1.0) -> Rect | None:
        """Continue to ``x, y``, placing dabs every ``spacing * size``; the dirty rect."""
        if self._edit is None or self._last is None:
            raise RuntimeError("move_to before press: start the stroke with press()")
        x0, y0, p0 = self._last
        dist = math.hypot(x - x0, y - y0)
        step = max(self.settings.spacing * self.settings.size * max(min(p0, pressure), 0.05), 0.5)
        dirty: Rect | None = None
        if dist <= 0.0:
            return None
        t = max(step - self._residual, 0.0)  # the step may have shrunk with the pressure
        while t <= dist:
            f = t / dist
            dab = self._dab(x0 + (x - x0) * f, y0 + (y - y0) * f, p0 + (pressure - p0) * f)
            dirty = union(dirty, dab)
            t += step
        self._residual = dist - (t - step)  # distance travelled since the last dab
        self._last = (x, y, pressure)
        return self._finish(dirty)

    def release(self) -> Rect | None:
        """End the stroke: one history step; returns the changed document rect."""
        if self._edit is None:
            return None
        edit, self._edit = self._edit, None
        self._coverage = None
        self._last = None
        return edit.commit()

    def cancel(self) -> None:
        """Abandon the stroke, restoring the pixels."""
        if self._edit is not None:
            self._edit.cancel()
        self._edit = None
        self._coverage = None

    def _finish(self, layer_rect: Rect | None) -> Rect | None:
        if layer_rect is None or self._edit is None:
            return None
        self._edit.notify(layer_rect)
        ox, oy = self.layer.offset
        return self.doc._clip((layer_rect[0] + ox, layer_rect[1] + oy, layer_rect[2], layer_rect[3]))

    # -- one dab -------------------------------------------------------------------------
    def _dab(self, x: float, y: float, pressure: float) -> Rect | None:
        s = self.settings
        lx, ly = x - self.layer.offset[0], y - self.layer.offset[1]
        radius = max(0.5, s.size * max(pressure, 0.0) / 2.0)
        x0, y0 = math.floor(lx - radius - 1), math.floor(ly - radius - 1)
        x1, y1 = math.ceil(lx + radius + 1), math.ceil(ly + radius + 1)
        rect = intersect((x0, y0, x1 - x0, y1 - y0), (0, 0, self.layer.width, self.layer.height))
        if rect is None:
            return None
        assert self._edit is not None
        self._edit.before_change(rect)
        mask = dab_mask(lx, ly, radius, s.hardness, rect)
        rx, ry, rw, rh = rect
        sl = (slice(ry, ry + rh), slice(rx, rx + rw))
        px = self.layer.pixels
        kind = self.layer.kind
        if kind == LayerKind.LABELS:
            px[sl][mask >= 0.5] = 0 if s.eraser else s.label
            return rect
        assert self._coverage is not None
        cov = self._coverage[sl]
        np.maximum(cov, mask * np.float32(s.opacity), out=cov)
        orig = self._edit.original(rect)
        if kind.is_scalar:
            target = np.float32(0.0 if s.eraser else 1.0)
            px[sl] = orig + (target - orig) * cov
        elif px.shape[2] == 3:
            color = np.asarray(s.color, np.float32)
            px[sl] = orig + (color - orig) * cov[..., None]
        else:
            px[sl] = _over_straight(orig, np.asarray(s.color, np.float32), cov, s.eraser)
        return rect


def _over_straight(orig: np.ndarray, color: np.ndarray, cov: np.ndarray, erase: bool) -> np.ndarray:
    """Source-over (or erase) of ``color`` at coverage ``cov`` onto straight-alpha RGBA."""
    out = np.empty_like(orig)
    da = orig[..., 3]
    if erase:
        out[..., :3] = orig[..., :3]
        out[..., 3] = da * (1.0 - cov)
        return out
    keep = da * (1.0 - cov)
    oa = cov + keep
    safe = np.where(oa > 0, oa, 1.0)
    out[..., :3] = (color * cov[..., None] + orig[..., :3] * keep[..., None]) / safe[..., None]
    out[..., :3][oa <= 0] = orig[..., :3][oa <= 0]
    out[..., 3] = oa
    return out


# -- fills ---------------------------------------------------------------------------------
def _fill_value(layer: Layer, value: object) -> np.ndarray | float | int:
    """``value`` in the form the layer's pixels take (label id, float, RGB or RGBA)."""
    if layer.kind == LayerKind.LABELS:
        if isinstance(value, Sequence):
            raise BrushError("a label layer is filled with a segment id, not a colour")
        return int(value)  # type: ignore[call-overload]
    if layer.kind.is_scalar:
        if isinstance(value, Sequence):
            raise BrushError(f"a {layer.kind.value} layer is filled with one value in 0..1")
        return float(value)  # type: ignore[arg-type]
    if not isinstance(value, Sequence) or len(value) not in (3, 4):
        raise BrushError("a colour layer is filled with an (r, g, b) or (r, g, b, a) colour")
    rgba = [float(v) for v in value] + ([1.0] if len(value) == 3 else [])
    return np.asarray(rgba[: layer.pixels.shape[2]], np.float32)


def _apply_region(
    doc: Document, layer: Layer, region: np.ndarray, box: Rect, value: object, label: str
) -> Rect | None:
    """Write ``value`` where ``region`` (a bool array over layer ``box``) is set; one step."""
    fill = _fill_value(layer, value)
    edit = doc.begin_edit(layer.id, label)
    edit.before_change(box)
    x, y, w, h = box
    layer.pixels[y : y + h, x : x + w][region] = fill
    return edit.commit()


def flood_fill(
    doc: Document, layer_id: str, x: float, y: float, color_or_label: object, tolerance: float = 0.0
) -> Rect | None:
    """Fill the 4-connected area around document point ``x, y`` whose pixels are within
    ``tolerance`` (per channel) of the seed; returns the changed document rect."""
    layer = doc.layer(layer_id)
    _check_paintable(layer, False)
    lx, ly = math.floor(x) - layer.offset[0], math.floor(y) - layer.offset[1]
    if not (0 <= lx < layer.width and 0 <= ly < layer.height):
        return None
    px = layer.pixels
    seed = px[ly, lx]
    diff = np.abs(px.astype(np.float32) - seed.astype(np.float32))
    if diff.ndim == 3:
        diff = diff.max(axis=2)
    similar = (diff <= tolerance + 1e-7).astype(np.uint8)
    cv2.floodFill(similar, None, (lx, ly), 2, flags=4)
    region = similar == 2
    rows, cols = np.flatnonzero(region.any(axis=1)), np.flatnonzero(region.any(axis=0))
    box = (int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1))
    bx, by, bw, bh = box
    return _apply_region(doc, layer, region[by : by + bh, bx : bx + bw], box, color_or_label, "Fill")


def lasso_fill(
    doc: Document, layer_id: str, polygon: Sequence[tuple[float, float]], value: object
) -> Rect | None:
    """Fill the inside of ``polygon`` (document points) with ``value``; the changed rect."""
    layer = doc.layer(layer_id)
    _check_paintable(layer, False)
    if len(polygon) < 3:
        return None
    pts = np.asarray(polygon, np.float64) - np.asarray(layer.offset, np.float64)
    x0, y0 = np.floor(pts.min(axis=0)).astype(int)
    x1, y1 = np.ceil(pts.max(axis=0)).astype(int) + 1
    box = intersect((int(x0), int(y0), int(x1 - x0), int(y1 - y0)), (0, 0, layer.width, layer.height))
    if box is None:
        return None
    bx, by, bw, bh = box
    canvas = np.zeros((bh, bw), np.uint8)
    shift = 4  # sub-pixel vertex precision for cv2
    local = np.round((pts - [bx, by] - 0.5) * (1 << shift)).astype(np.int32)
    cv2.fillPoly(canvas, [local], 1, lineType=cv2.LINE_8, shift=shift)
    if not canvas.any():
        return None
    return _apply_region(doc, layer, canvas.astype(bool), box, value, "Lasso fill")


def pick_color(doc: Document, x: float, y: float) -> tuple[float, float, float]:
    """The composited colour under document point ``x, y`` (black outside the document)."""
    px = doc.composite(rect=(math.floor(x), math.floor(y), 1, 1))
    if px.size == 0:
        return (0.0, 0.0, 0.0)
    r, g, b = (float(v) for v in px[0, 0, :3])
    return (r, g, b)

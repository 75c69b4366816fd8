"""Layers of a document: kinds, segment palettes, and the Layer record itself (no Qt).

Pixel conventions (straight alpha, float32 in [0, 1]):

- PHOTO / RESULT / BACKGROUND: ``H x W x 3`` or ``H x W x 4``
- PAINT: ``H x W x 4``
- MASK / MATTE: ``H x W``
- LABELS: ``H x W`` int32 segment ids (0 = no segment), coloured through a :class:`Palette`
"""

from __future__ import annotations

import colorsys
import math
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np

from latent_atelier.app.document.blend import check_blend

Rect = tuple[int, int, int, int]  # x, y, w, h
Tint = tuple[float, float, float]  # overlay colour of a mask or matte, RGB in [0, 1]


def _rgb8(r: int, g: int, b: int) -> Tint:
    return (r / 255.0, g / 255.0, b / 255.0)


MASK_TINT = _rgb8(255, 38, 51)  # default overlay colour of masks and mattes (red)
#: default tints handed to new mask layers in turn, so two stroke layers never look alike
MASK_TINTS: tuple[Tint, ...] = (
    MASK_TINT,
    _rgb8(46, 204, 90),  # green
    _rgb8(51, 120, 255),  # blue
    _rgb8(255, 214, 26),  # yellow
    _rgb8(230, 64, 230),  # magenta
    _rgb8(26, 214, 230),  # cyan
)
MASK_OVERLAY_ALPHA = 0.5
LABEL_OVERLAY_ALPHA = 0.5


class LayerKind(str, Enum):
    """What a layer holds; decides its pixel layout and how it is shown."""

    PHOTO = "photo"
    PAINT = "paint"
    MASK = "mask"
    LABELS = "labels"
    RESULT = "result"
    MATTE = "matte"
    BACKGROUND = "background"

    @property
    def is_color(self) -> bool:
        """True for kinds whose pixels are RGB or RGBA."""
        return self in (LayerKind.PHOTO, LayerKind.PAINT, LayerKind.RESULT, LayerKind.BACKGROUND)

    @property
    def is_scalar(self) -> bool:
        """True for single-channel float kinds (masks and mattes)."""
        return self in (LayerKind.MASK, LayerKind.MATTE)


class LayerLocked(RuntimeError):
    """An edit was attempted on a locked layer."""


@dataclass
class Segment:
    """One named segment of a label map."""

    id: int
    name: str
    color: tuple[int, int, int]
    visible: bool = True  # hidden segments are not drawn (their pixels stay)


def _auto_color(index: int) -> tuple[int, int, int]:
    """Distinct colours by golden-ratio hue steps."""
    h = (index * 0.61803398875) % 1.0
    r, g, b = colorsys.hsv_to_rgb(h, 0.75, 0.95)
    return (round(r * 255), round(g * 255), round(b * 255))


@dataclass
class Palette:
    """Named, coloured segments of a label layer; ids 1..65535 (0 means unlabelled)."""

    segments: list[Segment] = field(default_factory=list)

    def add(self, name: str, color: tuple[int, int, int] | None = None) -> Segment:
        """Append a segment with the next free id."""
        new_id = max((s.id for s in self.segments), default=0) + 1
        if new_id > 65535:
            raise ValueError("a label layer holds at most 65535 segments")
        seg = Segment(new_id, name, _check_color(color) if color else _auto_color(new_id))
        self.segments.append(seg)
        return seg

    def get(self, id: int) -> Segment:
        """The segment with this id (KeyError when there is none)."""
        for s in self.segments:
            if s.id == id:
                return s
        raise KeyError(f"no segment with id {id}")

    def rename(self, id: int, name: str) -> None:
        """Give segment ``id`` a new name."""
        self.get(id).name = name

    def recolor(self, id: int, color: tuple[int, int, int]) -> None:
        """Give segment ``id`` a new colour (0..255 per channel)."""
        self.get(id).color = _check_color(color)

    def remove(self, id: int) -> None:
        """Forget segment ``id`` (its pixels stay until repainted)."""
        self.segments.remove(self.get(id))

    def color_lut(self) -> np.ndarray:
        """An N x 3 uint8 table id -> colour, N = 256 or more (row 0, unlabelled, is unused)."""
        top = max((s.id for s in self.segments), default=0)
        lut = np.zeros((max(256, top + 1), 3), np.uint8)
        for s in self.segments:
            lut[s.id] = s.color
        return lut

    def copy(self) -> Palette:
        """A deep copy."""
        return Palette([Segment(s.id, s.name, tuple(s.color), s.visible) for s in self.segments])

    def to_list(self) -> list[dict[str, Any]]:
        """JSON-ready form."""
        return [
            {"id": s.id, "name": s.name, "color": list(s.color), **({} if s.visible else {"visible": False})}
            for s in self.segments
        ]

    @staticmethod
    def from_list(items: list[dict[str, Any]]) -> Palette:
        """Inverse of :meth:`to_list`, with validation."""
        segs = []
        for it in items:
            sid = int(it["id"])
            if not 1 <= sid <= 65535:
                raise ValueError(f"segment id {sid} out of range 1..65535")
            segs.append(
                Segment(sid, str(it["name"]), _check_color(tuple(it["color"])), bool(it.get("visible", True)))
            )
        return Palette(segs)


def _check_color(color: tuple[int, ...]) -> tuple[int, int, int]:
    if len(color) != 3 or not all(0 <= int(c) <= 255 for c in color):
        raise ValueError(f"a segment colour is three integers 0..255, got {color!r}")
    return (int(color[0]), int(color[1]), int(color[2]))


@dataclass(eq=False)
class Layer:
    """One layer: pixels plus display properties and the data that rides along with it."""

    id: str
    name: str
    kind: LayerKind
    pixels: np.ndarray
    visible: bool = True
    opacity: float = 1.0
    locked: bool = False
    offset: tuple[int, int] = (0, 0)
    palette: Palette | None = None
    latent: Any = None  # latent_atelier.models.generator.Latent or anything with to_bytes()
    placement: Any = None  # latent_atelier.editors.placement.Placement
    operation: dict | None = None
    pending: bool = False
    extras: dict[str, bytes] = field(default_factory=dict)
    tint: Tint | None = None  # overlay colour of a mask/matte (None = MASK_TINT)
    blend: str = "normal"  # how the layer mixes with those below (app.document.blend)
    revision: int = 0  # bumped on every pixel change (recovery snapshots use it)

    @property
    def width(self) -> int:
        """Width of the pixel array."""
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        """Height of the pixel array."""
        return int(self.pixels.shape[0])

    @property
    def rect(self) -> Rect:
        """Where the layer lies in document coordinates (x, y, w, h)."""
        return (self.offset[0], self.offset[1], self.width, self.height)

    def rgba(self, region: Rect | None = None) -> np.ndarray:
        """HxWx4 float32 straight-alpha view for display (``region`` in layer coordinates).

        Labels are shown through the palette at half alpha, masks and mattes as an overlay
        in the layer's ``tint``; colour layers without alpha are opaque.
        """
        if region is None:
            px = self.pixels
        else:
            x, y, w, h = region
            px = self.pixels[y : y + h, x : x + w]
        return to_rgba(px, self.kind, self.palette, self.tint)

    def copy(self, new_id: bool = False) -> Layer:
        """A copy with its own pixels (and a fresh id when ``new_id``)."""
        return Layer(
            id=uuid.uuid4().hex if new_id else self.id,
            name=self.name,
            kind=self.kind,
            pixels=self.pixels.copy(),
            visible=self.visible,
            opacity=self.opacity,
            locked=self.locked,
            offset=tuple(self.offset),
            palette=self.palette.copy() if self.palette else None,
            latent=self.latent,
            placement=self.placement,
            operation=dict(self.operation) if self.operation else None,
            pending=self.pending,
            extras=dict(self.extras),
            tint=self.tint,
            blend=self.blend,
        )

    @property
    def is_cutout(self) -> bool:
        """An operation's result with an alpha channel: a cut-out subject."""
        return self.kind == LayerKind.RESULT and self.pixels.ndim == 3 and self.pixels.shape[2] == 4

    @property
    def nbytes(self) -> int:
        """Memory held by the pixels."""
        return int(self.pixels.nbytes)


def to_rgba(
    px: np.ndarray, kind: LayerKind, palette: Palette | None = None, tint: Tint | None = None
) -> np.ndarray:
    """Display form (HxWx4 float32 straight alpha) of raw layer pixels of ``kind``.

    Masks and mattes are drawn in ``tint`` (None = :data:`MASK_TINT`).
    """
    h, w = px.shape[:2]
    if kind == LayerKind.LABELS:
        lut = (palette or Palette()).color_lut().astype(np.float32) / 255.0
        ids = np.where((px > 0) & (px < len(lut)), px, 0)
        out = np.empty((h, w, 4), np.float32)
        out[..., :3] = lut[ids]
        shown = np.ones(len(lut), bool)
        for seg in palette.segments if palette is not None else ():
            shown[seg.id] = seg.visible
        out[..., 3] = np.where((ids > 0) & shown[ids], LABEL_OVERLAY_ALPHA, 0.0)
        return out
    if kind.is_scalar:
        out = np.empty((h, w, 4), np.float32)
        out[..., :3] = MASK_TINT if tint is None else tint
        out[..., 3] = px * MASK_OVERLAY_ALPHA
        return out
    if px.ndim == 3 and px.shape[2] == 4:
        return px
    out = np.empty((h, w, 4), np.float32)
    out[..., :3] = px[..., :3]
    out[..., 3] = 1.0
    return out


def check_tint(value: Iterable[float] | None) -> Tint | None:
    """``value`` as a tint (three numbers in [0, 1], rounded to 8-bit steps), or None.

    Raises ValueError, saying what a tint looks like, for anything else.
    """
    if value is None:
        return None
    bad = ValueError(f"a tint is three numbers within 0..1 (R, G, B), got {value!r}")
    if isinstance(value, str | bytes):
        raise bad
    try:
        rgb = [float(c) for c in value]
    except (TypeError, ValueError):
        raise bad from None
    if len(rgb) != 3 or not all(math.isfinite(c) and 0.0 <= c <= 1.0 for c in rgb):
        raise bad
    r, g, b = (round(c * 255) for c in rgb)
    return _rgb8(r, g, b)


def tint_to_hex(tint: Tint) -> str:
    """``#rrggbb`` form of a tint."""
    return "#" + "".join(f"{round(c * 255):02x}" for c in tint)


def tint_from_hex(text: str) -> Tint:
    """Inverse of :func:`tint_to_hex`; ValueError unless ``text`` is ``#rrggbb``."""
    t = text.strip()
    if len(t) != 7 or t[0] != "#" or not all(ch in "0123456789abcdefABCDEF" for ch in t[1:]):
        raise ValueError(f"a tint is written #rrggbb, got {text!r}")
    return _rgb8(int(t[1:3], 16), int(t[3:5], 16), int(t[5:7], 16))


def next_mask_tint(layers: Iterable[Layer]) -> Tint:
    """The tint for a new mask layer among ``layers``: the first of :data:`MASK_TINTS` that
    no mask or matte layer uses yet (the least used one once all are taken)."""
    used = {tint_to_hex(t): 0 for t in MASK_TINTS}
    for layer in layers:
        if layer.kind.is_scalar:
            key = tint_to_hex(layer.tint or MASK_TINT)
            if key in used:
                used[key] += 1
    return min(MASK_TINTS, key=lambda t: used[tint_to_hex(t)])


def check_pixels(kind: LayerKind, pixels: np.ndarray) -> np.ndarray:
    """Validate (and convert the dtype of) ``pixels`` for a layer of ``kind``."""
    a = np.asarray(pixels)
    if kind == LayerKind.LABELS:
        if a.ndim != 2:
            raise ValueError(f"a label layer needs HxW integer ids, got shape {a.shape}")
        return np.ascontiguousarray(a, np.int32)
    if kind.is_scalar:
        if a.ndim != 2:
            raise ValueError(f"a {kind.value} layer needs HxW floats, got shape {a.shape}")
        return np.ascontiguousarray(a, np.float32)
    if kind == LayerKind.PAINT:
        if a.ndim != 3 or a.shape[2] != 4:
            raise ValueError(f"a paint layer needs HxWx4 RGBA floats, got shape {a.shape}")
    elif a.ndim != 3 or a.shape[2] not in (3, 4):
        raise ValueError(f"a {kind.value} layer needs HxWx3 or HxWx4 floats, got {a.shape}")
    return np.ascontiguousarray(a, np.float32)


def blank_pixels(kind: LayerKind, size: tuple[int, int]) -> np.ndarray:
    """Empty pixels of ``kind`` for ``size = (w, h)``: transparent, zero or white."""
    w, h = size
    if kind == LayerKind.LABELS:
        return np.zeros((h, w), np.int32)
    if kind.is_scalar:
        return np.zeros((h, w), np.float32)
    if kind == LayerKind.BACKGROUND:
        return np.ones((h, w, 3), np.float32)
    return np.zeros((h, w, 4), np.float32)


def new_layer(
    kind: LayerKind | str,
    name: str | None = None,
    size: tuple[int, int] | None = None,
    pixels: np.ndarray | None = None,
    **props: Any,
) -> Layer:
    """A new layer of ``kind`` from ``pixels`` or blank of ``size = (w, h)``.

    Label layers get an empty palette; ``props`` sets any other Layer field.
    """
    kind = LayerKind(kind)
    if pixels is None:
        if size is None:
            raise ValueError("new_layer needs either size=(w, h) or pixels=")
        pixels = blank_pixels(kind, size)
    pixels = check_pixels(kind, pixels)
    if kind == LayerKind.LABELS and props.get("palette") is None:
        props["palette"] = Palette()
    if props.get("tint") is not None:
        props["tint"] = check_tint(props["tint"])
    if "blend" in props:
        props["blend"] = check_blend(props["blend"])
    return Layer(
        id=props.pop("id", None) or uuid.uuid4().hex,
        name=name or kind.value.capitalize(),
        kind=kind,
        pixels=pixels,
        **props,
    )

"""Layer blend modes (no Qt): how a layer's colour mixes with what lies under it.

The six modes every painting program has, with the W3C Compositing formulas (the ones
OpenRaster's ``composite-op`` names and Photoshop's modes follow). A blended layer is
still laid on with source-over: where the backdrop is transparent the layer's own colour
shows, as in Krita, GIMP and Photoshop.
"""

from __future__ import annotations

import numpy as np

NORMAL = "normal"
BLEND_MODES: tuple[str, ...] = ("normal", "multiply", "screen", "overlay", "darken", "lighten")
BLEND_TITLES = {mode: mode.capitalize() for mode in BLEND_MODES}
#: OpenRaster ``composite-op`` of each mode
ORA_COMPOSITE_OPS = {mode: "svg:src-over" if mode == NORMAL else f"svg:{mode}" for mode in BLEND_MODES}
#: Photoshop's four-letter blend keys (psd-tools' BlendMode values)
PSD_BLEND_KEYS = {
    "normal": b"norm",
    "multiply": b"mul ",
    "screen": b"scrn",
    "overlay": b"over",
    "darken": b"dark",
    "lighten": b"lite",
}


def check_blend(value: object) -> str:
    """``value`` as a blend mode name; ValueError listing the modes otherwise."""
    mode = str(value).strip().lower() if value is not None else NORMAL
    if mode not in BLEND_MODES:
        raise ValueError(f"blend mode {value!r}: choose one of {', '.join(BLEND_MODES)}")
    return mode


def blend_from_composite_op(op: str | None) -> str:
    """The mode of an OpenRaster ``composite-op`` (normal for absent or unsupported ones)."""
    for mode, name in ORA_COMPOSITE_OPS.items():
        if op == name:
            return mode
    return NORMAL


def blend_colours(mode: str, backdrop: np.ndarray, source: np.ndarray) -> np.ndarray:
    """B(backdrop, source) of ``mode`` for straight colours in [0, 1] (same shapes)."""
    if mode == "multiply":
        return backdrop * source
    if mode == "screen":
        return backdrop + source - backdrop * source
    if mode == "overlay":  # hard light with the roles swapped: the backdrop decides
        low = 2.0 * backdrop * source
        high = 1.0 - 2.0 * (1.0 - backdrop) * (1.0 - source)
        return np.where(backdrop <= 0.5, low, high)
    if mode == "darken":
        return np.minimum(backdrop, source)
    if mode == "lighten":
        return np.maximum(backdrop, source)
    return source


def mix_with_backdrop(
    mode: str, source: np.ndarray, backdrop_rgb_premul: np.ndarray, backdrop_alpha: np.ndarray
) -> np.ndarray:
    """The colour a ``mode`` layer lays on: ``(1 - ab) * Cs + ab * B(Cb, Cs)``.

    ``backdrop_rgb_premul`` is premultiplied (the compositor's accumulator); where the
    backdrop is transparent the layer's own colour is returned.
    """
    if mode == NORMAL:
        return source
    ab = backdrop_alpha[..., None]
    cb = np.divide(backdrop_rgb_premul, ab, out=np.zeros_like(backdrop_rgb_premul), where=ab > 0)
    np.clip(cb, 0.0, 1.0, out=cb)
    return (1.0 - ab) * source + ab * blend_colours(mode, cb, source)

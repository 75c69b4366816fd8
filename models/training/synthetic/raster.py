"""Rasterise SVGs with resvg and decode flat-coloured label renders."""

from __future__ import annotations

import cv2
import numpy as np
import resvg_py
from scipy import ndimage

from .svg_variants import LABEL_COLOURS


def rasterise(svg: str, size: int) -> np.ndarray:
    """Render an SVG to a straight-alpha RGBA uint8 array of shape (size, size, 4)."""
    png = resvg_py.svg_to_bytes(svg_string=svg, width=size, height=size, skip_system_fonts=True)
    bgra = cv2.imdecode(np.frombuffer(bytes(png), np.uint8), cv2.IMREAD_UNCHANGED)
    if bgra is None or bgra.shape != (size, size, 4):
        raise ValueError(f"resvg returned an unexpected image for a {size}px render")
    return cv2.cvtColor(bgra, cv2.COLOR_BGRA2RGBA)


def _corner_lut() -> np.ndarray:
    lut = np.zeros(8, np.uint8)
    for label, (r, g, b) in enumerate(LABEL_COLOURS):
        lut[(r >= 128) * 4 + (g >= 128) * 2 + (b >= 128)] = label
    return lut


_CORNER_TO_LABEL = _corner_lut()


def decode_labels(label_rgba: np.ndarray) -> np.ndarray:
    """Nearest label colour per pixel; pixels less than half covered are background (0).

    The label colours are the corners of the RGB cube, so the nearest one is found by
    thresholding each channel at 128.
    """
    rgb = label_rgba[..., :3] >= 128
    code = rgb[..., 0] * 4 + rgb[..., 1] * 2 + rgb[..., 2]
    labels = _CORNER_TO_LABEL[code]
    labels[label_rgba[..., 3] < 128] = 0
    return labels


def reconcile_labels(labels: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Make labels agree with alpha: 0 where alpha is 0, a part (the nearest one) elsewhere."""
    out = labels.copy()
    out[alpha == 0] = 0
    holes = (alpha > 0) & (out == 0)
    if holes.any():
        if not (out > 0).any():
            out[holes] = 7  # nothing labelled at all: call the figure "other"
        else:
            _, (iy, ix) = ndimage.distance_transform_edt(out == 0, return_indices=True)
            out[holes] = out[iy[holes], ix[holes]]
    return out

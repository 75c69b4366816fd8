"""Conversions between the document's float32 arrays and Qt images (display only)."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage


def rgba_float_to_premultiplied_u8(rgba: np.ndarray) -> np.ndarray:
    """HxWx4 float32 straight alpha in [0, 1] -> HxWx4 uint8 premultiplied (for display)."""
    rgba = np.clip(rgba, 0.0, 1.0)
    out = np.empty((*rgba.shape[:2], 4), dtype=np.uint8)
    alpha = rgba[..., 3:4]
    out[..., :3] = (rgba[..., :3] * alpha * 255.0 + 0.5).astype(np.uint8)
    out[..., 3] = (alpha[..., 0] * 255.0 + 0.5).astype(np.uint8)
    return out


def to_rgba_float(pixels: np.ndarray) -> np.ndarray:
    """Any HxW, HxWx3 or HxWx4 float image -> HxWx4 float32 straight alpha."""
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[..., None], 3, axis=2)
    if pixels.shape[2] == 3:
        alpha = np.ones((*pixels.shape[:2], 1), dtype=np.float32)
        pixels = np.concatenate([pixels.astype(np.float32), alpha], axis=2)
    return pixels.astype(np.float32, copy=False)


def qimage_from_premultiplied(buffer: np.ndarray) -> QImage:
    """Wrap a C-contiguous HxWx4 uint8 premultiplied buffer as a QImage (no copy).

    The caller must keep ``buffer`` alive as long as the QImage is used.
    """
    if not buffer.flags["C_CONTIGUOUS"] or buffer.dtype != np.uint8 or buffer.shape[2] != 4:
        raise ValueError("expected a C-contiguous HxWx4 uint8 buffer")
    h, w = buffer.shape[:2]
    return QImage(buffer.data, w, h, w * 4, QImage.Format.Format_RGBA8888_Premultiplied)


def qimage_from_rgba_float(rgba: np.ndarray) -> QImage:
    """An independent QImage copy of an HxWx4 float straight-alpha image (thumbnails)."""
    buffer = np.ascontiguousarray(rgba_float_to_premultiplied_u8(to_rgba_float(rgba)))
    return qimage_from_premultiplied(buffer).copy()

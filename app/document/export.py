"""Exports of a document through the writers the CLI uses (``image_write``) or psd-tools.

- :func:`export_flattened`: the visible composite as PNG/TIFF (8/16-bit, alpha) or JPEG
  (flattened over white unless another colour is given)
- :func:`export_layer`: one layer's own pixels (labels in their palette colours)
- :func:`export_matte`: a mask or matte layer as an 8/16-bit PNG/TIFF or a half-float EXR
- :func:`export_file`: picks one of the above (or PSD) from the file suffix
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from latent_atelier.app.document.document import Document
from latent_atelier.app.document.image_write import BitDepth, write_image, write_matte
from latent_atelier.app.document.layers import LayerKind
from latent_atelier.app.document.psd_export import export_psd

JPEG_SUFFIXES = (".jpg", ".jpeg")


def export_flattened(
    doc: Document,
    path: str | os.PathLike,
    *,
    bit_depth: int = 8,
    quality: int = 95,
    flatten_over: tuple[float, float, float] | None = None,
) -> Path:
    """Write the composite of the visible layers (JPEG: over white unless ``flatten_over``)."""
    if Path(path).suffix.lower() in JPEG_SUFFIXES and flatten_over is None:
        flatten_over = (1.0, 1.0, 1.0)
    return write_image(path, doc.composite(), bit_depth=bit_depth, quality=quality, flatten_over=flatten_over)


def export_layer(
    doc: Document, layer_id: str, path: str | os.PathLike, *, bit_depth: int = 8, quality: int = 95
) -> Path:
    """Write one layer at its own size: colour layers as they are, masks and mattes as
    grey images, label maps in their palette colours (transparent where unlabelled)."""
    layer = doc.layer(layer_id)
    if layer.kind.is_scalar:
        return write_image(path, layer.pixels, bit_depth=bit_depth, quality=quality)
    if layer.kind == LayerKind.LABELS:
        rgba = layer.rgba().copy()
        rgba[..., 3] = np.where(layer.pixels > 0, 1.0, 0.0)
        return write_image(path, rgba, bit_depth=bit_depth, quality=quality)
    flatten = (1.0, 1.0, 1.0) if Path(path).suffix.lower() in JPEG_SUFFIXES else None
    return write_image(
        path,
        layer.pixels,
        bit_depth=bit_depth,
        quality=quality,
        flatten_over=flatten if layer.pixels.shape[2] == 4 else None,
    )


def export_matte(doc: Document, layer_id: str, path: str | os.PathLike, bit_depth: BitDepth = 16) -> Path:
    """Write a mask or matte layer (placed in the document frame) as PNG, TIFF or EXR."""
    layer = doc.layer(layer_id)
    if not layer.kind.is_scalar:
        raise ValueError(f"layer '{layer.name}' is a {layer.kind.value} layer, not a mask or matte")
    alpha = np.zeros((doc.height, doc.width), np.float32)
    x, y = layer.offset
    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + layer.width, doc.width), min(y + layer.height, doc.height)
    if x1 > x0 and y1 > y0:
        alpha[y0:y1, x0:x1] = layer.pixels[y0 - y : y1 - y, x0 - x : x1 - x]
    return write_matte(path, alpha, bit_depth)


def export_file(doc: Document, path: str | os.PathLike, **options: object) -> Path:
    """Export by suffix: ``.psd`` layered, anything else flattened."""
    if Path(path).suffix.lower() == ".psd":
        export_psd(doc, path, **options)  # type: ignore[arg-type]
        return Path(path)
    return export_flattened(doc, path, **options)  # type: ignore[arg-type]

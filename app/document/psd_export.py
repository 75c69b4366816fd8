"""Export a document as a layered Photoshop file through psd-tools (no Qt).

Each layer becomes an RGBA pixel layer with its name, opacity, visibility, blend mode and
position; masks, mattes and label maps are exported as they look on the canvas (an overlay
in the layer's own tint, palette colours).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from latent_atelier.app.document.blend import PSD_BLEND_KEYS
from latent_atelier.app.document.document import Document
from latent_atelier.app.document.ora import ProjectError
from latent_atelier.models.atomic import atomic_open


def export_psd(doc: Document, path: str | os.PathLike, bit_depth: int = 8) -> None:
    """Write ``doc`` as a layered PSD (8 or 16 bits per channel) atomically."""
    from psd_tools import PSDImage  # imported on demand: only the export needs it

    if bit_depth not in (8, 16):
        raise ValueError(f"PSD export writes 8 or 16 bits per channel, not {bit_depth}")
    target = Path(path)
    psd = PSDImage.new("RGBA", (doc.width, doc.height), depth=bit_depth)
    for layer in doc.layers:  # psd-tools appends on top: bottom layer first
        rgba = np.clip(layer.rgba(), 0.0, 1.0).astype(np.float32)
        pl = psd.create_pixel_layer_from_array(
            np.ascontiguousarray(rgba),
            name=layer.name,
            left=int(layer.offset[0]),
            top=int(layer.offset[1]),
            opacity=round(layer.opacity * 255),
        )
        pl.visible = layer.visible
        pl.blend_mode = PSD_BLEND_KEYS[layer.blend]
    try:
        with atomic_open(target) as fh:
            psd.save(fh)
    except OSError as exc:
        raise ProjectError(f"could not export {target}: {exc.strerror or exc}") from exc

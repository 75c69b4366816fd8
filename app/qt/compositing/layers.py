"""Which layers make the composite: the cut-out foreground, its matte, the background."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from latent_atelier.app.document.layers import Layer, LayerKind, new_layer

if TYPE_CHECKING:
    from latent_atelier.app.document.document import Document


def foreground_layer(doc: Document) -> Layer | None:
    """The topmost accepted RGBA result (a cut-out subject)."""
    for layer in reversed(doc.layers):
        if layer.is_cutout and not layer.pending:
            return layer
    return None


def matte_layer(doc: Document) -> Layer | None:
    """The topmost accepted MATTE layer."""
    for layer in reversed(doc.layers):
        if layer.kind == LayerKind.MATTE and not layer.pending:
            return layer
    return None


def background_layer(doc: Document) -> Layer | None:
    """The background right under the foreground (else the topmost BACKGROUND layer)."""
    fg = foreground_layer(doc)
    below = doc.layers[: doc.index_of(fg.id)] if fg is not None else doc.layers
    for layer in reversed(below):
        if layer.kind == LayerKind.BACKGROUND and not layer.pending:
            return layer
    return None


def has_cutout(doc: Document | None) -> bool:
    """True once there is a matte or a foreground to composite."""
    return doc is not None and (foreground_layer(doc) is not None or matte_layer(doc) is not None)


def fitted_background(
    image: np.ndarray, width: int, height: int, scale: float = 1.0, centre: tuple[float, float] | None = None
) -> tuple[np.ndarray, tuple[int, int]]:
    """``image`` scaled to cover ``width`` x ``height`` times ``scale``, and its offset.

    The result is centred on ``centre`` (document point; default the document centre).
    """
    import cv2

    h, w = image.shape[:2]
    s = max(width / w, height / h) * scale
    nw, nh = max(1, round(w * s)), max(1, round(h * s))
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
    pixels = cv2.resize(np.ascontiguousarray(image, np.float32), (nw, nh), interpolation=interp)
    cx, cy = centre if centre is not None else (width / 2, height / 2)
    return np.clip(pixels, 0, 1), (round(cx - nw / 2), round(cy - nh / 2))


def background_from_image(image: np.ndarray, name: str, width: int, height: int) -> Layer:
    """A BACKGROUND layer covering the document, centred."""
    pixels, offset = fitted_background(image[..., :3], width, height)
    return new_layer(LayerKind.BACKGROUND, name, pixels=pixels, offset=offset)


def under_foreground_index(doc: Document) -> int:
    """Where a new background goes: right under the foreground (or at the bottom)."""
    fg = foreground_layer(doc)
    return doc.index_of(fg.id) if fg is not None else 0

"""Mask helpers shared by the Image2StyleGAN++ applications.

Blur and dilation sizes are fractions of the image side, so a setting means the same on a
32 px test model and a 1024 px face model. :func:`hole_mask` draws the seven hole types of
the inpainting evaluation (after Fig. 11 of the paper: from small boxes to half the image).
"""

from __future__ import annotations

import cv2
import numpy as np

from latent_atelier.editors.operation import OperationError
from latent_atelier.editors.placement import Placement

#: the seven hole types of the inpainting evaluation, smallest to largest on average
HOLE_TYPES = (
    "center_box",
    "eyes_band",
    "mouth_box",
    "strokes",
    "blobs",
    "left_half",
    "bottom_half",
)


def as_mask(mask: np.ndarray, name: str = "mask") -> np.ndarray:
    """``mask`` as float32 ``H x W`` in [0, 1]; an RGB(A) image becomes its mean (or alpha)."""
    m = np.asarray(mask, np.float32)
    if m.ndim == 3:
        m = m[..., 3] if m.shape[2] == 4 else m[..., :3].mean(axis=2)
    if m.ndim != 2:
        raise OperationError(f"{name} must be an H x W mask, got shape {m.shape}")
    return np.clip(m, 0.0, 1.0)


def blur_mask(mask: np.ndarray, blur: float) -> np.ndarray:
    """Gaussian blur with sigma = ``blur`` x the image side (0 leaves the mask as it is)."""
    m = as_mask(mask)
    sigma = float(blur) * max(m.shape)
    if sigma <= 0:
        return m.copy()
    return np.clip(cv2.GaussianBlur(m, (0, 0), sigmaX=sigma, sigmaY=sigma), 0.0, 1.0)


def dilate_mask(mask: np.ndarray, radius_px: float) -> np.ndarray:
    """Grow the mask by ``radius_px`` pixels (grey dilation with a disc)."""
    m = as_mask(mask)
    r = round(float(radius_px))
    if r <= 0:
        return m.copy()
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    return cv2.dilate(m, disc)


def grow_and_blur(mask: np.ndarray, grow: float, blur: float) -> np.ndarray:
    """The "slightly larger blurred mask" M_blur+: dilate by ``grow`` x side, then blur.

    The blur is applied after moving the edge out by two sigmas, so the result stays 1
    over the whole original mask.
    """
    m = as_mask(mask)
    side = max(m.shape)
    grown = dilate_mask(m, grow * side + 2.0 * blur * side)
    return np.maximum(blur_mask(grown, blur), m)


def crop_to_model(mask: np.ndarray | None, placement: Placement, name: str = "mask") -> np.ndarray | None:
    """A photo-sized mask cut out at model resolution through ``placement`` (None stays None)."""
    if mask is None:
        return None
    m = as_mask(mask, name)
    if m.shape != tuple(placement.photo_shape):
        raise OperationError(
            f"{name} is {m.shape[1]}x{m.shape[0]} but the photo is "
            f"{placement.photo_shape[1]}x{placement.photo_shape[0]}: paint it on the photo"
        )
    return np.clip(placement.extract(m, border="constant"), 0.0, 1.0)


def pieces_touching(region: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """The connected pieces (8-connected) of the boolean ``region`` that overlap ``seeds``."""
    n, comp = cv2.connectedComponents(region.astype(np.uint8), connectivity=8)
    keep = np.zeros(n, bool)
    keep[np.unique(comp[region & seeds])] = True
    keep[0] = False
    return keep[comp]


def hole_mask(kind: str, size: int, seed: int = 0) -> np.ndarray:
    """One of the :data:`HOLE_TYPES` as a binary float32 ``size x size`` mask (1 = missing)."""
    s = int(size)
    m = np.zeros((s, s), np.float32)
    rng = np.random.default_rng(seed)

    def box(y0: float, y1: float, x0: float, x1: float) -> None:
        m[round(y0 * s) : round(y1 * s), round(x0 * s) : round(x1 * s)] = 1.0

    if kind == "center_box":
        box(0.3, 0.7, 0.3, 0.7)
    elif kind == "eyes_band":
        box(0.3, 0.5, 0.12, 0.88)
    elif kind == "mouth_box":
        box(0.6, 0.85, 0.25, 0.75)
    elif kind == "left_half":
        box(0.0, 1.0, 0.0, 0.5)
    elif kind == "bottom_half":
        box(0.5, 1.0, 0.0, 1.0)
    elif kind == "strokes":
        width = max(1, round(0.06 * s))
        for _ in range(6):
            pts = (rng.uniform(0.1, 0.9, size=(4, 2)) * s).astype(np.int32)
            cv2.polylines(m, [pts], False, 1.0, thickness=width)
    elif kind == "blobs":
        for _ in range(5):
            cx, cy = (rng.uniform(0.2, 0.8, size=2) * s).astype(int)
            ax, ay = (rng.uniform(0.06, 0.16, size=2) * s).astype(int)
            cv2.ellipse(
                m, (int(cx), int(cy)), (int(ax), int(ay)), float(rng.uniform(0, 180)), 0, 360, 1.0, -1
            )
    else:
        raise ValueError(f"unknown hole type {kind!r}; choose one of {list(HOLE_TYPES)}")
    return m

"""Subject / background segmentation by colour, seeded by a generator's soft alpha.

A low-resolution generator alpha knows roughly where the subject is but blurs and
misplaces its edge. GrabCut (Rother et al. 2004, OpenCV's ``cv2.grabCut``) fits a colour
model of subject and background to that rough answer and moves the edge to where the
colours change. Every pixel starts as "probably" subject (alpha >= 0.5) or "probably"
background; only pixels the user painted are hard constraints, so a confidently wrong
generator region can still flip. The result is the binary edge a trimap's unknown band is
then drawn around.

Pure numpy / OpenCV; no torch.
"""

from __future__ import annotations

import cv2
import numpy as np

from latent_atelier.editors.matting.refine import painted_pixels

#: GrabCut working size (long side, px): big photos are segmented at this size
DEFAULT_WORK_PX = 512
#: GrabCut iterations (3 and 5 gave the same errors on the evaluation portraits)
DEFAULT_ITERATIONS = 5
#: fewer pixels of a label than this give no colour model (GrabCut fits 5 Gaussians each)
MIN_PIXELS_PER_LABEL = 16


def _resize(arr: np.ndarray, size: tuple[int, int], interpolation: int) -> np.ndarray:
    if arr.shape[1] == size[0] and arr.shape[0] == size[1]:
        return arr
    return cv2.resize(arr, size, interpolation=interpolation)


def _painted(mask: np.ndarray | None, shape: tuple[int, int], what: str) -> np.ndarray:
    return np.zeros(shape, bool) if mask is None else painted_pixels(mask, shape, what)


def segment_by_colour(
    image: np.ndarray,
    prior: np.ndarray,
    *,
    fg_mask: np.ndarray | None = None,
    bg_mask: np.ndarray | None = None,
    work_px: int = DEFAULT_WORK_PX,
    iterations: int = DEFAULT_ITERATIONS,
) -> np.ndarray:
    """Boolean subject mask (H x W) of ``image`` grown by colour from ``prior`` (soft alpha).

    The photo is segmented at ``work_px`` on its long side (never upscaled) and the answer
    resized back. Painted ``fg_mask`` / ``bg_mask`` pixels (> 0.5; foreground wins) are hard
    labels and are kept exactly at full resolution. When the prior and the painted masks
    hold no pixel of one of the two labels, there is no colour model to fit and the prior
    thresholded at 0.5 is returned.
    """
    img = np.asarray(image, np.float32)
    a = np.asarray(prior, np.float32)
    if img.ndim != 3 or img.shape[2] < 3 or a.shape != img.shape[:2]:
        raise ValueError(f"need an H x W x 3 image and an H x W prior, got {img.shape} and {a.shape}")
    if work_px < 8:
        raise ValueError(f"work_px must be at least 8, got {work_px}")
    h, w = a.shape
    fg_paint = _painted(fg_mask, (h, w), "foreground mask")
    bg_paint = _painted(bg_mask, (h, w), "background mask")
    rough = ((a >= 0.5) | fg_paint) & ~(bg_paint & ~fg_paint)
    if rough.all() or not rough.any():
        return rough
    scale = min(1.0, work_px / max(h, w))
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small_img = _resize(np.ascontiguousarray(img[..., :3]), size, cv2.INTER_AREA)
    small_a = _resize(a, size, cv2.INTER_AREA)
    labels = np.where(small_a >= 0.5, cv2.GC_PR_FGD, cv2.GC_PR_BGD).astype(np.uint8)
    labels[_resize(bg_paint.astype(np.float32), size, cv2.INTER_AREA) > 0.5] = cv2.GC_BGD
    labels[_resize(fg_paint.astype(np.float32), size, cv2.INTER_AREA) > 0.5] = cv2.GC_FGD
    n_fg = int(((labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD)).sum())
    if min(n_fg, labels.size - n_fg) < MIN_PIXELS_PER_LABEL:
        return rough
    img8 = (np.clip(small_img, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    bgd_model = np.zeros((1, 65), np.float64)
    fgd_model = np.zeros((1, 65), np.float64)
    try:
        cv2.grabCut(img8, labels, None, bgd_model, fgd_model, int(iterations), cv2.GC_INIT_WITH_MASK)
    except cv2.error:  # a degenerate colour model (e.g. a flat image): keep the rough mask
        return rough
    small_fg = ((labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD)).astype(np.float32)
    full = _resize(small_fg, (w, h), cv2.INTER_LINEAR) >= 0.5
    full[bg_paint] = False
    full[fg_paint] = True
    return full

"""Label maps: conversion from the synthetic set and CelebAMask-HQ, checks, one-hot codes.

A label map here is an ``H x W`` integer array of class ids ``0 .. N_CLASSES - 1``
(:mod:`.classes`).
"""

from __future__ import annotations

import numpy as np

from .classes import (
    CELEBAMASK_TO_OURS,
    LEFT_BROW,
    LEFT_EYE,
    N_CLASSES,
    RIGHT_BROW,
    RIGHT_EYE,
    SYNTHETIC_BROWS,
    SYNTHETIC_EYES,
    SYNTHETIC_MOUTH,
    SYNTHETIC_NOSE,
    SYNTHETIC_TO_OURS,
)


class LabelMapError(ValueError):
    """A label map that cannot be used; the message says what to do."""


def face_axis_x(labels8: np.ndarray) -> float | None:
    """The x of the face's vertical axis in a synthetic label map: the mouth's centre,
    else the nose's, else the middle of the eyes' extent (None without any of them)."""
    for cls in (SYNTHETIC_MOUTH, SYNTHETIC_NOSE):
        xs = np.nonzero(labels8 == cls)[1]
        if xs.size:
            return float(xs.mean())
    xs = np.nonzero(labels8 == SYNTHETIC_EYES)[1]
    return float(xs.min() + xs.max()) / 2.0 if xs.size else None


def from_synthetic(labels8: np.ndarray) -> np.ndarray:
    """Our 10-class map (uint8) from a synthetic portrait's 8-class map.

    Eyes and brows are split at the face's axis: pixels right of it in the image are
    the person's left eye / brow.
    """
    lab = np.asarray(labels8)
    if lab.ndim != 2 or lab.max(initial=0) >= len(SYNTHETIC_TO_OURS):
        raise LabelMapError("a synthetic label map is H x W with values 0..7")
    out = SYNTHETIC_TO_OURS[lab]
    axis = face_axis_x(lab)
    if axis is not None:
        right_side = np.arange(lab.shape[1])[None, :] >= axis
        out[(lab == SYNTHETIC_EYES) & ~right_side] = RIGHT_EYE
        out[(lab == SYNTHETIC_EYES) & right_side] = LEFT_EYE
        out[(lab == SYNTHETIC_BROWS) & ~right_side] = RIGHT_BROW
        out[(lab == SYNTHETIC_BROWS) & right_side] = LEFT_BROW
    return out


def from_celebamask(labels19: np.ndarray) -> np.ndarray:
    """Our 10-class map (uint8) from a CelebAMask-HQ map with values 0..18."""
    lab = np.asarray(labels19)
    if lab.size and int(lab.max()) >= len(CELEBAMASK_TO_OURS):
        raise LabelMapError(f"CelebAMask-HQ labels are 0..18, found {int(lab.max())}")
    return CELEBAMASK_TO_OURS[lab]


def check_label_map(labels: object, shape: tuple[int, int], what: str = "label map") -> np.ndarray:
    """``labels`` as an int64 ``H x W`` array of our class ids, or :class:`LabelMapError`
    saying what is wrong (size, fractions, unknown classes) and what to do."""
    lab = np.asarray(labels)
    if lab.ndim == 3 and lab.shape[2] == 1:
        lab = lab[..., 0]
    if lab.ndim != 2:
        raise LabelMapError(f"the {what} must be one channel of class ids (H x W), got shape {lab.shape}")
    if tuple(lab.shape) != tuple(shape):
        raise LabelMapError(
            f"the {what} is {lab.shape[1]}x{lab.shape[0]} px but the photo is "
            f"{shape[1]}x{shape[0]} px: paint it on the photo's canvas or resize it to match"
        )
    if lab.dtype.kind == "f":
        if not np.all(np.isfinite(lab)) or np.any(lab != np.round(lab)):
            raise LabelMapError(f"the {what} holds fractions; class ids are whole numbers 0..{N_CLASSES - 1}")
    elif lab.dtype.kind not in "iub":
        raise LabelMapError(f"the {what} must hold integer class ids, got {lab.dtype}")
    lab = lab.astype(np.int64)
    bad = np.unique(lab[(lab < 0) | (lab >= N_CLASSES)])
    if bad.size:
        from .classes import CLASS_NAMES

        shown = ", ".join(str(int(v)) for v in bad[:8]) + (" ..." if bad.size > 8 else "")
        known = ", ".join(f"{i} {n}" for i, n in enumerate(CLASS_NAMES))
        raise LabelMapError(
            f"the {what} holds unknown class values {shown}; use the classes {known} "
            "(repaint those pixels with a class from the palette)"
        )
    return lab


def downsample_labels(labels: np.ndarray, factor: int) -> np.ndarray:
    """Majority vote in ``factor x factor`` blocks (ties: the larger id, small parts win)."""
    if factor == 1:
        return np.asarray(labels)
    lab = np.asarray(labels)
    h, w = lab.shape[-2] // factor, lab.shape[-1] // factor
    blocks = lab[..., : h * factor, : w * factor].reshape(*lab.shape[:-2], h, factor, w, factor)
    counts = np.stack([(blocks == c).sum(axis=(-3, -1)) for c in range(N_CLASSES)], axis=-1)
    # reversed argmax picks the largest id among ties
    return (N_CLASSES - 1 - np.argmax(counts[..., ::-1], axis=-1)).astype(lab.dtype)

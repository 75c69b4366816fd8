"""Label-map helpers of ``mask-edit``: crop a map through a placement, compare maps, take a
component's shape from a second portrait's map. Class ids: ``models/mask_guided/classes.py``."""

from __future__ import annotations

import cv2
import numpy as np

from latent_atelier.editors.placement import Placement
from latent_atelier.models.mask_guided.classes import (
    BACKGROUND,
    COMPONENT_CLASSES,
    HAIR,
    N_CLASSES,
    SKIN,
)

#: what the user may take from a second portrait -> the model's components
TAKE_COMPONENTS: dict[str, tuple[str, ...]] = {
    "hair": ("hair",),
    "eyes": ("left_eye", "right_eye"),
    "mouth": ("mouth",),
    "skin": ("skin",),
    "all": ("left_eye", "right_eye", "mouth", "skin", "hair"),
}
#: components whose absence from a map is worth a note (skin and hair may be absent by design)
NAMED_PARTS = {
    "left_eye": "left eye",
    "right_eye": "right eye",
    "mouth": "mouth",
    "skin": "skin",
    "hair": "hair",
}


def crop_labels(placement: Placement, labels: np.ndarray) -> np.ndarray:
    """The map inside the placement at model size: each class is resampled as a soft mask
    (antialiased when shrinking) and the strongest wins, so small parts survive."""
    present = [c for c in range(N_CLASSES) if np.any(labels == c)]
    best = np.full((placement.size, placement.size), -1.0, np.float32)
    out = np.zeros((placement.size, placement.size), np.int64)
    for c in present:
        soft = placement.extract((labels == c).astype(np.float32))
        if c != BACKGROUND:
            soft = soft * 1.0001  # ties go to the part, not the background
        win = soft > best
        out[win], best[win] = c, soft[win]
    return out


def missing_components(labels: np.ndarray) -> list[str]:
    """Names of the components with no pixel in ``labels``."""
    return [
        NAMED_PARTS[comp] for comp, classes in COMPONENT_CLASSES.items() if not np.isin(labels, classes).any()
    ]


def changed_region(before: np.ndarray, after: np.ndarray, margin: int) -> np.ndarray:
    """Float mask: where the maps differ, grown by ``margin`` px and feathered by 1 px."""
    diff = (before != after).astype(np.uint8)
    if margin > 0 and diff.any():
        k = 2 * margin + 1
        diff = cv2.dilate(diff, np.ones((k, k), np.uint8))
    soft = cv2.GaussianBlur(diff.astype(np.float32), (0, 0), 1.0) if diff.any() else diff.astype(np.float32)
    return np.clip(np.maximum(soft, diff.astype(np.float32)), 0.0, 1.0)


def component_region(labels: np.ndarray, components: tuple[str, ...]) -> np.ndarray:
    """Boolean mask of the given components' classes."""
    classes = [c for comp in components for c in COMPONENT_CLASSES[comp]]
    return np.isin(labels, classes)


def take_shape(target: np.ndarray, donor: np.ndarray, components: tuple[str, ...]) -> np.ndarray:
    """``target`` with the components' pixels replaced by the donor map's (same frame).

    Removed hair becomes background outside the face (the hull of the face's classes) and
    skin inside; removed eyes or mouth become skin. Donor hair never covers the target's
    eyes, brows, nose or mouth.
    """
    out = target.copy()
    face_classes = [c for c in range(N_CLASSES) if c not in (BACKGROUND, HAIR, 9)]
    face = np.isin(target, face_classes).astype(np.uint8)
    hull = np.zeros_like(face)
    pts = cv2.findNonZero(face)
    if pts is not None:
        cv2.fillConvexPoly(hull, cv2.convexHull(pts), 1)
    for comp in components:
        classes = COMPONENT_CLASSES[comp]
        old = np.isin(target, classes)
        if comp == "hair":
            out[old] = np.where(hull[old] > 0, SKIN, BACKGROUND)
        elif comp != "skin":
            out[old] = SKIN
        new = np.isin(donor, classes)
        if comp == "hair":
            new &= ~np.isin(target, [c for c in face_classes if c != SKIN])
        out[new] = donor[new]
    return out

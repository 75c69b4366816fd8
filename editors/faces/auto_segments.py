"""Automatic segments: a label map of the face's parts as a first guess to correct by brush.

Face parts come from the face-mesh polygons (eyes, brows, lips, nose, the face oval);
person vs background from the selfie segmentation. Hair is the person outside the face
oval around and above the head; neck/body is the rest of the person. "Left" and
"right" are the person's own sides (the person's left eye is on the image's right).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from latent_atelier.editors import faces
from latent_atelier.editors.faces.mesh_regions import region_polygon
from latent_atelier.editors.masks import pieces_touching
from latent_atelier.editors.operation import Operation, Progress, Result, Slot, param
from latent_atelier.editors.placed_photo import checked_rgb
from latent_atelier.editors.registry import register

#: (id, name, rgb) of every segment, in drawing order
PALETTE: tuple[tuple[int, str, tuple[int, int, int]], ...] = (
    (0, "background", (0, 0, 0)),
    (1, "skin", (230, 180, 140)),
    (2, "hair", (110, 60, 20)),
    (3, "left eye", (40, 120, 255)),
    (4, "right eye", (0, 200, 255)),
    (5, "left brow", (120, 40, 160)),
    (6, "right brow", (200, 80, 220)),
    (7, "nose", (255, 140, 0)),
    (8, "lips/mouth", (220, 20, 60)),
    (9, "neck/body", (60, 170, 80)),
)
LABEL = {name: i for i, name, _ in PALETTE}

#: mesh region -> label, painted in this order (later regions win)
_FACE_PARTS = (
    ("face_oval", "skin"),
    ("nose", "nose"),
    ("left_brow", "left brow"),
    ("right_brow", "right brow"),
    ("left_eye", "left eye"),
    ("right_eye", "right eye"),
    ("lips", "lips/mouth"),
)


def colorize(labels: np.ndarray) -> np.ndarray:
    """An ``H x W x 3`` float32 picture of a label map in the palette's colours."""
    lut = np.zeros((256, 3), np.float32)
    for i, _, rgb in PALETTE:
        lut[i] = np.asarray(rgb, np.float32) / 255.0
    return lut[np.clip(labels, 0, 255)]


def face_labels(labels: np.ndarray, mesh: np.ndarray) -> None:
    """Paint one face's parts (from its 478-point mesh) into ``labels`` in place."""
    for region, name in _FACE_PARTS:
        poly = np.round(region_polygon(mesh, region) * 16).astype(np.int32)  # 4 fractional bits
        layer = np.zeros(labels.shape, np.uint8)
        cv2.fillPoly(layer, [poly], 1, lineType=cv2.LINE_8, shift=4)
        labels[layer > 0] = LABEL[name]


def head_region(shape: tuple[int, int], mesh: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks: the head's surroundings (where hair can be) and the part of them
    above the face's centre (the crown, where hair starts).

    Works in the face's own frame (its eye line gives "up"), so tilted heads work too.
    """
    from latent_atelier.editors.faces.mesh_regions import eye_rings

    right_ring, left_ring = eye_rings()
    across = mesh[left_ring].mean(axis=0) - mesh[right_ring].mean(axis=0)
    across /= max(np.hypot(*across), 1e-6)
    down = np.array([-across[1], across[0]])
    oval = region_polygon(mesh, "face_oval")
    centre = oval.mean(axis=0)
    h, w = shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    u = (xs - centre[0]) * across[0] + (ys - centre[1]) * across[1]
    v = (xs - centre[0]) * down[0] + (ys - centre[1]) * down[1]
    ou = (oval - centre) @ across
    ov = (oval - centre) @ down
    half_w, chin = float(np.abs(ou).max()), float(ov.max())
    reach = np.where(v < 0, 1.6 * half_w, 1.2 * half_w)  # wide above the eyes, narrow by the jaw
    head = (np.abs(u) < reach) & (v < chin) & (v > ov.min() - 1.2 * half_w)
    return head, head & (v < 0)


def hair_connected_to_crown(candidates: np.ndarray, crown: np.ndarray) -> np.ndarray:
    """The pieces of ``candidates`` that reach the crown (hair grows from above the face)."""
    return pieces_touching(candidates, crown)


@dataclass
class AutoSegmentsParams:
    threshold: float = param(0.5, 0.05, 0.95, "person/background cut-off of the segmentation")


@register
class AutoSegments(Operation):
    """A label map (skin, hair, eyes, brows, nose, lips, neck/body) as a first guess."""

    name = "auto-segments"
    title = "Automatic segments"
    description = (
        "Guess the face's segments (skin, hair, eyes, brows, nose, lips, neck/body, "
        "background) as an editable label layer."
    )
    inputs = (Slot("photo", "image"),)
    outputs = (Slot("labels", "labels", help="H x W int32; outputs['palette'] names the ids"),)
    Params = AutoSegmentsParams
    needs_generator = False

    def run(self, gen: Any, inputs: dict[str, Any], params: AutoSegmentsParams, progress: Progress) -> Result:
        """Label map at the photo's full resolution plus its palette ``[(id, name, rgb)]``."""
        self.check_inputs(inputs)
        photo = checked_rgb(inputs["photo"], "auto-segments")
        if not faces.faces_available():
            raise faces.FacesUnavailable(
                f"automatic segments need the face models: {faces.INSTALL_HINT}; "
                "or paint the segments by hand"
            )
        progress.step(0, 3)
        person = faces.person_mask(photo) >= params.threshold
        progress.step(1, 3)
        found = [f for f in faces.detect_faces(photo) if f.mesh is not None]
        progress.step(2, 3)
        h, w = photo.shape[:2]
        labels = np.zeros((h, w), np.int32)
        head_any = np.zeros((h, w), bool)
        crown_any = np.zeros((h, w), bool)
        parts = np.zeros((h, w), np.int32)
        for face in found:
            head, crown = head_region((h, w), face.mesh)
            head_any |= head
            crown_any |= crown
            face_labels(parts, face.mesh)
        labels[hair_connected_to_crown(person & head_any & (parts == 0), crown_any)] = LABEL["hair"]
        # the rest of the person below the face's centre (collar, shoulders beside the jaw)
        labels[person & (labels == 0) & ~crown_any] = LABEL["neck/body"]
        labels[parts > 0] = parts[parts > 0]
        progress.step(3, 3)
        counts = np.bincount(labels.ravel(), minlength=len(PALETTE))
        return Result(
            outputs={"labels": labels, "palette": [(i, n, rgb) for i, n, rgb in PALETTE]},
            metrics={
                "faces": float(len(found)),
                "person_fraction": float(person.mean()),
                **{f"fraction_{n}": float(counts[i]) / labels.size for i, n, _ in PALETTE[1:]},
            },
        )

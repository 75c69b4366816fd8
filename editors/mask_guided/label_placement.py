"""Where ``mask-edit`` cuts the face out of a photo when no placement is given: from the
photo's own label map, framed as the model's training portraits are.

The model was trained on portraits whose eyes and mouth sit at nearly the same place
(``TRAINING_POINTS``, the mean label centres of its 10 000 training maps at 64 px; spread
about 5 px). A similarity that takes the map's eye and mouth centres onto those points gives
the crop the model knows. Without both eyes and a mouth, the face's bounding box is framed
as the training faces' mean box instead; without any face class there is nothing to frame.
"""

from __future__ import annotations

import numpy as np

from latent_atelier.editors.placement import Placement
from latent_atelier.models.mask_guided.classes import LEFT_EYE, MOUTH, RIGHT_EYE

#: mean centre (x, y) of each class in the training maps, in pixels of a 64 px crop
TRAINING_POINTS: dict[int, tuple[float, float]] = {
    LEFT_EYE: (38.15, 33.62),
    RIGHT_EYE: (24.77, 33.67),
    MOUTH: (31.48, 45.77),
}
TRAINING_SIZE = 64
#: the training faces' mean bounding box (skin, eyes, brows, nose, mouth; not hair): centre
#: (x, y) and the longer side, in pixels of a 64 px crop
TRAINING_FACE_CENTRE = (32.05, 40.72)
TRAINING_FACE_SIDE = 44.06
FACE_CLASSES = (1, 3, 4, 5, 6, 7, 8)


def _centre(labels: np.ndarray, cls: int) -> tuple[float, float] | None:
    ys, xs = np.nonzero(labels == cls)
    if xs.size == 0:
        return None
    return float(xs.mean()), float(ys.mean())


def placement_from_labels(labels: np.ndarray, size: int) -> tuple[Placement | None, str]:
    """The crop of ``labels``' face at ``size`` px and how it was found (``"eyes and mouth"``,
    ``"face box"``), or ``(None, reason)`` when the map shows no face."""
    shape = (int(labels.shape[0]), int(labels.shape[1]))
    centres = {c: _centre(labels, c) for c in TRAINING_POINTS}
    scale = size / TRAINING_SIZE
    if all(v is not None for v in centres.values()):
        src = np.array([centres[c] for c in TRAINING_POINTS], np.float64)
        dst = np.array([TRAINING_POINTS[c] for c in TRAINING_POINTS], np.float64) * scale
        spread = np.ptp(src, axis=0)
        if spread.min() >= 1.0:  # three distinct points: a similarity is defined
            try:
                return Placement.from_points(src, dst, size, shape), "eyes and mouth"
            except ValueError:
                pass
    ys, xs = np.nonzero(np.isin(labels, FACE_CLASSES))
    if xs.size == 0:
        return None, "the label map shows no face (skin, eyes, brows, nose or mouth)"
    face_side = max(xs.max() - xs.min() + 1, ys.max() - ys.min() + 1)
    side = face_side * TRAINING_SIZE / TRAINING_FACE_SIDE
    cx, cy = (xs.min() + xs.max() + 1) / 2.0, (ys.min() + ys.max() + 1) / 2.0
    x0 = cx - TRAINING_FACE_CENTRE[0] / TRAINING_SIZE * side
    y0 = cy - TRAINING_FACE_CENTRE[1] / TRAINING_SIZE * side
    return Placement.from_box(x0, y0, side, size, shape), "face box"

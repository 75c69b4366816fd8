"""Person / background segmentation at the photo's full resolution."""

from __future__ import annotations

import cv2
import numpy as np

from latent_atelier.editors.faces.backend import load_solutions
from latent_atelier.editors.faces.detect import to_uint8_rgb

SEGMENT_SIDE = 512  # the model sees at most this; the mask is upsampled back


def person_mask(image: np.ndarray) -> np.ndarray:
    """``H x W`` float32 in [0, 1]: how likely each pixel belongs to a person."""
    sol = load_solutions()
    photo = to_uint8_rgb(image)
    h, w = photo.shape[:2]
    scale = min(1.0, SEGMENT_SIDE / max(h, w))
    work = (
        photo if scale == 1.0 else cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    )
    with sol.selfie_segmentation.SelfieSegmentation(model_selection=0) as seg:
        res = seg.process(work)
    mask = np.asarray(res.segmentation_mask, np.float32)
    if mask.shape != (h, w):
        mask = cv2.resize(mask, (w, h), interpolation=cv2.INTER_LINEAR)
    return np.clip(mask, 0.0, 1.0)

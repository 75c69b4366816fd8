"""A user's rough fg / bg strokes on the sample photos, for the matting figures.

Each stroke is a polyline in coordinates relative to the photo (x, y in [0, 1]), drawn
with a brush of 2% of the photo's width: what an artist paints in a few seconds to tell
the ``matte`` operation what is subject and what is background.
"""

from __future__ import annotations

import cv2
import numpy as np

Stroke = list[tuple[float, float]]

STROKES: dict[str, dict[str, list[Stroke]]] = {
    "astronaut": {
        "fg": [
            [(0.42, 0.10), (0.44, 0.30)],
            [(0.33, 0.09), (0.45, 0.05), (0.56, 0.09)],
            [(0.30, 0.42), (0.36, 0.55)],
            [(0.15, 0.55), (0.45, 0.70), (0.60, 0.95)],
            [(0.05, 0.95), (0.30, 0.80)],
            [(0.28, 0.74), (0.40, 0.76)],
            [(0.56, 0.69), (0.66, 0.70)],
            [(0.36, 0.40), (0.52, 0.41)],
        ],
        "bg": [
            [(0.05, 0.05), (0.05, 0.45)],
            [(0.62, 0.05), (0.66, 0.55)],
            [(0.05, 0.28), (0.13, 0.40)],
            [(0.85, 0.15), (0.88, 0.55)],
            [(0.72, 0.45), (0.72, 0.62)],
            [(0.97, 0.55), (0.97, 0.66)],
            [(0.74, 0.52), (0.98, 0.52)],
            [(0.73, 0.61), (0.98, 0.62)],
            [(0.62, 0.80), (0.80, 0.95)],
            [(0.88, 0.76), (0.95, 0.88)],
            [(0.70, 0.71), (0.92, 0.70)],
        ],
    },
    "chelsea": {
        "fg": [
            [(0.08, 0.35), (0.35, 0.45), (0.62, 0.40)],
            [(0.25, 0.15), (0.45, 0.12)],
            [(0.15, 0.75), (0.40, 0.90)],
            [(0.55, 0.70), (0.60, 0.85)],
            [(0.68, 0.30), (0.72, 0.50), (0.76, 0.72)],
            [(0.55, 0.08), (0.70, 0.15)],
        ],
        "bg": [[(0.93, 0.15), (0.95, 0.90)], [(0.88, 0.04), (0.98, 0.04)], [(0.80, 0.96), (0.98, 0.96)]],
    },
}


def stroke_masks(name: str, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The (fg, bg) stroke masks (float32 0/1, H x W) of sample photo ``name``."""
    h, w = shape[:2]
    width = max(3, w // 50)
    masks = []
    for kind in ("fg", "bg"):
        m = np.zeros((h, w), np.uint8)
        for stroke in STROKES[name][kind]:
            pts = np.array([[x * w, y * h] for x, y in stroke], np.int32)
            cv2.polylines(m, [pts], False, 1, width)
        masks.append(m.astype(np.float32))
    return masks[0], masks[1]

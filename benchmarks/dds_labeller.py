"""The reference part labeller of the dual-domain benchmark (not part of the app).

It stands in for a person labelling generated images (eyes + nose + mouth): a face parser
trained on the synthetic portraits' exact part labels, the frozen parser of the bundled
mask-guided model. The one-shot part segmenter (``editors.dual_domain.segmenter``) is
scored against it. (Until 2026-12-06 the ruler was a small U-Net trained here for 400 steps;
it read held-out portraits at IoU 0.54 against their exact masks, the parser at 0.90.)
"""

from __future__ import annotations

import numpy as np
import torch

from latent_atelier.models.mask_guided.io import BUNDLED_NAME

PART_CLASSES = (3, 5, 6)  # EYES, NOSE, MOUTH of models.training.synthetic.parts
#: the part is the labelled pixels grown by this many pixels (at 64 px the bare labels are
#: strokes one or two pixels wide, 2% of the image: a region is what DDS transfers)
PART_GROW_PX = 2


def part_masks(labels: np.ndarray, size: int, classes=PART_CLASSES, grow: int = PART_GROW_PX) -> np.ndarray:
    """``(N, D, D)`` label maps -> ``(N, size, size)`` float masks of the classes (area resize,
    >= 0.5, grown by ``PART_GROW_PX``)."""
    import cv2

    m = np.isin(labels, classes).astype(np.float32)
    if m.shape[1] != size:
        m = np.stack([cv2.resize(a, (size, size), interpolation=cv2.INTER_AREA) for a in m])
    m = (m >= 0.5).astype(np.uint8)
    if grow > 0:
        k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1))
        m = np.stack([cv2.dilate(a, k) for a in m])
    return m.astype(np.float32)


#: the bundled mask-guided model, whose frozen parser is the ruler
RULER_MODEL = f"resources/models/{BUNDLED_NAME}"


class ParserRuler:
    """The part masks a face parser trained on the exact labels reads from RGB images.

    The parser is the bundled mask-guided model's (the parser recipe, 12 000 steps on 20 000
    training portraits): eyes, nose and mouth, grown by ``PART_GROW_PX`` like the exact masks.
    """

    def __init__(self, model_file: str | None = None) -> None:
        from latent_atelier.models.mask_guided.io import load_parser

        self.parser, self.size = load_parser(model_file)

    @torch.no_grad()
    def predict(self, images: np.ndarray, batch: int = 64) -> np.ndarray:
        """Binary part masks ``(N, S, S)`` for ``(N, S, S, 3)`` images in [0, 1] (S = the parser's size)."""
        import cv2

        from latent_atelier.models.mask_guided.classes import LEFT_EYE, MOUTH, NOSE, RIGHT_EYE

        if images.shape[1] != self.size:
            raise ValueError(f"the ruler reads {self.size} px images, got {images.shape[1]} px")
        out = []
        for lo in range(0, len(images), batch):
            x = torch.from_numpy(np.ascontiguousarray(images[lo : lo + batch])).permute(0, 3, 1, 2) * 2 - 1
            labels = self.parser(x.float()).argmax(1).numpy()
            out.append(np.isin(labels, (LEFT_EYE, RIGHT_EYE, NOSE, MOUTH)).astype(np.uint8))
        masks = np.concatenate(out)
        k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * PART_GROW_PX + 1, 2 * PART_GROW_PX + 1))
        return np.stack([cv2.dilate(a, k) for a in masks]).astype(np.float32)


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-item IoU of binary masks ``(N, H, W)`` (1 where both are empty)."""
    inter = (a * b).sum((1, 2))
    union = np.clip(a + b, 0, 1).sum((1, 2))
    return np.where(union > 0, inter / np.maximum(union, 1), 1.0)

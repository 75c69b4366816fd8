"""Part masks read from RGB images by the bundled face parser (the mask-guided model's).

The parser was trained on the synthetic portraits' exact labels and reads colour portraits;
on held-out portraits embedded in the demo model it finds eyes + nose + mouth at IoU 0.71
against the exact labels, where the one-shot feature segmenter reaches 0.29
(``benchmarks/bench_part_reference.py``). It cannot read far domains such as ink sketches, so
the ``dual-domain`` operation reads the first (app) model's image and uses that mask on both.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from latent_atelier.models.mask_guided.classes import LEFT_EYE, MOUTH, NOSE, RIGHT_EYE

#: the classes of the eyes + nose + mouth part
PART_CLASSES: tuple[int, ...] = (LEFT_EYE, RIGHT_EYE, NOSE, MOUTH)
#: grown by this many pixels at 64 px (bare labels are strokes a pixel or two wide), as the
#: segmenter's training labels are
GROW_PX_AT_64 = 2


@torch.no_grad()
def part_probability(parser, images: torch.Tensor, size: int) -> torch.Tensor:
    """``(B, 1, S, S)`` probability of eyes + nose + mouth for ``(B, 3, S, S)`` images in
    [-1, 1]; images are area-resized to the parser's ``size`` and back."""
    s = images.shape[-1]
    x = images.float().cpu()
    if s != size:
        x = (
            F.interpolate(x, size=(size, size), mode="area")
            if s > size
            else F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
        )
    prob = parser(x).softmax(1)[:, list(PART_CLASSES)].sum(1, keepdim=True)
    if s != size:
        prob = F.interpolate(prob, size=(s, s), mode="bilinear", align_corners=False)
    return prob.clamp(0, 1)


def part_masks(parser, images: torch.Tensor, size: int, threshold: float = 0.5) -> torch.Tensor:
    """Binary ``(B, 1, S, S)`` part masks: the probability above ``threshold``, grown."""
    prob = part_probability(parser, images, size)
    grown = grow_parts((prob[:, 0] > threshold).numpy())
    return torch.from_numpy(grown).unsqueeze(1).to(images.device)


def grow_parts(binary: np.ndarray) -> np.ndarray:
    """``(N, S, S)`` binary masks grown by ``GROW_PX_AT_64`` pixels (scaled to ``S``), float32."""
    grow = max(1, round(GROW_PX_AT_64 * binary.shape[-1] / 64))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1))
    return np.stack([cv2.dilate(m.astype(np.uint8), kernel) for m in binary]).astype(np.float32)

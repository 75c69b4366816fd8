"""A cheap mask-quality figure for the run log: FurryGAN's alpha against a face parser.

The FurryGAN paper scores generated masks against pseudo ground truth that a separate
network reads from the generated images (TRACER there). Here the reader is the frozen
face parser of the bundled mask-guided model, trained on the synthetic portraits' exact
labels: everything it labels neither background nor "other" is the person. (On 200
held-out portraits it reads the person at IoU 0.90 against their true alpha.) Samples come
from fixed seeds, so the figure never touches the trainer's random state.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

PROBE_SEED = 20_000  # seeds PROBE_SEED, PROBE_SEED + 1, ...; apart from the FD probe's


def mask_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-image IoU of binary masks ``(N, H, W)`` (1 where both are empty)."""
    inter = (a * b).sum((1, 2))
    union = torch.clamp(a + b, 0, 1).sum((1, 2))
    return torch.where(union > 0, inter / union.clamp(min=1), torch.ones_like(union))


class MaskProbe:
    """IoU of a FurryGAN's thresholded alpha with the parser's person on ``n`` samples."""

    def __init__(self, n: int, parser_file: str | Path | None = None) -> None:
        from latent_atelier.models.mask_guided.io import load_parser

        self.parser, self.size = load_parser(parser_file)
        self.n = int(n)

    @torch.no_grad()
    def person(self, images: torch.Tensor) -> torch.Tensor:
        """``(N, S, S)`` person masks the parser reads from ``(N, 3, S, S)`` images in [-1, 1]."""
        from latent_atelier.models.mask_guided.classes import BACKGROUND_CLASSES

        labels = self.parser(images.float()).argmax(1)
        return (~torch.isin(labels, torch.tensor(BACKGROUND_CLASSES))).float()

    @torch.no_grad()
    def measure(self, gen: Any, batch: int = 25) -> dict[str, float]:
        """fg/bg IoU, mIoU and the two areas, over ``n`` samples (truncation 1, alpha at 0.5)."""
        from latent_atelier.models.generator import Latent

        alphas, persons = [], []
        for lo in range(0, self.n, batch):
            lats = Latent.cat([gen.random_latent(PROBE_SEED + i) for i in range(lo, min(self.n, lo + batch))])
            out = gen.synthesize(lats, return_alpha=True)
            image, alpha = out.image.float().cpu(), out.alpha.float().cpu()
            if image.shape[-1] != self.size:
                image = F.interpolate(image, size=(self.size, self.size), mode="area")
                alpha = F.interpolate(alpha, size=(self.size, self.size), mode="area")
            alphas.append((alpha[:, 0] > 0.5).float())
            persons.append(self.person(image))
        a, p = torch.cat(alphas), torch.cat(persons)
        fg, bg = mask_iou(a, p).mean().item(), mask_iou(1 - a, 1 - p).mean().item()
        return {
            "mask_fg_iou_parser": fg,
            "mask_bg_iou_parser": bg,
            "mask_miou_parser": (fg + bg) / 2,
            "mask_area": a.mean().item(),
            "parser_person_area": p.mean().item(),
        }

    def person_iou_on_heldout(self, data: str | Path) -> float:
        """How well the parser reads the person: IoU against the true alpha of ``n`` held-out portraits."""
        from latent_atelier.models.training.synthetic.dataset import PortraitDataset

        ds = PortraitDataset(data, "eval")
        images, alpha, _labels = ds.batch(np.arange(min(self.n, len(ds))))
        x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 127.5 - 1
        a = torch.from_numpy(np.asarray(alpha, np.float32) / 255.0)
        a = a[..., 0] if a.ndim == 4 else a
        x = F.interpolate(x, size=(self.size, self.size), mode="area")
        a = F.interpolate(a[:, None], size=(self.size, self.size), mode="area")[:, 0]
        return mask_iou(self.person(x), (a > 0.5).float()).mean().item()

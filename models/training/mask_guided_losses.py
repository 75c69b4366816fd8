"""Losses of mask-guided training (seed thesis Sec. 3.2; the weights are in the config)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from latent_atelier.models.mask_guided.classes import LEFT_BROW, LEFT_EYE, MOUTH, NOSE, RIGHT_BROW, RIGHT_EYE

#: per-pixel weight of the global reconstruction loss: small parts count more
SMALL_PARTS = (LEFT_EYE, RIGHT_EYE, LEFT_BROW, RIGHT_BROW, NOSE, MOUTH)
SMALL_PART_WEIGHT = 4.0


def d_loss(real: list[list[Tensor]], fake: list[list[Tensor]]) -> Tensor:
    """Eq. 3.3 with the logistic (sigmoid cross-entropy) form, averaged over the scales."""
    terms = [F.softplus(-r[-1]).mean() + F.softplus(f[-1]).mean() for r, f in zip(real, fake)]
    return sum(terms) / len(terms)


def g_adv_loss(fake: list[list[Tensor]]) -> Tensor:
    """Eq. 3.4, non-saturating, averaged over the scales."""
    return sum(F.softplus(-f[-1]).mean() for f in fake) / len(fake)


def feature_matching(real: list[list[Tensor]], fake: list[list[Tensor]]) -> Tensor:
    """Eq. 3.5 as L1 over the intermediate layers of every scale (pix2pixHD)."""
    terms = [F.l1_loss(f, r.detach()) for rs, fs in zip(real, fake) for r, f in zip(rs[:-1], fs[:-1])]
    return sum(terms) / len(terms)


def region_weights(labels: Tensor) -> Tensor:
    """``N x 1 x H x W``: 1, or SMALL_PART_WEIGHT on eyes, brows, nose and mouth."""
    w = torch.ones_like(labels, dtype=torch.float32)
    for c in SMALL_PARTS:
        w = torch.where(labels == c, torch.full_like(w, SMALL_PART_WEIGHT), w)
    return w.unsqueeze(1)


def global_loss(output: Tensor, target: Tensor, labels: Tensor) -> Tensor:
    """Eq. 3.2 as region-weighted L1 (L1 converges faster than L2 in short runs)."""
    w = region_weights(labels)
    return ((output - target).abs() * w).sum() / (w.sum() * output.shape[1])


def local_loss(recs: dict[str, Tensor], crops: dict[str, Tensor]) -> Tensor:
    """Eq. 3.1: half the mean squared error of every component's reconstruction."""
    return sum(0.5 * F.mse_loss(recs[k], crops[k]) for k in recs) / len(recs)


def parsing_loss(logits: Tensor, labels: Tensor) -> Tensor:
    """Eq. 3.8: cross-entropy of the frozen parser's reading against the target map."""
    return F.cross_entropy(logits, labels.long())

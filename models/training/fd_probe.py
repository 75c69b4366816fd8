"""A cheap Frechet distance for the run log: EMA samples vs held-out images on VGG-16.

Features are global-average-pooled VGG-16 ``conv5_3`` activations (as the full evaluation
``benchmarks/bench_furrygan_eval`` uses). The held-out features are computed once per
process; samples come from fixed seeds, so the figure never touches the trainer's random
state (a resumed run stays bit-identical).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

FD_LAYER = "conv5_3"


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Frechet distance between Gaussians fitted to feature sets ``a`` and ``b`` (N x C).

    ``tr sqrt(C_a C_b)`` is computed as ``tr sqrt(C_a^1/2 C_b C_a^1/2)`` (symmetric, so
    exact also when N < C leaves the covariances singular).
    """
    from scipy import linalg

    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
        raise ValueError(f"need two (N >= 2, C) feature sets of one width, got {a.shape} and {b.shape}")
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    vals, vecs = linalg.eigh(cov_a)
    root_a = (vecs * np.sqrt(np.clip(vals, 0.0, None))) @ vecs.T
    middle = linalg.eigvalsh(root_a @ cov_b @ root_a)
    trace_root = float(np.sqrt(np.clip(middle, 0.0, None)).sum())
    diff = float(((a.mean(0) - b.mean(0)) ** 2).sum())
    return diff + float(np.trace(cov_a) + np.trace(cov_b)) - 2.0 * trace_root


def vgg_features(images: torch.Tensor, device: torch.device, batch: int = 50) -> np.ndarray:
    """Pooled ``conv5_3`` features ``(N, 512)`` of ``(N, 3, H, W)`` images in [-1, 1]."""
    from latent_atelier.models.perceptual import get_vgg

    vgg = get_vgg(device)
    out = []
    with torch.no_grad():
        for lo in range(0, len(images), batch):
            x = images[lo : lo + batch].to(device, torch.float32)
            out.append(vgg(x, layers=(FD_LAYER,))[FD_LAYER].mean(dim=(2, 3)).double().cpu().numpy())
    return np.concatenate(out)


def heldout_images(data: str | Path, size: int, n: int) -> torch.Tensor:
    """The first ``n`` held-out (``eval`` split) images, area-resized to ``size``, in [-1, 1]."""
    from latent_atelier.models.training.synthetic.dataset import PortraitDataset

    ds = PortraitDataset(data, "eval")
    n = min(n, len(ds))
    images = torch.from_numpy(ds.batch(np.arange(n))[0]).permute(0, 3, 1, 2).float() / 127.5 - 1
    if images.shape[-1] != size:
        images = F.interpolate(images, size=(size, size), mode="area")
    return images


def generated_images(gen: Any, n: int, seed: int = 10_000, batch: int = 25) -> torch.Tensor:
    """``n`` samples (truncation 1) of ``gen`` from seeds ``seed, seed + 1, ...``."""
    from latent_atelier.models.generator import Latent

    out = []
    with torch.no_grad():
        for lo in range(0, n, batch):
            lats = [gen.random_latent(seed + i) for i in range(lo, min(n, lo + batch))]
            out.append(gen.synthesize(Latent.cat(lats)).image.float().cpu())
    return torch.cat(out)


class FdProbe:
    """FD of a generator's samples against ``n`` held-out portraits (a portrait data set)."""

    def __init__(self, data: str | Path, size: int, n: int, device: torch.device) -> None:
        self.n, self.device = n, device
        self.reference = vgg_features(heldout_images(data, size, n), device)

    def measure(self, gen: torch.nn.Module) -> float:
        """The Frechet distance of ``len(reference)`` samples of ``gen``."""
        fake = generated_images(gen, len(self.reference))
        return frechet_distance(vgg_features(fake, self.device), self.reference)

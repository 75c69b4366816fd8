"""Sample grids of a generator at fixed seeds (PNG), for watching a training run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn


def _to_uint8(x: torch.Tensor) -> np.ndarray:
    """``(B, C, H, W)`` in [-1, 1] -> ``(B, H, W, 3)`` uint8."""
    x = x.detach().float().cpu().clamp(-1, 1)
    if x.shape[1] == 1:
        x = x.repeat(1, 3, 1, 1)
    return ((x + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()


@torch.no_grad()
def sample_rows(gen: nn.Module, n: int, seed: int) -> list[torch.Tensor]:
    """Rows of ``n`` images in [-1, 1]: the images; for FurryGAN also alpha, fg and bg."""
    was_training = gen.training
    gen.eval()
    latent = gen.random_latent(seed, batch=n)
    out = gen.synthesize(latent, return_alpha=True)
    gen.train(was_training)
    rows = [out.image]
    if out.alpha is not None:
        rows += [out.alpha * 2 - 1, out.fg, out.bg]
    return rows


def save_sample_grid(gen: nn.Module, path: Path, n: int = 8, seed: int = 0) -> Path:
    """Write a grid (one row per kind of output, ``n`` columns) as PNG at ``path``."""
    from PIL import Image

    rows = [_to_uint8(r) for r in sample_rows(gen, n, seed)]
    grid = np.concatenate([np.concatenate(list(r), axis=1) for r in rows], axis=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(grid).save(path)
    return path

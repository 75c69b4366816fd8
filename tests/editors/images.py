"""Images the editor tests make and compare: a generated "photo" and a weighted PSNR."""

from __future__ import annotations

import numpy as np
import torch

from latent_atelier.editors.inversion.embed_core import to_numpy_image


def generated_photo(gen, seed: int = 1, truncation: float = 0.7) -> np.ndarray:
    """The generator's image of its seeded random latent (H x W x 3 in [0, 1])."""
    with torch.no_grad():
        return to_numpy_image(gen.synthesize(gen.random_latent(seed, truncation=truncation)).image)


def weighted_psnr(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> float:
    """PSNR (dB, [0, 1] images) with each pixel's error weighted by ``w`` (H x W)."""
    mse = float(((a - b) ** 2 * w[..., None]).sum() / (3 * w.sum()))
    return 10 * np.log10(1.0 / max(mse, 1e-12))

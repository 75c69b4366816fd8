"""Steps the Image2StyleGAN++ applications share, so each operation reads as its own recipe."""

from __future__ import annotations

import numpy as np
import torch

from latent_atelier.editors.inversion.embed import W_l, initial_latent
from latent_atelier.editors.inversion.embed_core import EmbeddingLoss, Targets
from latent_atelier.editors.operation import OperationError, Progress
from latent_atelier.models.generator import Generator, Latent


def embed_first(
    gen: Generator, x: torch.Tensor, *, steps: int, seed: int, progress: Progress, lr: float = 0.01
) -> Latent:
    """w*: the photo ``x`` embedded in W+ from the mean latent and seeded noise (the paper's
    "embed the target image first"), before the application's own phases."""
    return W_l(gen, initial_latent(gen, "mean", seed), x, steps=steps, lr=lr, progress=progress)


def composite(photo: np.ndarray, generated: np.ndarray, blend: np.ndarray) -> np.ndarray:
    """The photo outside ``blend`` (S x S in [0, 1]), the generator's image inside it."""
    a = blend[..., None]
    return (photo * (1.0 - a) + generated * a).astype(np.float32)


def require_painted(mask: np.ndarray, message: str, *, not_all: bool = False) -> None:
    """Raise ``message`` when ``mask`` (model resolution) covers none of the region, or, with
    ``not_all``, all of it."""
    inside = mask > 0.5
    if not inside.any() or (not_all and bool(inside.all())):
        raise OperationError(message)


class SummedLoss:
    """Eq. 1 losses added per item (a :class:`Loss`); progress reports the PSNR against ``t``."""

    def __init__(self, *losses: EmbeddingLoss, t: Targets) -> None:
        self.losses = losses
        self.t = t

    def __call__(self, img: torch.Tensor) -> torch.Tensor:
        """Per-item loss ``(B,)``."""
        total = self.losses[0](img)
        for loss in self.losses[1:]:
            total = total + loss(img)
        return total

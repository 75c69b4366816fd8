"""Image-level and patch-level realness for few-shot adaptation (Ojha et al., CVPR 2021).

One StyleGAN2 residual discriminator; its final layers give the image-level logit, and a
1x1 convolution on an intermediate feature map gives one logit per patch. With ten training
images an image-level discriminator memorises them, so only a small "anchor" region of
latent space is judged whole; every other sample is only asked to look right patch by patch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import nn

from latent_atelier.models.discriminator import Discriminator
from latent_atelier.models.layers import ConvLayer

IMAGE_LEVEL = 0  # the ``level`` that asks for the image-level logit


class PatchDiscriminator(nn.Module):
    """``forward(x, level)``: ``(B, 1)`` image logits (level 0) or ``(B, h*w)`` patch logits
    at resolution ``level`` (one of ``patch_resolutions``)."""

    def __init__(
        self,
        size: int,
        channels: Mapping[int | str, int] | None = None,
        patch_resolutions: Sequence[int] = (16, 8),
    ) -> None:
        super().__init__()
        self.backbone = Discriminator(size, channels=channels)
        bad = [r for r in patch_resolutions if r not in self.backbone.channels or r >= size]
        if bad or not patch_resolutions:
            raise ValueError(
                f"patch resolutions {list(patch_resolutions)} must be feature sizes below {size}"
            )
        self.patch_resolutions = tuple(int(r) for r in patch_resolutions)
        self.patch_heads = nn.ModuleDict(
            {
                str(r): ConvLayer(self.backbone.channels[r], 1, 1, activate=False)
                for r in self.patch_resolutions
            }
        )

    def forward(self, x: torch.Tensor, level: int = IMAGE_LEVEL) -> torch.Tensor:
        """Logits of ``x`` ``(B, 3, size, size)`` in [-1, 1] at ``level``."""
        if level == IMAGE_LEVEL:
            return self.backbone(x)
        if level not in self.patch_resolutions:
            raise ValueError(f"level {level}: choose 0 (image) or one of {self.patch_resolutions}")
        out = x
        for layer in self.backbone.convs:  # stop at the patch resolution
            out = layer(out)
            if out.shape[-1] == level:
                return self.patch_heads[str(level)](out).flatten(1)
        raise RuntimeError(f"the backbone never reached {level} x {level}")  # pragma: no cover

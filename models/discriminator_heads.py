"""FurryGAN's auxiliary discriminator head: predict the 16x16 mask of a generated image.

The head reads the StyleGAN2 discriminator's 16x16 feature map (a 1x1 residual block to
32 channels, ReLU, channel mean, per-sample min-max normalisation), as the FurryGAN paper's
mask predictor does. :class:`MaskPredictingDiscriminator` bundles the backbone and the head.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from latent_atelier.models.discriminator import Discriminator, minibatch_stddev
from latent_atelier.models.layers import ConvLayer, minmax_normalise

MASK_RESOLUTION = 16
MASK_HEAD_CHANNELS = 32


class MaskPredictorHead(nn.Module):
    """``(B, C, 16, 16)`` features -> ``(B, 1, 16, 16)`` mask in [0, 1] (min-max normalised)."""

    def __init__(self, in_channels: int, hidden: int = MASK_HEAD_CHANNELS) -> None:
        super().__init__()
        self.conv1 = ConvLayer(in_channels, in_channels, 1)
        self.conv2 = ConvLayer(in_channels, hidden, 1)
        self.skip = ConvLayer(in_channels, hidden, 1, activate=False, bias=False)

    def forward(self, feat: torch.Tensor) -> torch.Tensor:
        out = (self.conv2(self.conv1(feat)) + self.skip(feat)) / math.sqrt(2.0)
        return minmax_normalise(F.relu(out).mean(dim=1, keepdim=True).float())


class MaskPredictingDiscriminator(nn.Module):
    """StyleGAN2 discriminator (``backbone``) plus the 16x16 mask predictor (``mask_head``)."""

    def __init__(self, backbone: Discriminator) -> None:
        super().__init__()
        if backbone.size < MASK_RESOLUTION:
            raise ValueError(f"the mask predictor needs images of at least {MASK_RESOLUTION} px")
        self.backbone = backbone
        self.mask_head = MaskPredictorHead(backbone.channels[MASK_RESOLUTION])

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Realness logits ``(B, 1)`` and the predicted mask ``(B, 1, 16, 16)``."""
        out, mask = x, None
        for layer in self.backbone.convs:
            out = layer(out)
            if out.shape[-1] == MASK_RESOLUTION:
                mask = self.mask_head(out)
        out = minibatch_stddev(out, self.backbone.stddev_group, self.backbone.stddev_feat)
        out = self.backbone.final_conv(out)
        return self.backbone.final_linear(out.flatten(1)), mask

    def predict_mask(self, x: torch.Tensor) -> torch.Tensor:
        """Only the predicted mask (stops the backbone at 16x16)."""
        out = x
        for layer in self.backbone.convs:
            out = layer(out)
            if out.shape[-1] == MASK_RESOLUTION:
                return self.mask_head(out)
        raise RuntimeError("the backbone never reached 16x16")  # pragma: no cover

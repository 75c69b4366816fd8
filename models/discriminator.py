"""StyleGAN2 residual discriminator with rosinality's key names.

Keys: ``convs.0.*`` (1x1 from RGB), ``convs.N.conv1/conv2/skip.*`` (ResBlocks halving the
resolution down to 4x4), ``final_conv.*``, ``final_linear.0/1.*``. So rosinality ``"d"``
weights load with ``strict=True``.

:meth:`Discriminator.forward_features` also returns the feature map at every resolution,
so a head (e.g. FurryGAN's 16x16 mask predictor) can read ``features[16]``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch
from torch import nn

from latent_atelier.models.generator_parts import resolutions, width_table
from latent_atelier.models.layers import ConvLayer, EqualLinear, ResBlock


def minibatch_stddev(x: torch.Tensor, group_size: int = 4, n_feat: int = 1) -> torch.Tensor:
    """Append the std-dev over groups of samples as ``n_feat`` extra channels.

    The group is the largest divisor of the batch not above ``group_size``, so any batch
    size works.
    """
    b, c, h, w = x.shape
    group = max(g for g in range(1, min(group_size, b) + 1) if b % g == 0)
    y = x.view(group, -1, n_feat, c // n_feat, h, w)
    y = torch.sqrt(y.var(0, unbiased=False) + 1e-8)
    y = y.mean((2, 3, 4), keepdim=True).squeeze(2)  # (b/group, n_feat, 1, 1)
    y = y.repeat(group, 1, h, w)
    return torch.cat([x, y], 1)


class Discriminator(nn.Module):
    """rosinality-layout StyleGAN2 discriminator for ``size`` x ``size`` RGB images."""

    def __init__(
        self,
        size: int,
        channel_multiplier: int = 2,
        channels: Mapping[int | str, int] | None = None,
    ) -> None:
        super().__init__()
        table, _ = width_table(size, channel_multiplier, channels)
        self.size = size
        self.channels = {r: table[r] for r in resolutions(size)}
        convs: list[nn.Module] = [ConvLayer(3, table[size], 1)]
        in_ch = table[size]
        for i in range(int(math.log2(size)), 2, -1):
            out_ch = table[2 ** (i - 1)]
            convs.append(ResBlock(in_ch, out_ch))
            in_ch = out_ch
        self.convs = nn.Sequential(*convs)
        self.stddev_group = 4
        self.stddev_feat = 1
        self.final_conv = ConvLayer(in_ch + 1, table[4], 3)
        self.final_linear = nn.Sequential(
            EqualLinear(table[4] * 4 * 4, table[4], activation="fused_lrelu"),
            EqualLinear(table[4], 1),
        )

    def forward_features(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[int, torch.Tensor]]:
        """Logits ``(B, 1)`` and ``{resolution: features}`` for every resolution
        (``size`` down to 4, the 4x4 entry before the std-dev channel)."""
        features: dict[int, torch.Tensor] = {}
        out = x
        for layer in self.convs:
            out = layer(out)
            features[out.shape[-1]] = out
        out = minibatch_stddev(out, self.stddev_group, self.stddev_feat)
        out = self.final_conv(out)
        return self.final_linear(out.flatten(1)), features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Realness logits ``(B, 1)`` for images ``(B, 3, size, size)`` in [-1, 1]."""
        return self.forward_features(x)[0]

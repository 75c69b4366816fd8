"""What the StyleGAN2-family networks build alike: the width table, the mapping MLP, the
per-layer counts and the fixed noise buffers (rosinality's layout, which FurryGAN keeps)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import nn

from latent_atelier.models.layers import EqualLinear, PixelNorm


def default_channels(channel_multiplier: int = 2) -> dict[int, int]:
    """rosinality's width table: feature channels per resolution."""
    cm = channel_multiplier
    return {
        4: 512,
        8: 512,
        16: 512,
        32: 512,
        64: 256 * cm,
        128: 128 * cm,
        256: 64 * cm,
        512: 32 * cm,
        1024: 16 * cm,
    }


def resolutions(size: int) -> list[int]:
    """Every resolution a generator of ``size`` works at: 4, 8, ..., size."""
    return [2**i for i in range(2, int(math.log2(size)) + 1)]


def width_table(
    size: int, channel_multiplier: int, channels: Mapping[int | str, int] | None
) -> tuple[dict[int, int], dict[int, int]]:
    """The widths a network of ``size`` px uses (the default table with ``channels``'
    entries over it) and the given entries alone; ValueError for a bad size or a gap."""
    if size < 8 or size & (size - 1):
        raise ValueError(f"size must be a power of two >= 8, got {size}")
    table = default_channels(channel_multiplier)
    given = {int(k): int(v) for k, v in (channels or {}).items()}
    table.update(given)
    missing = [r for r in resolutions(size) if r not in table]
    if missing:
        raise ValueError(f"no channel width for resolutions {missing}; add them to channels")
    return table, given


def mapping_network(dim: int, n_mlp: int, lr_mlp: float) -> nn.Sequential:
    """PixelNorm then ``n_mlp`` equalised linear layers (leaky ReLU): ``z`` -> ``w``."""
    layers = [EqualLinear(dim, dim, lr_mul=lr_mlp, activation="fused_lrelu") for _ in range(n_mlp)]
    return nn.Sequential(PixelNorm(), *layers)


@dataclass(frozen=True)
class LayerCounts:
    """How many of each a generator of one size has."""

    log_size: int  # log2(size)
    num_layers: int  # styled convolutions, each with its noise map
    n_latent: int  # W+ rows

    @staticmethod
    def of(size: int) -> LayerCounts:
        """The counts of a ``size`` px generator."""
        log_size = int(math.log2(size))
        return LayerCounts(log_size, (log_size - 2) * 2 + 1, log_size * 2 - 2)


def noise_buffers(num_layers: int) -> tuple[nn.Module, list[tuple[int, int]]]:
    """A module holding the fixed maps ``noise_0 ... noise_{n-1}`` (two per resolution
    after the first) and their sizes."""
    noises = nn.Module()
    shapes: list[tuple[int, int]] = []
    for i in range(num_layers):
        res = 2 ** ((i + 5) // 2)
        shapes.append((res, res))
        noises.register_buffer(f"noise_{i}", torch.randn(1, 1, res, res))
    return noises, shapes


def stored_noise(noises: nn.Module, num_layers: int, batch: int) -> list[torch.Tensor]:
    """The fixed maps of :func:`noise_buffers`, repeated over ``batch``."""
    return [getattr(noises, f"noise_{i}").repeat(batch, 1, 1, 1) for i in range(num_layers)]

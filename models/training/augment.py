"""Differentiable augmentation for small datasets (DiffAugment: colour, translation, cutout).

The same augmentation must reach real and fake images alike, and masks must follow their
images' geometry: :func:`sample_params` draws one set of parameters for a batch and
:func:`apply` applies it to images (colour + geometry) or masks (geometry only).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

POLICIES = ("color", "translation", "cutout")


@dataclass
class AugmentParams:
    """One batch's draws; tensors are per-sample."""

    brightness: torch.Tensor | None = None  # (B,)
    saturation: torch.Tensor | None = None
    contrast: torch.Tensor | None = None
    shift: torch.Tensor | None = None  # (B, 2) integer pixels at the image size (dy, dx)
    cutout: torch.Tensor | None = None  # (B, 2) top-left corner fractions in [0, 1)
    cutout_ratio: float = 0.5
    size: int = 0


def parse_policy(policy: str) -> tuple[str, ...]:
    """``"color,translation,cutout"`` -> a tuple of known parts ("" or "none": none)."""
    parts = tuple(p.strip() for p in policy.split(",") if p.strip() and p.strip() != "none")
    unknown = [p for p in parts if p not in POLICIES]
    if unknown:
        raise ValueError(f"unknown augmentation(s) {unknown}; choose from {POLICIES}")
    return parts


def sample_params(
    policy: tuple[str, ...],
    batch: int,
    size: int,
    gen: torch.Generator,
    translation_ratio: float = 0.125,
    cutout_ratio: float = 0.5,
) -> AugmentParams:
    """Draw augmentation parameters for ``batch`` images of ``size`` px from ``gen``."""
    p = AugmentParams(cutout_ratio=cutout_ratio, size=size)
    if "color" in policy:
        p.brightness = torch.rand(batch, generator=gen) - 0.5
        p.saturation = torch.rand(batch, generator=gen) * 2
        p.contrast = torch.rand(batch, generator=gen) + 0.5
    if "translation" in policy:
        t = int(size * translation_ratio + 0.5)
        p.shift = torch.randint(-t, t + 1, (batch, 2), generator=gen)
    if "cutout" in policy:
        p.cutout = torch.rand(batch, 2, generator=gen)
    return p


def _translate(x: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    b, _, h, w = x.shape
    pad = int(shift.abs().max().item()) if shift.numel() else 0
    if pad == 0:
        return x
    xp = F.pad(x, [pad, pad, pad, pad])
    shift = shift.to(x.device)
    iy = torch.arange(h, device=x.device).view(1, h) + pad - shift[:, :1]
    ix = torch.arange(w, device=x.device).view(1, w) + pad - shift[:, 1:]
    bi = torch.arange(b, device=x.device).view(b, 1, 1)
    return xp[bi, :, iy.view(b, h, 1), ix.view(b, 1, w)].permute(0, 3, 1, 2)


def _cutout(x: torch.Tensor, corner: torch.Tensor, ratio: float) -> torch.Tensor:
    b, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    corner = corner.to(x.device)
    y0 = (corner[:, 0] * (h - ch + 1)).long().view(b, 1, 1)
    x0 = (corner[:, 1] * (w - cw + 1)).long().view(b, 1, 1)
    yy = torch.arange(h, device=x.device).view(1, h, 1)
    xx = torch.arange(w, device=x.device).view(1, 1, w)
    hole = (yy >= y0) & (yy < y0 + ch) & (xx >= x0) & (xx < x0 + cw)
    return x * (~hole).unsqueeze(1).to(x.dtype)


def apply(x: torch.Tensor, p: AugmentParams, photometric: bool = True) -> torch.Tensor:
    """Augment ``x`` ``(B, C, H, W)``; masks pass ``photometric=False`` (geometry only).

    Shifts scale with ``x``'s size, so a 16x16 mask follows its full-size image.
    """
    b = x.shape[0]
    if photometric and p.brightness is not None:
        x = x + p.brightness.to(x.device, x.dtype).view(b, 1, 1, 1)
        mean = x.mean(dim=1, keepdim=True)
        x = (x - mean) * p.saturation.to(x.device, x.dtype).view(b, 1, 1, 1) + mean
        mean = x.mean(dim=(1, 2, 3), keepdim=True)
        x = (x - mean) * p.contrast.to(x.device, x.dtype).view(b, 1, 1, 1) + mean
    if p.shift is not None:
        scale = x.shape[-1] / p.size if p.size else 1.0
        x = _translate(x, torch.round(p.shift * scale).long())
    if p.cutout is not None:
        x = _cutout(x, p.cutout, p.cutout_ratio)
    return x

"""FurryGAN's mask losses and schedules, as the paper (and its official code) define them.

- coarse mask: binarisation min(m, 1-m) with a weight decaying 5 -> 0.5 over the first
  ``decay`` iterations, plus area ``relu(phi1 - mean(m))`` (phi1 = 0.35), lambda_coarse = 5;
- fine mask (the part the fine head adds, ``clip(alpha - coarse, 0, 1)``): inverse area
  ``relu(mean(m) - phi2)`` (phi2 = 0.01), lambda_fine = 5;
- mask prediction (discriminator): its 16x16 prediction on composites and on foregrounds
  matches the (downsampled) mask;
- mask consistency (generator): D's prediction on the composite matches its prediction on
  the stop-gradient foreground;
- background participation: ||sg(fg)*m + sg(bg)*(1-m) - bg||^2.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class MaskLossWeights:
    """The paper's constants; schedule lengths are iterations."""

    phi1: float = 0.35
    phi2: float = 0.01
    lambda_coarse: float = 5.0
    lambda_fine: float = 5.0
    binarization_start: float = 5.0
    binarization_end: float = 0.5
    binarization_decay: int = 5000
    fine_fade_in: int = 5000


def binarization_weight(step: int, w: MaskLossWeights) -> float:
    """Linear decay from ``binarization_start`` to ``binarization_end`` over the decay length."""
    if w.binarization_decay <= 0:
        return w.binarization_end
    t = min(max(step, 0) / w.binarization_decay, 1.0)
    return w.binarization_start + (w.binarization_end - w.binarization_start) * t


def fine_mask_gamma(step: int, w: MaskLossWeights) -> float:
    """Fine-mask weight gamma: 0 -> 1 linearly over ``fine_fade_in`` iterations."""
    if w.fine_fade_in <= 0:
        return 1.0
    return min(max(step, 0) / w.fine_fade_in, 1.0)


def coarse_mask_loss(coarse: torch.Tensor, step: int, w: MaskLossWeights) -> torch.Tensor:
    """Binarisation (scheduled weight) + lambda_coarse * area hinge at phi1."""
    coarse = coarse.float()
    binary = torch.minimum(coarse, 1 - coarse).mean()
    area = F.relu(w.phi1 - coarse.mean(dim=(-2, -1))).mean()
    return binarization_weight(step, w) * binary + w.lambda_coarse * area


def fine_mask_loss(alpha: torch.Tensor, coarse: torch.Tensor, w: MaskLossWeights) -> torch.Tensor:
    """lambda_fine * relu(mean(fine part) - phi2), fine part = clip(alpha - coarse, 0, 1)."""
    fine = torch.clamp(alpha.float() - coarse.float(), 0, 1)
    return w.lambda_fine * F.relu(fine.mean(dim=(-2, -1)) - w.phi2).mean()


def mask_prediction_loss(
    alpha16: torch.Tensor, pred_composite: torch.Tensor, pred_fg: torch.Tensor
) -> torch.Tensor:
    """Discriminator's loss: 0.5 * MSE(pred on composite) + 0.5 * MSE(pred on fg)."""
    target = alpha16.float()
    return 0.5 * F.mse_loss(pred_composite.float(), target) + 0.5 * F.mse_loss(pred_fg.float(), target)


def mask_consistency_loss(pred_composite: torch.Tensor, pred_fg_stopgrad: torch.Tensor) -> torch.Tensor:
    """Generator's loss: D's mask on the composite follows D's mask on sg(fg)."""
    return F.mse_loss(pred_fg_stopgrad.float(), pred_composite.float())


def background_participation_loss(
    fg: torch.Tensor, bg: torch.Tensor, alpha: torch.Tensor, mask_only: bool = False
) -> torch.Tensor:
    """||sg(fg)*m + sg(bg)*(1-m) - bg||^2 (mean): keeps the background generator in use.

    With ``mask_only`` the last ``bg`` is detached too, so only the mask learns from it (the
    paper's stated intent: drop foreground the composite does not need) and the background
    generator is not pulled toward the composite."""
    comp = fg.detach().float() * alpha.float() + bg.detach().float() * (1 - alpha.float())
    target = bg.detach() if mask_only else bg
    return F.mse_loss(comp, target.float())


def downsample_mask(alpha: torch.Tensor, size: int = 16) -> torch.Tensor:
    """Bilinear resize of ``(B, 1, H, W)`` masks to ``size`` x ``size``."""
    return F.interpolate(alpha.float(), size=(size, size), mode="bilinear", align_corners=False)


def center_prior_weight(step: int, start: float, iters: int) -> float:
    """Linear decay of the optional centre-prior weight from ``start`` to 0 over ``iters``."""
    if start <= 0 or iters <= 0 or step >= iters:
        return 0.0
    return start * (1.0 - step / iters)


def center_prior_loss(coarse: torch.Tensor, margin: float = 0.5, core: bool = True) -> torch.Tensor:
    """Hinge asking the coarse mask to be higher in the centre than along the border.

    Not part of FurryGAN: an optional warm-up (``TrainConfig.center_prior``) that breaks the
    fg/bg symmetry early on short CPU runs, where the unsupervised split otherwise often
    settles inverted (the mask covering the scene, the subject drawn by the bg branch). Two
    regions must each beat the border by ``margin``: the central half of the frame, and its
    central quarter (the face of a portrait), so a ring-shaped mask whose hole the background
    branch fills with skin is penalised too (``core=False`` leaves that term out).
    """
    h, w = coarse.shape[-2:]
    b = max(1, h // 8)
    border = (
        torch.cat(
            [
                coarse[..., :b, :].flatten(1),
                coarse[..., -b:, :].flatten(1),
                coarse[..., b:-b, :b].flatten(1),
                coarse[..., b:-b, -b:].flatten(1),
            ],
            dim=1,
        )
        .float()
        .mean(1)
    )
    centre = coarse[..., h // 4 : 3 * h // 4, w // 4 : 3 * w // 4].float().flatten(1).mean(1)
    loss = F.relu(border - centre + margin)
    if core:
        inner = coarse[..., 3 * h // 8 : 5 * h // 8, 3 * w // 8 : 5 * w // 8].float().flatten(1).mean(1)
        loss = loss + F.relu(border - inner + margin)
    return loss.mean()

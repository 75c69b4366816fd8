"""StyleGAN2 losses: non-saturating logistic GAN loss, the R1 gradient penalty and path lengths."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def d_logistic_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """softplus(-D(real)) + softplus(D(fake)), batch means."""
    return F.softplus(-real_logits.float()).mean() + F.softplus(fake_logits.float()).mean()


def g_nonsaturating_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """softplus(-D(fake)), the batch mean."""
    return F.softplus(-fake_logits.float()).mean()


def r1_penalty(real_logits: torch.Tensor, real_images: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of ||grad_x D(x)||^2 at real images (graph kept for backward)."""
    (grad,) = torch.autograd.grad(real_logits.float().sum(), real_images, create_graph=True)
    return grad.float().pow(2).flatten(1).sum(1).mean()


def path_lengths(images: torch.Tensor, styles: list[torch.Tensor], noise: torch.Tensor) -> torch.Tensor:
    """Per sample, the length of J^T y for the images' Jacobian J with respect to the W+
    rows (every group in ``styles``) and a random image-space ``y`` scaled by 1/sqrt(pixels):
    StyleGAN2's path length, averaged over the rows (graph kept for backward)."""
    y = noise / math.sqrt(images.shape[2] * images.shape[3])
    grads = torch.autograd.grad((images.float() * y).sum(), styles, create_graph=True)
    return torch.stack([g.float().pow(2).sum(2).mean(1) for g in grads]).sum(0).sqrt()

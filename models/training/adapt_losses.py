"""Losses of few-shot adaptation by cross-domain correspondence (Ojha et al., CVPR 2021).

- cross-domain distance consistency: for a batch of latents, each sample's softmax over its
  cosine similarities to the other samples (at every synthesis layer) must stay what it is
  in the frozen source generator; KL(source || adapted), weight about 1000;
- a mask-meaning term for FurryGAN: the adapted generator's alpha follows the source's, so
  a latent's matte (and the mask heads, which are frozen) keeps its meaning;
- the GAN terms are the trainer's (``losses.d_logistic_loss`` etc.), on image-level logits
  for anchor latents and on patch logits otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F


def similarity_logits(feats: torch.Tensor) -> torch.Tensor:
    """``(B, ...)`` features -> ``(B, B-1)``: cosine similarity of each item to every other."""
    b = feats.shape[0]
    if b < 3:
        raise ValueError("distance consistency needs a batch of at least 3 latents")
    flat = F.normalize(feats.float().flatten(1), dim=1)
    sim = flat @ flat.t()
    off_diagonal = ~torch.eye(b, dtype=torch.bool, device=sim.device)
    return sim[off_diagonal].view(b, b - 1)


def distance_consistency_loss(
    source: Mapping[str, torch.Tensor], adapted: Mapping[str, torch.Tensor]
) -> torch.Tensor:
    """Mean over layers of KL(softmax(source sims) || softmax(adapted sims)), elementwise mean
    (``nn.KLDivLoss``'s default, as in the authors' code)."""
    names = [n for n in source if n in adapted]
    if not names:
        raise ValueError("no common layers between the source and adapted features")
    total = torch.zeros((), device=next(iter(adapted.values())).device)
    for name in names:
        p_source = F.softmax(similarity_logits(source[name].detach()), dim=1)
        log_q = F.log_softmax(similarity_logits(adapted[name]), dim=1)
        kl = p_source * (torch.log(p_source.clamp_min(1e-12)) - log_q)
        total = total + kl.mean()
    return total / len(names)


def mask_meaning_loss(alpha_adapted: torch.Tensor, alpha_source: torch.Tensor) -> torch.Tensor:
    """MSE between the adapted and the (frozen) source generator's alpha for the same latents."""
    return F.mse_loss(alpha_adapted.float(), alpha_source.detach().float())


def patch_logistic_d_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """softplus(-D(real)) + softplus(D(fake)) averaged over patches (or over the batch for
    image-level ``(B, 1)`` logits)."""
    return F.softplus(-real.float()).mean() + F.softplus(fake.float()).mean()


def patch_nonsaturating_g_loss(fake: torch.Tensor) -> torch.Tensor:
    """softplus(-D(fake)), averaged over patches and batch."""
    return F.softplus(-fake.float()).mean()

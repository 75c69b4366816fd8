"""The Dual-Domain Synthesis optimisation: one latent whose target-domain image carries the
source domain's part inside a mask and the target's image everywhere else.

Two variants (``DDSSettings.variant``):

- ``"paper"`` (Algorithm 1): both generators render the latent at every step;
  ``0.9 * L_s + 1 * L_t + 0.5 * L_c`` with ``L_s`` the masked perceptual + masked MSE of
  ``G_s`` against ``x_s`` inside ``y_s``, ``L_t`` the same of ``G_t`` against ``x_t``
  outside ``y_t``, and ``L_c`` the crossover term; VGG layers conv1_1, conv1_2, conv2_2,
  conv3_3;
- ``"code"`` (the authors' public code): only ``G_t`` renders; its image is compared with
  ``x_s`` inside ``y_s`` and with ``x_t`` outside ``y_t``; ``2 * perceptual + 1 * MSE +
  3 * crossover`` (the crossover MSE taken on the whole image); VGG relu1_1, relu1_2,
  relu3_2, relu4_2. (The code's inside terms use the target's own mask; here both variants
  use ``y_s`` inside, as the paper's Eq. 2.)

``part_weight`` multiplies the inside terms (``L_s`` for the paper, the two inside terms for
the code). Every term is a mean over the whole image, so a part covering a few percent of it
counts for little against the rest; a weight near the inverse of the part's area gives the
part's pixels the say of the rest's. 1 (the default) is the paper's and the code's balance.

And two spaces (``space``): ``"z"`` optimised from a random N(0, 1) start (the paper's),
``"w+"`` from the mean latent (the code's). ``start="latent"`` (W+ only; not in the paper or
the code) starts instead from the paired latent's own W+, so the search begins at the target
image and only has to bring the part in. ``lr_rampdown`` (0: a constant rate, the paper's) lets
the learning rate fall to 0 along a half cosine over that last fraction of the steps, as
StyleGAN2's projector does. Adam at 0.01; noise maps are the paired latent's
and are not optimised. The output is ``G_t`` of the final latent. Several latents run as one
batch: each item's loss is its own and Adam is element-wise, so a batch of B gives the same
results as B separate runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from latent_atelier.editors.dual_domain.losses import (
    CODE_LAYERS,
    PAPER_LAYERS,
    MaskedPerceptual,
    crossover_loss,
    masked_mse,
    naive_crossover,
)
from latent_atelier.editors.operation import Progress
from latent_atelier.models.generator import Latent, repeat_rows

VARIANTS = ("paper", "code")
SPACES = ("z", "w+")
#: where the search starts: the space's own start (random z, mean W+), or the paired latent
STARTS = ("default", "latent")
#: (alpha, beta, gamma) of Eq. 6 for the paper; (perceptual, MSE, crossover) for the code
PAPER_WEIGHTS = (0.9, 1.0, 0.5)
CODE_WEIGHTS = (2.0, 1.0, 3.0)


@dataclass(frozen=True)
class DDSSettings:
    """How to optimise (defaults: the paper's, except the step count, which the caller sets)."""

    variant: str = "paper"
    space: str = "z"
    steps: int = 1000
    lr: float = 0.01
    seed: int = 0
    mask_images: bool = False
    part_weight: float = 1.0
    start: str = "default"
    lr_rampdown: float = 0.0

    def __post_init__(self) -> None:
        for name, choices in (("variant", VARIANTS), ("space", SPACES), ("start", STARTS)):
            if getattr(self, name) not in choices:
                raise ValueError(f"{name} must be one of {choices}, got {getattr(self, name)!r}")
        if self.steps < 0:
            raise ValueError("steps must be >= 0")
        if not self.part_weight >= 0:
            raise ValueError(f"part_weight must be >= 0, got {self.part_weight!r}")
        if not 0.0 <= self.lr_rampdown <= 1.0:
            raise ValueError(
                f"lr_rampdown must be a fraction of the steps in [0, 1], got {self.lr_rampdown!r}"
            )
        if self.start == "latent" and self.space != "w+":
            raise ValueError("start='latent' needs space='w+' (a latent's z is not known in general)")

    @property
    def weights(self) -> tuple[float, float, float]:
        """The three loss weights of this variant."""
        return PAPER_WEIGHTS if self.variant == "paper" else CODE_WEIGHTS


@dataclass
class DDSInputs:
    """The paired images and part masks (``(B, 3, S, S)`` in [-1, 1], ``(B, 1, S, S)`` in [0, 1])
    and the latent they were drawn from (its noise maps are kept)."""

    x_s: torch.Tensor
    x_t: torch.Tensor
    y_s: torch.Tensor
    y_t: torch.Tensor
    latent: Latent

    @property
    def crossover(self) -> torch.Tensor:
        """The naive cut-and-paste image (Eq. 1)."""
        return naive_crossover(self.x_s, self.x_t, self.y_s, self.y_t)


@dataclass
class DDSOutcome:
    """The result image (``G_t`` of the optimised latent), that latent, and per-item metrics."""

    image: torch.Tensor
    latent: Latent
    z: torch.Tensor | None
    metrics: dict[str, np.ndarray]
    losses: list[float]


def paired_inputs(gen_s, gen_t, latent: Latent, y_s: torch.Tensor, y_t: torch.Tensor) -> DDSInputs:
    """``x_s = G_s(latent)``, ``x_t = G_t(latent)`` with the given part masks."""
    with torch.no_grad():
        x_s = gen_s.synthesize(latent).image
        x_t = gen_t.synthesize(latent).image
    return DDSInputs(x_s, x_t, y_s.to(x_s), y_t.to(x_s), latent)


def masked_psnr_items(x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """PSNR in dB (images in [-1, 1], so a range of 2) over the mask's pixels, per item."""
    se = ((x - y) * mask).square().sum(dim=(1, 2, 3))
    n = (mask.sum(dim=(1, 2, 3)) * x.shape[1]).clamp_min(1e-8)
    return 10 * torch.log10(4.0 / (se / n).clamp_min(1e-12))


class _Objective:
    """The chosen variant's loss as a function of the current latent's images."""

    def __init__(self, inputs: DDSInputs, settings: DDSSettings, vgg) -> None:
        layers = PAPER_LAYERS if settings.variant == "paper" else CODE_LAYERS
        self.lp = MaskedPerceptual(vgg, layers, mask_images=settings.mask_images)
        self.s = settings
        self.i = inputs
        self.inside, self.outside = inputs.y_s, 1.0 - inputs.y_t
        with torch.no_grad():
            self.f_s = self.lp.features(inputs.x_s, self.inside)
            self.f_t = self.lp.features(inputs.x_t, self.outside)
            self.x_c = inputs.crossover

    def __call__(self, img_s: torch.Tensor | None, img_t: torch.Tensor) -> torch.Tensor:
        """Per-item loss; ``img_s`` is None for the code variant."""
        i, a, b, c = self.i, *self.s.weights
        k = self.s.part_weight
        if self.s.variant == "paper":
            l_s = self.lp(img_s, self.f_s, self.inside) + masked_mse(img_s, i.x_s, self.inside)
            l_t = self.lp(img_t, self.f_t, self.outside) + masked_mse(img_t, i.x_t, self.outside)
            l_c = crossover_loss(img_s, img_t, self.x_c, i.y_s, i.y_t)
            return a * k * l_s + b * l_t + c * l_c
        perceptual = k * self.lp(img_t, self.f_s, self.inside) + self.lp(img_t, self.f_t, self.outside)
        mse = k * masked_mse(img_t, i.x_s, self.inside) + masked_mse(img_t, i.x_t, self.outside)
        return a * perceptual + b * mse + c * (img_t - self.x_c).square().mean(dim=(1, 2, 3))


def lr_factor(step: int, settings: DDSSettings) -> float:
    """The learning rate of ``step`` relative to ``settings.lr``: 1, then a half cosine down to 0
    over the last ``lr_rampdown`` of the steps."""
    ramp = settings.lr_rampdown * settings.steps
    left = settings.steps - step
    if ramp <= 0 or left >= ramp:
        return 1.0
    return 0.5 * (1.0 - math.cos(math.pi * max(left, 0) / ramp))


def _start(
    gen_t, settings: DDSSettings, latent: Latent, batch: int, device
) -> tuple[torch.Tensor | None, Latent | None]:
    if settings.space == "z":
        g = torch.Generator().manual_seed(int(settings.seed))
        return torch.randn(batch, gen_t.z_dim(), generator=g).to(device), None
    if settings.start == "latent":
        # a one-row latent for a batch (one photo, several parts) starts every item there
        w = {k: v.detach().expand(batch, -1, -1).clone().to(device) for k, v in latent.w.items()}
        return None, Latent(w, [])
    mean = gen_t.mean_latent()
    w = {k: v.detach().clone().repeat(batch, 1, 1).to(device) for k, v in mean.w.items()}
    return None, Latent(w, [])


def dual_domain_synthesis(
    gen_s, gen_t, inputs: DDSInputs, settings: DDSSettings, progress: Progress | None = None, vgg=None
) -> DDSOutcome:
    """Run the optimisation for every item of ``inputs``; see the module docstring."""
    from latent_atelier.editors.inversion.embed_core import search_synthesis
    from latent_atelier.models.perceptual import get_vgg

    progress = progress or Progress()
    device = inputs.x_t.device
    batch = inputs.x_t.shape[0]
    noise = [n.detach().to(device) for n in inputs.latent.noise]
    objective = _Objective(inputs, settings, vgg if vgg is not None else get_vgg(device))
    z, wplus = _start(gen_t, settings, inputs.latent, batch, device)
    params = [z] if z is not None else list(wplus.w.values())
    for p in params:
        p.requires_grad_(True)
    opt = torch.optim.Adam(params, lr=settings.lr)
    rate = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: lr_factor(step, settings))

    def latent_now() -> Latent:
        if z is not None:
            return Latent(repeat_rows(gen_t.mapping(z), gen_t.n_latent), noise)
        return Latent(wplus.w, noise)

    losses: list[float] = []
    inside, outside = inputs.y_s, 1.0 - inputs.y_t
    draw_t = search_synthesis(gen_t)  # the compute policy's search twins (bf16 where it pays)
    draw_s = search_synthesis(gen_s) if settings.variant == "paper" else None
    for step in range(settings.steps):
        lat = latent_now()
        img_t = draw_t(lat)
        img_s = draw_s(lat) if draw_s is not None else None
        loss = objective(img_s, img_t)
        opt.zero_grad(set_to_none=True)
        loss.sum().backward()
        opt.step()
        rate.step()
        losses.append(float(loss.detach().mean()))
        with torch.no_grad():
            metrics = {
                "loss": losses[-1],
                "psnr_in": float(masked_psnr_items(img_t, inputs.x_s, inside).mean()),
                "psnr_out": float(masked_psnr_items(img_t, inputs.x_t, outside).mean()),
            }
        preview = None
        if progress.wants_preview():
            preview = ((img_t[0].detach().clamp(-1, 1) + 1) * 0.5).permute(1, 2, 0).cpu().numpy()
        progress.step(step + 1, settings.steps, preview=preview, metrics=metrics)
    with torch.no_grad():
        final = latent_now()
        final = Latent({k: v.detach() for k, v in final.w.items()}, noise)
        image = gen_t.synthesize(final).image
        metrics_out = {
            "psnr_in": masked_psnr_items(image, inputs.x_s, inside).cpu().numpy(),
            "psnr_out": masked_psnr_items(image, inputs.x_t, outside).cpu().numpy(),
            "psnr_in_target": masked_psnr_items(inputs.x_t, inputs.x_s, inside).cpu().numpy(),
        }
    return DDSOutcome(image, final, None if z is None else z.detach(), metrics_out, losses)

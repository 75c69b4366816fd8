"""Local style transfer (Image2StyleGAN++ Algorithm 6).

1. embed the photo in W+ (w*);
2. W_l(M_blur, M_blur, 1, w*, n_ini, I_1) + M_st(1 - M_blur, w*, n_ini, I_2) as one loss:
   perceptual + MSE to the photo inside the blurred mask, Gram-matrix style loss (VGG
   conv3_3) to the style image outside it, over the whole W+;
3. Mk_n(M_blur, w_out, n_ini, I_1, G(w_out)): the noise maps fit the photo inside and keep
   the stylised image outside, for the first half of the noise steps;
4. (not in the paper) a style pass for the second half: only the fine noise maps (side >=
   half the image side), which carry the generator's local texture, move; the loss is the
   same MSE terms (photo inside, the image after step 3 outside) plus the Gram style loss
   outside the mask, weight ``noise_style_weight``. 0 gives the paper's noise phase.

Why these defaults, with the measurements behind them: ``docs/notes/style-transfer.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from latent_atelier.editors.i2s.steps import SummedLoss, embed_first
from latent_atelier.editors.inversion.embed import Mk_n, draw, start_run
from latent_atelier.editors.inversion.embed_core import (
    MK_N_WEIGHTS,
    EmbeddingLoss,
    LossWeights,
    OptimiserSettings,
    Targets,
    VariableMasks,
    from_numpy_image,
    from_numpy_mask,
    optimise,
    to_numpy_image,
)
from latent_atelier.editors.masks import blur_mask
from latent_atelier.editors.operation import Operation, OperationError, Progress, Result, Slot, param
from latent_atelier.editors.placed_photo import place_photo, rgb_input
from latent_atelier.editors.placement import Placement
from latent_atelier.editors.registry import register
from latent_atelier.editors.slots import LATENT, PHOTO, region
from latent_atelier.editors.stages import StagePlan
from latent_atelier.models.generator import Generator, Latent


def style_transfer_loss(
    x: torch.Tensor, style: torch.Tensor, m_blur: torch.Tensor, style_weight: float = 2e-4
) -> EmbeddingLoss:
    """Eq. 1 with W_l's terms inside ``m_blur`` and M_st's Gram term outside it."""
    weights = LossWeights(style=style_weight, mse1=1e-5, mse2=0.0, percept=1e-5)
    return EmbeddingLoss(Targets(x=x, y=style, m_s=1.0 - m_blur, m_m=m_blur, m_p=m_blur), weights)


#: the style pass of the noise phase moves only maps at least this fraction of the image side
FINE_NOISE_FRACTION = 0.5


def fine_noise_maps(latent: Latent, resolution: int) -> list[bool]:
    """Which noise maps are fine enough (side >= FINE_NOISE_FRACTION x resolution) to add
    texture locally without shifting the kept region."""
    return [n.shape[-1] >= FINE_NOISE_FRACTION * resolution for n in latent.noise]


def noise_style_loss(
    x: torch.Tensor, styled: torch.Tensor, style: torch.Tensor, m: torch.Tensor, style_weight: float
) -> SummedLoss:
    """Mk_n's loss (photo inside ``m``, ``styled`` outside) plus the Gram style loss to
    ``style`` outside ``m``; ``t`` is the photo target, so progress reports its PSNR."""
    keep = EmbeddingLoss(Targets(x=x, y=styled, m_m=m), MK_N_WEIGHTS)
    gram = LossWeights(style=style_weight, mse1=0.0, percept=0.0)
    return SummedLoss(keep, EmbeddingLoss(Targets(x=style, y=style, m_s=1.0 - m), gram), t=keep.t)


@dataclass
class StyleTransferOutcome:
    """The stylised latent, its image, and w* (the photo's embedding it started from)."""

    latent: Latent
    image: np.ndarray
    start: Latent


def local_style_transfer(
    gen: Generator,
    photo: np.ndarray,
    style: np.ndarray,
    mask_blur: np.ndarray,
    settings: StyleTransferParams | None = None,
    *,
    progress: Progress | None = None,
) -> StyleTransferOutcome:
    """Algorithm 6 on model-resolution images; the photo is kept inside ``mask_blur``."""
    s = settings or StyleTransferParams()
    device, progress = start_run(gen, s.seed, progress)
    x = from_numpy_image(photo, device)
    y = from_numpy_image(style, device)
    m = from_numpy_mask(mask_blur, device)
    split = s.steps_noise // 2 if s.noise_style_weight > 0 else 0
    noise_steps = s.steps_noise - split
    plan = StagePlan(
        progress,
        ("embed photo", s.steps_embed),
        ("W+ with style", s.steps_w),
        ("noise", noise_steps),
        ("noise with style", split),
    )
    w_star = embed_first(
        gen, x, steps=s.steps_embed, seed=s.seed, lr=s.lr_w, progress=plan.enter("embed photo")
    )
    lat_w = optimise(
        gen,
        w_star,
        style_transfer_loss(x, y, m, s.style_weight),
        settings=OptimiserSettings("adam", s.lr_w, s.steps_w),
        variables="w",
        progress=plan.enter("W+ with style"),
        psnr_mask=m,
    )
    lat_n = Mk_n(
        gen, lat_w, x, draw(gen, lat_w), m=m, steps=noise_steps, lr=s.lr_noise, progress=plan.enter("noise")
    )
    if split:
        lat_n = optimise(
            gen,
            lat_n,
            noise_style_loss(x, draw(gen, lat_n), y, m, s.noise_style_weight),
            masks=VariableMasks(noise=fine_noise_maps(lat_n, gen.resolution)),
            settings=OptimiserSettings("adam", s.lr_noise, split),
            variables="noise",
            progress=plan.enter("noise with style"),
            psnr_mask=m,
        )
    return StyleTransferOutcome(lat_n, to_numpy_image(draw(gen, lat_n)), w_star)


@dataclass
class StyleTransferParams:
    """Settings of ``style-transfer`` (paper: 1000 W+ steps with style, 1000 noise steps)."""

    steps_embed: int = param(1000, 0, 20000, "W+ steps embedding the photo first (w*)")
    steps_w: int = param(1000, 0, 20000, "W+ steps with the style loss")
    steps_noise: int = param(1000, 0, 20000, "noise-map steps")
    style_weight: float = param(
        2e-4,
        0.0,
        1.0,
        "lambda_s of the Gram style loss; the paper's 5e-7 barely moves our area-normalised "
        "Gram loss (bench_i2s_apps), 2e-4 halves it in about 100 steps",
    )
    noise_style_weight: float = param(
        2e-4,
        0.0,
        1.0,
        "lambda_s of the style pass on the fine noise maps in the second half of the noise "
        "steps (0: the paper's noise phase only, which copies the W+ result outside the mask)",
    )
    blur: float = param(0.03, 0.0, 0.25, "mask blur (sigma) as a fraction of the image side")
    lr_w: float = param(0.01, 1e-4, 1.0, "Adam learning rate for W+")
    lr_noise: float = param(5.0, 1e-3, 50.0, "Adam learning rate for the noise maps")
    seed: int = param(0, 0, 2**31 - 1, "random seed of the initial noise")


@register
class StyleTransfer(Operation):
    """Keep the masked part of a photo and restyle the rest after a style image."""

    name = "style-transfer"
    title = "Local style transfer"
    description = (
        "Keep the photo inside the mask and give the rest the style (textures, colours) of "
        "the style image (Image2StyleGAN++ Algorithm 6)."
    )
    inputs = (
        PHOTO,
        Slot("style", "image", help="the style image (any size; its centre square is used)"),
        Slot("mask", "mask", help="painted on the photo: what stays as it is"),
        region(),
    )
    outputs = (
        Slot("result", "image", help="the stylised region pasted into the photo"),
        Slot("stylised", "image", help="the generator's image at model resolution"),
        LATENT,
    )
    Params = StyleTransferParams

    def run(self, gen: Generator, inputs: dict, params: StyleTransferParams, progress: Progress) -> Result:
        """Restyle ``photo`` outside ``mask`` after ``style``."""
        self.check_inputs(inputs)
        placed = place_photo(inputs, gen.resolution)
        style = rgb_input(inputs, "style")
        mask = placed.crop_mask(inputs["mask"])
        if bool((mask > 0.5).all()):
            raise OperationError("the mask covers the whole region: leave some of it to restyle")
        style_crop = Placement.centered(style.shape[:2], gen.resolution).extract(style)
        out = local_style_transfer(
            gen, placed.crop, style_crop, blur_mask(mask, params.blur), params, progress=progress
        )
        return Result(outputs=placed.outputs("stylised", out.image, out.latent))

"""Image crossover (Image2StyleGAN++ Algorithm 3): photo 1 inside a mask, photo 2 outside it.

1. embed photo 1 in W+ (the paper's w*, "embed the target image first");
2. one W_l run against both photos at once: perceptual + MSE to photo 1 under the blurred
   mask M_blur, to photo 2 under 1 - M_blur (the two W_l terms of line 2 share one w);
3. Mk_n(M_blur, w_out, n_ini, I_1, I_2): the noise maps fit photo 1 inside, photo 2 outside.

The result is the generator's image (nothing is pasted back at model resolution).
Why these defaults, with the measurements behind them: ``docs/notes/crossover.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch

from latent_atelier.editors.i2s.steps import SummedLoss, embed_first, require_painted
from latent_atelier.editors.inversion.embed import Mk_n, draw, start_run
from latent_atelier.editors.inversion.embed_core import (
    W_L_WEIGHTS,
    EmbeddingLoss,
    OptimiserSettings,
    Targets,
    from_numpy_image,
    from_numpy_mask,
    optimise,
    to_numpy_image,
)
from latent_atelier.editors.masks import as_mask, blur_mask
from latent_atelier.editors.operation import Operation, Progress, Result, Slot, param
from latent_atelier.editors.placed_photo import place_photo
from latent_atelier.editors.placement import Placement
from latent_atelier.editors.registry import register
from latent_atelier.editors.slots import FIRST_REGION, LATENT, region, two_photos
from latent_atelier.editors.stages import StagePlan
from latent_atelier.models.generator import Generator, Latent


def two_target_loss(x1: torch.Tensor, x2: torch.Tensor, m: torch.Tensor) -> SummedLoss:
    """W_l's loss (Eq. 2) against ``x1`` under ``m`` plus against ``x2`` under ``1 - m``.

    ``t.x`` is the naive composite, so progress reports the PSNR to what is wanted.
    """
    inside = EmbeddingLoss(Targets(x=x1, m_m=m, m_p=m), W_L_WEIGHTS)
    outside = EmbeddingLoss(Targets(x=x2, m_m=1.0 - m, m_p=1.0 - m), W_L_WEIGHTS)
    return SummedLoss(inside, outside, t=Targets(x=x1 * m + x2 * (1.0 - m)))


@dataclass
class CrossoverOutcome:
    """The crossover latent and its image (model resolution, H x W x 3 in [0, 1])."""

    latent: Latent
    image: np.ndarray


def crossover(
    gen: Generator,
    photo1: np.ndarray,
    photo2: np.ndarray,
    mask_blur: np.ndarray,
    settings: CrossoverParams | None = None,
    *,
    progress: Progress | None = None,
) -> CrossoverOutcome:
    """Algorithm 3 on model-resolution images; ``mask_blur`` (S x S) selects photo 1."""
    s = settings or CrossoverParams()
    device, progress = start_run(gen, s.seed, progress)
    x1, x2 = from_numpy_image(photo1, device), from_numpy_image(photo2, device)
    m = from_numpy_mask(mask_blur, device)
    plan = StagePlan(
        progress, ("embed photo 1", s.steps_init), ("W+ crossover", s.steps_w), ("noise", s.steps_noise)
    )
    lat = embed_first(
        gen, x1, steps=s.steps_init, seed=s.seed, lr=s.lr_w, progress=plan.enter("embed photo 1")
    )
    lat = optimise(
        gen,
        lat,
        two_target_loss(x1, x2, m),
        settings=OptimiserSettings("adam", s.lr_w, s.steps_w),
        variables="w",
        progress=plan.enter("W+ crossover"),
    )
    lat = Mk_n(gen, lat, x1, x2, m=m, steps=s.steps_noise, lr=s.lr_noise, progress=plan.enter("noise"))
    return CrossoverOutcome(lat, to_numpy_image(draw(gen, lat)))


@dataclass
class CrossoverParams:
    """Settings of ``crossover`` (paper: 1000 W+ and 1000 noise steps)."""

    steps_init: int = param(1000, 0, 20000, "W+ steps embedding photo 1 before the crossover")
    steps_w: int = param(1000, 0, 20000, "W+ steps against both photos")
    steps_noise: int = param(1000, 0, 20000, "noise-map steps")
    blur: float = param(0.05, 0.0, 0.25, "mask blur (Gaussian sigma) as a fraction of the image side")
    lr_w: float = param(0.01, 1e-4, 1.0, "Adam learning rate for W+")
    lr_noise: float = param(5.0, 1e-3, 50.0, "Adam learning rate for the noise maps")
    seed: int = param(0, 0, 2**31 - 1, "random seed of the initial noise")


def outside_the_crop(
    photo: np.ndarray,
    photo2: np.ndarray,
    place1: Placement,
    place2: Placement,
    mask: np.ndarray,
    blur_px: float = 0.0,
) -> np.ndarray:
    """What the result shows beyond the generated crop: photo 1 where the mask is (blurred
    by ``blur_px``), photo 2 (brought into photo 1's frame through both placements)
    elsewhere, photo 1 where photo 2 has no pixels. So the crop's own photo-2 side
    continues into photo 2 at the crop's edge instead of meeting photo 1 there."""
    h, w = photo.shape[:2]
    a = np.vstack([place2.inverse, [0.0, 0.0, 1.0]]) @ np.vstack([place1.matrix, [0.0, 0.0, 1.0]])
    warp = a[:2].astype(np.float64)  # photo 1 pixel -> crop -> photo 2 pixel
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    second = cv2.warpAffine(
        np.ascontiguousarray(photo2, np.float32), warp, (w, h), flags=flags, borderMode=cv2.BORDER_REPLICATE
    )
    inside = cv2.warpAffine(
        np.ones(photo2.shape[:2], np.float32),
        warp,
        (w, h),
        flags=flags,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0.0,
    )
    keep1 = np.clip(np.asarray(mask, np.float32), 0.0, 1.0)
    if blur_px > 0:
        keep1 = cv2.GaussianBlur(keep1, (0, 0), float(blur_px))
    weight2 = ((1.0 - keep1) * np.clip(inside, 0.0, 1.0))[..., None]
    return (photo * (1.0 - weight2) + second * weight2).astype(np.float32)


@register
class Crossover(Operation):
    """Cross two photos over: photo 1 inside the mask, photo 2 outside, seams blended."""

    name = "crossover"
    title = "Cross over two photos"
    description = (
        "Keep photo 1 inside the mask and photo 2 outside it; the generator blends the seam "
        "(Image2StyleGAN++ Algorithm 3)."
    )
    inputs = (
        *two_photos("kept inside the mask", "kept outside the mask", "where photo 1 stays"),
        FIRST_REGION,
        region(
            "region of photo 2 (default: photo 1's when the sizes match, else centre)",
            "placement2",
            reference=True,
        ),
    )
    outputs = (
        Slot("result", "image", help="the crossover pasted back into photo 1"),
        Slot("crossover", "image", help="the crossover at model resolution"),
        LATENT,
    )
    Params = CrossoverParams

    def run(self, gen: Generator, inputs: dict, params: CrossoverParams, progress: Progress) -> Result:
        """Cross ``photo`` (inside ``mask``) with ``photo2`` (outside)."""
        self.check_inputs(inputs)
        first = place_photo(inputs, gen.resolution)
        same_size = np.shape(inputs["photo2"])[:2] == first.photo.shape[:2]
        second = place_photo(
            inputs, gen.resolution, "photo2", "placement2", first.placement if same_size else None
        )
        mask = first.crop_mask(inputs["mask"])
        require_painted(mask, "the mask must cover part of the region, not none or all of it", not_all=True)
        out = crossover(gen, first.crop, second.crop, blur_mask(mask, params.blur), params, progress=progress)
        blur_px = params.blur * gen.resolution / first.placement.scale  # the crop's blur, in photo pixels
        around = outside_the_crop(
            first.photo, second.photo, first.placement, second.placement, as_mask(inputs["mask"]), blur_px
        )
        return Result(
            outputs=first.outputs("crossover", out.image, out.latent, first.paste(out.image, onto=around))
        )

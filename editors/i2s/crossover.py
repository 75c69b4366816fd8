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

from latent_atelier.editors.inversion.embed import Mk_n, W_l, generator_device, initial_latent
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
from latent_atelier.editors.masks import as_mask, blur_mask, crop_to_model
from latent_atelier.editors.operation import Operation, OperationError, Progress, Result, Slot, param
from latent_atelier.editors.placement import Placement, resolve_placement
from latent_atelier.editors.registry import register
from latent_atelier.editors.stages import StagePlan
from latent_atelier.models.generator import Generator, Latent


class TwoTargetLoss:
    """W_l's loss (Eq. 2) against ``x1`` under ``m`` plus against ``x2`` under ``1 - m``.

    ``t.x`` is the naive composite, so progress reports the PSNR to what is wanted.
    """

    def __init__(self, x1: torch.Tensor, x2: torch.Tensor, m: torch.Tensor) -> None:
        self.inside = EmbeddingLoss(Targets(x=x1, m_m=m, m_p=m), W_L_WEIGHTS)
        self.outside = EmbeddingLoss(Targets(x=x2, m_m=1.0 - m, m_p=1.0 - m), W_L_WEIGHTS)
        self.t = Targets(x=x1 * m + x2 * (1.0 - m))

    def __call__(self, img: torch.Tensor) -> torch.Tensor:
        """Per-item loss ``(B,)``."""
        return self.inside(img) + self.outside(img)


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
    steps_init = s.steps_init
    steps_w = s.steps_w
    steps_noise = s.steps_noise
    lr_w = s.lr_w
    lr_noise = s.lr_noise
    seed = s.seed
    device = generator_device(gen)
    torch.manual_seed(int(seed))
    progress = progress or Progress()
    x1 = from_numpy_image(photo1, device)
    x2 = from_numpy_image(photo2, device)
    m = from_numpy_mask(mask_blur, device)
    plan = StagePlan(
        progress, ("embed photo 1", steps_init), ("W+ crossover", steps_w), ("noise", steps_noise)
    )
    lat = initial_latent(gen, "mean", seed)
    lat = W_l(gen, lat, x1, steps=steps_init, lr=lr_w, progress=plan.enter("embed photo 1"))
    lat = optimise(
        gen,
        lat,
        TwoTargetLoss(x1, x2, m),
        settings=OptimiserSettings("adam", lr_w, steps_w),
        variables="w",
        progress=plan.enter("W+ crossover"),
    )
    lat = Mk_n(gen, lat, x1, x2, m=m, steps=steps_noise, lr=lr_noise, progress=plan.enter("noise"))
    with torch.no_grad():
        img = gen.synthesize(lat).image
    return CrossoverOutcome(lat, to_numpy_image(img))


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
        Slot("photo", "image", help="photo 1: kept inside the mask; the result is pasted into it"),
        Slot("photo2", "image", help="photo 2: kept outside the mask"),
        Slot("mask", "mask", help="painted on photo 1: where photo 1 stays"),
        Slot("placement", "placement", optional=True, help="region of photo 1 (default: centre)"),
        Slot(
            "placement2",
            "placement",
            role="reference",
            optional=True,
            help="region of photo 2 (default: photo 1's when the sizes match, else centre)",
        ),
    )
    outputs = (
        Slot("result", "image", help="the crossover pasted back into photo 1"),
        Slot("crossover", "image", help="the crossover at model resolution"),
        Slot("latent", "latent"),
    )
    Params = CrossoverParams

    def run(self, gen: Generator, inputs: dict, params: CrossoverParams, progress: Progress) -> Result:
        """Cross ``photo`` (inside ``mask``) with ``photo2`` (outside)."""
        self.check_inputs(inputs)
        photo = np.asarray(inputs["photo"], np.float32)[..., :3]
        photo2 = np.asarray(inputs["photo2"], np.float32)[..., :3]
        place1 = resolve_placement(photo, inputs.get("placement"), gen.resolution)
        place2 = inputs.get("placement2")
        if place2 is None:
            same = photo2.shape[:2] == photo.shape[:2]
            place2 = place1 if same else Placement.centered(photo2.shape[:2], gen.resolution)
        place2 = resolve_placement(photo2, place2, gen.resolution)
        mask = crop_to_model(inputs["mask"], place1)
        if not (mask > 0.5).any() or bool((mask > 0.5).all()):
            raise OperationError("the mask must cover part of the region, not none or all of it")
        m_blur = blur_mask(mask, params.blur)
        out = crossover(gen, place1.extract(photo), place2.extract(photo2), m_blur, params, progress=progress)
        blur_px = params.blur * gen.resolution / place1.scale  # the crop's blur, in photo pixels
        around = outside_the_crop(photo, photo2, place1, place2, as_mask(inputs["mask"]), blur_px)
        pasted = place1.paste(around, out.image, feather=0.02)
        return Result(
            outputs={"result": pasted, "crossover": out.image, "latent": out.latent, "placement": place1},
        )

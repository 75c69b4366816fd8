"""Local edits from scribbles (Image2StyleGAN++ Algorithm 5).

1. embed the photo in W+ (w*);
2. W_l(1, 1, w_m, w*, n_ini, I_scr) + lambda * ||w - w*||^2: only the first rows (paper:
   the first 4 to 6 of 18) move towards the scribbled image, held close to w*;
3. Mk_n(M_blur, ...): the noise maps keep the edited generator image inside the blurred
   scribble M_blur (as in the paper, not grown) and fit the photo everywhere else;
4. composite: the photo outside the grown + blurred mask M_blur+, the generator image inside,
   so nothing else changes and the generator's own transition hides the seam.

Why these defaults, with the measurements behind them: ``docs/notes/scribble.md``.

The scribble is a straight-alpha RGBA paint layer the size of the photo; the target
I_scr is the scribble composited over the photo.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from latent_atelier.editors.i2s.steps import composite, embed_first
from latent_atelier.editors.inversion.embed import Mk_n, W_l, draw, start_run
from latent_atelier.editors.inversion.embed_core import from_numpy_image, from_numpy_mask, to_numpy_image
from latent_atelier.editors.layer_scaling import first_rows, row_mask
from latent_atelier.editors.masks import blur_mask, grow_and_blur
from latent_atelier.editors.operation import Operation, OperationError, Progress, Result, Slot, param
from latent_atelier.editors.placed_photo import place_photo
from latent_atelier.editors.registry import register
from latent_atelier.editors.slots import LATENT, PHOTO, region
from latent_atelier.editors.stages import StagePlan
from latent_atelier.models.generator import Generator, Latent


def composite_scribble(photo: np.ndarray, scribble: np.ndarray) -> np.ndarray:
    """The scribble (H x W x 4, straight alpha) painted over the photo (H x W x 3)."""
    s = np.asarray(scribble, np.float32)
    if s.ndim != 3 or s.shape[2] != 4:
        raise OperationError("the scribble must be an RGBA paint layer (H x W x 4)")
    if s.shape[:2] != photo.shape[:2]:
        raise OperationError(
            f"the scribble is {s.shape[1]}x{s.shape[0]} but the photo is "
            f"{photo.shape[1]}x{photo.shape[0]}: paint it on the photo"
        )
    a = np.clip(s[..., 3:4], 0.0, 1.0)
    return (photo[..., :3] * (1.0 - a) + np.clip(s[..., :3], 0.0, 1.0) * a).astype(np.float32)


def closeness_loss(w_star: dict[str, torch.Tensor], rows: torch.Tensor, weight: float):
    """``extra_loss`` for optimise: ``weight`` x mean squared distance of the free rows to w*."""

    def loss(lat: Latent) -> torch.Tensor:
        total = 0.0
        for k, w in lat.w.items():
            d = (w - w_star[k])[:, rows.to(w.device)]
            total = total + d.pow(2).flatten(1).mean(1)
        return weight * total

    return loss


@dataclass
class ScribbleOutcome:
    """The edit at model resolution: latent, generator image, composite and blend mask."""

    latent: Latent
    generated: np.ndarray
    composite: np.ndarray
    blend: np.ndarray


def scribble_edit(
    gen: Generator,
    photo: np.ndarray,
    scribbled: np.ndarray,
    scribble_mask: np.ndarray,
    settings: ScribbleParams | None = None,
    *,
    progress: Progress | None = None,
) -> ScribbleOutcome:
    """Algorithm 5 on model-resolution images; ``rows`` counts the paper's first layers."""
    s = settings or ScribbleParams()
    device, progress = start_run(gen, s.seed, progress)
    x_photo = from_numpy_image(photo, device)
    x_scr = from_numpy_image(scribbled, device)
    blend = grow_and_blur(scribble_mask, s.grow, s.blur)
    keep = 1.0 - from_numpy_mask(blur_mask(scribble_mask, s.blur), device)
    plan = StagePlan(
        progress,
        ("embed photo", s.steps_embed),
        ("W+ towards the scribble", s.steps_w),
        ("noise", s.steps_noise),
    )
    w_star = embed_first(gen, x_photo, steps=s.steps_embed, seed=s.seed, progress=plan.enter("embed photo"))
    free = row_mask(first_rows(s.rows, gen.n_latent), gen.n_latent)
    lat_w = W_l(
        gen,
        w_star,
        x_scr,
        w_rows={k: free for k in w_star.w},
        steps=s.steps_w,
        lr=s.lr_w,
        progress=plan.enter("W+ towards the scribble"),
        extra_loss=closeness_loss(w_star.w, free, s.closeness),
    )
    edit = draw(gen, lat_w)
    lat_n = Mk_n(
        gen, lat_w, x_photo, edit, m=keep, steps=s.steps_noise, lr=s.lr_noise, progress=plan.enter("noise")
    )
    generated = to_numpy_image(draw(gen, lat_n))
    return ScribbleOutcome(lat_n, generated, composite(photo, generated, blend), blend)


@dataclass
class ScribbleParams:
    """Settings of ``scribble`` (paper: Adam lr 0.1, 1000 W+ and 1000 noise steps)."""

    rows: int = param(5, 1, 18, "how many of the paper's first W+ layers may change (4-6)")
    steps_embed: int = param(1000, 0, 20000, "W+ steps embedding the photo first (w*)")
    steps_w: int = param(1000, 0, 20000, "W+ steps towards the scribbled photo")
    steps_noise: int = param(1000, 0, 20000, "noise-map steps")
    lr_w: float = param(0.1, 1e-4, 1.0, "Adam learning rate of the edit")
    lr_noise: float = param(5.0, 1e-3, 50.0, "Adam learning rate for the noise maps")
    closeness: float = param(0.01, 0.0, 10.0, "lambda: how strongly W+ stays near w*")
    grow: float = param(0.03, 0.0, 0.3, "edit area growth beyond the scribble, fraction of the side")
    blur: float = param(0.02, 0.0, 0.2, "edit area blur (sigma), fraction of the side")
    seed: int = param(0, 0, 2**31 - 1, "random seed of the initial noise")


@register
class Scribble(Operation):
    """Turn rough paint strokes into a photo-real local edit."""

    name = "scribble"
    title = "Edit with scribbles"
    description = "Paint roughly over the photo; the generator makes it look real there only."
    inputs = (
        PHOTO,
        Slot("scribble", "rgba", help="paint layer the size of the photo (straight alpha)"),
        region(),
    )
    outputs = (
        Slot("result", "image", help="the edit pasted into the photo"),
        Slot("edit", "image", help="the edited generator image at model resolution"),
        LATENT,
    )
    Params = ScribbleParams

    def run(self, gen: Generator, inputs: dict, params: ScribbleParams, progress: Progress) -> Result:
        """Apply ``inputs["scribble"]`` to ``inputs["photo"]``."""
        self.check_inputs(inputs)
        placed = place_photo(inputs, gen.resolution)
        scribble = np.asarray(inputs["scribble"], np.float32)
        scribbled = composite_scribble(placed.photo, scribble)
        mask = placed.crop_mask(scribble[..., 3], "scribble alpha")
        if float(mask.max()) <= 0.0:
            raise OperationError("the scribble layer is empty inside the region: paint on it first")
        scribbled_crop = placed.placement.extract(scribbled)
        out = scribble_edit(
            gen, placed.crop, scribbled_crop, (mask > 0.05).astype(np.float32), params, progress=progress
        )
        pasted = placed.paste(out.generated, feather=0.0, mask=out.blend)
        return Result(outputs=placed.outputs("edit", out.generated, out.latent, pasted))

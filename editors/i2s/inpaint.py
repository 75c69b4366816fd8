"""Image inpainting (Image2StyleGAN++ Algorithm 4), several plausible fills at once.

1. w_ini = the mean latent for variant 0, plus an offset ~ U[-offset, offset] for the
   others (the paper's Fig. 7/15);
2. W_l(1 - M, 1 - M, w_m, ...) on the early rows (paper: layers 1-9 of 18) and the last
   two, loss only outside the hole; Adam at lr 0.01, 200 steps (the paper: plain gradient
   descent, ``optimizer="gd"``, ``lr_w=0.8``);
3. Mk_n: the noise maps fit the photo everywhere outside the hole and keep the generated
   fill G(w_out) inside it (lambda_mse2 = 1e-4);
4. composite: the photo outside the slightly larger blurred hole M_blur+, the generator's
   image inside.

Why these defaults, with the measurements behind them: ``docs/notes/inpaint.md``.

All variants are optimised together as one batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from latent_atelier.editors.i2s.steps import composite
from latent_atelier.editors.inversion.embed import Mk_n, W_l, draw, initial_latent, start_run
from latent_atelier.editors.inversion.embed_core import from_numpy_image, from_numpy_mask, to_numpy_image
from latent_atelier.editors.layer_scaling import paper_rows, row_mask
from latent_atelier.editors.masks import grow_and_blur
from latent_atelier.editors.operation import Operation, OperationError, Progress, Result, Slot, param
from latent_atelier.editors.placed_photo import place_photo
from latent_atelier.editors.registry import register
from latent_atelier.editors.slots import PHOTO, region
from latent_atelier.editors.stages import StagePlan
from latent_atelier.models.generator import Generator, Latent

#: the paper's w_m: layers 1-9 of an 18-row W+ (content) ...
CONTENT_LAYERS = tuple(range(1, 10))
#: ... and the last two rows (colour consistency)
LAST_ROWS = 2


def inpaint_rows(n_latent: int) -> list[int]:
    """The W+ rows Algorithm 4 optimises for a model with ``n_latent`` rows."""
    rows = set(paper_rows(CONTENT_LAYERS, n_latent))
    rows.update(range(max(n_latent - LAST_ROWS, 0), n_latent))
    return sorted(rows)


def offset_latents(gen: Generator, n: int, offset: float, seed: int) -> Latent:
    """``n`` starting latents: variant 0 the mean W+ (the paper's w_ini), the others the mean
    plus offsets ~ U[-offset, offset] (the paper's Fig. 7 and 15)."""
    lat = initial_latent(gen, "mean", seed, batch=n)
    g = torch.Generator().manual_seed(int(seed) + 1)
    w = {}
    for k, v in lat.w.items():
        shift = (torch.rand(v.shape, generator=g) * 2.0 - 1.0) * float(offset)
        shift[0] = 0.0
        w[k] = v + shift.to(v.device)
    return Latent(w, lat.noise)


@dataclass
class InpaintOutcome:
    """The batch of fills: latents, raw generator images and composites (model resolution)."""

    latent: Latent
    generated: list[np.ndarray]
    composites: list[np.ndarray]
    blend: np.ndarray  # M_blur+: where the generated pixels are used
    latent_w: Latent  # after the W+ phase (before the noise phase)
    generated_w: list[np.ndarray]


def inpaint(
    gen: Generator,
    photo: np.ndarray,
    hole: np.ndarray,
    settings: InpaintParams | None = None,
    *,
    progress: Progress | None = None,
) -> InpaintOutcome:
    """Algorithm 4 on a model-resolution ``photo`` with ``hole`` (1 = missing), batched.

    ``free_rows``: "paper" (w_m: early rows and the last two) or "all" W+ rows.
    ``noise_fill_mask``: where the noise phase keeps the generated fill instead of fitting
    the photo: "blend" (the paper's M_blur+, hole plus the blend ring) or "hole" (the hole
    only, so the noise fits the photo in the ring that the composite blends over).
    """
    s = settings or InpaintParams()
    if s.free_rows not in ("paper", "all"):
        raise ValueError(f"free_rows must be 'paper' or 'all', not {s.free_rows!r}")
    if s.noise_fill_mask not in ("blend", "hole"):
        raise ValueError(f"noise_fill_mask must be 'blend' or 'hole', not {s.noise_fill_mask!r}")
    device, progress = start_run(gen, s.seed, progress)
    b = int(s.variants)
    x = from_numpy_image(photo, device).expand(b, -1, -1, -1)
    m = from_numpy_mask(hole, device)
    keep = (1.0 - m).expand(b, -1, -1, -1)
    blend_np = grow_and_blur(hole, s.grow, s.blur)
    plan = StagePlan(progress, ("W+", s.steps_w), ("noise", s.steps_noise))

    lat = offset_latents(gen, b, s.offset, s.seed)
    chosen = inpaint_rows(gen.n_latent) if s.free_rows == "paper" else range(gen.n_latent)
    rows = row_mask(chosen, gen.n_latent)
    lat_w = W_l(
        gen,
        lat,
        x,
        m_p=keep,
        m_m=keep,
        w_rows={k: rows for k in lat.w},
        steps=s.steps_w,
        lr=s.lr_w,
        optimizer=s.optimizer,
        progress=plan.enter("W+"),
    )
    fill = draw(gen, lat_w)
    fill_region = from_numpy_mask(blend_np, device) if s.noise_fill_mask == "blend" else m
    keep_blend = (1.0 - fill_region).expand(b, -1, -1, -1)
    lat_n = Mk_n(
        gen,
        lat_w,
        x,
        fill,
        m=keep_blend,
        steps=s.steps_noise,
        lr=s.lr_noise,
        mse2=s.mse2,
        progress=plan.enter("noise"),
    )
    img = draw(gen, lat_n)
    generated = [to_numpy_image(img[i]) for i in range(b)]
    composites = [composite(photo, g, blend_np) for g in generated]
    return InpaintOutcome(
        lat_n, generated, composites, blend_np, lat_w, [to_numpy_image(fill[i]) for i in range(b)]
    )


@dataclass
class InpaintParams:
    """Settings of ``inpaint`` (paper: 200 gradient-descent W+ steps at lr 0.8, 1000 noise;
    here Adam at lr 0.01, see the module docstring)."""

    variants: int = param(3, 1, 16, "how many different fills to make (optimised as one batch)")
    steps_w: int = param(200, 0, 5000, "W+ steps (early rows + last two)")
    steps_noise: int = param(1000, 0, 5000, "noise-map steps")
    lr_w: float = param(0.01, 1e-4, 10.0, "W+ learning rate (Adam: 0.01; the paper's gradient descent: 0.8)")
    optimizer: str = param(
        "adam", help="W+ optimiser: Adam or the paper's plain gradient descent", choices=("adam", "gd")
    )
    offset: float = param(0.4, 0.0, 2.0, "spread of the starting latents around the mean")
    grow: float = param(0.02, 0.0, 0.2, "blend mask growth beyond the hole, fraction of the side")
    blur: float = param(0.015, 0.0, 0.2, "blend mask blur (sigma), fraction of the side")
    lr_noise: float = param(5.0, 1e-3, 50.0, "Adam learning rate for the noise maps")
    mse2: float = param(1e-4, 0.0, 1.0, "noise phase: weight keeping the W+ phase's fill in the hole")
    free_rows: str = param(
        "paper",
        help="W+ rows that may move: the paper's early rows and last two, or all",
        choices=("paper", "all"),
    )
    noise_fill_mask: str = param(
        "hole",
        help="where the noise phase keeps the fill: the hole "
        "(default) or the paper's grown, blurred blend mask",
        choices=("hole", "blend"),
    )
    seed: int = param(0, 0, 2**31 - 1, "changes which plausible fills you get")


@register
class Inpaint(Operation):
    """Fill a hole in a photo with generated content; several variants to choose from."""

    name = "inpaint"
    title = "Fill hole"
    description = "Fill the masked hole with plausible content (Image2StyleGAN++ Algorithm 4)."
    inputs = (
        PHOTO,
        Slot("hole", "mask", role="hole", help="the missing region (1 = fill)"),
        region(),
    )
    outputs = (
        Slot("result", "image", help="variant 0 pasted into the photo"),
        Slot("variants", "image", multiple=True, help="every fill, pasted into the photo"),
        Slot("fills", "image", multiple=True, help="the generator's images at model resolution"),
        Slot("latent", "latent", help="the latents of all variants (batch)"),
    )
    Params = InpaintParams

    def run(self, gen: Generator, inputs: dict, params: InpaintParams, progress: Progress) -> Result:
        """Fill ``inputs["hole"]`` in ``inputs["photo"]``."""
        self.check_inputs(inputs)
        placed = place_photo(inputs, gen.resolution)
        hole = placed.crop_mask(inputs["hole"], "hole")
        if float(hole.max()) <= 0.0:
            raise OperationError("the hole mask is empty inside the region: paint the hole first")
        hole = (hole > 0.5).astype(np.float32)
        out = inpaint(gen, placed.crop, hole, params, progress=progress)
        pasted = [placed.paste(g, feather=0.0, mask=out.blend) for g in out.generated]
        shared = placed.outputs("fills", out.generated, out.latent, pasted[0])
        return Result(outputs={"result": pasted[0], "variants": pasted, **shared})  # declared order

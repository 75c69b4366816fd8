"""Image2StyleGAN++ building blocks (W_l, Mk_n, M_st) and the ``embed`` Operation (Algorithm 2).

Algorithm 2: initialise (mean latent or U[-1, 1] for w, N(0, 1) noise), then W_l over the
whole W+ (noise fixed), then Mk_n over the noise maps (w fixed) — once each, never joint.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from latent_atelier.editors.inversion.embed_core import (
    M_ST_WEIGHTS,
    MK_N_WEIGHTS,
    W_L_WEIGHTS,
    EmbeddingLoss,
    OptimiserSettings,
    Targets,
    VariableMasks,
    from_numpy_image,
    from_numpy_mask,
    generator_device,
    masked_psnr,
    optimise,
    to_numpy_image,
    with_weights,
)
from latent_atelier.editors.operation import Operation, OperationError, Progress, Result, Slot, param
from latent_atelier.editors.placed_photo import place_photo
from latent_atelier.editors.registry import register
from latent_atelier.editors.slots import LATENT, PHOTO, region
from latent_atelier.editors.stages import StagePlan
from latent_atelier.models.generator import Generator, Latent


def initial_latent(gen: Generator, init: str = "mean", seed: int = 0, batch: int = 1) -> Latent:
    """w_ini (mean latent, or U[-1, 1] rows) and n_ini ~ N(0, 1), seeded."""
    device = generator_device(gen)
    g = torch.Generator().manual_seed(int(seed))
    if init == "mean":
        mean = gen.mean_latent()
        w = {k: v.detach().cpu().expand(batch, -1, -1).clone() for k, v in mean.w.items()}
    elif init == "uniform":
        w = {
            k: torch.rand((batch, rows, dim), generator=g) * 2.0 - 1.0
            for k, (rows, dim) in gen.latent_shapes().items()
        }
    else:
        raise OperationError(f"init must be 'mean' or 'uniform', not {init!r}")
    noise = [torch.randn((batch, 1, h, w_), generator=g) for h, w_ in gen.noise_shapes]
    return Latent(w, noise).to(device)


def start_run(gen: Generator, seed: int, progress: Progress | None = None) -> tuple[torch.device, Progress]:
    """Seed torch with ``seed`` for an optimisation on ``gen``; its device and a Progress."""
    torch.manual_seed(int(seed))
    return generator_device(gen), progress or Progress()


def draw(gen: Generator, latent: Latent) -> torch.Tensor:
    """The generator's image of ``latent`` ((B,3,H,W) in [-1, 1]), without gradients."""
    with torch.no_grad():
        return gen.synthesize(latent).image


def W_l(
    gen: Generator,
    latent: Latent,
    x: torch.Tensor,
    *,
    m_p: torch.Tensor | None = None,
    m_m: torch.Tensor | None = None,
    w_rows: dict[str, torch.Tensor] | None = None,
    steps: int = 5000,
    lr: float = 0.01,
    optimizer: str = "adam",
    progress: Progress | None = None,
    extra_loss=None,
) -> Latent:
    """Masked W+ optimisation (Eq. 2): perceptual under M_p + MSE under M_m, noise fixed.

    Steps are reported as 1..``steps`` (a :class:`StagePlan` phase places them in a run)."""
    loss = EmbeddingLoss(Targets(x=x, m_m=m_m, m_p=m_p), W_L_WEIGHTS)
    return optimise(
        gen,
        latent,
        loss,
        settings=OptimiserSettings(optimizer, lr, steps),
        variables="w",
        masks=VariableMasks(w=w_rows),
        progress=progress,
        psnr_mask=m_m,
        extra_loss=extra_loss,
    )


def Mk_n(
    gen: Generator,
    latent: Latent,
    x: torch.Tensor,
    y: torch.Tensor | None = None,
    *,
    m: torch.Tensor | None = None,
    noise_maps: list[bool] | None = None,
    steps: int = 3000,
    lr: float = 5.0,
    mse2: float = MK_N_WEIGHTS.mse2,
    progress: Progress | None = None,
) -> Latent:
    """Masked noise optimisation (Eq. 3): MSE to x under M, to y outside it (weight ``mse2``);
    w fixed."""
    weights = with_weights(MK_N_WEIGHTS, mse2=mse2 if y is not None else 0.0)
    loss = EmbeddingLoss(Targets(x=x, y=y, m_m=m), weights)
    return optimise(
        gen,
        latent,
        loss,
        settings=OptimiserSettings("adam", lr, steps),
        variables="noise",
        masks=VariableMasks(noise=noise_maps),
        progress=progress,
        psnr_mask=m,
    )


def M_st(
    gen: Generator,
    latent: Latent,
    y: torch.Tensor,
    *,
    m_s: torch.Tensor | None = None,
    steps: int = 1000,
    lr: float = 0.01,
    progress: Progress | None = None,
) -> Latent:
    """Masked style transfer (Eq. 4): Gram loss at conv3_3 under M_s, over the whole W+."""
    loss = EmbeddingLoss(Targets(x=y, y=y, m_s=m_s), M_ST_WEIGHTS)
    return optimise(
        gen,
        latent,
        loss,
        settings=OptimiserSettings("adam", lr, steps),
        variables="w",
        progress=progress,
    )


@dataclass
class EmbedOutcome:
    """A finished embedding: the latent, its image (H x W x 3 in [0, 1]) and metrics."""

    latent: Latent
    image: np.ndarray
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass
class EmbedParams:
    """Settings of the ``embed`` operation (Algorithm 2)."""

    steps_w: int = param(1000, 0, 20000, "W+ steps (the paper uses 5000)")
    steps_noise: int = param(1000, 0, 20000, "noise-map steps (the paper uses 3000)")
    init: str = param(
        "mean",
        help="start from the mean latent (faces) or U[-1,1] (other images)",
        choices=("mean", "uniform"),
    )
    lr_w: float = param(0.01, 1e-4, 1.0, "Adam learning rate for W+")
    lr_noise: float = param(5.0, 1e-3, 50.0, "Adam learning rate for the noise maps")
    seed: int = param(0, 0, 2**31 - 1, "random seed of the initial noise")


def embed_image(
    gen: Generator,
    target: np.ndarray,
    settings: EmbedParams | None = None,
    *,
    mask: np.ndarray | None = None,
    progress: Progress | None = None,
    with_lpips: bool = False,
    refine_noise: Callable[[Latent], bool] | None = None,
) -> EmbedOutcome:
    """Algorithm 2 on a model-resolution image ``target`` (S x S x 3, [0, 1]).

    ``settings`` are the ``embed`` operation's Params (their defaults are the only ones).
    With ``mask`` (S x S), both phases only look at the masked pixels. Metrics hold the
    PSNR after each phase (masked where masked), and LPIPS when ``with_lpips``.
    ``refine_noise``, given the W+ phase's latent, may say the noise phase is not worth
    running (metric ``noise_skipped`` = 1; the image is then the W+ phase's).
    """
    size = gen.resolution
    if target.shape[:2] != (size, size):
        raise OperationError(
            f"target is {target.shape[1]}x{target.shape[0]}; the model needs {size}x{size} "
            "(use a Placement to crop and resize the photo)"
        )
    s = settings or EmbedParams()
    device, progress = start_run(gen, s.seed, progress)
    x = from_numpy_image(target, device)
    m = None if mask is None else from_numpy_mask(mask, device)
    plan = StagePlan(progress, ("W+", s.steps_w), ("noise", s.steps_noise))
    lat = initial_latent(gen, s.init, s.seed)
    lat = W_l(gen, lat, x, m_p=m, m_m=m, steps=s.steps_w, lr=s.lr_w, progress=plan.enter("W+"))
    img_w = draw(gen, lat)
    metrics = {"psnr_w": float(masked_psnr(img_w, x, m).mean())}
    noise_progress = plan.enter("noise")
    if refine_noise is None or refine_noise(lat):
        lat = Mk_n(gen, lat, x, m=m, steps=s.steps_noise, lr=s.lr_noise, progress=noise_progress)
        img = draw(gen, lat)
    else:
        img = img_w
        metrics["noise_skipped"] = 1.0
        if s.steps_noise > 0:
            noise_progress.step(s.steps_noise, s.steps_noise)
    metrics["psnr"] = float(masked_psnr(img, x, m).mean())
    if with_lpips:
        from latent_atelier.models.perceptual import get_lpips

        lp = get_lpips(device)
        with torch.no_grad():
            metrics["lpips_w"] = float(lp(img_w, x).mean())
            metrics["lpips"] = float(lp(img, x).mean())
    return EmbedOutcome(lat.clone(), to_numpy_image(img), metrics)


@register
class Embed(Operation):
    """Reconstruct a photo in W+ and noise space (Image2StyleGAN++ Algorithm 2)."""

    name = "embed"
    title = "Embed photo"
    description = "Find the latent (W+ rows and noise maps) that redraws the placed photo."
    inputs = (
        PHOTO,
        region("region to embed (default: centre square)"),
        Slot("mask", "mask", optional=True, help="only these photo pixels count"),
    )
    outputs = (
        Slot("reconstruction", "image", help="the generator's image at model resolution"),
        Slot("result", "image", help="the reconstruction pasted back into the photo"),
        LATENT,
        Slot("placement", "placement", help="the region that was embedded"),
    )
    Params = EmbedParams

    def run(self, gen: Generator, inputs: dict, params: EmbedParams, progress: Progress) -> Result:
        """Embed the placed region of ``inputs["photo"]``."""
        self.check_inputs(inputs)
        placed = place_photo(inputs, gen.resolution)
        mask = inputs.get("mask")
        crop_mask = (
            None if mask is None else np.clip(placed.placement.extract(np.asarray(mask, np.float32)), 0, 1)
        )
        out = embed_image(gen, placed.crop, params, mask=crop_mask, progress=progress, with_lpips=True)
        return Result(
            # the reconstruction first, as the outputs are declared
            outputs={"reconstruction": out.image, **placed.outputs("reconstruction", out.image, out.latent)},
            metrics=out.metrics,
        )

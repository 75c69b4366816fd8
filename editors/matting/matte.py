"""The ``matte`` operation: a cut-out of the subject, refined at full resolution.

1. A rough subject from the chosen ``source`` (:mod:`latent_atelier.editors.matting.sources`):
   ``auto`` (default) fuses the person prior (selfie segmentation and face mesh of the
   ``faces`` extra) with the FurryGAN alpha of the embedded placement crop, weighted by how
   well the generator explains the photo (:mod:`latent_atelier.editors.matting.trust`);
   ``generator`` is the FurryGAN alpha alone; ``person`` and ``painted`` need no model.
   Painted fg / bg strokes always win.
2. The edge: GrabCut moves it to where the colours change (within a margin of the rough
   subject); holes inside the person (eyes, lips) are filled; an unknown band of ``band``
   photo pixels on both sides, wider where the prior says hair.
3. Closed-form matting inside the band, then the foreground colours, so edges stop carrying
   the old background. The run's notes say when a fallback was taken or the cut-out is empty.

:func:`matte_from_trimap` runs step 3 alone, for a painted trimap (no generator).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from latent_atelier.editors.matting.priors import person_prior
from latent_atelier.editors.matting.refine import (
    TrimapError,
    apply_user_masks,
    check_same_size,
    count_tiles,
    estimate_foreground,
    normalise_trimap,
    refine_alpha,
    soft_region,
    unknown_region,
    upsample_alpha,
)
from latent_atelier.editors.matting.sources import from_generator, from_person, from_strokes
from latent_atelier.editors.matting.trimaps import (  # noqa: F401 (part of this module's API)
    COLOUR_EDGE_BAND,
    MODEL_PX_BAND,
    auto_trimap,
    band_pixels,
    placement_footprint,
)
from latent_atelier.editors.operation import (
    Cancelled,
    Operation,
    OperationError,
    Progress,
    Result,
    Slot,
    param,
)
from latent_atelier.editors.placement import resolve_placement
from latent_atelier.editors.registry import register


@dataclass
class MatteOutcome:
    """A finished matte at the photo's resolution."""

    alpha: np.ndarray  # H x W
    foreground: np.ndarray  # H x W x 4, straight alpha
    trimap: np.ndarray  # H x W, 0 / 0.5 / 1
    metrics: dict[str, float] = field(default_factory=dict)


def _as_rgb(photo: np.ndarray) -> np.ndarray:
    img = np.asarray(photo, np.float32)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    if img.ndim != 3 or img.shape[2] not in (3, 4):
        raise OperationError(
            f"the photo must be H x W x 3 (RGB), got shape {img.shape}: load it with "
            "latent_atelier.app.document.image_read.read_image"
        )
    return np.ascontiguousarray(np.clip(img[..., :3], 0.0, 1.0))  # generated layers overshoot


def matte_from_trimap(
    image: np.ndarray,
    trimap: np.ndarray,
    *,
    fg_mask: np.ndarray | None = None,
    bg_mask: np.ndarray | None = None,
    unknown_mask: np.ndarray | None = None,
    refine: bool = True,
    fallback: np.ndarray | None = None,
    progress: Progress | None = None,
    tile: int = 512,
    solve_px: int = 0,
) -> MatteOutcome:
    """Closed-form matte and foreground for a (painted) trimap; no generator needed.

    ``trimap`` may hold any grey levels: <= 0.1 is background, >= 0.9 foreground, the
    rest unknown. With ``refine=False`` the unknown band takes ``fallback`` (or 0.5).
    With ``solve_px`` > 0 a photo longer than that is solved at that long side and the alpha
    carried up by a guided filter. Progress reports one step per solved tile; a cancel
    raises before anything returns.
    """
    img = _as_rgb(image)
    try:
        check_same_size("trimap", np.asarray(trimap), img.shape)
        tri = apply_user_masks(normalise_trimap(trimap), fg_mask, bg_mask, unknown_mask)
    except TrimapError as exc:
        raise OperationError(str(exc)) from exc
    progress = progress or Progress()
    unknown = unknown_region(tri)
    if not refine:
        alpha = np.where(tri >= 1.0, 1.0, 0.0).astype(np.float32)
        alpha[unknown] = 0.5 if fallback is None else np.asarray(fallback, np.float32)[unknown]
        progress.step(1, 1)
        return MatteOutcome(alpha, np.dstack([img, alpha]), tri, {"unknown_px": float(unknown.sum())})
    n_alpha = count_tiles(unknown, tile)
    progress.set_stage("refine")

    def alpha_step(i: int, _n: int) -> None:
        progress.step(i, 2 * max(1, n_alpha))  # foreground tiles: about as many

    alpha = refine_alpha(img, tri, tile=tile, fallback=fallback, work_side=solve_px, on_tile=alpha_step)
    n_fg = max(1, count_tiles(soft_region(alpha), tile))
    progress.set_stage("foreground")

    def fg_step(i: int, _n: int) -> None:
        progress.step(n_alpha + i, n_alpha + n_fg)

    fg = estimate_foreground(img, alpha, tile=tile, on_tile=fg_step)
    progress.step(n_alpha + n_fg, n_alpha + n_fg)
    metrics = {"unknown_px": float(unknown.sum()), "tiles": float(n_alpha)}
    return MatteOutcome(alpha, np.dstack([fg, alpha]).astype(np.float32), tri, metrics)


def _image_of(synthesis) -> np.ndarray:
    """The synthesised image (S x S x 3 in [0, 1])."""
    img = synthesis.image[0].detach().clamp(-1, 1).cpu().numpy().transpose(1, 2, 0)
    return ((img + 1.0) * 0.5).astype(np.float32)


def w_plus_image(gen, latent, seed: int) -> np.ndarray:
    """What the embedding's W+ rows draw with the noise maps it started from (S x S x 3).

    The generator's fit is judged on this image, not on the final one: the noise-map phase
    can redraw almost any photo (32 dB on the real portraits with the cartoon demo model),
    the W+ rows only what the model knows.
    """
    import torch

    from latent_atelier.editors.inversion.embed import generator_device, initial_latent
    from latent_atelier.models.generator import Latent

    start = initial_latent(gen, "mean", seed, batch=latent.batch).to(generator_device(gen))
    with torch.no_grad():
        return _image_of(gen.synthesize(Latent(latent.w, start.noise)))


def _solve(photo, trimap, fallback, params: MatteParams, progress: Progress, masks: dict) -> MatteOutcome:
    """:func:`matte_from_trimap` with the operation's settings and painted masks."""
    return matte_from_trimap(
        photo,
        trimap,
        refine=params.refine,
        fallback=fallback,
        progress=progress,
        solve_px=params.solve_px,
        fg_mask=masks["fg_mask"],
        bg_mask=masks["bg_mask"],
        unknown_mask=masks["unknown_mask"],
    )


def _noise_phase_worth(gen, photo: np.ndarray, placement, person):
    """A predicate on the W+ phase's latent: does the generator lead (trust from its fit),
    so that the noise phase's finer alpha matters? When the person prior leads, the
    generator's alpha weighs less than half and the noise phase's seconds are saved."""
    import torch

    from latent_atelier.editors.matting.sources import generator_fit
    from latent_atelier.editors.matting.trust import GENERATOR_LEADS

    def worth(latent) -> bool:
        with torch.no_grad():
            syn = gen.synthesize(latent, return_alpha=True)
        fit = generator_fit(photo, placement, generator_alpha(syn), _image_of(syn), person)
        return fit.trust() >= GENERATOR_LEADS

    return worth


def generator_alpha(synthesis) -> np.ndarray:
    """The generator's alpha (S x S): ``.alpha``, else clip(coarse + fine)."""
    a = synthesis.alpha
    if a is None:
        if synthesis.coarse is None:
            raise OperationError("this generator returns no alpha: matting needs a FurryGAN model")
        a = synthesis.coarse if synthesis.fine is None else synthesis.coarse + synthesis.fine
    return a[0, 0].detach().clamp(0, 1).cpu().numpy().astype(np.float32)


#: the embedding's learning rates: the matting evaluations' short recipe (100 W+ steps at 0.03,
#: 50 noise steps at 0.5; the embed operation's 5.0 for the noise overshoots in short runs)
EMBED_LR_W, EMBED_LR_NOISE = 0.03, 0.5
#: where the rough subject comes from (see MatteParams.source)
SOURCES = ("auto", "generator", "person", "painted")
#: a cut-out covering less than this share of the photo is reported as empty
EMPTY_SHARE = 0.002


@dataclass
class MatteParams:
    """Settings of the ``matte`` operation."""

    source: str = param(
        "auto",
        help="where the subject comes from: auto (the person detector and the generator, "
        "weighted by how well the generator explains the photo), generator (its alpha "
        "alone), person (the person detector alone, no model), painted (your fg/bg "
        "strokes alone); painted strokes always win",
        choices=SOURCES,
    )
    steps_w: int = param(100, 0, 20000, "W+ steps of the FurryGAN embedding")
    steps_noise: int = param(50, 0, 20000, "noise-map steps of the embedding")
    band_px: int = param(0, 0, 1024, "half-width of the unknown band in photo pixels (0 = auto)")
    band_fraction: float = param(
        0.006, 0.0, 0.2, "auto band half-width as a fraction of the photo's longer side"
    )
    unsure: float = param(
        0.0,
        0.0,
        0.45,
        "generator alpha between this and 1 - this is left to the solver too (0 = the band only)",
    )
    colour_edge_px: int = param(
        512,
        0,
        4096,
        "snap the generator's edge to the colour edge (GrabCut), working at this long side in px; "
        "0 = keep the generator's edge",
    )
    refine: bool = param(True, help="refine the edge at full resolution (closed-form matting)")
    solve_px: int = param(
        1024,
        0,
        16384,
        "solve the edge at most at this long side in px; a bigger photo's alpha is carried up "
        "by a guided filter on its own colours (seconds instead of minutes at 12 megapixels; "
        "0 = solve at full resolution)",
    )
    seed: int = param(0, 0, 2**31 - 1, "seed of the embedding's starting noise")


@register
class Matte(Operation):
    """Alpha matte of a portrait: FurryGAN inversion, then full-resolution refinement."""

    name = "matte"
    title = "Cut out subject"
    description = (
        "Find the person (and the FurryGAN alpha, as far as the model explains the photo), "
        "snap the edge to the colours and refine it at full resolution (hair strands "
        "included). Paint fg/bg/unknown masks or a trimap to correct it."
    )
    inputs = (
        Slot("photo", "image"),
        Slot("placement", "placement", optional=True, help="model crop (default: centred)"),
        Slot("fg_mask", "mask", role="fg_strokes", optional=True, help="painted: surely subject"),
        Slot("bg_mask", "mask", role="bg_strokes", optional=True, help="painted: surely background"),
        Slot("unknown_mask", "mask", role="unknown", optional=True, help="painted: let the solver decide"),
        Slot("trimap", "mask", optional=True, help="a full trimap: skips the embedding"),
        Slot(
            "latent",
            "latent",
            region="placement",
            optional=True,
            help="a previous matte's latent of this photo: skips the embedding (fast re-runs "
            "after painting strokes)",
        ),
    )
    outputs = (
        Slot("alpha", "mask", role="alpha"),
        Slot("foreground", "rgba"),
        Slot("trimap", "mask"),
        Slot("generator_alpha", "mask", layer=False, optional=True),
        Slot("latent", "latent", optional=True),
    )
    Params = MatteParams
    archs = ("furrygan",)

    def run(self, gen, inputs: dict, params: MatteParams, progress: Progress) -> Result:
        """Embed (unless a trimap is given), refine, estimate the foreground."""
        self.check_inputs(inputs)
        photo = _as_rgb(inputs["photo"])
        names = ("fg_mask", "bg_mask", "unknown_mask")
        masks: dict[str, np.ndarray | None] = {k: inputs.get(k) for k in names}
        for name, m in masks.items():
            if m is not None:
                try:
                    check_same_size(name.replace("_", " "), np.asarray(m), photo.shape)
                except TrimapError as exc:
                    raise OperationError(str(exc)) from exc
        if inputs.get("trimap") is not None:
            out = _solve(photo, inputs["trimap"], None, params, progress, masks)
            return self._result(out, params)

        fg_mask, bg_mask = masks["fg_mask"], masks["bg_mask"]
        person = None
        if params.source in ("auto", "person"):
            progress.set_stage("person")
            person = person_prior(photo)
        latent = full_alpha = None
        embed_metrics: dict[str, float] = {}
        try:
            if params.source == "person":
                assert person is not None  # set above for this source
                rough = from_person(photo, params, person, fg_mask, bg_mask)
            elif params.source == "painted":
                rough = from_strokes(photo, params, fg_mask, bg_mask)
            else:
                placement = resolve_placement(photo, inputs.get("placement"), gen.resolution)
                if inputs.get("latent") is not None:
                    latent, crop_alpha, recon = self._reuse(gen, inputs["latent"], params)
                else:
                    worth = None
                    if person is not None and person.found:
                        worth = _noise_phase_worth(gen, photo, placement, person)
                    latent, crop_alpha, recon, embed_metrics = self._embed(
                        gen, placement.extract(photo), params, progress, worth
                    )
                full_alpha = upsample_alpha(crop_alpha, placement)
                progress.set_stage("segment")
                rough = from_generator(photo, placement, crop_alpha, recon, params, person, fg_mask, bg_mask)
        except TrimapError as exc:
            raise OperationError(str(exc)) from exc
        if progress.cancelled:
            raise Cancelled()
        out = _solve(photo, rough.trimap, rough.prior, params, progress, masks)
        out.metrics.update(embed_metrics)
        out.metrics.update(rough.metrics)
        out.metrics["band_px"] = rough.band
        result = self._result(out, params, rough.notes)
        if full_alpha is not None:
            result.outputs["generator_alpha"] = full_alpha
            result.outputs["latent"] = latent
        return result

    @staticmethod
    def _reuse(gen, latent, params: MatteParams):
        """A given latent (checked against the model) and its alpha."""
        import torch

        from latent_atelier.editors.inversion.embed import generator_device
        from latent_atelier.models.generator import LatentShapeError

        try:
            latent.validate(gen)
        except LatentShapeError as exc:
            raise OperationError(
                f"{exc}: that latent was made with another model; run matte without it to "
                "embed the photo again"
            ) from exc
        latent = latent.select(slice(0, 1)).to(generator_device(gen))
        with torch.no_grad():
            syn = gen.synthesize(latent, return_alpha=True)
        return latent, generator_alpha(syn), w_plus_image(gen, latent, params.seed)

    @staticmethod
    def _embed(gen, crop: np.ndarray, params: MatteParams, progress: Progress, refine_noise=None):
        import torch

        from latent_atelier.editors.inversion.embed import EmbedParams, embed_image

        progress.set_stage("embed")
        settings = EmbedParams(
            steps_w=params.steps_w,
            steps_noise=params.steps_noise,
            lr_w=EMBED_LR_W,
            lr_noise=EMBED_LR_NOISE,
            seed=params.seed,
        )
        outcome = embed_image(gen, crop, settings, progress=progress, refine_noise=refine_noise)
        with torch.no_grad():
            syn = gen.synthesize(outcome.latent, return_alpha=True)
        metrics = {f"embed_{k}": float(v) for k, v in outcome.metrics.items()}
        return outcome.latent, generator_alpha(syn), w_plus_image(gen, outcome.latent, params.seed), metrics

    @staticmethod
    def _result(out: MatteOutcome, params: MatteParams, notes: list[str] | None = None) -> Result:
        notes = list(notes or [])
        share = float((out.alpha >= 0.5).mean())
        out.metrics["subject_share"] = share
        if share < EMPTY_SHARE:
            notes.append(
                f"the cut-out is empty ({100 * share:.2f}% of the photo is subject): paint a few "
                "foreground strokes on the subject (a mask named 'fg ...'), or try another source "
                "(person for a photo of people, generator for the model's own kind of picture)"
            )
        return Result(
            {"alpha": out.alpha, "foreground": out.foreground, "trimap": out.trimap},
            metrics=out.metrics,
            params=vars(params).copy(),
            notes=notes,
        )

    def wants_generator(self, params: MatteParams) -> bool:
        """Sources person and painted need no model."""
        return params.source in ("auto", "generator")

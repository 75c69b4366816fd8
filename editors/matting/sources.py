"""Where the ``matte`` operation's rough subject comes from: its ``source`` setting.

- ``generator``: the FurryGAN alpha alone (:func:`latent_atelier.editors.matting.trimaps.auto_trimap`);
- ``auto``: the person prior and the generator alpha fused by trust (the generator's fit of
  the crop and the person prior's confidence, :mod:`latent_atelier.editors.matting.trust`).
  When the generator leads (trust >= ``GENERATOR_LEADS``), the ``generator`` rule runs on the
  fused prior, and the person prior adds the subject outside the crop; otherwise the person
  prior's trimap (sure margins, colour edge, filled holes, a wider band in the hair). No
  person found: a note and the ``generator`` rule;
- ``person``: the person prior alone (no model);
- ``painted``: the painted fg / bg strokes alone (no model).

Strokes win in every source. Each returns a :class:`Rough`: the trimap for closed-form
matting, the soft prior that fills unsolved pixels, the band width, metrics and notes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING

import cv2
import numpy as np

from latent_atelier.editors.matting.fusion import fused_prior, fused_trimap, strokes_prior
from latent_atelier.editors.matting.priors import PersonPrior
from latent_atelier.editors.matting.refine import painted_pixels, upsample_alpha
from latent_atelier.editors.matting.trimaps import auto_trimap, band_pixels, placement_footprint
from latent_atelier.editors.matting.trust import GENERATOR_LEADS, Fit, agreement, crop_fit
from latent_atelier.editors.operation import OperationError
from latent_atelier.editors.placement import Placement

if TYPE_CHECKING:
    from latent_atelier.editors.matting.matte import MatteParams


@dataclass
class Rough:
    """A trimap and what it was made from."""

    trimap: np.ndarray
    prior: np.ndarray  # soft subject, fills pixels the solver does not reach
    band: float
    metrics: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _painted(mask: np.ndarray | None, shape: tuple[int, int], what: str) -> np.ndarray | None:
    return None if mask is None else painted_pixels(mask, shape, what)


#: the person-led trimap is built on a copy no longer than this (px); a bigger photo's trimap
#: is upsampled (its band is tens of pixels wide there, so two-pixel steps do not matter, and
#: painted strokes are applied again at full resolution before the solve)
TRIMAP_SIDE = 2048


def _fused(
    photo: np.ndarray,
    prior: np.ndarray,
    params: MatteParams,
    person: PersonPrior | None,
    fg_mask,
    bg_mask,
    placement: Placement | None,
    sure: bool = True,
) -> Rough:
    band = band_pixels(photo.shape, params.band_px, params.band_fraction, placement, params.colour_edge_px)
    shape = photo.shape[:2]
    fg_paint = _painted(fg_mask, shape, "foreground mask")
    bg_paint = _painted(bg_mask, shape, "background mask")
    scale = min(1.0, TRIMAP_SIDE / max(shape))
    work_photo, work_prior = photo, prior
    if scale < 1.0:  # build the trimap on a smaller copy, then bring it back to full size
        size = (max(1, round(shape[1] * scale)), max(1, round(shape[0] * scale)))
        area = partial(cv2.resize, dsize=size, interpolation=cv2.INTER_AREA)
        nearest = partial(cv2.resize, dsize=size, interpolation=cv2.INTER_NEAREST)
        work_photo = np.clip(area(np.ascontiguousarray(photo, np.float32)), 0.0, 1.0)
        work_prior = area(np.asarray(prior, np.float32))
        fg_paint = None if fg_paint is None else nearest(fg_paint.astype(np.uint8)) > 0
        bg_paint = None if bg_paint is None else nearest(bg_paint.astype(np.uint8)) > 0
    trimap, _edge = fused_trimap(
        work_photo,
        work_prior,
        band * scale,
        person=person,
        fg_paint=fg_paint,
        bg_paint=bg_paint,
        unsure=params.unsure,
        colour_edge_px=params.colour_edge_px,
        sure=sure,
    )
    if scale < 1.0:
        trimap = cv2.resize(trimap, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST)
    return Rough(trimap, prior, band)


def generator_fit(
    photo: np.ndarray,
    placement: Placement,
    crop_alpha: np.ndarray,
    reconstruction: np.ndarray,
    person: PersonPrior,
) -> Fit:
    """The generator's fit of the crop inside the person, and its agreement with them."""
    full = person.resized(photo.shape[:2]).mask
    person_crop = np.clip(placement.extract(full, border="constant"), 0.0, 1.0)
    psnr, lpips = crop_fit(reconstruction, placement.extract(photo), person_crop)
    return Fit(psnr, lpips, agreement(crop_alpha, person_crop), person.confidence)


def from_generator(
    photo: np.ndarray,
    placement: Placement,
    crop_alpha: np.ndarray,
    reconstruction: np.ndarray | None,
    params: MatteParams,
    person: PersonPrior | None = None,
    fg_mask: np.ndarray | None = None,
    bg_mask: np.ndarray | None = None,
) -> Rough:
    """Source ``generator`` (``person`` None) or ``auto`` (with the photo's person prior).

    ``reconstruction`` is what the embedding's W+ rows draw (see ``matte.w_plus_image``): the
    generator's fit, and so its trust, is judged on it.
    """
    full_alpha = upsample_alpha(crop_alpha, placement)
    if person is None or not person.found or reconstruction is None:
        trimap, band = auto_trimap(photo, full_alpha, params, placement, fg_mask, bg_mask)
        rough = Rough(trimap, full_alpha, band)
        if person is not None:
            rough.notes.append(f"{person.note}: the generator's alpha and the colour edge decide")
        return rough
    fit = generator_fit(photo, placement, crop_alpha, reconstruction, person)
    trust = fit.trust()
    prior = fused_prior(photo.shape[:2], person, full_alpha, trust, placement_footprint(placement))
    if trust >= GENERATOR_LEADS:
        subject_outside = person.resized(photo.shape[:2]).mask >= 0.5
        trimap, band = auto_trimap(photo, prior, params, placement, fg_mask, bg_mask, subject_outside)
        rough = Rough(trimap, prior, band)
    else:
        rough = _fused(photo, prior, params, person, fg_mask, bg_mask, placement)
    rough.metrics.update(
        fit_psnr=fit.psnr,
        fit_lpips=fit.lpips,
        fit_agreement=float(fit.agreement or 0.0),
        person_confidence=fit.person_confidence,
        trust=trust,
        generator_leads=float(trust >= GENERATOR_LEADS),
        faces=float(person.faces),
    )
    if fit.note():
        rough.notes.append(fit.note())
    return rough


def from_person(
    photo: np.ndarray,
    params: MatteParams,
    person: PersonPrior,
    fg_mask: np.ndarray | None = None,
    bg_mask: np.ndarray | None = None,
) -> Rough:
    """Source ``person``: the person prior alone; no person is an error that says what to do."""
    if not person.found:
        raise OperationError(
            f"{person.note}; choose source 'generator', or paint fg and bg "
            "strokes and choose source 'painted'"
        )
    prior = fused_prior(photo.shape[:2], person, None, 0.0, None)
    rough = _fused(photo, prior, params, person, fg_mask, bg_mask, None)
    rough.metrics["faces"] = float(person.faces)
    return rough


def from_strokes(
    photo: np.ndarray, params: MatteParams, fg_mask: np.ndarray | None, bg_mask: np.ndarray | None
) -> Rough:
    """Source ``painted``: each pixel starts with the label of the nearer stroke."""
    shape = photo.shape[:2]
    fg = _painted(fg_mask, shape, "foreground mask")
    bg = _painted(bg_mask, shape, "background mask")
    if fg is None or bg is None or not fg.any() or not bg.any():
        raise OperationError(
            "source 'painted' needs a foreground and a background mask with "
            "strokes on both (or a trimap); paint both, or choose source 'auto'"
        )
    return _fused(photo, strokes_prior(shape, fg, bg), params, None, fg_mask, bg_mask, None, sure=False)

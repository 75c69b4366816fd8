"""Fusing the matte's priors into one rough subject, the colour edge's hard labels and a trimap.

The priors are the generator's alpha (weighted by how far it is trusted, see
:mod:`latent_atelier.editors.matting.trust`), the person prior
(:mod:`latent_atelier.editors.matting.priors`) and the painted strokes, which always win.
The generator only saw its placement crop: outside it the person prior speaks alone (the
crop is where the generator looks, not a wall). All maps are photo-sized; distances use
exact Euclidean distance transforms, so a 4000 x 3000 photo stays fast.
"""

from __future__ import annotations

import cv2
import numpy as np

from latent_atelier.editors.matting.priors import PersonPrior

#: sure labels for the colour edge start this fraction of the long side away from the prior's
#: edge (GrabCut may move the edge within that margin, never flip a whole region)
SURE_MARGIN = 0.03
#: ... and this many times farther outside the person where the prior says hair
HAIR_MARGIN_FACTOR = 2.5
#: the unknown band is this many times wider where the prior says hair
HAIR_BAND_FACTOR = 3.0
#: an enclosed hole of the subject is filled when at least this share of it is person (or face)
HOLE_PERSON_SHARE = 0.5


def fused_prior(
    shape: tuple[int, int],
    person: PersonPrior | None,
    generator_alpha: np.ndarray | None,
    trust: float,
    footprint: np.ndarray | None,
) -> np.ndarray:
    """The rough subject probability (H x W float32) from the person prior and the generator.

    Inside the placement's ``footprint`` it is ``trust * generator + (1 - trust) * person``;
    outside, the person prior alone. Without a person the generator's alpha is returned as it
    is (today's rule), without a generator alpha the person prior.
    """
    if person is None or not person.found:
        if generator_alpha is None:
            raise ValueError("need a generator alpha or a person prior")
        return np.asarray(generator_alpha, np.float32)
    p = person.resized(shape).mask
    if generator_alpha is None or trust <= 0.0:
        return p
    g = np.asarray(generator_alpha, np.float32)
    mixed = trust * g + (1.0 - trust) * p
    if footprint is None:
        return mixed.astype(np.float32)
    return np.where(footprint, mixed, p).astype(np.float32)


def _distance_inside(region: np.ndarray) -> np.ndarray:
    """Distance of each pixel of ``region`` to its outside (0 outside; large if all inside)."""
    if region.all():
        return np.full(region.shape, 1e9, np.float32)
    return cv2.distanceTransform(region.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)


def sure_labels(
    prior: np.ndarray, margin_px: float, hair_zone: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(sure subject, sure background): the prior's two sides, each shrunk by ``margin_px``.

    In the ``hair_zone`` the background is only sure :data:`HAIR_MARGIN_FACTOR` times farther
    away, since hair reaches past the person prior's smooth edge.
    """
    subject = np.asarray(prior, np.float32) >= 0.5
    sure_fg = _distance_inside(subject) > margin_px
    far_bg = _distance_inside(~subject)
    margin = np.full(subject.shape, margin_px, np.float32)
    if hair_zone is not None:
        margin[hair_zone] = margin_px * HAIR_MARGIN_FACTOR
    sure_bg = far_bg > margin
    return sure_fg, sure_bg


def with_strokes(
    sure_fg: np.ndarray,
    sure_bg: np.ndarray,
    fg_paint: np.ndarray | None,
    bg_paint: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Hard labels for the colour edge: the sure labels, overridden by painted strokes."""
    fg, bg = sure_fg.copy(), sure_bg.copy()
    if bg_paint is not None:
        fg &= ~bg_paint
        bg |= bg_paint
    if fg_paint is not None:
        bg &= ~fg_paint
        fg |= fg_paint
    return fg, bg


def fill_holes(subject: np.ndarray, person: np.ndarray, keep_open: np.ndarray | None = None) -> np.ndarray:
    """``subject`` with its enclosed holes filled where they are mostly ``person``.

    A hole is a piece of the background that does not touch the photo's border; it is filled
    when at least :data:`HOLE_PERSON_SHARE` of it is person (eyes and lips cut out by the colour
    edge), and kept when the prior sees background there too (the gap between an arm and the
    body). Pixels in ``keep_open`` (painted background) are never filled.
    """
    background = ~subject
    n, comp, stats, _ = cv2.connectedComponentsWithStats(background.astype(np.uint8), connectivity=4)
    if n <= 2:
        return subject
    border = np.unique(np.concatenate([comp[0], comp[-1], comp[:, 0], comp[:, -1]]))
    sizes = stats[:, cv2.CC_STAT_AREA]
    inside = np.bincount(comp[np.asarray(person, bool) & background], minlength=n)
    fill = inside >= HOLE_PERSON_SHARE * np.maximum(sizes, 1)
    fill[border] = False
    fill[0] = False
    out = subject | fill[comp]
    if keep_open is not None:
        out &= ~keep_open
    return out


def widen_in_hair(trimap: np.ndarray, edge: np.ndarray, band_px: float, hair_zone: np.ndarray) -> np.ndarray:
    """The trimap with every pixel of the ``hair_zone`` within ``HAIR_BAND_FACTOR * band_px``
    of the subject's edge made unknown (in place; returned for convenience)."""
    if not hair_zone.any() or edge.all() or not edge.any():
        return trimap
    to_edge = np.where(edge, _distance_inside(edge), _distance_inside(~edge))
    trimap[(to_edge <= HAIR_BAND_FACTOR * band_px) & hair_zone] = 0.5
    return trimap


def strokes_prior(shape: tuple[int, int], fg_paint: np.ndarray, bg_paint: np.ndarray) -> np.ndarray:
    """A rough subject from strokes alone: every pixel takes the label of the nearer stroke."""
    d_fg = cv2.distanceTransform((~fg_paint).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_5)
    d_bg = cv2.distanceTransform((~bg_paint).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_5)
    out = (d_fg < d_bg).astype(np.float32)
    out[bg_paint] = 0.0
    out[fg_paint] = 1.0
    return out


def fused_trimap(
    photo: np.ndarray,
    prior: np.ndarray,
    band_px: float,
    *,
    person: PersonPrior | None = None,
    fg_paint: np.ndarray | None = None,
    bg_paint: np.ndarray | None = None,
    unsure: float = 0.0,
    colour_edge_px: int = 512,
    sure: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """(trimap, subject edge) from a fused rough ``prior`` (photo-sized, see :func:`fused_prior`).

    1. Sure labels: the prior's two sides shrunk by :data:`SURE_MARGIN` of the long side
       (more outside the person where the prior says hair), overridden by the strokes;
       with ``sure=False`` (a prior guessed from strokes alone) only the strokes are sure.
    2. The colour edge (GrabCut) moves the edge within that margin (``colour_edge_px = 0``:
       the prior at 0.5, strokes applied).
    3. Enclosed holes that are mostly person (eyes, lips) are filled, unless painted background.
    4. An unknown band of ``band_px`` on both sides of the edge, :data:`HAIR_BAND_FACTOR` times
       wider where the prior says hair; the generator-style ``unsure`` rule on the prior.
    """
    from latent_atelier.editors.matting.colour_segmentation import segment_by_colour
    from latent_atelier.editors.matting.refine import generator_trimap

    h, w = prior.shape
    hair = face = None
    person_share = np.asarray(prior, np.float32)
    if person is not None and person.found:
        full = person.resized((h, w))
        hair, face = full.hair_zone, full.face_region
        person_share = np.maximum(full.mask, face.astype(np.float32))
    sure_fg, sure_bg = sure_labels(prior, SURE_MARGIN * max(h, w), hair)
    if not sure:
        sure_fg, sure_bg = np.zeros_like(sure_fg), np.zeros_like(sure_bg)
    if face is not None:
        sure_fg |= face
        sure_bg &= ~face
    hard_fg, hard_bg = with_strokes(sure_fg, sure_bg, fg_paint, bg_paint)
    if colour_edge_px > 0:
        edge = segment_by_colour(
            photo,
            prior,
            fg_mask=hard_fg.astype(np.float32),
            bg_mask=hard_bg.astype(np.float32),
            work_px=colour_edge_px,
        )
    else:
        edge = np.asarray(prior) >= 0.5
        edge = with_strokes(edge, ~edge, fg_paint, bg_paint)[0]
    edge = fill_holes(edge, person_share >= 0.5, keep_open=bg_paint)
    if fg_paint is not None:
        edge |= fg_paint
    fg_m = None if fg_paint is None else fg_paint.astype(np.float32)
    bg_m = None if bg_paint is None else bg_paint.astype(np.float32)
    trimap = generator_trimap(prior, band_px, unsure, fg_m, bg_m, edge=edge)
    if hair is not None:
        widen_in_hair(trimap, edge, band_px, hair)
    return trimap, edge

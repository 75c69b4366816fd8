"""The ``matte`` operation's trimap from a generator alpha: band width, colour edge, placement.

Today's rule for the generator's alpha alone (``source = generator``, and ``auto`` when no
person is found): the edge is the colour-segmented one seeded by the alpha (or the alpha at
0.5), the photo outside the placement is hard background for the colour edge, and the unknown
band is :func:`band_pixels` wide on both sides.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from latent_atelier.editors.matting.colour_segmentation import segment_by_colour
from latent_atelier.editors.matting.refine import generator_trimap, painted_pixels
from latent_atelier.editors.placement import Placement

if TYPE_CHECKING:
    from latent_atelier.editors.matting.matte import MatteParams

#: the auto band's minimum half-width, in model pixels. 4 rather than 2: with the demo model,
#: refinement's SAD, gradient, connectivity and IoU errors were lower with 4 on the 160
#: evaluation portraits and on 64 others (benchmarks/results/matting_eval*.json); MSE beats
#: the generator alpha on some subsets and not on others. Big photos may want a narrower band.
MODEL_PX_BAND = 4.0
#: the auto band's minimum half-width around a colour-segmented edge, in GrabCut working
#: pixels: 4, 6 and 8 gave the same errors on the evaluation portraits (within 1%)
COLOUR_EDGE_BAND = 4.0


def band_pixels(
    photo_shape: tuple[int, ...],
    band_px: int,
    band_fraction: float,
    placement: Placement | None = None,
    colour_edge_px: int = 0,
) -> float:
    """Half-width of the unknown band: ``band_px`` if set, else a fraction of the long side.

    The auto band is never narrower than how far the edge may be off: with colour
    segmentation at ``colour_edge_px`` (long side), :data:`COLOUR_EDGE_BAND` of its pixels;
    without, with a placement, :data:`MODEL_PX_BAND` model pixels seen on the photo (a
    low-resolution generator's upsampling alone blurs its edge over +-1 model pixel).
    """
    if band_px > 0:
        return float(band_px)
    long_side = max(photo_shape[:2])
    band = band_fraction * long_side
    if colour_edge_px > 0:
        band = max(band, COLOUR_EDGE_BAND * long_side / min(colour_edge_px, long_side))
    elif placement is not None:
        band = max(band, MODEL_PX_BAND / placement.scale)
    return max(1.0, band)


def auto_trimap(
    photo: np.ndarray,
    generator_alpha: np.ndarray,
    params: MatteParams,
    placement: Placement | None = None,
    fg_mask: np.ndarray | None = None,
    bg_mask: np.ndarray | None = None,
    subject_outside: np.ndarray | None = None,
) -> tuple[np.ndarray, float]:
    """The ``matte`` operation's trimap for a generator alpha on the photo, and its band.

    The edge is the colour-segmented one (``params.colour_edge_px > 0``) or the alpha at 0.5;
    the band is :func:`band_pixels`'s. Painted masks (photo-sized) move the edge; they are
    applied over the trimap afterwards by :func:`matte_from_trimap`. The photo outside the
    placement is hard background for the colour edge, except ``subject_outside`` (H x W bool:
    where another prior sees the subject beyond the crop).
    """
    band = band_pixels(photo.shape, params.band_px, params.band_fraction, placement, params.colour_edge_px)
    edge = None
    if params.colour_edge_px > 0:
        edge = segment_by_colour(
            photo,
            generator_alpha,
            fg_mask=fg_mask,
            bg_mask=_outside_is_background(photo, placement, bg_mask, subject_outside),
            work_px=params.colour_edge_px,
        )
    trimap = generator_trimap(generator_alpha, band, params.unsure, fg_mask, bg_mask, edge=edge)
    return trimap, band


def placement_footprint(placement: Placement) -> np.ndarray:
    """Boolean photo-sized map of the pixels the placement's crop covers (within one crop
    pixel of its edges, so a crop of the whole photo covers all of it)."""
    h, w = placement.photo_shape
    m = placement.matrix.astype(np.float32)
    ys = np.arange(h, dtype=np.float32)[:, None]
    xs = np.arange(w, dtype=np.float32)[None, :]
    inside = np.ones((h, w), bool)
    for row in m:
        c = row[0] * xs + row[1] * ys + row[2]
        inside &= (c > -1.0) & (c < placement.size)
    return inside


def _outside_is_background(
    photo: np.ndarray,
    placement: Placement | None,
    bg_mask: np.ndarray | None,
    subject_outside: np.ndarray | None = None,
) -> np.ndarray | None:
    """The painted background plus the photo outside the placement (less ``subject_outside``),
    as GrabCut's hard background: the generator said nothing there, and colour alone would
    otherwise pull in stray patches that resemble the subject (painted foreground still wins)."""
    if placement is None:
        return bg_mask
    outside = ~placement_footprint(placement)
    if subject_outside is not None:
        outside &= ~np.asarray(subject_outside, bool)
    if not outside.any():
        return bg_mask
    if bg_mask is None:
        return outside.astype(np.float32)
    painted = painted_pixels(bg_mask, outside.shape, "background mask")
    return (outside | painted).astype(np.float32)

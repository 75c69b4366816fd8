"""Full-resolution matte refinement: trimaps, closed-form matting, foreground colours.

Pure numpy / OpenCV / pymatting (no torch). The closed-form solver (Levin et al. 2008,
via ``pymatting.estimate_alpha_cf``) only runs inside the unknown band of the trimap:
the photo is cut into tiles, and only tiles that hold unknown pixels are solved, each on
a crop widened by a margin so that neighbouring tiles agree at their seams. Known pixels
come straight from the trimap. That keeps a 4000 x 3000 photo fast and small in memory.

Trimap convention: float ``H x W`` with 0 = background, 1 = foreground, 0.5 = unknown.
"""

from __future__ import annotations

import contextlib
import io
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed

import cv2
import numpy as np

from latent_atelier.editors.placement import Placement

TileCallback = Callable[[int, int], None]

UNKNOWN = 0.5
_SOFT_EPS = 1e-3


class TrimapError(ValueError):
    """A trimap or mask does not fit the photo it is used with."""


# ---------------------------------------------------------------- trimaps
def make_trimap(
    alpha: np.ndarray, band_px: float, fg_thresh: float = 0.95, bg_thresh: float = 0.05
) -> np.ndarray:
    """Trimap from a nearly binary alpha: sure fg/bg shrunk by ``band_px`` px, the rest unknown.

    A pixel is foreground when ``alpha >= fg_thresh`` and it lies more than ``band_px``
    from any pixel below that; background likewise with ``alpha <= bg_thresh``. Meant for
    a ground truth or a rough mask; a soft generator alpha gets :func:`generator_trimap`
    (on a soft alpha these thresholds leave almost everything unknown).
    """
    a = np.asarray(alpha, np.float32)
    if a.ndim != 2:
        raise TrimapError(f"alpha must be H x W, got shape {a.shape}")
    if band_px < 0:
        raise TrimapError(f"band_px must be >= 0, got {band_px}")
    fg = _shrink(a >= fg_thresh, band_px)
    bg = _shrink(a <= bg_thresh, band_px)
    trimap = np.full(a.shape, UNKNOWN, np.float32)
    trimap[bg] = 0.0
    trimap[fg] = 1.0
    return trimap


def generator_trimap(
    alpha: np.ndarray,
    band_px: float,
    unsure: float = 0.1,
    fg_mask: np.ndarray | None = None,
    bg_mask: np.ndarray | None = None,
    edge: np.ndarray | None = None,
) -> np.ndarray:
    """Trimap from a generator's (soft, low-resolution) alpha.

    The alpha is binarised at 0.5, or ``edge`` (a boolean subject mask such as
    :func:`editors.matting.colour_segmentation.segment_by_colour` gives) is used instead. Painted
    ``fg_mask`` / ``bg_mask`` pixels (> 0.5) move that boundary before anything else
    (background first, foreground wins), so an edge the user painted gets its own band.
    Pixels within ``band_px`` of the boundary, on either side, are unknown; so are those
    where the generator itself is unsure (``unsure < alpha < 1 - unsure``; ``unsure = 0``
    turns that off). The painted pixels themselves are not overridden here:
    :func:`apply_user_masks` does that afterwards.
    """
    a = np.asarray(alpha, np.float32)
    if a.ndim != 2:
        raise TrimapError(f"alpha must be H x W, got shape {a.shape}")
    if band_px < 0:
        raise TrimapError(f"band_px must be >= 0, got {band_px}")
    if not 0.0 <= unsure < 0.5:
        raise TrimapError(f"unsure must be in [0, 0.5), got {unsure}")
    if edge is not None:
        check_same_size("subject mask", np.asarray(edge), a.shape, "alpha")
    fg = a >= 0.5 if edge is None else np.asarray(edge, bool).copy()
    painted = np.zeros(a.shape, bool)
    for name, mask, value in (("background mask", bg_mask, False), ("foreground mask", fg_mask, True)):
        if mask is None:
            continue
        hit = painted_pixels(mask, a.shape, name, "alpha")
        fg[hit] = value
        painted |= hit
    trimap = np.full(a.shape, UNKNOWN, np.float32)
    trimap[_shrink(~fg, band_px)] = 0.0
    trimap[_shrink(fg, band_px)] = 1.0
    if unsure > 0:
        trimap[(a > unsure) & (a < 1.0 - unsure) & ~painted] = UNKNOWN
    return trimap


def _shrink(region: np.ndarray, band_px: float) -> np.ndarray:
    """Pixels of ``region`` farther than ``band_px`` from its outside (exact Euclidean)."""
    if band_px <= 0 or not region.any():
        return region
    if region.all():
        return region
    dist = cv2.distanceTransform(region.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    return dist > band_px


def normalise_trimap(trimap: np.ndarray, low: float = 0.1, high: float = 0.9) -> np.ndarray:
    """Snap a painted trimap (any grey levels in [0, 1]) to exactly 0 / 0.5 / 1."""
    t = np.asarray(trimap, np.float32)
    if t.ndim == 3:
        t = t[..., :3].mean(axis=2)
    if t.ndim != 2:
        raise TrimapError(f"a trimap must be H x W, got shape {t.shape}")
    out = np.full(t.shape, UNKNOWN, np.float32)
    out[t <= low] = 0.0
    out[t >= high] = 1.0
    return out


def check_same_size(what: str, arr: np.ndarray, shape: tuple[int, ...], photo: str = "photo") -> None:
    """Raise :class:`TrimapError` naming both sizes when ``arr`` is not ``shape[:2]``."""
    if tuple(arr.shape[:2]) != tuple(shape[:2]):
        raise TrimapError(
            f"the {what} is {arr.shape[1]}x{arr.shape[0]} but the {photo} is "
            f"{shape[1]}x{shape[0]}: resize or repaint the {what} to the {photo}'s size"
        )


def painted_pixels(
    mask: np.ndarray, shape: tuple[int, ...], what: str = "mask", other: str = "photo"
) -> np.ndarray:
    """Boolean H x W of the pixels painted in ``mask`` (> 0.5; first channel if H x W x C),
    after checking it is ``shape[:2]`` (:func:`check_same_size`'s error otherwise)."""
    m = np.asarray(mask)
    check_same_size(what, m, shape, other)
    return (m[..., 0] if m.ndim == 3 else m) > 0.5


def apply_user_masks(
    trimap: np.ndarray,
    fg_mask: np.ndarray | None = None,
    bg_mask: np.ndarray | None = None,
    unknown_mask: np.ndarray | None = None,
) -> np.ndarray:
    """Let painted masks (> 0.5 = painted) override the trimap; a new array is returned.

    Order of precedence (later wins): unknown, then background, then foreground.
    """
    out = np.array(trimap, np.float32, copy=True)
    for name, mask, value in (
        ("unknown mask", unknown_mask, UNKNOWN),
        ("background mask", bg_mask, 0.0),
        ("foreground mask", fg_mask, 1.0),
    ):
        if mask is not None:
            out[painted_pixels(mask, out.shape, name, "trimap")] = value
    return out


# ---------------------------------------------------------------- placement
def upsample_alpha(alpha_crop: np.ndarray, placement: Placement) -> np.ndarray:
    """The model-resolution alpha warped back onto the full photo (outside = 0)."""
    a = np.ascontiguousarray(alpha_crop, np.float32)
    if a.shape != (placement.size, placement.size):
        raise TrimapError(
            f"the generator alpha is {a.shape[1]}x{a.shape[0]}, the placement expects "
            f"{placement.size}x{placement.size}"
        )
    h, w = placement.photo_shape
    up = cv2.warpAffine(
        a,
        placement.inverse,
        (w, h),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0.0,
    )
    return np.clip(up, 0.0, 1.0).astype(np.float32)


# ---------------------------------------------------------------- tiling
Tile = tuple[slice, slice, slice, slice]  # outer_y, outer_x, core-in-outer y, core-in-outer x


def _tiles_with(
    active: np.ndarray,
    tile: int,
    margin: int,
    reach: np.ndarray | None = None,
    max_margin: int = 1024,
) -> list[Tile]:
    """Tiles of ``tile`` px that hold active pixels, each widened by its own margin.

    The margin is ``margin`` plus, with ``reach``, the largest ``reach`` of the tile's
    active pixels (capped at ``max_margin``): how far the solver must look to see both
    labels.
    """
    h, w = active.shape
    ny, nx = -(-h // tile), -(-w // tile)
    pad = np.zeros((ny * tile, nx * tile), bool)  # one reduction over a padded block view
    pad[:h, :w] = active
    hit = pad.reshape(ny, tile, nx, tile).any(axis=(1, 3))
    out = []
    for ty, tx in zip(*np.nonzero(hit)):
        y0, x0 = ty * tile, tx * tile
        y1, x1 = min(y0 + tile, h), min(x0 + tile, w)
        m = margin
        if reach is not None:
            core_reach = reach[y0:y1, x0:x1][active[y0:y1, x0:x1]]
            m += int(min(max_margin, np.ceil(core_reach.max())))
        oy0, ox0 = max(0, y0 - m), max(0, x0 - m)
        oy1, ox1 = min(h, y1 + m), min(w, x1 + m)
        out.append((slice(oy0, oy1), slice(ox0, ox1), slice(y0 - oy0, y1 - oy0), slice(x0 - ox0, x1 - ox0)))
    return out


def _run_tiles(
    tiles: list[Tile],
    solve: Callable[[Tile], np.ndarray | None],
    store: Callable[[Tile, np.ndarray], None],
    workers: int,
    on_tile: TileCallback | None,
) -> None:
    """Solve tiles (in threads when ``workers > 1``); store results in the calling thread.

    ``on_tile(i, n)`` runs after each stored tile; if it raises, the tiles not yet started
    are dropped and the exception propagates.
    """
    n = len(tiles)
    if workers <= 1 or n <= 1:
        for i, t in enumerate(tiles):
            res = solve(t)
            if res is not None:
                store(t, res)
            if on_tile is not None:
                on_tile(i + 1, n)
        return
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        futures = {pool.submit(solve, t): t for t in tiles}
        for i, fut in enumerate(as_completed(futures)):
            res = fut.result()
            if res is not None:
                store(futures[fut], res)
            if on_tile is not None:
                on_tile(i + 1, n)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def default_workers() -> int:
    """Threads for tile solving: the CPU count, at most 4 (pymatting's kernels drop the GIL)."""
    return max(1, min(4, os.cpu_count() or 1))


def _check_image(image: np.ndarray, other: np.ndarray, what: str) -> np.ndarray:
    img = np.asarray(image)
    if img.ndim != 3 or img.shape[2] < 3:
        raise TrimapError(f"the photo must be H x W x 3, got shape {img.shape}")
    check_same_size(what, other, img.shape)
    return img[..., :3]


# ---------------------------------------------------------------- alpha
_ICHOL_LOCK = threading.Lock()


def _quiet_ichol(matrix):
    """pymatting's incomplete-Cholesky preconditioner, starting with a small diagonal shift.

    The unshifted attempt usually fails on a matting Laplacian; any shift still gives a
    valid preconditioner. pymatting prints a "PERFORMANCE WARNING" to stdout for each
    failed shift; that chatter is dropped (under a lock, as stdout is process-wide).
    """
    from pymatting import ichol

    with _ICHOL_LOCK, contextlib.redirect_stdout(io.StringIO()):
        return ichol(matrix, shifts=[1e-4, 1e-3, 1e-2, 0.1, 1.0, 10.0, 100.0])


def count_tiles(mask: np.ndarray, tile: int = 512) -> int:
    """How many tiles of ``tile`` px hold a pixel of ``mask`` (for progress totals)."""
    return len(_tiles_with(np.asarray(mask, bool), tile, 0))


def unknown_region(trimap: np.ndarray) -> np.ndarray:
    """Boolean mask of the trimap's unknown pixels."""
    return (trimap > 0.0) & (trimap < 1.0)


def _distance_to(region: np.ndarray) -> np.ndarray:
    """Euclidean distance of every pixel to the nearest pixel of ``region`` (large if none)."""
    if not region.any():
        return np.full(region.shape, 1e9, np.float32)
    return cv2.distanceTransform((~region).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_5)


def _coarse_guide(
    img: np.ndarray,
    tri: np.ndarray,
    fallback: np.ndarray | None,
    levels: int,
    settings: dict,
    on_tile: TileCallback | None,
    tolerance: float = 0.01,
    keep_px: int = 2,
) -> tuple[np.ndarray, np.ndarray]:
    """Solve at half resolution; return a narrower trimap and the upsampled alpha."""
    h, w = tri.shape
    size = ((w + 1) // 2, (h + 1) // 2)
    small_img = cv2.resize(np.ascontiguousarray(img, np.float32), size, interpolation=cv2.INTER_AREA)
    small_tri = _shrunk_trimap(tri, size)
    small_fb = None
    if fallback is not None:
        small_fb = cv2.resize(np.asarray(fallback, np.float32), size, interpolation=cv2.INTER_AREA)
    small = refine_alpha(
        small_img, small_tri, fallback=small_fb, coarse_levels=levels - 1, on_tile=on_tile, **settings
    )
    up = np.clip(cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR), 0.0, 1.0)
    unknown = unknown_region(tri)
    soft = unknown & (up > tolerance) & (up < 1.0 - tolerance)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * keep_px + 1, 2 * keep_px + 1))
    still_unknown = unknown & (cv2.dilate(soft.astype(np.uint8), kernel) > 0)
    guide = tri.copy()
    settled = unknown & ~still_unknown
    guide[settled] = np.where(up[settled] >= 0.5, 1.0, 0.0)
    return guide, up


def _shrunk_trimap(tri: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``tri`` at ``size`` (w, h): known only where every covered pixel was known."""
    area = cv2.resize(tri, size, interpolation=cv2.INTER_AREA)
    small = np.full(area.shape, UNKNOWN, np.float32)
    small[area >= 1.0 - 1e-6] = 1.0
    small[area <= 1e-6] = 0.0
    return small


def _solve_small(
    img: np.ndarray,
    tri: np.ndarray,
    fallback: np.ndarray | None,
    work_side: int,
    settings: dict,
    on_tile: TileCallback | None,
) -> np.ndarray:
    """Solve at ``work_side`` px on the longer side, then guided-upsample into the unknown band."""
    from latent_atelier.editors.matting.guided_upsample import guided_upsample

    h, w = tri.shape
    scale = work_side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small_img = cv2.resize(np.ascontiguousarray(img, np.float32), size, interpolation=cv2.INTER_AREA)
    small_img = np.clip(small_img, 0.0, 1.0)  # area resampling can overshoot by an ulp
    small_fb = None
    if fallback is not None:
        small_fb = cv2.resize(np.asarray(fallback, np.float32), size, interpolation=cv2.INTER_AREA)
    small = refine_alpha(small_img, _shrunk_trimap(tri, size), fallback=small_fb, on_tile=on_tile, **settings)
    alpha = np.where(tri >= 1.0, 1.0, 0.0).astype(np.float32)
    unknown = unknown_region(tri)
    if unknown.any():
        up = guided_upsample(small, small_img, img, where=unknown)
        alpha[unknown] = up[unknown]
    return alpha


def refine_alpha(
    image: np.ndarray,
    trimap: np.ndarray,
    *,
    method: str = "cf",
    tile: int = 512,
    margin: int = 16,
    epsilon: float = 1e-7,
    rtol: float = 1e-5,
    max_iter: int = 10000,
    fallback: np.ndarray | None = None,
    workers: int | None = None,
    coarse_levels: int | None = None,
    coarse_target: int = 250_000,
    work_side: int = 0,
    on_tile: TileCallback | None = None,
) -> np.ndarray:
    """Closed-form matting solved only inside the trimap's unknown band, tile by tile.

    Each tile's crop reaches far enough to see both foreground and background pixels
    (plus ``margin``), so tiles agree at their seams. A wide band is first solved at half
    resolution (``coarse_levels`` times; default: as often as needed to bring the unknown
    pixels near ``coarse_target``, at most 3); the full-resolution solve then only covers
    pixels that came out soft there, the rest taking its 0/1 answer. ``fallback`` (H x W)
    fills unknown pixels that no solve reaches (default 0.5). ``on_tile(i, n)`` is called
    after each tile of each level and may raise to cancel; the inputs are never modified.

    With ``work_side`` > 0, a photo whose longer side exceeds it is solved at that longer side
    and the alpha carried up to full resolution by a guided filter
    (:func:`~latent_atelier.editors.matting.guided_upsample.guided_upsample`): seconds instead
    of minutes on a 12-megapixel portrait.
    """
    if method != "cf":
        raise ValueError(f"unknown matting method {method!r}; available: 'cf'")
    img = _check_image(image, trimap, "trimap")
    tri = np.asarray(trimap, np.float32)
    settings = {
        "method": method,
        "tile": tile,
        "margin": margin,
        "epsilon": epsilon,
        "rtol": rtol,
        "max_iter": max_iter,
        "workers": workers,
    }
    if 0 < work_side < max(tri.shape):
        return _solve_small(img, tri, fallback, work_side, settings, on_tile)
    unknown = unknown_region(tri)
    levels = coarse_levels
    if levels is None:
        levels, count = 0, int(unknown.sum())
        while count > coarse_target and levels < 3:
            levels, count = levels + 1, count // 4
    if levels > 0 and min(tri.shape) >= 64 and unknown.any():
        tri, fallback = _coarse_guide(img, tri, fallback, levels, settings, on_tile)
        unknown = unknown_region(tri)
    alpha = np.where(tri >= 1.0, 1.0, 0.0).astype(np.float32)
    alpha[unknown] = UNKNOWN if fallback is None else np.asarray(fallback, np.float32)[unknown]
    if not unknown.any():
        return alpha
    reach = np.maximum(_distance_to(tri >= 1.0), _distance_to(tri <= 0.0))
    tiles = _tiles_with(unknown, tile, margin, reach)
    del reach
    from pymatting import estimate_alpha_cf

    def solve(t: Tile) -> np.ndarray | None:
        oy, ox, _, _ = t
        crop = tri[oy, ox]
        has_fg, has_bg = bool((crop >= 1.0).any()), bool((crop <= 0.0).any())
        if not (has_fg and has_bg):
            if not (has_fg or has_bg):
                return None
            # a single known label in reach: the smooth solution is that constant
            return np.full(crop.shape, 1.0 if has_fg else 0.0, np.float32)
        try:
            solved = estimate_alpha_cf(
                img[oy, ox].astype(np.float64),
                crop.astype(np.float64),
                laplacian_kwargs={"epsilon": epsilon},
                cg_kwargs={"maxiter": max_iter, "rtol": rtol},
                preconditioner=_quiet_ichol,
            )
        except ValueError:  # the solver did not converge: keep the fallback there
            return None
        return solved.astype(np.float32)

    def store(t: Tile, solved: np.ndarray) -> None:
        oy, ox, cy, cx = t
        core_u = unknown[oy, ox][cy, cx]
        alpha[oy, ox][cy, cx][core_u] = solved[cy, cx][core_u]

    _run_tiles(tiles, solve, store, workers or default_workers(), on_tile)
    return np.clip(alpha, 0.0, 1.0)


# ---------------------------------------------------------------- foreground
def soft_region(alpha: np.ndarray) -> np.ndarray:
    """Pixels that are neither fully opaque nor fully transparent."""
    return (alpha > _SOFT_EPS) & (alpha < 1.0 - _SOFT_EPS)


def estimate_foreground(
    image: np.ndarray,
    alpha: np.ndarray,
    *,
    tile: int = 512,
    margin: int = 32,
    workers: int | None = None,
    on_tile: TileCallback | None = None,
) -> np.ndarray:
    """Foreground colours (H x W x 3) freed of the old background where alpha is soft.

    Multi-level foreground estimation (Germer et al., ``pymatting.estimate_foreground_ml``)
    runs on tiles around the soft pixels only; opaque and fully transparent pixels keep
    the photo's colour (so straight-alpha exports keep colour under transparent pixels).
    """
    img = _check_image(image, alpha, "alpha")
    a = np.asarray(alpha, np.float32)
    fg = np.array(img, np.float32, copy=True)
    soft = soft_region(a)
    from pymatting import estimate_foreground_ml

    def solve(t: Tile) -> np.ndarray:
        oy, ox, _, _ = t
        est = estimate_foreground_ml(img[oy, ox].astype(np.float64), a[oy, ox].astype(np.float64))
        return np.clip(est, 0.0, 1.0).astype(np.float32)

    def store(t: Tile, est: np.ndarray) -> None:
        oy, ox, cy, cx = t
        core_soft = soft[oy, ox][cy, cx]
        fg[oy, ox][cy, cx][core_soft] = est[cy, cx][core_soft]

    _run_tiles(_tiles_with(soft, tile, margin), solve, store, workers or default_workers(), on_tile)
    return fg

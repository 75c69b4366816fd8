"""Level-set refinement of segment boundaries (Futschik et al., "Real Image Inversion via
Segments", sec. 2.3; Osher & Sethian 1988), with an absolute, perceptual speed and holes.

Change map: the photo and each refined segment's edited image are converted to CIELAB, their
difference is blurred (a Gaussian of ``BLUR_SIGMA`` px per channel, the spatial filtering
step of S-CIELAB, so pixel-level grain that averages out is not counted as change) and its
length is ``dE``, a CIE76 colour difference: 1 is about the smallest difference a viewer can
see side by side, 2.3 one "just noticeable difference".

Speed: ``F = clip((dE - threshold) / threshold, 0, 1)``: zero for an invisible change (below
``threshold`` dE), full speed from twice the threshold. A boundary therefore never moves
for an edit nobody can see, whatever the edit's largest difference is.

Each refined segment ``k`` has a signed distance function ``phi_k`` (positive inside)
that shrinks by::

    phi_t = -F_k |grad phi|_upwind + curvature * F_k * kappa |grad phi|

(Godunov upwind gradient, CFL-stable time step; the curvature term keeps the front smooth and
is scaled by ``F`` so nothing moves where ``F = 0``). A shrinking front cannot open a hole,
so with ``holes`` the level set is first re-seeded from the thresholded change map: every
connected region of the segment that changed strongly (``dE >= 2 * threshold``, at least
``min_hole`` px and at most ``MAX_HOLE_FRACTION`` of the segment, so a global edit is not
cut out whole) is removed, wherever it lies; the front then moves on from the new
boundaries through the soft margin around them. The number of steps follows the distance to
move: twice the time a full-speed front needs to cross the widest changed band next to a
boundary (at most ``max_move`` px).

Pixels a segment gives up go to the neighbouring region (label 0, a segment that is not
refined, or a refined segment whose own image did not change there) nearest to them if it
is within ``max_move`` px, else to label 0 (the photo). Away from holes no pixel further
than ``max_move`` from an original boundary changes, and each region's deepest unchanged
pixel is pinned so no id disappears. The result is always a partition with the same ids.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import cv2
import numba
import numpy as np
from scipy import ndimage

from latent_atelier.editors.operation import OperationError

BLUR_SIGMA = 1.0  # px, on the Lab difference
DEFAULT_THRESHOLD = 2.5  # CIE76 dE: about one just-noticeable difference
STRONG_FACTOR = 2.0  # full speed, and cut out as a hole, from this many thresholds
MAX_HOLE_FRACTION = 0.5  # a changed region larger than this share of its segment is no hole


@numba.njit(cache=True, nogil=True)
def _evolve(phi, speed, dt, eps, band, steps):  # pragma: no cover - compiled
    """``steps`` explicit steps of the shrinking level-set PDE on ``phi`` (in place)."""
    h, w = phi.shape
    new = phi.copy()
    for _ in range(steps):
        for i in range(h):
            im, ip = max(i - 1, 0), min(i + 1, h - 1)
            for j in range(w):
                p = phi[i, j]
                f = speed[i, j]
                if f <= 0.0 or abs(p) > band:
                    new[i, j] = p
                    continue
                jm, jp = max(j - 1, 0), min(j + 1, w - 1)
                dxm = p - phi[i, jm]
                dxp = phi[i, jp] - p
                dym = p - phi[im, j]
                dyp = phi[ip, j] - p
                grad = np.sqrt(
                    max(dxm, 0.0) ** 2 + min(dxp, 0.0) ** 2 + max(dym, 0.0) ** 2 + min(dyp, 0.0) ** 2
                )
                px = 0.5 * (phi[i, jp] - phi[i, jm])
                py = 0.5 * (phi[ip, j] - phi[im, j])
                pxx = phi[i, jp] - 2.0 * p + phi[i, jm]
                pyy = phi[ip, j] - 2.0 * p + phi[im, j]
                pxy = 0.25 * (phi[ip, jp] - phi[ip, jm] - phi[im, jp] + phi[im, jm])
                kappa_grad = (pxx * py * py - 2.0 * px * py * pxy + pyy * px * px) / (
                    px * px + py * py + 1e-8
                )
                new[i, j] = p - dt * f * grad + dt * eps * f * kappa_grad
        phi[:, :] = new
    return phi


def to_lab(image: np.ndarray) -> np.ndarray:
    """sRGB in [0, 1] (H x W x 3) to CIELAB (L in [0, 100]), float32."""
    rgb = np.clip(np.asarray(image, np.float32), 0.0, 1.0)
    return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2Lab)


def change_map(photo_lab: np.ndarray, edited: np.ndarray) -> np.ndarray:
    """``dE`` per pixel: length of the blurred Lab difference between ``edited`` and the photo."""
    diff = to_lab(edited) - photo_lab
    own = np.sqrt((diff * diff).sum(axis=-1))
    if not BLUR_SIGMA:
        return own
    local = cv2.GaussianBlur(diff, (0, 0), BLUR_SIGMA, borderType=cv2.BORDER_REFLECT)
    return np.minimum(own, np.sqrt((local * local).sum(axis=-1)))


def speed_from_change(delta_e: np.ndarray, threshold: float) -> np.ndarray:
    """``F`` in [0, 1]: 0 below ``threshold`` dE, 1 from ``STRONG_FACTOR`` times it."""
    span = (STRONG_FACTOR - 1.0) * threshold
    return np.clip((delta_e - threshold) / span, 0.0, 1.0).astype(np.float32)


def _signed_distance(inside: np.ndarray) -> np.ndarray:
    """Signed distance (positive inside, +-0.5 next to the boundary), float32."""
    if inside.all():
        return np.full(inside.shape, np.float32(1e6))
    if not inside.any():
        return np.full(inside.shape, np.float32(-1e6))
    d_in = _edt(inside)
    d_out = _edt(~inside)
    return np.where(inside, d_in - 0.5, 0.5 - d_out).astype(np.float32)


def _edt(mask: np.ndarray) -> np.ndarray:
    """Exact Euclidean distance of every ``True`` pixel to the nearest ``False`` one."""
    return cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)


def _crop_box(mask: np.ndarray, margin: int) -> tuple[slice, slice]:
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    h, w = mask.shape
    return (
        slice(max(rows[0] - margin, 0), min(rows[-1] + margin + 1, h)),
        slice(max(cols[0] - margin, 0), min(cols[-1] + margin + 1, w)),
    )


def _boundary_distance(labels: np.ndarray) -> np.ndarray:
    """Distance of every pixel to the nearest pixel that touches a different label."""
    edge = np.zeros(labels.shape, bool)
    dx = labels[:, 1:] != labels[:, :-1]
    dy = labels[1:, :] != labels[:-1, :]
    edge[:, 1:] |= dx
    edge[:, :-1] |= dx
    edge[1:, :] |= dy
    edge[:-1, :] |= dy
    if not edge.any():
        return np.full(labels.shape, np.inf, np.float32)
    return _edt(~edge)


def _holes(mask: np.ndarray, strong: np.ndarray, min_hole: int) -> np.ndarray:
    """Connected strongly changed regions of ``mask`` worth cutting out (see module doc)."""
    comp, n = ndimage.label(mask & strong)
    if n == 0:
        return np.zeros(mask.shape, bool)
    sizes = np.bincount(comp.ravel())
    keep = (sizes >= max(min_hole, 1)) & (sizes <= MAX_HOLE_FRACTION * mask.sum())
    keep[0] = False
    return keep[comp]


def _check(labels, photo, edited, segments, threshold, max_move, curvature, reinit_every, min_hole):
    if photo.ndim != 3 or photo.shape[2] != 3 or labels.shape != photo.shape[:2]:
        raise OperationError(
            f"need labels H x W and photo H x W x 3 of the same size, got {labels.shape} and {photo.shape}"
        )
    if not np.issubdtype(labels.dtype, np.integer):
        raise OperationError("labels must be an integer array (0 = keep the photo)")
    if not threshold > 0:
        raise OperationError(f"threshold must be a colour difference > 0 dE, got {threshold}")
    if reinit_every < 1 or max_move < 0 or curvature < 0 or min_hole < 1:
        raise OperationError("max_move and curvature must be >= 0, reinit_every and min_hole >= 1")
    present = [int(k) for k in np.unique(labels)]
    if segments is None:
        segments = [k for k in present if k > 0]
    unknown = sorted(set(segments) - set(present))
    if unknown:
        raise OperationError(f"segments {unknown} do not occur in the label map")
    if isinstance(edited, Mapping):
        missing = [k for k in segments if k not in edited]
        if missing:
            raise OperationError(f"no edited image for segment(s) {missing}")
    for k in segments:
        image = np.asarray(edited[k] if isinstance(edited, Mapping) else edited)
        if image.shape != photo.shape:
            raise OperationError(
                f"edited image for segment {k} has shape {image.shape}, photo is {photo.shape}"
            )
    return present, list(segments)


def refine_labels(
    labels: np.ndarray,
    photo: np.ndarray,
    edited: Mapping[int, np.ndarray] | np.ndarray,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    holes: bool = True,
    min_hole: int = 16,
    iterations: int | None = None,
    dt: float | None = None,
    curvature: float = 0.2,
    max_move: float = 16,
    reinit_every: int = 10,
    segments: Sequence[int] | None = None,
) -> np.ndarray:
    """Move segment boundaries off pixels where the edited image visibly differs from the photo.

    ``labels``: H x W ints (0 = photo). ``edited``: ``{label: H x W x 3}`` (each segment's
    edited image) or one H x W x 3 composite used for every segment. ``threshold``: the
    smallest colour difference (CIE dE) that moves a boundary. ``holes``: cut strongly
    changed regions out wherever they lie (else only the fronts move). ``iterations``:
    level-set steps (default: from the distance to move). ``segments``: the labels to refine
    (default: every label > 0). ``dt`` defaults to 0.9 of the CFL limit. Returns a new label
    map with the same ids.
    """
    labels = np.asarray(labels)
    photo = np.asarray(photo, np.float32)
    present, segments = _check(
        labels, photo, edited, segments, threshold, max_move, curvature, reinit_every, min_hole
    )
    step = _time_step(dt, curvature, iterations)
    photo_lab = to_lab(photo)
    change = {}
    for k in segments:
        image = edited[k] if isinstance(edited, Mapping) else edited
        change[k] = change_map(photo_lab, image)
    speeds = {k: speed_from_change(change[k], threshold) for k in segments}
    moving = [k for k in segments if speeds[k].max() > 0]
    if not moving:
        return labels.copy()

    depth = _boundary_distance(labels)
    pins = _pins(labels, present, depth, speeds)
    band = _band(reinit_every, step, curvature)
    motion = _FrontMotion(holes, min_hole, max_move, step, curvature, band, reinit_every, iterations)
    strong = {k: change[k] >= STRONG_FACTOR * threshold for k in moving}
    kept = {k: _shrink(labels == k, speeds[k], strong[k], depth, motion) for k in moving}
    return _reassign(labels, kept, speeds, pins, max_move)


def grow_labels(
    labels: np.ndarray,
    before: Mapping[int, np.ndarray],
    after: Mapping[int, np.ndarray],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    max_move: float = 16,
) -> np.ndarray:
    """Grow each edited segment over the pixels next to it that its edit changed.

    The paper's refinement (Futschik et al., Fig. 7): ``before[k]`` and ``after[k]`` are
    segment ``k``'s generated image before and after its edit (H x W x 3 each), so their
    difference is the edit itself, not the inversion's error. Where the edit reaches
    across the segment's border (glasses, a fringe, a wider smile), the border moves
    outward over the changed pixels, up to ``max_move`` px, and stops where the edit left
    the picture alone; the seam then runs through unchanged pixels instead of cutting the
    new feature. A changed region larger than half the segment (a global edit) moves no
    border. Gained pixels are taken from their neighbours, each of which keeps at
    least its deepest pixel. :func:`refine_labels` is the opposite choice: the border
    retreats from changed pixels, so an edit never leaves the painted segment.
    """
    labels = np.asarray(labels)
    keys = list(after)
    if sorted(before) != sorted(keys):
        raise OperationError("grow_labels needs a before and an after image for the same segments")
    curvature, reinit_every, min_hole = 0.2, 10, 16  # refine_labels' defaults
    for k in keys:
        before_k = np.asarray(before[k], np.float32)
        _check(labels, before_k, after[k], [k], threshold, max_move, curvature, reinit_every, min_hole)
    step = _time_step(None, curvature, None)
    depth = _boundary_distance(labels)
    pins = _pins(labels, [int(k) for k in np.unique(labels)], depth, {})
    band = _band(reinit_every, step, curvature)
    motion = _FrontMotion(False, min_hole, max_move, step, curvature, band, reinit_every, None)
    out = labels.copy()
    for k in keys:
        speed = speed_from_change(change_map(to_lab(before[k]), after[k]), threshold)
        if speed.max() <= 0:
            continue
        outside = labels != k
        speed = speed * _features_reaching_out(labels == k, speed > 0)
        if speed.max() <= 0:
            continue
        reach = _edt(outside)  # the front moves at most max_move from this segment
        stays = _shrink(outside, speed, np.zeros(labels.shape, bool), reach, motion)
        out[outside & ~stays & ~pins] = k
    return out


def _features_reaching_out(segment: np.ndarray, changed: np.ndarray) -> np.ndarray:
    """The changed regions outside ``segment`` that touch it and are features, not a global
    edit: each at most ``MAX_HOLE_FRACTION`` of the segment's area (so an edit that changed
    the whole picture moves no border)."""
    touching = ndimage.binary_dilation(segment) & ~segment
    comp, n = ndimage.label(changed & ~segment)
    if n == 0:
        return np.zeros(segment.shape, bool)
    sizes = np.bincount(comp.ravel(), minlength=n + 1)
    keep = np.zeros(n + 1, bool)
    keep[np.unique(comp[touching & (comp > 0)])] = True
    keep &= sizes <= MAX_HOLE_FRACTION * segment.sum()
    keep[0] = False
    return keep[comp]


def _time_step(dt: float | None, curvature: float, iterations: int | None) -> float:
    """The level set's time step: ``dt``, or 0.9 of the CFL limit (checked either way)."""
    cfl = min(0.5, 0.25 / curvature if curvature > 0 else 0.5)
    step = 0.9 * cfl if dt is None else float(dt)
    if step <= 0 or step > cfl * 1.0001:
        raise OperationError(f"dt must be in (0, {cfl:.3g}] for a stable update")
    if iterations is not None and iterations < 0:
        raise OperationError("iterations must be >= 0 (or None: from the distance to move)")
    return step


def _band(reinit_every: int, step: float, curvature: float) -> float:
    """How far from the front (px) the update runs between re-initialisations."""
    return float(np.ceil(reinit_every * step * (1 + curvature))) + 3.0


def _pins(labels, present, depth, speeds) -> np.ndarray:
    """One pixel per id that never changes: the deepest one, unchanged if there is one."""
    pins = np.zeros(labels.shape, bool)
    for k in present:
        mask = labels == k
        score = np.where(mask, depth, -1.0)
        if k in speeds:
            calm = mask & (speeds[k] == 0)
            if calm.any():
                score = np.where(calm, depth, -1.0)
        pins.flat[int(np.argmax(score))] = True
    return pins


@dataclass(frozen=True)
class _FrontMotion:
    """How :func:`_shrink` moves a segment's front (the settings of :func:`refine_labels`)."""

    holes: bool
    min_hole: int
    max_move: float
    step: float
    curvature: float
    band: float
    reinit_every: int
    iterations: int | None


def _shrink(mask, speed, strong, depth, motion: _FrontMotion) -> np.ndarray:
    """The part of one segment ``mask`` that stays after re-seeding and the front's motion."""
    max_move, step, iterations = motion.max_move, motion.step, motion.iterations
    margin = int(max(motion.band, max_move)) + 2
    box = _crop_box(mask, margin)
    m, f = mask[box], speed[box]
    cut = _holes(m, strong[box], motion.min_hole) if motion.holes else np.zeros(m.shape, bool)
    inside = m & ~cut
    # the front may move up to max_move from an original boundary or from a hole
    reach = depth[box] <= max_move
    if cut.any():
        reach |= _edt(~cut) <= max_move
    fixed = inside & ~reach
    if iterations is None:
        front = inside & reach & (f > 0)
        dist = float(_edt(inside)[front].max()) if front.any() else 0.0
        iterations = int(np.ceil(2.0 * min(dist, max_move) / step))
    phi = _signed_distance(inside)
    done = 0
    while done < iterations:
        steps = min(motion.reinit_every, iterations - done)
        rates = (np.float32(step), np.float32(motion.curvature), np.float32(motion.band))
        phi = _evolve(phi, f, *rates, steps)
        inside = (phi > 0) | fixed
        phi = _signed_distance(inside)
        done += steps
    inside &= m
    inside &= ~_specks(inside, m, motion.min_hole)
    out = np.zeros(mask.shape, bool)
    out[box] = inside
    return out


def _specks(inside: np.ndarray, mask: np.ndarray, min_hole: int) -> np.ndarray:
    """Pieces of ``inside`` smaller than ``min_hole`` that the front cut off a larger part of
    ``mask`` (a segment drawn that small on purpose stays)."""
    comp, n = ndimage.label(inside)
    if n <= 1:
        return np.zeros(inside.shape, bool)
    sizes = np.bincount(comp.ravel())
    orig, _ = ndimage.label(mask)
    orig_sizes = np.bincount(orig.ravel())
    first = ndimage.minimum_position(np.arange(comp.size).reshape(comp.shape), comp, range(1, n + 1))
    parent = np.zeros(n + 1, np.int64)
    parent[1:] = [orig[p] for p in first]
    small = (sizes < min_hole) & (sizes < orig_sizes[parent])
    small[0] = False
    return small[comp]


def _reassign(labels, kept, speeds, pins, max_move) -> np.ndarray:
    """Give every released pixel to the nearest neighbouring region that suits it, else 0."""
    released = np.zeros(labels.shape, bool)
    for k, keep in kept.items():
        released |= (labels == k) & ~keep
    released &= ~pins
    out = labels.copy()
    if not released.any():
        return out
    owner = np.where(released, -1, labels)
    for k in kept:
        rel = released & (labels == k)
        if not rel.any():
            continue
        box = _crop_box(rel, int(max_move) + 2)
        others = (owner[box] >= 0) & (owner[box] != k)
        if not others.any():
            out[box][rel[box]] = 0
            continue
        dist, (iy, ix) = ndimage.distance_transform_edt(~others, return_indices=True)
        nearest = owner[box][iy, ix]
        ok = dist <= max_move
        for j, f in speeds.items():  # a refined neighbour only where its own image is unchanged
            ok &= ~((nearest == j) & (f[box] > 0))
        target = np.where(ok, nearest, 0)
        sub = out[box]
        sub[rel[box]] = target[rel[box]]
    return out.astype(labels.dtype, copy=False)

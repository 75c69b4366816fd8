"""Level-set refinement of segment boundaries (Futschik et al., "Real Image Inversion via
Segments", sec. 2.3; Osher & Sethian 1988).

Each segment ``k`` has a signed distance function ``phi_k`` (positive inside). Refined
segments evolve by::

    phi_t = -F_k |grad phi|_upwind + curvature * F_k * kappa |grad phi|

with ``F_k = |I - I_k|`` (colour distance between the photo and the segment's edited image,
lightly blurred and normalised to [0, 1] by the largest value over all segments). The first
term shrinks the segment out of pixels where its image disagrees with the photo (Godunov /
Osher-Sethian upwind gradient, CFL-stable time step); the second is a mean-curvature term,
scaled by ``F`` so that nothing moves where ``F = 0``. Label 0 (the photo itself) and
segments not being refined do not evolve, but every region keeps its own ``phi``; the label
of a pixel is the region whose ``phi`` is largest (winner takes all), so the result is
always a partition. All ``phi`` are re-initialised to exact signed distances of the
current partition (OpenCV's distance transform, on a crop around each region) every
``reinit_every`` steps, and only a narrow band around each boundary is evolved. Pixels
further than ``max_move`` from the original boundaries keep their original label, and each
region's deepest pixel is pinned so no id disappears. Where two refined segments meet, the
boundary moves into the one with the larger ``F`` at speed ``(F_a - F_b) / 2``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import cv2
import numba
import numpy as np
from scipy import ndimage

from latent_atelier.editors.operation import OperationError

F_BLUR_SIGMA = 1.0


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
                grad = np.sqrt(max(dxm, 0.0) ** 2 + min(dxp, 0.0) ** 2
                               + max(dym, 0.0) ** 2 + min(dyp, 0.0) ** 2)
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


def _difference_speed(
    photo: np.ndarray, edited: Mapping[int, np.ndarray] | np.ndarray, ids: Sequence[int]
) -> dict[int, np.ndarray]:
    """``F_k`` per refined segment, blurred and normalised to [0, 1] jointly."""
    raw = {}
    for k in ids:
        image = edited[k] if isinstance(edited, Mapping) else edited
        image = np.asarray(image, np.float32)
        if image.shape != photo.shape:
            raise OperationError(
                f"edited image for segment {k} has shape {image.shape}, photo is {photo.shape}"
            )
        diff = np.sqrt(((image - photo) ** 2).sum(axis=-1))
        raw[k] = ndimage.gaussian_filter(diff, F_BLUR_SIGMA) if F_BLUR_SIGMA else diff
    top = max((float(f.max()) for f in raw.values()), default=0.0)
    scale = 1.0 / top if top > 1e-6 else 0.0
    return {k: np.clip(f * scale, 0.0, 1.0).astype(np.float32) for k, f in raw.items()}


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
    return (slice(max(rows[0] - margin, 0), min(rows[-1] + margin + 1, h)),
            slice(max(cols[0] - margin, 0), min(cols[-1] + margin + 1, w)))


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
        return np.full(labels.shape, np.inf)
    return _edt(~edge)


def refine_labels(
    labels: np.ndarray,
    photo: np.ndarray,
    edited: Mapping[int, np.ndarray] | np.ndarray,
    *,
    iterations: int = 100,
    dt: float | None = None,
    curvature: float = 0.2,
    max_move: float = 16,
    reinit_every: int = 10,
    segments: Sequence[int] | None = None,
) -> np.ndarray:
    """Move segment boundaries away from pixels where the edited image disagrees with the photo.

    ``labels``: H x W ints (0 = photo). ``edited``: ``{label: H x W x 3}`` (each segment's
    edited image) or one H x W x 3 composite used for every segment. ``segments``: the labels
    to refine (default: every label > 0). ``dt`` defaults to 0.9 of the CFL limit. Returns a
    new label map with the same ids; no pixel further than ``max_move`` from an original
    boundary changes.
    """
    labels = np.asarray(labels)
    photo = np.asarray(photo, np.float32)
    if photo.ndim != 3 or photo.shape[2] != 3 or labels.shape != photo.shape[:2]:
        raise OperationError(
            f"need labels H x W and photo H x W x 3 of the same size, got {labels.shape} "
            f"and {photo.shape}"
        )
    if not np.issubdtype(labels.dtype, np.integer):
        raise OperationError("labels must be an integer array (0 = keep the photo)")
    if iterations < 0 or reinit_every < 1 or max_move < 0 or curvature < 0:
        raise OperationError("iterations, max_move and curvature must be >= 0, reinit_every >= 1")
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
    speeds = _difference_speed(photo, edited, segments)
    speeds = {k: f for k, f in speeds.items() if f.max() > 0}
    if not speeds or iterations == 0 or max_move == 0:
        return labels.copy()

    f_max = max(float(f.max()) for f in speeds.values())
    cfl = min(0.5, 0.25 / curvature if curvature > 0 else 0.5) / f_max
    step = 0.9 * cfl if dt is None else float(dt)
    if step <= 0 or step > cfl * 1.0001:
        raise OperationError(f"dt must be in (0, {cfl:.3g}] for a stable update")
    band = float(np.ceil(reinit_every * step * f_max * (1 + curvature))) + 3.0
    margin = int(band) + 2

    depth = _boundary_distance(labels)
    frozen = depth > max_move
    for k in present:  # keep every id: its deepest pixel never changes
        frozen.flat[int(np.argmax(np.where(labels == k, depth, -1.0)))] = True
    current = labels.copy()
    done = 0
    while done < iterations:
        steps = min(reinit_every, iterations - done)
        best = np.full(labels.shape, -np.inf, np.float32)
        winner = current.copy()
        for k in present:
            mask = current == k
            if not mask.any():
                continue
            box = _crop_box(mask, margin)
            phi = _signed_distance(mask[box])
            if k in speeds:
                phi = _evolve(phi, speeds[k][box], np.float32(step), np.float32(curvature),
                              np.float32(band), steps)
            better = phi > best[box]
            best[box] = np.where(better, phi, best[box])
            winner[box] = np.where(better, k, winner[box])
        current = np.where(frozen, labels, winner)
        done += steps
    return current.astype(labels.dtype, copy=False)

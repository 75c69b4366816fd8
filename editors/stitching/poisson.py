"""Gradient-domain stitching of per-segment images into one composite (Perez et al. 2003).

All segments are solved together in one sparse system over the unknown pixels
(``labels > 0``); pixels with label 0 keep the photo and act as Dirichlet boundary.

Discretisation (per channel, 4-neighbourhood ``N_p`` clipped to the image, so the image
border is a Neumann boundary)::

    |N_p| f_p - sum_{q in N_p, unknown} f_q = sum_{q in N_p, label 0} photo_q + sum_{q in N_p} v_pq

Guidance ``v_pq`` is defined once per edge, so ``v_qp = -v_pq`` always holds:

* ``p`` and ``q`` in the same segment ``k``: ``S_k(p) - S_k(q)`` (the segment's own gradient);
* ``p`` and ``q`` in different segments ``a`` and ``b``: the mean of both segments' gradients
  across the edge, ``(S_a(p) - S_a(q) + S_b(p) - S_b(q)) / 2`` -- each segment image covers
  the whole frame, so both gradients exist and neither side is favoured;
* ``p`` unknown in segment ``k`` and ``q`` in label 0: ``S_k(p) - S_k(q)``.

With ``seams="stronger"`` an edge between two segments takes, per channel, whichever of the
two segments' gradients has the larger magnitude (still antisymmetric). Segment borders
usually follow real edges; the mean of a sharp and a soft rendering of an edge halves it.

With ``mixed_gradients`` each edge takes, per channel, whichever of the guidance and the
photo's own gradient has the larger magnitude.

Screening (``screen`` = lambda > 0) adds a data term pulling every unknown pixel towards the
naive composite (Bhat et al.'s screened Poisson)::

    (|N_p| + lambda) f_p - sum_{q in N_p, unknown} f_q = ... + lambda * naive_p

It limits how far a seam's colour correction spreads: about ``1 / sqrt(lambda)`` px instead of
the whole segment. Without it, two segments whose images disagree by ``D`` across their seam
are each shifted by about ``D / 2`` everywhere (the correction is harmonic inside a segment).

Without any label-0 pixel and without screening the problem is pure Neumann and defined up
to a constant: one pixel is pinned while solving and the result is then shifted so that each
channel's mean equals the mean of the naive composite.

Solvers (``method``): ``"direct"`` (SuperLU, one factorisation for the three channels),
``"cg"`` (SciPy conjugate gradients, Jacobi preconditioner),
``"multigrid"`` (matrix-free aggregation multigrid preconditioning CG, float32, all channels
at once). ``"auto"`` picks ``"multigrid"``: it was the fastest in ``benchmarks/bench_poisson.py``.

The multigrid solve starts from the naive composite, works on the bounding box of the unknown
pixels only, and stops on the CG recurrence's residual (free: it comes out of the CG update).
Its speed comes from numba kernels compiled for three channels (cached on disk), fused
red-black Gauss-Seidel passes, a restriction that skips the pixels whose residual is known
to be zero, W-cycles below the finest level, and work arrays allocated once per solve; see
``benchmarks/bench_poisson.py`` for the variants it was measured against.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypedDict, Unpack

import numba
import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy import ndimage

from latent_atelier.editors.operation import OperationError

METHODS = ("auto", "direct", "cg", "multigrid")
DEFAULT_RTOL = 5e-5  # half the 1e-4 residual target of issue 5; 2e-5 cost one more cycle

_NC = 3  # colour channels; the grid kernels are compiled for exactly this many

SegmentImages = Mapping[int, np.ndarray] | np.ndarray


# --------------------------------------------------------------------------- inputs


def _check_inputs(
    photo: np.ndarray, labels: np.ndarray, segment_images: SegmentImages
) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
    """Validated photo (float32), segment images in label order, per-pixel index (-1 = photo)."""
    photo = np.asarray(photo)
    labels = np.asarray(labels)
    if photo.ndim != 3 or photo.shape[2] != 3:
        raise OperationError(f"photo must be H x W x 3, got shape {photo.shape}")
    if labels.shape != photo.shape[:2]:
        raise OperationError(f"labels shape {labels.shape} must match the photo's {photo.shape[:2]}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise OperationError("labels must be an integer array (0 = keep the photo)")
    if labels.min(initial=0) < 0:
        raise OperationError("labels must be >= 0 (0 = keep the photo)")
    ids = np.unique(labels[labels > 0])
    segs = _segment_list(segment_images, ids, photo.shape)
    lookup = np.full(int(labels.max(initial=0)) + 1, -1, dtype=np.int32)
    lookup[ids] = np.arange(ids.size)
    return photo.astype(np.float32, copy=False), segs, lookup[labels]


def _segment_list(segment_images: SegmentImages, ids: np.ndarray, shape: tuple[int, ...]) -> list[np.ndarray]:
    """Segment images as a list of H x W x 3 float32 arrays in the order of ``ids``."""
    if isinstance(segment_images, Mapping):
        missing = [int(i) for i in ids if int(i) not in segment_images]
        if missing:
            raise OperationError(f"no segment image for label(s) {missing}")
        arrays = [np.asarray(segment_images[int(i)], dtype=np.float32) for i in ids]
    else:
        stack = np.asarray(segment_images, dtype=np.float32)
        if stack.ndim != 4 or stack.shape[0] != ids.size:
            raise OperationError(
                f"segment_images array must be (S, H, W, 3) with S = {ids.size} "
                f"(one per label, in increasing label order), got shape {stack.shape}"
            )
        arrays = list(stack)
    for k, a in zip(ids, arrays):
        if a.shape != tuple(shape):
            raise OperationError(
                f"segment image {int(k)} must have the photo's shape {tuple(shape)}, got {a.shape}"
            )
    return arrays


def _composite(photo: np.ndarray, segs: list[np.ndarray], idx: np.ndarray) -> np.ndarray:
    out = photo.copy()
    boxes = ndimage.find_objects(idx + 1, max_label=len(segs))
    for k, (image, box) in enumerate(zip(segs, boxes)):
        if box is not None:
            np.copyto(out[box], image[box], where=(idx[box] == k)[..., None])
    return out


def naive_composite(photo: np.ndarray, labels: np.ndarray, segment_images: SegmentImages) -> np.ndarray:
    """Hard mask compositing: each pixel from its segment's image, the photo at label 0."""
    photo, segs, idx = _check_inputs(photo, labels, segment_images)
    return _composite(photo, segs, idx)


# --------------------------------------------------------------------------- system


@dataclass
class PoissonSystem:
    """The discrete system on the pixel grid: ``diag * f - sum w * f_nbr = b`` on ``unknown``.

    ``wx[i, j]`` couples (i, j) with (i, j+1), ``wy[i, j]`` couples (i, j) with (i+1, j); they
    are 1 between two unknown pixels and 0 otherwise. ``diag`` is 0 and ``b`` (H x W x 3) is 0
    off the unknowns. ``pinned`` is the pixel held fixed when there is no label 0 at all and
    no screening (a screening lambda is already in ``diag``, and ``lambda * naive`` in ``b``).
    """

    unknown: np.ndarray
    diag: np.ndarray
    wx: np.ndarray
    wy: np.ndarray
    b: np.ndarray
    pinned: tuple[int, int] | None


def _edge_guidance(
    segs: list[np.ndarray],
    idx: np.ndarray,
    naive: np.ndarray,
    photo: np.ndarray,
    axis: int,
    mixed: bool,
    seams: str = "mean",
) -> np.ndarray:
    """Guidance ``v_pq`` on every edge along ``axis`` (p = lower index), H' x W' x 3.

    Inside a segment the naive composite's gradient is the segment's own gradient; only the
    edges whose two ends have different labels are recomputed from the segment images:
    the mean of both segments' gradients (``seams="mean"``) or, per channel, the one of
    larger magnitude (``"stronger"``).
    """
    n = photo.shape[axis]
    lo: list[slice] = [slice(None), slice(None)]
    hi: list[slice] = [slice(None), slice(None)]
    lo[axis], hi[axis] = slice(0, n - 1), slice(1, n)
    v = naive[tuple(lo)] - naive[tuple(hi)]
    idx_p, idx_q = idx[tuple(lo)], idx[tuple(hi)]
    rows, cols = np.nonzero(idx_p != idx_q)
    if rows.size:
        a, b = idx_p[rows, cols], idx_q[rows, cols]
        a, b = np.where(a >= 0, a, b), np.where(b >= 0, b, a)  # label-0 side: other segment
        rq, cq = (rows + 1, cols) if axis == 0 else (rows, cols + 1)
        grads = np.zeros((2, rows.size, 3), np.float32)
        for k, image in enumerate(segs):
            for g, side in zip(grads, (a, b)):
                sel = side == k
                g[sel] = image[rows[sel], cols[sel]] - image[rq[sel], cq[sel]]
        if seams == "stronger":
            v[rows, cols] = np.where(np.abs(grads[0]) >= np.abs(grads[1]), grads[0], grads[1])
        else:
            v[rows, cols] = 0.5 * (grads[0] + grads[1])
    if mixed:
        g_photo = photo[tuple(lo)] - photo[tuple(hi)]
        v = np.where(np.abs(g_photo) > np.abs(v), g_photo, v)
    return v


def build_system(
    photo: np.ndarray,
    labels: np.ndarray,
    segment_images: SegmentImages,
    *,
    mixed_gradients: bool = False,
    screen: float = 0.0,
    seams: str = "mean",
) -> PoissonSystem:
    """Assemble the stitching system (see the module docstring for the discretisation)."""
    photo, segs, idx = _check_inputs(photo, labels, segment_images)
    return _build(photo, segs, idx, _composite(photo, segs, idx), mixed_gradients, screen, seams)


@numba.njit(cache=True, nogil=True)
def _assemble_rhs(photo, unknown, vx, vy, b):  # pragma: no cover - compiled
    """b at every unknown pixel: the guidance summed over its edges (``vx`` along rows, ``vy``
    along columns, as from ``_edge_guidance``) plus the photo at its label-0 neighbours."""
    h, w = unknown.shape
    for i in range(h):
        for j in range(w):
            if not unknown[i, j]:
                continue
            for c in range(_NC):
                acc = np.float32(0)
                if j < w - 1:
                    acc += vx[i, j, c] + (0 if unknown[i, j + 1] else photo[i, j + 1, c])
                if j > 0:
                    acc += -vx[i, j - 1, c] + (0 if unknown[i, j - 1] else photo[i, j - 1, c])
                if i < h - 1:
                    acc += vy[i, j, c] + (0 if unknown[i + 1, j] else photo[i + 1, j, c])
                if i > 0:
                    acc += -vy[i - 1, j, c] + (0 if unknown[i - 1, j] else photo[i - 1, j, c])
                b[i, j, c] = acc


SEAM_GUIDANCE = ("mean", "stronger")


def _check_options(screen: float, seams: str) -> float:
    screen = float(screen)
    if not np.isfinite(screen) or screen < 0:
        raise OperationError(f"screen must be a finite number >= 0 (0 = plain Poisson), got {screen}")
    if seams not in SEAM_GUIDANCE:
        raise OperationError(f"unknown seam guidance {seams!r}; choose one of {SEAM_GUIDANCE}")
    return screen


def _build(
    photo: np.ndarray,
    segs: list[np.ndarray],
    idx: np.ndarray,
    naive: np.ndarray,
    mixed: bool,
    screen: float = 0.0,
    seams: str = "mean",
) -> PoissonSystem:
    screen = _check_options(screen, seams)
    unknown = idx >= 0
    known = ~unknown
    h, w = unknown.shape
    b = np.zeros((h, w, 3), np.float32)
    if segs:
        vx = _edge_guidance(segs, idx, naive, photo, 1, mixed, seams)
        vy = _edge_guidance(segs, idx, naive, photo, 0, mixed, seams)
        _assemble_rhs(photo, unknown, vx, vy, b)
    diag = np.zeros((h, w), np.float32)
    diag[:, :-1] += 1
    diag[:, 1:] += 1
    diag[:-1, :] += 1
    diag[1:, :] += 1
    if screen > 0:
        diag += np.float32(screen)
        b += np.float32(screen) * naive * unknown[..., None]
    diag *= unknown
    wx = (unknown[:, :-1] & unknown[:, 1:]).astype(np.float32)
    wy = (unknown[:-1, :] & unknown[1:, :]).astype(np.float32)
    pinned = None
    if unknown.any() and not known.any() and screen == 0:
        pinned = (0, 0)
    return PoissonSystem(unknown, diag, wx, wy, b, pinned)


def _with_pinned_fixed(sys_: PoissonSystem, x0: np.ndarray) -> PoissonSystem:
    """Take the pinned pixel (value from ``x0``) out of the unknowns, into the neighbours' b."""
    if sys_.pinned is None:
        return sys_
    i, j = sys_.pinned
    h, w = sys_.unknown.shape
    unknown = sys_.unknown.copy()
    unknown[i, j] = False
    diag, b = sys_.diag.copy(), sys_.b.copy()
    diag[i, j] = 0
    b[i, j] = 0
    wx, wy = sys_.wx.copy(), sys_.wy.copy()
    for di, dj in ((0, 1), (1, 0), (0, -1), (-1, 0)):
        a, c = i + di, j + dj
        if 0 <= a < h and 0 <= c < w and unknown[a, c]:
            b[a, c] += x0[i, j]
    if j < w - 1:
        wx[i, j] = 0
    if j > 0:
        wx[i, j - 1] = 0
    if i < h - 1:
        wy[i, j] = 0
    if i > 0:
        wy[i - 1, j] = 0
    return PoissonSystem(unknown, diag, wx, wy, b, None)


# --------------------------------------------------------------------------- grid kernels
# Fields are channel-last (H x W x C float32). The multigrid works on padded grids: a ring of
# one cell with diag = 0 and zero weights surrounds every level, so the kernels need no
# boundary tests. There ``wx[i, j]`` couples (i, j) with (i, j+1) and ``wy[i, j]`` couples
# (i, j) with (i+1, j); all of diag, wx, wy have the padded grid's shape.
# The channel count is the compile-time constant ``_NC`` so the channel loops unroll.
# Reductions sum each row in float32 (that vectorises) and the rows in float64. The kernels
# are serial: ``parallel=True`` over rows was 5x slower on the shared 2-core machine (thread
# wake-ups under load cost more than the ~2 ms a kernel takes).

_KERNEL = {"cache": True, "nogil": True}


@numba.njit(**_KERNEL)
def _gauss_seidel_row(diag, wx, wy, u, b, i, colour):  # pragma: no cover - compiled
    """Gauss-Seidel update of the pixels of row ``i`` with (i + j) % 2 == colour."""
    for j in range(1 + (i + 1 + colour) % 2, u.shape[1] - 1, 2):
        d = diag[i, j]
        if d <= 0:
            continue
        e, f, n, s_ = wx[i, j - 1], wx[i, j], wy[i - 1, j], wy[i, j]
        inv = np.float32(1) / d  # stay in float32 (1.0 / d would promote to float64)
        for c in range(_NC):
            u[i, j, c] = inv * (
                b[i, j, c]
                + e * u[i, j - 1, c]
                + f * u[i, j + 1, c]
                + n * u[i - 1, j, c]
                + s_ * u[i + 1, j, c]
            )


@numba.njit(**_KERNEL)
def _gauss_seidel_sweep(diag, wx, wy, u, b, first, from_zero):  # pragma: no cover - compiled
    """Red-black Gauss-Seidel: a half-sweep of colour ``first``, then one of the other colour.

    Both run in one pass over memory: row i gets colour ``first`` while row i - 1 gets the
    other (its neighbours in rows i - 2 .. i are final by then), which gives exactly the
    result of two separate half-sweeps. ``from_zero``: start from u = 0 (u is overwritten;
    the first colour is then just b / diag).
    """
    h = u.shape[0]
    for i in range(1, h):
        if i < h - 1:
            if from_zero:
                u[i] = 0
                for j in range(1 + (i + 1 + first) % 2, u.shape[1] - 1, 2):
                    if diag[i, j] > 0:
                        for c in range(_NC):
                            u[i, j, c] = b[i, j, c] / diag[i, j]
            else:
                _gauss_seidel_row(diag, wx, wy, u, b, i, first)
        if i > 1:
            _gauss_seidel_row(diag, wx, wy, u, b, i - 1, 1 - first)


@numba.njit(**_KERNEL)
def _residual_restricted(diag, wx, wy, u, b, out, colour):  # pragma: no cover - compiled
    """Coarse (padded) ``out`` = 2 x 2 block sums of the fine residual ``b - A u``.

    With ``colour`` 0 or 1 only pixels with (i + j) % 2 == colour are summed: right after a
    Gauss-Seidel half-sweep of the other colour the residual there is zero. -1: all pixels.
    Off the unknowns diag, the weights and b are all 0, so those pixels add nothing.
    """
    h, w = u.shape[0], u.shape[1]
    hc = out.shape[0]
    step = 1 if colour < 0 else 2
    out[0] = 0
    out[hc - 1] = 0
    for ci in range(1, hc - 1):
        out[ci] = 0
        for i in range(2 * ci - 1, min(2 * ci + 1, h - 1)):
            for j in range(1 if colour < 0 else 1 + (i + 1 + colour) % 2, w - 1, step):
                d = diag[i, j]
                e, f, n, s_ = wx[i, j - 1], wx[i, j], wy[i - 1, j], wy[i, j]
                cj = (j - 1) // 2 + 1
                for c in range(_NC):
                    out[ci, cj, c] += b[i, j, c] - (
                        d * u[i, j, c]
                        - e * u[i, j - 1, c]
                        - f * u[i, j + 1, c]
                        - n * u[i - 1, j, c]
                        - s_ * u[i + 1, j, c]
                    )


@numba.njit(**_KERNEL)
def _add_prolonged(u, e, scale):  # pragma: no cover - compiled
    """u += scale * (piecewise-constant prolongation of the padded coarse field e)."""
    h, w = u.shape[0], u.shape[1]
    for i in range(1, h - 1):
        ci = (i - 1) // 2 + 1
        for j in range(1, w - 1):
            cj = (j - 1) // 2 + 1
            for c in range(_NC):
                u[i, j, c] += scale * e[ci, cj, c]


@numba.njit(**_KERNEL)
def _matvec_dot(diag, wx, wy, p, q):  # pragma: no cover - compiled
    """q = A p on the interior (the ring of q stays as it is); returns p . q per channel."""
    h, w = p.shape[0], p.shape[1]
    rows = np.zeros((h, _NC))
    for i in range(1, h - 1):
        acc = np.zeros(_NC, np.float32)
        for j in range(1, w - 1):
            d = diag[i, j]
            e, f, n, s_ = wx[i, j - 1], wx[i, j], wy[i - 1, j], wy[i, j]
            for c in range(_NC):
                v = (
                    d * p[i, j, c]
                    - e * p[i, j - 1, c]
                    - f * p[i, j + 1, c]
                    - n * p[i - 1, j, c]
                    - s_ * p[i + 1, j, c]
                )
                q[i, j, c] = v
                acc[c] += v * p[i, j, c]
        rows[i] = acc
    return rows.sum(axis=0)


@numba.njit(**_KERNEL)
def _channel_dots(x, y):  # pragma: no cover - compiled
    """Per-channel dot products of two H x W x C float32 arrays (row sums in float32,
    the total in float64)."""
    h, w = x.shape[0], x.shape[1]
    rows = np.zeros((h, _NC))
    for i in range(h):
        acc = np.zeros(_NC, np.float32)
        for j in range(w):
            for c in range(_NC):
                acc[c] += x[i, j, c] * y[i, j, c]
        rows[i] = acc
    return rows.sum(axis=0)


@numba.njit(**_KERNEL)
def _cg_step(x, r, p, q, alpha):  # pragma: no cover - compiled
    """x += alpha p; r -= alpha q (per channel); returns the new per-channel r . r."""
    h, w = x.shape[0], x.shape[1]
    rows = np.zeros((h, _NC))
    for i in range(h):
        acc = np.zeros(_NC, np.float32)
        for j in range(w):
            for c in range(_NC):
                x[i, j, c] += alpha[c] * p[i, j, c]
                v = r[i, j, c] - alpha[c] * q[i, j, c]
                r[i, j, c] = v
                acc[c] += v * v
        rows[i] = acc
    return rows.sum(axis=0)


@numba.njit(**_KERNEL)
def _cg_direction(p, z, beta):  # pragma: no cover - compiled
    """p = z + beta p (per channel), in place."""
    h, w = p.shape[0], p.shape[1]
    for i in range(h):
        for j in range(w):
            for c in range(_NC):
                p[i, j, c] = z[i, j, c] + beta[c] * p[i, j, c]


def _apply(diag: np.ndarray, wx: np.ndarray, wy: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``A u`` for the (unpadded) grid operator, in u's dtype (used for residual checks)."""
    out = diag[..., None] * u
    out[:, :-1] -= wx[..., None] * u[:, 1:]
    out[:, 1:] -= wx[..., None] * u[:, :-1]
    out[:-1, :] -= wy[..., None] * u[1:, :]
    out[1:, :] -= wy[..., None] * u[:-1, :]
    return out


# --------------------------------------------------------------------------- multigrid


@dataclass
class _Level:
    """A padded grid operator (see the kernels' comment)."""

    diag: np.ndarray
    wx: np.ndarray
    wy: np.ndarray

    @classmethod
    def padded(cls, diag: np.ndarray, wx: np.ndarray, wy: np.ndarray) -> _Level:
        """From unpadded diag (h, w), wx (h, w-1), wy (h-1, w)."""
        h, w = diag.shape
        pd = np.zeros((h + 2, w + 2), np.float32)
        px = np.zeros_like(pd)
        py = np.zeros_like(pd)
        pd[1:-1, 1:-1] = diag
        px[1:-1, 1:-2] = wx
        py[1:-2, 1:-1] = wy
        return cls(pd, px, py)

    def interior(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.diag[1:-1, 1:-1], self.wx[1:-1, 1:-2], self.wy[1:-2, 1:-1]


def _coarsen(lv: _Level) -> _Level:
    """Galerkin coarse operator for 2x2 aggregation (piecewise-constant prolongation)."""
    diag, wx_in, wy_in = lv.interior()
    h, w = diag.shape
    h2, w2 = (h + 1) // 2, (w + 1) // 2
    d = np.zeros((2 * h2, 2 * w2), np.float32)
    d[:h, :w] = diag
    wx = np.zeros((2 * h2, 2 * w2), np.float32)
    wx[:h, : w - 1] = wx_in
    wy = np.zeros((2 * h2, 2 * w2), np.float32)
    wy[: h - 1, :w] = wy_in

    def block_sum(a: np.ndarray) -> np.ndarray:  # four strided adds: far faster than .sum(axis)
        return a[0::2, 0::2] + a[0::2, 1::2] + a[1::2, 0::2] + a[1::2, 1::2]

    internal = block_sum(wx * (np.arange(2 * w2) % 2 == 0)) + block_sum(
        wy * (np.arange(2 * h2) % 2 == 0)[:, None]
    )
    diag_c = block_sum(d) - 2 * internal
    diag_c[np.abs(diag_c) < 1e-6] = 0
    cx = (wx[0::2, 1::2] + wx[1::2, 1::2])[:, : w2 - 1]
    cy = (wy[1::2, 0::2] + wy[1::2, 1::2])[: h2 - 1, :]
    return _Level.padded(diag_c, cx, cy)


class _Multigrid:
    """Symmetric multigrid preconditioner: red-black Gauss-Seidel smoothing (``sweeps``
    before and after the coarse correction), 2x2 aggregation with an over-corrected
    coarse-grid correction, SuperLU on the coarsest grid.

    The finest level visits the next level once; coarser levels visit theirs
    ``coarse_cycles`` times (2 = a W-cycle below the finest level: 8 instead of 10 PCG
    iterations for about 15% more work per cycle). The work arrays of every level are
    allocated once, so a cycle allocates nothing; the array it returns is overwritten by the
    next cycle.
    """

    def __init__(
        self,
        finest: _Level,
        *,
        coarse_size: int = 48,
        over: float = 1.8,
        coarse_cycles: int = 2,
        sweeps: int = 1,
    ):
        self.over = np.float32(over)
        self.sweeps = sweeps
        self.coarse_cycles = coarse_cycles
        self.levels = [finest]
        while max(self.levels[-1].diag.shape) > coarse_size + 2:
            self.levels.append(_coarsen(self.levels[-1]))
        self._u = [np.zeros((*lv.diag.shape, _NC), np.float32) for lv in self.levels]
        # right-hand sides of the coarse levels (the finest one comes from the caller)
        self._b = [np.empty(0, np.float32)] + [
            np.zeros((*lv.diag.shape, _NC), np.float32) for lv in self.levels[1:]
        ]
        last = self.levels[-1]
        self._coarse_flat = np.flatnonzero(last.diag > 0)
        self._coarse_lu = None
        if self._coarse_flat.size:
            a, _ = _to_sparse(last.diag, last.wx[:, :-1], last.wy[:-1, :])
            self._coarse_lu = spla.splu(a.tocsc())

    def vcycle(self, b: np.ndarray) -> np.ndarray:
        """Approximate ``A^-1 b`` on the finest level (padded arrays)."""
        return self._vcycle(b, 0)

    def _vcycle(self, b: np.ndarray, k: int) -> np.ndarray:
        if k == len(self.levels) - 1:
            return self._coarse_solve(b)
        lv, u, coarse = self.levels[k], self._u[k], self._b[k + 1]
        _gauss_seidel_sweep(lv.diag, lv.wx, lv.wy, u, b, 0, True)
        for _ in range(self.sweeps - 1):
            _gauss_seidel_sweep(lv.diag, lv.wx, lv.wy, u, b, 0, False)
        for cycle in range(self.coarse_cycles if k > 0 else 1):
            # after the colour-1 half-sweep only colour 0 has a residual (first pass)
            _residual_restricted(lv.diag, lv.wx, lv.wy, u, b, coarse, 0 if cycle == 0 else -1)
            _add_prolonged(u, self._vcycle(coarse, k + 1), self.over)
        for _ in range(self.sweeps):
            _gauss_seidel_sweep(lv.diag, lv.wx, lv.wy, u, b, 1, False)
        return u

    def _coarse_solve(self, b: np.ndarray) -> np.ndarray:
        u = self._u[-1]
        if self._coarse_lu is not None:
            u.reshape(-1, _NC)[self._coarse_flat] = self._coarse_lu.solve(
                b.reshape(-1, _NC)[self._coarse_flat].astype(np.float64)
            )
        return u


def _pcg(mg: _Multigrid, lv: _Level, b: np.ndarray, x: np.ndarray, rtol: float, maxiter: int) -> np.ndarray:
    """Preconditioned conjugate gradients, one independent recurrence per channel."""
    r = np.zeros_like(x)
    _matvec_dot(lv.diag, lv.wx, lv.wy, x, r)
    np.subtract(b, r, out=r)
    q = np.zeros_like(x)
    target = rtol * (np.sqrt(_channel_dots(b, b)) + 1e-30)
    rr = _channel_dots(r, r)
    p = mg.vcycle(r).copy()
    rz = _channel_dots(r, p)
    for _ in range(maxiter):
        if np.all(np.sqrt(rr) <= target):
            break
        pq = _matvec_dot(lv.diag, lv.wx, lv.wy, p, q)
        alpha = (rz / np.where(pq == 0, 1, pq)).astype(np.float32)
        rr = _cg_step(x, r, p, q, alpha)
        z = mg.vcycle(r)
        rz_new = _channel_dots(r, z)
        _cg_direction(p, z, (rz_new / np.where(rz == 0, 1, rz)).astype(np.float32))
        rz = rz_new
    return x


def _solve_multigrid(sys_: PoissonSystem, x0: np.ndarray, rtol: float, maxiter: int = 200) -> np.ndarray:
    """Multigrid-preconditioned CG in float32 on the bounding box of the unknowns."""
    rows = np.flatnonzero(sys_.unknown.any(axis=1))
    cols = np.flatnonzero(sys_.unknown.any(axis=0))
    out = x0.astype(np.float32, copy=True)
    if rows.size == 0:
        return out
    r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    lv = _Level.padded(sys_.diag[r0:r1, c0:c1], sys_.wx[r0:r1, c0 : c1 - 1], sys_.wy[r0 : r1 - 1, c0:c1])
    unknown = sys_.unknown[r0:r1, c0:c1, None]
    b = np.zeros((r1 - r0 + 2, c1 - c0 + 2, 3), np.float32)
    b[1:-1, 1:-1] = sys_.b[r0:r1, c0:c1]
    x = np.zeros_like(b)
    x[1:-1, 1:-1] = out[r0:r1, c0:c1] * unknown
    x = _pcg(_Multigrid(lv), lv, b, x, rtol, maxiter)
    np.copyto(out[r0:r1, c0:c1], x[1:-1, 1:-1], where=unknown)
    return out


# --------------------------------------------------------------------------- sparse solvers


def _to_sparse(diag: np.ndarray, wx: np.ndarray, wy: np.ndarray) -> tuple[sp.csr_matrix, np.ndarray]:
    """CSR matrix over the pixels with ``diag > 0`` and their flat indices."""
    h, w = diag.shape
    flat = np.flatnonzero(diag > 0)
    index = np.full(h * w, -1, np.int64)
    index[flat] = np.arange(flat.size)
    rows, cols, vals = [index[flat]], [index[flat]], [diag.ravel()[flat].astype(np.float64)]
    for weights, step in ((wx, 1), (wy, w)):
        full = np.zeros((h, w), np.float64)
        if step == 1:
            full[:, :-1] = weights
        else:
            full[:-1, :] = weights
        p = np.flatnonzero(full.ravel())
        i, j = index[p], index[p + step]
        keep = (i >= 0) & (j >= 0)
        i, j, wv = i[keep], j[keep], full.ravel()[p][keep]
        rows += [i, j]
        cols += [j, i]
        vals += [-wv, -wv]
    n = flat.size
    a = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))
    return a, flat


def _solve_sparse(sys_: PoissonSystem, x0: np.ndarray, method: str, rtol: float) -> np.ndarray:
    a, flat = _to_sparse(sys_.diag, sys_.wx, sys_.wy)
    rhs = sys_.b.reshape(-1, 3)[flat].astype(np.float64)
    guess = x0.reshape(-1, 3)[flat].astype(np.float64)
    if method == "direct":
        sol = spla.splu(a.tocsc()).solve(rhs)  # one factorisation, three right-hand sides
    else:  # "cg"
        jacobi = sp.diags(1.0 / a.diagonal())
        sol = np.stack(
            [spla.cg(a, rhs[:, c], x0=guess[:, c], rtol=rtol, M=jacobi, maxiter=20000)[0] for c in range(3)],
            axis=1,
        )
    out = x0.astype(np.float32, copy=True)
    out.reshape(-1, 3)[flat] = sol
    return out


# --------------------------------------------------------------------------- public API


def solve_system(
    sys_: PoissonSystem, x0: np.ndarray, method: str = "auto", rtol: float = DEFAULT_RTOL
) -> np.ndarray:
    """Solve ``sys_`` (H x W x 3) from the start value ``x0``; other pixels keep ``x0``."""
    if method not in METHODS:
        raise OperationError(f"unknown Poisson method {method!r}; choose one of {METHODS}")
    fixed = _with_pinned_fixed(sys_, x0)
    if method in ("auto", "multigrid"):
        return _solve_multigrid(fixed, x0, rtol)
    return _solve_sparse(fixed, x0, method, rtol)


def poisson_stitch(
    photo: np.ndarray,
    labels: np.ndarray,
    segment_images: SegmentImages,
    *,
    mixed_gradients: bool = False,
    method: str = "auto",
    rtol: float = DEFAULT_RTOL,
    screen: float = 0.0,
    seams: str = "mean",
) -> np.ndarray:
    """Stitch per-segment images into one seamless H x W x 3 float32 composite.

    ``labels``: H x W ints, 0 = keep the photo. ``segment_images``: ``{label: H x W x 3}`` or
    an (S, H, W, 3) array in increasing label order. The solve stops when the relative
    residual ``||b - A f|| / ||b||`` of every channel is below ``rtol``. ``method``: one of
    ``METHODS`` (see the module docstring). ``screen`` > 0 pulls every pixel towards the naive
    composite with that weight, so seam corrections fade within about ``1 / sqrt(screen)`` px
    instead of shifting whole segments. ``seams``: guidance across a border between two
    segments, ``"mean"`` of both images' gradients or the ``"stronger"`` one (per channel;
    keeps an edge that one segment renders sharply instead of halving it).
    """
    photo, segs, idx = _check_inputs(photo, labels, segment_images)
    naive = _composite(photo, segs, idx)
    sys_ = _build(photo, segs, idx, naive, mixed_gradients, screen, seams)
    if not sys_.unknown.any():
        return naive
    out = solve_system(sys_, naive, method, rtol)
    if sys_.pinned is not None:  # pure Neumann: match the naive composite's mean
        out += (naive.mean(axis=(0, 1)) - out.mean(axis=(0, 1))).astype(np.float32)
    np.copyto(out, photo, where=~sys_.unknown[..., None])
    return out


class SystemOptions(TypedDict, total=False):
    """The keyword options of :func:`build_system` (and of the stitch it checks)."""

    mixed_gradients: bool
    screen: float
    seams: str


def poisson_residual(
    result: np.ndarray,
    photo: np.ndarray,
    labels: np.ndarray,
    segment_images: SegmentImages,
    **options: Unpack[SystemOptions],
) -> float:
    """Relative discrete residual ``||b - A f|| / ||b||`` over the unknown pixels (float64)
    of the system :func:`build_system` makes with ``options``."""
    sys_ = build_system(photo, labels, segment_images, **options)
    if not sys_.unknown.any():
        return 0.0
    # Dirichlet values are already in b, so label-0 pixels enter A f as zeros.
    f = np.where(sys_.unknown[..., None], np.asarray(result, np.float64), 0.0)
    b = sys_.b.astype(np.float64)
    r = b - _apply(sys_.diag.astype(np.float64), sys_.wx, sys_.wy, f)
    r *= sys_.unknown[..., None]
    return float(np.linalg.norm(r) / max(np.linalg.norm(b), 1e-30))


def seam_gradient_jump(image: np.ndarray, labels: np.ndarray) -> float:
    """Mean absolute colour difference across 4-neighbour edges between different labels."""
    image = np.asarray(image, np.float64)
    labels = np.asarray(labels)
    jumps = []
    for axis in (0, 1):
        lo: list[slice] = [slice(None), slice(None)]
        hi: list[slice] = [slice(None), slice(None)]
        n = labels.shape[axis]
        lo[axis], hi[axis] = slice(0, n - 1), slice(1, n)
        border = labels[tuple(lo)] != labels[tuple(hi)]
        diff = np.abs(image[tuple(lo)] - image[tuple(hi)]).mean(axis=-1)
        jumps.append(diff[border])
    allj = np.concatenate(jumps)
    return float(allj.mean()) if allj.size else 0.0

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

With ``mixed_gradients`` each edge takes, per channel, whichever of the guidance and the
photo's own gradient has the larger magnitude.

Without any label-0 pixel the problem is pure Neumann and defined up to a constant: one
pixel is pinned while solving and the result is then shifted so that each channel's mean
equals the mean of the naive composite.

Solvers (``method``): ``"direct"`` (SuperLU, one factorisation for the three channels),
``"cg"`` (SciPy conjugate gradients, Jacobi preconditioner), ``"amg"`` (pyamg, optional),
``"multigrid"`` (matrix-free aggregation multigrid preconditioning CG, float32, all channels
at once). ``"auto"`` picks ``"multigrid"``: it was the fastest in ``benchmarks/bench_poisson.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numba
import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy import ndimage

from editors.operation import OperationError

METHODS = ("auto", "direct", "cg", "amg", "multigrid")
DEFAULT_RTOL = 2e-5

SegmentImages = Mapping[int, np.ndarray] | np.ndarray


# --------------------------------------------------------------------------- inputs


def _check_inputs(
    photo: np.ndarray, labels: np.ndarray, segment_images: SegmentImages
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate and return (photo float32, labels int, index map into stacked images)."""
    photo = np.asarray(photo)
    labels = np.asarray(labels)
    if photo.ndim != 3 or photo.shape[2] != 3:
        raise OperationError(f"photo must be H x W x 3, got shape {photo.shape}")
    if labels.shape != photo.shape[:2]:
        raise OperationError(
            f"labels shape {labels.shape} must match the photo's {photo.shape[:2]}"
        )
    if not np.issubdtype(labels.dtype, np.integer):
        raise OperationError("labels must be an integer array (0 = keep the photo)")
    if labels.min(initial=0) < 0:
        raise OperationError("labels must be >= 0 (0 = keep the photo)")
    ids = np.unique(labels[labels > 0])
    stack = _stack_segments(segment_images, ids, photo.shape)
    # Per-pixel index into ``stack`` (-1 for label 0).
    lookup = np.full(int(labels.max(initial=0)) + 1, -1, dtype=np.int64)
    lookup[ids] = np.arange(ids.size)
    return photo.astype(np.float32, copy=False), labels, (stack, lookup[labels])


def _stack_segments(
    segment_images: SegmentImages, ids: np.ndarray, shape: tuple[int, ...]
) -> list[np.ndarray]:
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
                f"segment image {int(k)} must have the photo's shape {tuple(shape)}, "
                f"got {a.shape}"
            )
    return arrays


# --------------------------------------------------------------------------- system


@dataclass
class PoissonSystem:
    """The discrete system in grid form: ``d * f - sum w * f_nbr = b`` on ``unknown``.

    ``wx[i, j]`` couples pixel (i, j) with (i, j+1), ``wy[i, j]`` couples (i, j) with
    (i+1, j); both are 1 between two unknown pixels and 0 otherwise. ``b`` is (3, H, W).
    """

    unknown: np.ndarray
    diag: np.ndarray
    wx: np.ndarray
    wy: np.ndarray
    b: np.ndarray
    pinned: tuple[int, int] | None


def _edge_guidance(seg: np.ndarray, idx: np.ndarray, naive: np.ndarray, photo: np.ndarray,
                   axis: int, mixed: bool) -> np.ndarray:
    """Guidance ``v_pq`` on every edge along ``axis`` (p = lower index), shape (3, ...).

    Inside a segment the naive composite's gradient is the segment's own gradient; only the
    few edges whose ends have different labels are recomputed from the segment images.
    """
    n = photo.shape[axis]
    lo = [slice(None)] * 2
    hi = [slice(None)] * 2
    lo[axis], hi[axis] = slice(0, n - 1), slice(1, n)
    lo, hi = tuple(lo), tuple(hi)
    v = naive[lo] - naive[hi]
    idx_p, idx_q = idx[lo], idx[hi]
    rows, cols = np.nonzero(idx_p != idx_q)
    if rows.size:
        a, b = idx_p[rows, cols], idx_q[rows, cols]
        a, b = np.where(a >= 0, a, b), np.where(b >= 0, b, a)  # label-0 side: other segment
        rq, cq = (rows + 1, cols) if axis == 0 else (rows, cols + 1)
        total = np.zeros((rows.size, 3), np.float32)
        for k, image in enumerate(seg):
            for side in (a, b):
                sel = side == k
                total[sel] += image[rows[sel], cols[sel]] - image[rq[sel], cq[sel]]
        v[rows, cols] = 0.5 * total
    if mixed:
        g_photo = photo[lo] - photo[hi]
        v = np.where(np.abs(g_photo) > np.abs(v), g_photo, v)
    return np.ascontiguousarray(np.moveaxis(v, -1, 0), dtype=np.float32)


def build_system(
    photo: np.ndarray, labels: np.ndarray, segment_images: SegmentImages,
    *, mixed_gradients: bool = False,
) -> PoissonSystem:
    """Assemble the stitching system (see the module docstring for the discretisation)."""
    photo, labels, (seg, idx) = _check_inputs(photo, labels, segment_images)
    unknown = labels > 0
    h, w = labels.shape
    naive = _composite(photo, seg, idx)
    vx = _edge_guidance(seg, idx, naive, photo, 1, mixed_gradients) if seg else None
    vy = _edge_guidance(seg, idx, naive, photo, 0, mixed_gradients) if seg else None
    ux = (unknown[:, :-1] & unknown[:, 1:]).astype(np.float32)
    uy = (unknown[:-1, :] & unknown[1:, :]).astype(np.float32)
    diag = np.zeros((h, w), np.float32)
    diag[:, :-1] += 1
    diag[:, 1:] += 1
    diag[:-1, :] += 1
    diag[1:, :] += 1
    b = np.zeros((3, h, w), np.float32)
    if vx is not None:
        b[:, :, :-1] += vx
        b[:, :, 1:] -= vx
        b[:, :-1, :] += vy
        b[:, 1:, :] -= vy
    # Dirichlet contributions from label-0 neighbours.
    ph = np.moveaxis(photo, -1, 0)
    known = ~unknown
    b[:, :, :-1] += ph[:, :, 1:] * known[:, 1:]
    b[:, :, 1:] += ph[:, :, :-1] * known[:, :-1]
    b[:, :-1, :] += ph[:, 1:, :] * known[1:, :]
    b[:, 1:, :] += ph[:, :-1, :] * known[:-1, :]
    b *= unknown
    diag *= unknown
    pinned = None
    if unknown.any() and not known.any():
        pinned = (0, 0)
    return PoissonSystem(unknown, diag, ux, uy, b, pinned)


def naive_composite(
    photo: np.ndarray, labels: np.ndarray, segment_images: SegmentImages
) -> np.ndarray:
    """Hard mask compositing: each pixel from its segment's image, the photo at label 0."""
    photo, labels, (seg, idx) = _check_inputs(photo, labels, segment_images)
    return _composite(photo, seg, idx)


def _composite(photo: np.ndarray, seg: list[np.ndarray], idx: np.ndarray) -> np.ndarray:
    out = photo.copy()
    boxes = ndimage.find_objects(idx + 1, max_label=len(seg))
    for k, (image, box) in enumerate(zip(seg, boxes)):
        if box is not None:
            np.copyto(out[box], image[box], where=(idx[box] == k)[..., None])
    return out


# --------------------------------------------------------------------------- operators


@numba.njit(cache=True, nogil=True)
def _restrict_into(r, out):  # pragma: no cover - compiled
    """out[c, I, J] = sum of r over the 2 x 2 block (I, J) (blocks may hang over the edge)."""
    nc, h, w = r.shape
    out[:] = 0
    for c in range(nc):
        for i in range(h):
            for j in range(w):
                out[c, i // 2, j // 2] += r[c, i, j]


@numba.njit(cache=True, nogil=True)
def _channel_dots(x, y):  # pragma: no cover - compiled
    """Per-channel dot products of two (C, H, W) float32 arrays, accumulated in float64."""
    nc, h, w = x.shape
    out = np.zeros(nc)
    for c in range(nc):
        acc = 0.0
        for i in range(h):
            for j in range(w):
                acc += np.float64(x[c, i, j]) * y[c, i, j]
        out[c] = acc
    return out


def _apply(diag: np.ndarray, wx: np.ndarray, wy: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``A u`` for the grid operator, u shaped (C, H, W); works in u's dtype."""
    out = diag * u
    t = wx * u[:, :, 1:]
    out[:, :, :-1] -= t
    t = wx * u[:, :, :-1]
    out[:, :, 1:] -= t
    t = wy * u[:, 1:, :]
    out[:, :-1, :] -= t
    t = wy * u[:, :-1, :]
    out[:, 1:, :] -= t
    return out


def _to_sparse(sys_: PoissonSystem) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """CSR matrix over unknown pixels, right-hand sides (n, 3) and flat pixel indices."""
    unknown, diag = _pin_mask(sys_)
    flat = np.flatnonzero(unknown)
    h, w = unknown.shape
    index = np.full(h * w, -1, np.int64)
    index[flat] = np.arange(flat.size)
    rows, cols, vals = [index[flat]], [index[flat]], [diag.ravel()[flat].astype(np.float64)]
    for weights, step in ((sys_.wx, 1), (sys_.wy, w)):
        full = np.zeros((h, w), np.float32)
        if step == 1:
            full[:, :-1] = weights
        else:
            full[:-1, :] = weights
        p = np.flatnonzero(full.ravel() * unknown.ravel())
        p = p[unknown.ravel()[p + step]]
        i, j = index[p], index[p + step]
        rows += [i, j]
        cols += [j, i]
        vals += [-np.ones(p.size), -np.ones(p.size)]
    n = flat.size
    a = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
    )
    rhs = sys_.b.reshape(3, -1)[:, flat].T.astype(np.float64)
    return a, rhs, flat


def _pin_mask(sys_: PoissonSystem) -> tuple[np.ndarray, np.ndarray]:
    """Unknown mask and diagonal with the pinned pixel (if any) removed from the unknowns."""
    if sys_.pinned is None:
        return sys_.unknown, sys_.diag
    unknown = sys_.unknown.copy()
    unknown[sys_.pinned] = False
    return unknown, sys_.diag


# --------------------------------------------------------------------------- multigrid


@numba.njit(cache=True, nogil=True)
def _residual_into(diag, wx, wy, u, b, out):  # pragma: no cover - compiled
    """out = b - A u for a weighted 5-point grid operator; arrays (C, H, W)."""
    nc, h, w = u.shape
    for c in range(nc):
        for i in range(h):
            for j in range(w):
                s = diag[i, j] * u[c, i, j]
                if j > 0:
                    s -= wx[i, j - 1] * u[c, i, j - 1]
                if j < w - 1:
                    s -= wx[i, j] * u[c, i, j + 1]
                if i > 0:
                    s -= wy[i - 1, j] * u[c, i - 1, j]
                if i < h - 1:
                    s -= wy[i, j] * u[c, i + 1, j]
                out[c, i, j] = b[c, i, j] - s


@numba.njit(cache=True, nogil=True)
def _gauss_seidel_colour(diag, wx, wy, u, b, colour):  # pragma: no cover - compiled
    """One Gauss-Seidel half-sweep over the pixels with (i + j) % 2 == colour."""
    nc, h, w = u.shape
    for c in range(nc):
        for i in range(h):
            for j in range((i + colour) % 2, w, 2):
                d = diag[i, j]
                if d <= 0:
                    continue
                s = b[c, i, j]
                if j > 0:
                    s += wx[i, j - 1] * u[c, i, j - 1]
                if j < w - 1:
                    s += wx[i, j] * u[c, i, j + 1]
                if i > 0:
                    s += wy[i - 1, j] * u[c, i - 1, j]
                if i < h - 1:
                    s += wy[i, j] * u[c, i + 1, j]
                u[c, i, j] = s / d


@numba.njit(cache=True, nogil=True)
def _add_prolonged(u, e, scale):  # pragma: no cover - compiled
    """u += scale * (piecewise-constant prolongation of the coarse field e)."""
    nc, h, w = u.shape
    for c in range(nc):
        for i in range(h):
            for j in range(w):
                u[c, i, j] += scale * e[c, i // 2, j // 2]


@numba.njit(cache=True, nogil=True)
def _restrict_into(r, out):  # pragma: no cover - compiled
    """out[c, I, J] = sum of r over the 2 x 2 block (I, J) (blocks may hang over the edge)."""
    nc, h, w = r.shape
    out[:] = 0
    for c in range(nc):
        for i in range(h):
            for j in range(w):
                out[c, i // 2, j // 2] += r[c, i, j]


@numba.njit(cache=True, nogil=True)
def _channel_dots(x, y):  # pragma: no cover - compiled
    """Per-channel dot products of two (C, H, W) float32 arrays, accumulated in float64."""
    nc, h, w = x.shape
    out = np.zeros(nc)
    for c in range(nc):
        acc = 0.0
        for i in range(h):
            for j in range(w):
                acc += np.float64(x[c, i, j]) * y[c, i, j]
        out[c] = acc
    return out


def _apply(diag: np.ndarray, wx: np.ndarray, wy: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``A u`` for the grid operator, u shaped (C, H, W)."""
    out = np.empty_like(u)
    _residual_into(diag.astype(u.dtype), wx.astype(u.dtype), wy.astype(u.dtype), u,
                   np.zeros_like(u), out)
    return -out


@dataclass
class _Level:
    diag: np.ndarray
    wx: np.ndarray
    wy: np.ndarray


def _coarsen(lv: _Level) -> _Level:
    """Galerkin coarse operator for 2x2 aggregation (piecewise-constant prolongation)."""
    h, w = lv.diag.shape
    h2, w2 = (h + 1) // 2, (w + 1) // 2
    d = np.zeros((2 * h2, 2 * w2), np.float32)
    d[:h, :w] = lv.diag
    wx = np.zeros((2 * h2, 2 * w2), np.float32)
    wx[:h, : w - 1] = lv.wx
    wy = np.zeros((2 * h2, 2 * w2), np.float32)
    wy[: h - 1, :w] = lv.wy

    def block_sum(a: np.ndarray) -> np.ndarray:
        return a.reshape(h2, 2, w2, 2).sum(axis=(1, 3))

    internal = block_sum(wx * (np.arange(2 * w2) % 2 == 0)) + block_sum(
        wy * (np.arange(2 * h2) % 2 == 0)[:, None]
    )
    diag_c = block_sum(d) - 2 * internal
    diag_c[np.abs(diag_c) < 1e-6] = 0
    cx = np.ascontiguousarray((wx[0::2, 1::2] + wx[1::2, 1::2])[:, : w2 - 1])
    cy = np.ascontiguousarray((wy[1::2, 0::2] + wy[1::2, 1::2])[: h2 - 1, :])
    return _Level(diag_c, cx, cy)


def _restrict(r: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    out = np.empty((r.shape[0], *shape), r.dtype)
    _restrict_into(r, out)
    return out


class _Multigrid:
    """Symmetric V-cycle preconditioner: red-black Gauss-Seidel smoothing, 2x2 aggregation
    coarsening with an over-corrected coarse-grid correction, SuperLU on the coarsest grid."""

    def __init__(self, diag: np.ndarray, wx: np.ndarray, wy: np.ndarray, *,
                 coarse_size: int = 48, sweeps: int = 1, over: float = 1.8):
        self.sweeps, self.over = sweeps, over
        self.levels = [_Level(diag, wx, wy)]
        while max(self.levels[-1].diag.shape) > coarse_size:
            self.levels.append(_coarsen(self.levels[-1]))
        last = self.levels[-1]
        self._coarse_mask = last.diag > 0
        if self._coarse_mask.any():
            sys_ = PoissonSystem(self._coarse_mask, last.diag, last.wx, last.wy,
                                 np.zeros((3, *last.diag.shape), np.float32), None)
            a, _, self._coarse_flat = _to_sparse_weighted(sys_)
            self._coarse_lu = spla.splu(a.tocsc())

    def vcycle(self, b: np.ndarray, k: int = 0) -> np.ndarray:
        """Approximate ``A^-1 b`` on level ``k``."""
        if k == len(self.levels) - 1:
            return self._coarse_solve(b)
        lv = self.levels[k]
        u = np.zeros_like(b)
        for _ in range(self.sweeps):
            _gauss_seidel_colour(lv.diag, lv.wx, lv.wy, u, b, 0)
            _gauss_seidel_colour(lv.diag, lv.wx, lv.wy, u, b, 1)
        r = np.empty_like(b)
        _residual_into(lv.diag, lv.wx, lv.wy, u, b, r)
        e = self.vcycle(_restrict(r, self.levels[k + 1].diag.shape), k + 1)
        _add_prolonged(u, e, np.float32(self.over))
        for _ in range(self.sweeps):
            _gauss_seidel_colour(lv.diag, lv.wx, lv.wy, u, b, 1)
            _gauss_seidel_colour(lv.diag, lv.wx, lv.wy, u, b, 0)
        return u

    def _coarse_solve(self, b: np.ndarray) -> np.ndarray:
        u = np.zeros_like(b)
        if self._coarse_mask.any():
            rhs = b.reshape(b.shape[0], -1)[:, self._coarse_flat].T.astype(np.float64)
            x = self._coarse_lu.solve(rhs)
            u.reshape(b.shape[0], -1)[:, self._coarse_flat] = x.T
        return u


def _to_sparse_weighted(sys_: PoissonSystem) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """Like :func:`_to_sparse` but keeps arbitrary (coarse-level) edge weights."""
    unknown = sys_.diag > 0
    flat = np.flatnonzero(unknown)
    h, w = unknown.shape
    index = np.full(h * w, -1, np.int64)
    index[flat] = np.arange(flat.size)
    rows, cols, vals = [index[flat]], [index[flat]], [sys_.diag.ravel()[flat].astype(np.float64)]
    for weights, step in ((sys_.wx, 1), (sys_.wy, w)):
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
    a = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
    )
    return a, sys_.b.reshape(3, -1)[:, flat].T.astype(np.float64), flat


def _pcg_grid(sys_: PoissonSystem, x0: np.ndarray, rtol: float, maxiter: int = 200) -> np.ndarray:
    """Multigrid-preconditioned CG, all channels at once in float32, on the bounding box
    of the unknown pixels (Dirichlet values already sit in ``b``)."""
    unknown, _ = _pin_mask(sys_)
    rows, cols = np.flatnonzero(unknown.any(axis=1)), np.flatnonzero(unknown.any(axis=0))
    out = x0.astype(np.float32, copy=True)
    if rows.size == 0:
        return out
    box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
    unknown = unknown[box]
    m = unknown.astype(np.float32)
    diag = np.where(unknown, sys_.diag[box], 0).astype(np.float32)
    wx = np.ascontiguousarray(sys_.wx[box[0], box[1].start : box[1].stop - 1] * m[:, :-1] * m[:, 1:])
    wy = np.ascontiguousarray(sys_.wy[box[0].start : box[0].stop - 1, box[1]] * m[:-1, :] * m[1:, :])
    b = sys_.b if sys_.pinned is None else sys_.b + _pinned_rhs(sys_, x0)
    b = np.ascontiguousarray(b[:, box[0], box[1]] * m, dtype=np.float32)
    x = np.ascontiguousarray(x0[:, box[0], box[1]] * m, dtype=np.float32)
    x = _pcg(_Multigrid(diag, wx, wy), diag, wx, wy, b, x, rtol, maxiter)
    out[:, box[0], box[1]] = np.where(unknown, x, out[:, box[0], box[1]])
    return out


def _pcg(mg: _Multigrid, diag: np.ndarray, wx: np.ndarray, wy: np.ndarray, b: np.ndarray,
         x: np.ndarray, rtol: float, maxiter: int) -> np.ndarray:
    """Preconditioned conjugate gradients, one independent recurrence per channel."""
    r = np.empty_like(x)
    _residual_into(diag, wx, wy, x, b, r)
    q = np.empty_like(x)
    zero = np.zeros_like(x)
    bnorm = np.sqrt(_channel_dots(b, b)) + 1e-30
    z = mg.vcycle(r)
    p = z.copy()
    rz = _channel_dots(r, z)
    for _ in range(maxiter):
        if np.all(np.sqrt(_channel_dots(r, r)) <= rtol * bnorm):
            break
        _residual_into(diag, wx, wy, p, zero, q)
        q *= -1
        pq = _channel_dots(p, q)
        alpha = (rz / np.where(pq == 0, 1, pq)).astype(np.float32)[:, None, None]
        x += alpha * p
        r -= alpha * q
        z = mg.vcycle(r)
        rz_new = _channel_dots(r, z)
        beta = (rz_new / np.where(rz == 0, 1, rz)).astype(np.float32)[:, None, None]
        p = z + beta * p
        rz = rz_new
    return x


def _pinned_rhs(sys_: PoissonSystem, x0: np.ndarray) -> np.ndarray:
    """Right-hand-side contribution of the pinned pixel's (fixed) value to its neighbours."""
    i, j = sys_.pinned
    h, w = sys_.unknown.shape
    extra = np.zeros_like(sys_.b)
    for di, dj in ((0, 1), (1, 0), (0, -1), (-1, 0)):
        a, c = i + di, j + dj
        if 0 <= a < h and 0 <= c < w:
            extra[:, a, c] += x0[:, i, j]
    return extra * sys_.unknown


# --------------------------------------------------------------------------- public API


def solve_system(sys_: PoissonSystem, x0: np.ndarray, method: str = "auto",
                 rtol: float = DEFAULT_RTOL) -> np.ndarray:
    """Solve ``sys_`` starting from ``x0`` (3, H, W); returns the full (3, H, W) field."""
    if method not in METHODS:
        raise OperationError(f"unknown Poisson method {method!r}; choose one of {METHODS}")
    if method in ("auto", "multigrid"):
        return _pcg_grid(sys_, x0, rtol)
    b_extra = _pinned_rhs(sys_, x0) if sys_.pinned is not None else 0
    sys_b = PoissonSystem(sys_.unknown, sys_.diag, sys_.wx, sys_.wy, sys_.b + b_extra, sys_.pinned)
    a, rhs, flat = _to_sparse(sys_b)
    guess = x0.reshape(3, -1)[:, flat].T.astype(np.float64)
    if method == "direct":
        sol = spla.splu(a.tocsc()).solve(rhs)
    elif method == "cg":
        inv_d = sp.diags(1.0 / a.diagonal())
        sol = np.stack([spla.cg(a, rhs[:, c], x0=guess[:, c], rtol=rtol, M=inv_d, maxiter=5000)[0]
                        for c in range(3)], axis=1)
    else:
        try:
            import pyamg
        except ImportError as exc:
            raise OperationError("method 'amg' needs the optional package pyamg") from exc
        ml = pyamg.ruge_stuben_solver(a.tocsr())
        sol = np.stack([ml.solve(rhs[:, c], x0=guess[:, c], tol=rtol, accel="cg")
                        for c in range(3)], axis=1)
    out = x0.copy()
    out.reshape(3, -1)[:, flat] = sol.T
    return out


def poisson_stitch(
    photo: np.ndarray, labels: np.ndarray, segment_images: SegmentImages, *,
    mixed_gradients: bool = False, method: str = "auto", rtol: float = DEFAULT_RTOL,
) -> np.ndarray:
    """Stitch per-segment images into one seamless H x W x 3 float32 composite.

    ``labels``: H x W ints, 0 = keep the photo. ``segment_images``: ``{label: H x W x 3}`` or
    an (S, H, W, 3) array in increasing label order. The solve stops when the relative
    residual ``||b - A f|| / ||b||`` of every channel is below ``rtol``.
    """
    sys_ = build_system(photo, labels, segment_images, mixed_gradients=mixed_gradients)
    naive = naive_composite(photo, labels, segment_images)
    if not sys_.unknown.any():
        return naive
    x0 = np.ascontiguousarray(np.moveaxis(naive, -1, 0))
    x = solve_system(sys_, x0, method, rtol)
    if sys_.pinned is not None:  # pure Neumann: match the naive composite's mean
        x += (x0.mean(axis=(1, 2)) - x.mean(axis=(1, 2)))[:, None, None]
    out = np.moveaxis(x, 0, -1).astype(np.float32)
    out[~sys_.unknown] = np.asarray(photo, np.float32)[~sys_.unknown]
    return np.ascontiguousarray(out)


def poisson_residual(
    result: np.ndarray, photo: np.ndarray, labels: np.ndarray, segment_images: SegmentImages,
    *, mixed_gradients: bool = False,
) -> float:
    """Relative discrete residual ``||b - A f|| / ||b||`` over unknown pixels (float64)."""
    sys_ = build_system(photo, labels, segment_images, mixed_gradients=mixed_gradients)
    if not sys_.unknown.any():
        return 0.0
    f = np.moveaxis(np.asarray(result, np.float64), -1, 0)
    # Dirichlet values are already in b, so label-0 pixels enter A f as zeros.
    f = np.ascontiguousarray(np.where(sys_.unknown, f, 0.0))
    b = sys_.b.astype(np.float64)
    r = (b - _apply(sys_.diag, sys_.wx, sys_.wy, f)) * sys_.unknown
    return float(np.linalg.norm(r) / max(np.linalg.norm(b), 1e-30))


def seam_gradient_jump(image: np.ndarray, labels: np.ndarray) -> float:
    """Mean absolute colour difference across 4-neighbour edges between different labels."""
    image = np.asarray(image, np.float64)
    labels = np.asarray(labels)
    jumps = []
    for axis in (0, 1):
        lo = [slice(None)] * 2
        hi = [slice(None)] * 2
        n = labels.shape[axis]
        lo[axis], hi[axis] = slice(0, n - 1), slice(1, n)
        border = labels[tuple(lo)] != labels[tuple(hi)]
        diff = np.abs(image[tuple(lo)] - image[tuple(hi)]).mean(axis=-1)
        jumps.append(diff[border])
    allj = np.concatenate(jumps)
    return float(allj.mean()) if allj.size else 0.0

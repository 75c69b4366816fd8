"""A reference Poisson stitch: the discrete system of ``editors.stitching.poisson`` assembled
afresh from its documented formula with ``scipy.sparse`` and solved by a sparse direct solver.

Written independently of the solver it checks (no code shared with it): the equation at
every unknown pixel ``p`` (label > 0), per channel, with ``N_p`` its 4-neighbours inside the
image::

    |N_p| f_p - sum_{q in N_p, unknown} f_q = sum_{q in N_p, label 0} photo_q + sum_{q in N_p} v_pq

and the guidance ``v_pq``: ``S_k(p) - S_k(q)`` when ``q`` is in the same segment ``k`` or in
label 0, the mean of both segments' differences across a border between segments. Plain
Poisson only (no screening, mean seams, no mixed gradients) and at least one label-0 pixel.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

_OFFSETS = ((0, 1), (0, -1), (1, 0), (-1, 0))


def _shifted(a: np.ndarray, dy: int, dx: int, fill) -> np.ndarray:
    """``out[i, j] = a[i + dy, j + dx]``, ``fill`` where that falls outside the image."""
    out = np.full_like(a, fill)
    h, w = a.shape[:2]
    out[max(-dy, 0) : h - max(dy, 0), max(-dx, 0) : w - max(dx, 0)] = a[
        max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)
    ]
    return out


def reference_system(
    photo: np.ndarray, labels: np.ndarray, segment_images: Mapping[int, np.ndarray]
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """``(A, b, index)``: the sparse matrix over the unknowns, the right-hand sides (n x 3,
    float64) and each pixel's unknown number (-1 for label 0)."""
    photo = np.asarray(photo, np.float64)
    labels = np.asarray(labels)
    h, w = labels.shape
    ids = sorted(int(k) for k in np.unique(labels) if k > 0)
    if not (labels == 0).any():
        raise ValueError("the reference handles systems with at least one label-0 pixel")
    stack = np.zeros((max(ids) + 1, h, w, 3))
    for k in ids:
        stack[k] = np.asarray(segment_images[k], np.float64)
    index = np.full((h, w), -1, np.int64)
    unknown = labels > 0
    index[unknown] = np.arange(int(unknown.sum()))
    n = int(unknown.sum())
    rows, cols, vals = [index[unknown]], [index[unknown]], [np.zeros(n)]
    b = np.zeros((n, 3))
    yy, xx = np.nonzero(unknown)
    lp = labels[yy, xx]
    for dy, dx in _OFFSETS:
        qy, qx = yy + dy, xx + dx
        inside = (qy >= 0) & (qy < h) & (qx >= 0) & (qx < w)
        p_sel = np.flatnonzero(inside)
        qy, qx, k_p = qy[inside], qx[inside], lp[inside]
        py, px = yy[inside], xx[inside]
        k_q = labels[qy, qx]
        vals[0][p_sel] += 1.0  # |N_p|
        v = stack[k_p, py, px] - stack[k_p, qy, qx]
        across = (k_q > 0) & (k_q != k_p)
        v[across] = 0.5 * (
            v[across]
            + stack[k_q[across], py[across], px[across]]
            - stack[k_q[across], qy[across], qx[across]]
        )
        b[p_sel] += v
        zero = k_q == 0
        b[p_sel[zero]] += photo[qy[zero], qx[zero]]
        coupled = ~zero
        rows.append(index[py[coupled], px[coupled]])
        cols.append(index[qy[coupled], qx[coupled]])
        vals.append(-np.ones(int(coupled.sum())))
    matrix = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))
    return matrix, b, index


def reference_stitch(
    photo: np.ndarray, labels: np.ndarray, segment_images: Mapping[int, np.ndarray]
) -> tuple[np.ndarray, float]:
    """The exactly solved composite (float64, H x W x 3) and the seconds the solve took
    (factorisation and the three channels' solves, not the assembly)."""
    matrix, b, index = reference_system(photo, labels, segment_images)
    t0 = time.perf_counter()
    solve = spla.factorized(matrix.tocsc())
    x = np.stack([solve(b[:, c]) for c in range(3)], axis=-1)
    seconds = time.perf_counter() - t0
    out = np.asarray(photo, np.float64).copy()
    out[index >= 0] = x
    return out, seconds

"""Carrying an alpha solved at a working resolution up to the full photo: a fast guided filter.

Closed-form matting costs grow with the unknown band, which grows with the photo: a
4000 x 3000 portrait has about a million unknown pixels. Solving at a working resolution and
upsampling with the photo as guide (He and Sun 2015, "Fast Guided Filter") keeps the edge on
the full-resolution colours: inside each window the alpha is an affine function of the
guide's colour, ``alpha = a . I + b``; ``a`` and ``b`` are fitted at the working resolution
(He et al. 2010, colour guide, 3 x 3 covariance per pixel), upsampled bilinearly and applied
to the full-resolution photo. Pure numpy / OpenCV.
"""

from __future__ import annotations

import cv2
import numpy as np


def _box(x: np.ndarray, radius: int) -> np.ndarray:
    """Mean over a (2r+1)^2 window (edges normalised by the pixels inside)."""
    k = 2 * radius + 1
    return cv2.boxFilter(x, cv2.CV_32F, (k, k), normalize=True, borderType=cv2.BORDER_REFLECT)


def guided_coefficients(
    guide: np.ndarray, source: np.ndarray, radius: int, eps: float
) -> tuple[np.ndarray, np.ndarray]:
    """(a: H x W x 3, b: H x W): the colour guided filter's window-averaged linear model.

    ``guide`` is H x W x 3 in [0, 1], ``source`` H x W; the filtered output is
    ``(a * guide).sum(-1) + b``. ``eps`` regularises flat windows (larger = smoother).
    """
    g = np.ascontiguousarray(guide[..., :3], np.float32)
    p = np.ascontiguousarray(source, np.float32)
    mean_g = _box(g, radius)
    mean_p = _box(p, radius)
    cov_gp = _box(g * p[..., None], radius) - mean_g * mean_p[..., None]
    # the 3 x 3 covariance of the guide in each window, plus eps on the diagonal
    var = np.empty((*g.shape[:2], 3, 3), np.float32)
    for i in range(3):
        for j in range(i, 3):
            v = _box(g[..., i] * g[..., j], radius) - mean_g[..., i] * mean_g[..., j]
            var[..., i, j] = var[..., j, i] = v
    var[..., [0, 1, 2], [0, 1, 2]] += eps
    a = np.linalg.solve(var, cov_gp[..., None])[..., 0]
    b = mean_p - (a * mean_g).sum(axis=2)
    return _box(a, radius), _box(b, radius)


def guided_upsample(
    small_alpha: np.ndarray,
    small_guide: np.ndarray,
    guide: np.ndarray,
    *,
    radius: int = 2,
    eps: float = 1e-4,
    where: np.ndarray | None = None,
) -> np.ndarray:
    """``small_alpha`` (solved on ``small_guide``) carried up to ``guide``'s size.

    Returns H x W float32 in [0, 1]. With ``where`` (H x W bool) only those pixels are
    computed (the rest are 0): the coefficients are upsampled for every pixel, the colour
    model evaluated only where asked, which keeps a 12-megapixel photo cheap.
    """
    h, w = guide.shape[:2]
    a, b = guided_coefficients(small_guide, small_alpha, radius, eps)
    up_a = cv2.resize(a, (w, h), interpolation=cv2.INTER_LINEAR)
    up_b = cv2.resize(b, (w, h), interpolation=cv2.INTER_LINEAR)
    img = np.asarray(guide[..., :3], np.float32)
    if where is None:
        out = (up_a * img).sum(axis=2) + up_b
        return np.clip(out, 0.0, 1.0).astype(np.float32)
    out = np.zeros((h, w), np.float32)
    out[where] = (up_a[where] * img[where]).sum(axis=1) + up_b[where]
    return np.clip(out, 0.0, 1.0)

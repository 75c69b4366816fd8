"""Alpha-matting errors (Rhemann et al., CVPR 2009) and segmentation scores at 0.5.

All functions take ``pred`` and ``gt`` as ``H x W`` arrays in [0, 1] and an optional
``region`` (boolean ``H x W``, e.g. the trimap's unknown band) that restricts the sum.
SAD, gradient and connectivity errors are plain sums (papers often print them / 1000).
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy import ndimage


def _pair(pred: np.ndarray, gt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(pred, np.float64)
    g = np.asarray(gt, np.float64)
    if p.shape != g.shape or p.ndim != 2:
        raise ValueError(f"pred {p.shape} and gt {g.shape} must be two H x W arrays of one size")
    return p, g


def _weights(region: np.ndarray | None, shape: tuple[int, ...]) -> np.ndarray:
    if region is None:
        return np.ones(shape, bool)
    r = np.asarray(region, bool)
    if r.shape != shape:
        raise ValueError(f"region {r.shape} does not match the matte {shape}")
    return r


def sad(pred: np.ndarray, gt: np.ndarray, region: np.ndarray | None = None) -> float:
    """Sum of absolute differences."""
    p, g = _pair(pred, gt)
    return float(np.abs(p - g)[_weights(region, p.shape)].sum())


def mse(pred: np.ndarray, gt: np.ndarray, region: np.ndarray | None = None) -> float:
    """Mean squared error over the region (0 for an empty region)."""
    p, g = _pair(pred, gt)
    w = _weights(region, p.shape)
    return float(((p - g) ** 2)[w].mean()) if w.any() else 0.0


def _gradient_magnitude(a: np.ndarray, sigma: float) -> np.ndarray:
    gx = ndimage.gaussian_filter(a, sigma, order=(0, 1), mode="nearest")
    gy = ndimage.gaussian_filter(a, sigma, order=(1, 0), mode="nearest")
    return np.hypot(gx, gy)


def gradient_error(
    pred: np.ndarray, gt: np.ndarray, region: np.ndarray | None = None, sigma: float = 1.4
) -> float:
    """Sum of squared differences of the Gaussian-derivative gradient magnitudes (sigma 1.4)."""
    p, g = _pair(pred, gt)
    diff = (_gradient_magnitude(p, sigma) - _gradient_magnitude(g, sigma)) ** 2
    return float(diff[_weights(region, p.shape)].sum())


def _largest_component(mask: np.ndarray) -> np.ndarray:
    four = ndimage.generate_binary_structure(2, 1)
    labels, n = ndimage.label(mask, structure=four)
    if n == 0:
        return np.zeros_like(mask)
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    return labels == int(np.argmax(sizes))


def connectivity_error(
    pred: np.ndarray,
    gt: np.ndarray,
    region: np.ndarray | None = None,
    step: float = 0.1,
    theta: float = 0.15,
) -> float:
    """Rhemann et al.'s connectivity error.

    For each threshold level, the source region is the largest 4-connected component of
    ``pred >= t and gt >= t``; a pixel's level ``l`` is the last threshold at which it still
    belonged to it. Each alpha is turned into a degree of connectivity
    ``phi = 1 - d * (d >= theta)`` with ``d = alpha - l``; the error sums ``|phi_p - phi_g|``.
    """
    p, g = _pair(pred, gt)
    levels = np.arange(0.0, 1.0 + step / 2, step)
    level = np.full(p.shape, -1.0)
    for prev, t in itertools.pairwise(levels):
        omega = _largest_component((p >= t) & (g >= t))
        level[(level < 0) & ~omega] = prev
    level[level < 0] = 1.0
    dp, dg = p - level, g - level
    phi_p = 1.0 - dp * (dp >= theta)
    phi_g = 1.0 - dg * (dg >= theta)
    return float(np.abs(phi_p - phi_g)[_weights(region, p.shape)].sum())


def segmentation_scores(pred: np.ndarray, gt: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """IoU of fg and bg, mIoU (their mean), precision, recall, F1 and accuracy at ``threshold``."""
    p, g = _pair(pred, gt)
    pf, gf = p >= threshold, g >= threshold
    tp = float(np.sum(pf & gf))
    tn = float(np.sum(~pf & ~gf))
    fp = float(np.sum(pf & ~gf))
    fn = float(np.sum(~pf & gf))

    def ratio(num: float, den: float) -> float:
        return num / den if den > 0 else 1.0  # nothing to find and nothing found: perfect

    iou_fg = ratio(tp, tp + fp + fn)
    iou_bg = ratio(tn, tn + fp + fn)
    precision = ratio(tp, tp + fp)
    recall = ratio(tp, tp + fn)
    f1 = ratio(2 * precision * recall, precision + recall)
    return {
        "iou_fg": iou_fg,
        "iou_bg": iou_bg,
        "miou": (iou_fg + iou_bg) / 2,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "accuracy": (tp + tn) / p.size,
    }


def matting_errors(pred: np.ndarray, gt: np.ndarray, region: np.ndarray | None = None) -> dict[str, float]:
    """SAD, MSE, gradient and connectivity errors plus the segmentation scores, in one dict."""
    out = {
        "sad": sad(pred, gt, region),
        "mse": mse(pred, gt, region),
        "gradient": gradient_error(pred, gt, region),
        "connectivity": connectivity_error(pred, gt, region),
    }
    out.update(segmentation_scores(pred, gt))
    return out

"""Image-quality metrics: MSE, PSNR and SSIM, optionally restricted to a mask.

Inputs are numpy images (H,W) or (H,W,C) or torch images (C,H,W) / batches (B,C,H,W).
numpy inputs give a float over the whole image; torch batches give a (B,) tensor (a single
(C,H,W) image gives a 0-dim tensor). ``data_range`` is the span of the value scale: 1 for
[0, 1] images (the default for floats), 2 for [-1, 1], 255 for uint8 (the default for uint8).
Masks are (H,W) / (H,W,1) for numpy and (H,W), (1,H,W) or (B,1,H,W) for torch, values in
[0, 1]; masked metrics weight each pixel by the mask.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

Image = np.ndarray | Tensor


def _default_range(a: Image, data_range: float | None) -> float:
    if data_range is not None:
        if data_range <= 0:
            raise ValueError(f"data_range must be positive, got {data_range}")
        return float(data_range)
    return 255.0 if isinstance(a, np.ndarray) and a.dtype == np.uint8 else 1.0


def _check_pair(a: Image, b: Image) -> None:
    if type(a) is not type(b) and not (isinstance(a, Tensor) and isinstance(b, Tensor)):
        raise TypeError(f"compare like with like: got {type(a).__name__} and {type(b).__name__}")
    if tuple(a.shape) != tuple(b.shape):
        raise ValueError(f"image shapes differ: {tuple(a.shape)} vs {tuple(b.shape)}")


def _numpy_mask(mask: np.ndarray, image: np.ndarray) -> np.ndarray:
    m = np.asarray(mask, dtype=np.float64)
    if m.ndim == 3 and m.shape[2] == 1:
        m = m[..., 0]
    if m.shape != image.shape[:2]:
        raise ValueError(f"mask shape {mask.shape} does not match image {image.shape[:2]}")
    return m[..., None] if image.ndim == 3 else m


def _torch_batch(a: Tensor) -> Tensor:
    if a.ndim == 4:
        return a
    if a.ndim == 3:
        return a.unsqueeze(0)
    raise ValueError(f"torch images must be (C,H,W) or (B,C,H,W), got {tuple(a.shape)}")


def _torch_mask(mask: Tensor, batch: Tensor) -> Tensor:
    m = mask.to(device=batch.device, dtype=batch.dtype)
    while m.ndim < 4:
        m = m.unsqueeze(0)
    if m.shape[1] != 1 or m.shape[-2:] != batch.shape[-2:]:
        raise ValueError(f"mask shape {tuple(mask.shape)} does not fit images {tuple(batch.shape)}")
    return m


def mse(a: Image, b: Image, mask: Image | None = None) -> float | Tensor:
    """Mean squared error (over the mask when given; an empty mask is an error)."""
    _check_pair(a, b)
    if isinstance(a, np.ndarray):
        diff = np.square(a.astype(np.float64) - np.asarray(b, dtype=np.float64))
        if mask is None:
            return float(diff.mean())
        m = _numpy_mask(np.asarray(mask), a)
        weight = float(np.broadcast_to(m, diff.shape).sum())
        if weight <= 0:
            raise ValueError("the mask is empty: nothing to compare")
        return float((diff * m).sum() / weight)
    squeeze = a.ndim == 3
    xa, xb = _torch_batch(a), _torch_batch(b)
    diff = (xa - xb.to(xa.dtype)).square()
    if mask is None:
        out = diff.mean(dim=(1, 2, 3))
    else:
        m = _torch_mask(mask, xa).expand_as(diff)
        weight = m.sum(dim=(1, 2, 3))
        if bool((weight <= 0).any()):
            raise ValueError("the mask is empty: nothing to compare")
        out = (diff * m).sum(dim=(1, 2, 3)) / weight
    return out[0] if squeeze else out


def psnr(a: Image, b: Image, mask: Image | None = None, data_range: float | None = None) -> float | Tensor:
    """Peak signal-to-noise ratio in dB (inf for identical images), masked when given."""
    peak = _default_range(a, data_range)
    err = mse(a, b, mask)
    if isinstance(err, Tensor):
        return 10.0 * torch.log10(peak**2 / err)  # err == 0 -> inf
    return math.inf if err == 0 else 10.0 * math.log10(peak**2 / err)


def _ssim_numpy(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None, peak: float) -> float:
    from skimage.metrics import structural_similarity

    if min(a.shape[:2]) < 7:
        raise ValueError(f"SSIM needs images of at least 7x7 px, got {a.shape}")
    channel_axis = -1 if a.ndim == 3 else None
    mean_ssim, smap = structural_similarity(
        a.astype(np.float64),
        b.astype(np.float64),
        data_range=peak,
        channel_axis=channel_axis,
        gaussian_weights=True,
        use_sample_covariance=False,
        full=True,
    )
    if mask is None:
        return float(mean_ssim)
    m = np.broadcast_to(_numpy_mask(mask, a), smap.shape)
    if m.sum() <= 0:
        raise ValueError("the mask is empty: nothing to compare")
    return float((smap * m).sum() / m.sum())


def ssim(a: Image, b: Image, mask: Image | None = None, data_range: float | None = None) -> float | Tensor:
    """Structural similarity (Gaussian-window SSIM of Wang et al.); 1 for identical images.

    With a mask, the local SSIM map is averaged over the masked pixels. Computed with
    scikit-image; torch inputs are copied to the CPU and do not carry gradients.
    """
    _check_pair(a, b)
    peak = _default_range(a, data_range)
    if isinstance(a, np.ndarray):
        m = None if mask is None else np.asarray(mask)
        return _ssim_numpy(a, np.asarray(b), m, peak)
    squeeze = a.ndim == 3
    xa, xb = _torch_batch(a), _torch_batch(b)
    masks = None if mask is None else _torch_mask(mask, xa).expand(xa.shape[0], -1, -1, -1)
    values = []
    for i in range(xa.shape[0]):
        ia = xa[i].detach().cpu().permute(1, 2, 0).double().numpy()
        ib = xb[i].detach().cpu().permute(1, 2, 0).double().numpy()
        mi = None if masks is None else masks[i, 0].detach().cpu().double().numpy()
        values.append(_ssim_numpy(ia, ib, mi, peak))
    out = torch.tensor(values, dtype=torch.float64)
    return out[0] if squeeze else out

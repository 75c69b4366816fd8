"""MSE / PSNR / SSIM on numpy and torch images, with and without masks."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from latent_atelier.models.metrics import mse, psnr, ssim

SAMPLES = Path(__file__).resolve().parents[2] / "resources" / "samples"


def _photo(size: int = 64) -> np.ndarray:
    img = Image.open(SAMPLES / "astronaut.png").convert("RGB").resize((size, size))
    return np.asarray(img, dtype=np.float64) / 255.0


def test_identical_images_give_inf_psnr_and_unit_ssim():
    img = _photo()
    assert psnr(img, img) == math.inf
    assert ssim(img, img) == pytest.approx(1.0)
    t = torch.from_numpy(img).permute(2, 0, 1).float()
    assert torch.isinf(psnr(t, t))
    assert ssim(t, t).item() == pytest.approx(1.0)


def test_psnr_of_known_noise_level():
    rng = np.random.default_rng(0)
    img = np.full((128, 128, 3), 0.5)
    sigma = 0.01  # expected PSNR = 10 log10(1 / sigma^2) = 40 dB
    noisy = img + rng.normal(0.0, sigma, img.shape)
    assert psnr(img, noisy) == pytest.approx(40.0, abs=0.1)
    # the same images on a [-1, 1] scale: noise doubles, so does the range -> same PSNR
    a = torch.from_numpy(img * 2 - 1).permute(2, 0, 1)[None]
    b = torch.from_numpy(noisy * 2 - 1).permute(2, 0, 1)[None]
    assert psnr(a, b, data_range=2.0).shape == (1,)
    assert psnr(a, b, data_range=2.0).item() == pytest.approx(40.0, abs=0.1)
    assert psnr(a, b).item() == pytest.approx(40.0 - 20 * math.log10(2), abs=0.1)


def test_uint8_defaults_to_255_range():
    a = np.full((16, 16, 3), 100, np.uint8)
    b = a + np.uint8(5)  # error 5 everywhere (no uint8 wrap-around in the metric)
    assert mse(a, b) == pytest.approx(25.0)
    assert psnr(a, b) == pytest.approx(10 * math.log10(255**2 / 25))


def test_masked_metrics_use_only_masked_pixels():
    img = _photo()
    damaged = img.copy()
    damaged[:, 32:] = 1.0 - damaged[:, 32:]  # right half ruined
    mask = np.zeros((64, 64))
    mask[:, :32] = 1.0
    assert psnr(img, damaged, mask=mask) == math.inf
    assert psnr(img, damaged) < 20
    assert mse(img, damaged, mask=1 - mask) == pytest.approx(mse(img, damaged) * 2)
    # SSIM's window crosses the seam, so keep the comparison a few pixels away from it
    inner = np.zeros((64, 64))
    inner[:, :24] = 1.0
    assert ssim(img, damaged, mask=inner) == pytest.approx(1.0)
    assert ssim(img, damaged) < 0.8

    t, d = (torch.from_numpy(x).permute(2, 0, 1)[None].repeat(2, 1, 1, 1) for x in (img, damaged))
    tmask = torch.from_numpy(mask)[None, None]
    assert torch.isinf(psnr(t, d, mask=tmask)).all()
    assert psnr(t, d).shape == (2,)
    assert torch.allclose(ssim(t, d, mask=torch.from_numpy(inner)), torch.ones(2, dtype=torch.float64))


def test_bad_inputs_are_clear_errors():
    img = _photo(16)
    with pytest.raises(ValueError, match="shapes differ"):
        psnr(img, img[:8])
    with pytest.raises(ValueError, match="mask is empty"):
        psnr(img, img, mask=np.zeros((16, 16)))
    with pytest.raises(ValueError, match="does not match"):
        mse(img, img, mask=np.ones((8, 8)))
    with pytest.raises(TypeError, match="like with like"):
        mse(img, torch.from_numpy(img))
    with pytest.raises(ValueError, match="data_range"):
        psnr(img, img, data_range=0)


def test_torch_mse_is_differentiable():
    a = torch.rand(1, 3, 8, 8, requires_grad=True)
    b = torch.rand(1, 3, 8, 8)
    mse(a, b).sum().backward()
    assert a.grad is not None and a.grad.abs().sum() > 0

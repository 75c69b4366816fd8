"""The DDS inside ceiling: the target generator's best inside fit, with nothing asked outside."""

from __future__ import annotations

import numpy as np
import torch

from benchmarks.bench_dds_ceiling import inside_ceiling
from latent_atelier.editors.dual_domain.compat import frozen
from latent_atelier.editors.dual_domain.dds import (
    DDSSettings,
    dual_domain_synthesis,
    masked_psnr_items,
    paired_inputs,
)
from tests.editors.test_dual_domain import left_mask, tiny


def test_ceiling_starts_at_the_plain_target_and_bounds_the_code_variant() -> None:
    torch.manual_seed(0)
    gs, gt = tiny(seed=1), tiny(seed=2)
    lat = gt.random_latent(5, batch=2)
    inputs = paired_inputs(gs, gt, lat, left_mask(2, 16, 6), left_mask(2, 16, 6))
    plain = masked_psnr_items(inputs.x_t, inputs.x_s, inputs.y_s).numpy()
    with frozen(gs, gt):
        best, curve = inside_ceiling(gt, inputs, steps=40, lr=0.05)
        code = DDSSettings(variant="code", space="w+", steps=40, lr=0.05)
        dds = dual_domain_synthesis(gs, gt, inputs, code)
    assert len(curve) == 41 and abs(curve[0] - plain.mean()) < 1e-4
    assert np.all(best >= plain) and best.mean() > plain.mean() + 0.5  # it does fit the part
    # DDS also pays for the outside, so it gets no closer inside than the ceiling
    assert np.all(dds.metrics["psnr_in"] <= best + 0.1)
    assert all(p.requires_grad for p in gt.parameters())


def test_freeing_the_noise_maps_is_a_looser_bound() -> None:
    gs, gt = tiny(seed=1), tiny(seed=2)
    inputs = paired_inputs(gs, gt, gt.random_latent(8, batch=1), left_mask(1, 16, 6), left_mask(1, 16, 6))
    kept = [n.clone() for n in inputs.latent.noise]
    with frozen(gs, gt):
        w_only, _ = inside_ceiling(gt, inputs, steps=30, lr=0.05)
        with_noise, _ = inside_ceiling(gt, inputs, steps=30, lr=0.05, free_noise=True)
    assert with_noise.mean() >= w_only.mean() - 0.2
    assert all(torch.equal(a, b) for a, b in zip(kept, inputs.latent.noise))  # inputs untouched

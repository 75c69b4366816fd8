"""Inpainting (Algorithm 4): distinct fills inside the hole, the photo kept outside, w_m rows only."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from latent_atelier.editors.i2s.inpaint import Inpaint, InpaintParams, inpaint, inpaint_rows, offset_latents
from latent_atelier.editors.masks import HOLE_TYPES, grow_and_blur, hole_mask
from latent_atelier.editors.operation import Cancelled, OperationError, Progress
from latent_atelier.models.perceptual import lpips
from tests.editors.images import generated_photo, weighted_psnr


@pytest.fixture(scope="module")
def filled(tiny_gen):
    photo = generated_photo(tiny_gen)
    hole = np.zeros((32, 32), np.float32)
    hole[8:24, 8:24] = 1.0
    out = inpaint(tiny_gen, photo, hole, InpaintParams(variants=3, steps_w=40, steps_noise=100, seed=0))
    return photo, hole, out


def test_variants_differ_inside_the_hole(filled):
    # LPIPS on the whole 32 px composites (they differ only inside the hole); fast at 32 px
    _, hole, out = filled
    for i, j in itertools.combinations(range(3), 2):
        a, b = out.composites[i], out.composites[j]
        assert float(lpips(a, b)) > 0.05, (i, j)
        assert float(np.abs(a - b)[hole > 0].mean()) > 0.05


def test_composite_keeps_the_photo_outside_the_hole(filled):
    photo, hole, out = filled
    outside_blend = (out.blend <= 0).astype(np.float32)  # outside M_blur+ (hole + ~2 px ring)
    assert outside_blend.sum() > 0.5 * (1 - hole).sum()
    for c in out.composites:
        assert weighted_psnr(c, photo, outside_blend) >= 35.0
        # the whole outside of the hole, blend ring included: the ring mixes in the fill
        assert weighted_psnr(c, photo, 1.0 - hole) >= 18.0
        # the noise phase pulls the generator's own image towards the photo outside
        assert weighted_psnr(c, photo, 1.0 - hole) > weighted_psnr(out.generated_w[0], photo, 1.0 - hole)
    # the blend mask covers the whole hole
    assert np.all(out.blend[hole > 0] >= 1.0 - 1e-6)


def test_only_the_allowed_rows_move(tiny_gen, filled):
    rows = inpaint_rows(tiny_gen.n_latent)
    assert rows == [0, 1, 2, 3, 6, 7]  # paper layers 1-9 -> rows 0-3 of 8, plus the last two
    start = offset_latents(tiny_gen, 3, 0.4, 0)
    moved = (filled[2].latent_w.w["w"] - start.w["w"]).abs().sum(-1) > 0
    expect = torch.zeros(tiny_gen.n_latent, dtype=torch.bool)
    expect[rows] = True
    assert torch.equal(moved, expect.expand(3, -1))


def test_all_rows_option_frees_every_row(tiny_gen):
    photo = generated_photo(tiny_gen)
    hole = np.zeros((32, 32), np.float32)
    hole[8:24, 8:24] = 1.0
    out = inpaint(tiny_gen, photo, hole, InpaintParams(variants=1, steps_w=2, steps_noise=0, free_rows="all"))
    start = offset_latents(tiny_gen, 1, 0.4, 0)
    assert bool(((out.latent_w.w["w"] - start.w["w"]).abs().sum(-1) > 0).all())
    with pytest.raises(ValueError, match="free_rows"):
        inpaint(tiny_gen, photo, hole, InpaintParams(steps_w=1, steps_noise=0, free_rows="some"))
    with pytest.raises(ValueError, match="noise_fill_mask"):
        inpaint(tiny_gen, photo, hole, InpaintParams(steps_w=1, steps_noise=0, noise_fill_mask="ring"))


def test_noise_fitting_the_ring_keeps_the_photo_there_better(tiny_gen):
    photo = generated_photo(tiny_gen)
    hole = np.zeros((32, 32), np.float32)
    hole[8:24, 8:24] = 1.0
    kw = {"variants": 1, "steps_w": 20, "steps_noise": 60, "seed": 0}
    blend = inpaint(tiny_gen, photo, hole, InpaintParams(noise_fill_mask="blend", **kw))
    ring_fit = inpaint(tiny_gen, photo, hole, InpaintParams(noise_fill_mask="hole", **kw))
    ring = ((blend.blend > 0) & (hole == 0)).astype(np.float32)
    assert ring.sum() > 0
    # same W+ phase; the noise phase differs only in where it keeps the fill
    assert np.array_equal(blend.generated_w[0], ring_fit.generated_w[0])
    assert (
        weighted_psnr(ring_fit.composites[0], photo, ring)
        > weighted_psnr(blend.composites[0], photo, ring) + 1.0
    )


def test_hole_types_cover_small_to_half(tmp_path):
    areas = {k: float(hole_mask(k, 64, seed=1).mean()) for k in HOLE_TYPES}
    assert len(HOLE_TYPES) == 7
    assert min(areas.values()) > 0.05
    assert areas["left_half"] == pytest.approx(0.5) and areas["bottom_half"] == pytest.approx(0.5)
    grown = grow_and_blur(hole_mask("center_box", 64), 0.02, 0.015)
    assert grown.sum() > hole_mask("center_box", 64).sum()


def test_operation_outputs_variants_progress_and_determinism(tiny_gen):
    photo = np.random.default_rng(0).random((36, 40, 3), dtype=np.float32)
    hole = np.zeros((36, 40), np.float32)
    hole[10:20, 12:24] = 1.0
    params = InpaintParams(variants=2, steps_w=3, steps_noise=3)
    seen = []
    a = Inpaint().run(
        tiny_gen, {"photo": photo, "hole": hole}, params, Progress(lambda i, n, _p, _m: seen.append((i, n)))
    )
    b = Inpaint().run(tiny_gen, {"photo": photo, "hole": hole}, params, Progress())
    assert [i for i, _ in seen] == list(range(1, 7))
    assert len(a.outputs["variants"]) == 2
    assert np.array_equal(a.outputs["result"], a.outputs["variants"][0])
    assert np.array_equal(a.outputs["result"], b.outputs["result"])
    far = np.ones((36, 40), bool)
    far[5:26, 7:30] = False  # the hole, grown and blurred, and a pixel for the crop's sampling
    assert np.array_equal(a.outputs["result"][far], photo[far])
    with pytest.raises(OperationError, match="empty"):
        Inpaint().run(tiny_gen, {"photo": photo, "hole": hole * 0}, params, Progress())
    prog = Progress(lambda i, _n, _p, _m: prog.cancel() if i == 2 else None)
    with pytest.raises(Cancelled):
        Inpaint().run(tiny_gen, {"photo": photo, "hole": hole}, params, prog)

"""Trimaps, user overrides, narrow-band closed-form refinement, foreground estimation."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from latent_atelier.editors.matting.metrics import mse, sad
from latent_atelier.editors.matting.refine import (
    TrimapError,
    apply_user_masks,
    estimate_foreground,
    generator_trimap,
    make_trimap,
    normalise_trimap,
    refine_alpha,
    soft_region,
    unknown_region,
    upsample_alpha,
)
from latent_atelier.editors.placement import Placement


def synthetic_scene(h: int = 160, w: int = 200, seed: int = 0):
    """(image, gt_alpha, fg_colours, bg_colours): a soft disk with hair-like strands."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:h, :w].astype(np.float32)
    cy, cx, r = h * 0.55, w * 0.5, min(h, w) * 0.3
    disk = (((yy - cy) ** 2 + (xx - cx) ** 2) < r**2).astype(np.float32)
    strands = np.zeros((h, w), np.float32)
    for angle in rng.uniform(np.pi * 1.1, np.pi * 1.9, 9):  # thin lines out of the top
        x0, y0 = cx + r * np.cos(angle), cy + r * np.sin(angle)
        x1, y1 = cx + 1.5 * r * np.cos(angle), cy + 1.5 * r * np.sin(angle)
        cv2.line(
            strands, (int(x0 * 16), int(y0 * 16)), (int(x1 * 16), int(y1 * 16)), 0.7, 1, cv2.LINE_AA, shift=4
        )
    alpha = np.maximum(cv2.GaussianBlur(disk, (0, 0), 1.5), strands)
    fg = np.stack([0.85 - 0.2 * yy / h, 0.55 + 0.1 * xx / w, 0.35 + 0 * xx], -1)
    bg = np.stack([0.15 + 0.2 * xx / w, 0.35 + 0.3 * yy / h, 0.8 - 0.1 * xx / w], -1)
    image = alpha[..., None] * fg + (1 - alpha[..., None]) * bg
    return image.astype(np.float32), alpha, fg.astype(np.float32), bg.astype(np.float32)


def coarse_alpha(alpha: np.ndarray, factor: int = 8) -> np.ndarray:
    """What a low-resolution generator would give: the alpha at 1/factor, upsampled."""
    h, w = alpha.shape
    small = cv2.resize(alpha, (w // factor, h // factor), interpolation=cv2.INTER_AREA)
    return np.clip(cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR), 0, 1)


def test_make_trimap_shrinks_sure_regions_by_the_band():
    alpha = np.zeros((60, 60), np.float32)
    alpha[:, 30:] = 1.0
    tri = make_trimap(alpha, band_px=5)
    assert set(np.unique(tri)) == {0.0, 0.5, 1.0}
    row = tri[30]
    assert (row[:25] == 0).all() and (row[35:] == 1).all()
    assert (row[25:35] == 0.5).all()  # 5 px each side of the edge (exact distance)
    wider = make_trimap(alpha, band_px=10)
    assert unknown_region(wider).sum() > unknown_region(tri).sum()


def test_generator_trimap_binarises_at_half_and_bands_the_boundary():
    alpha = np.tile(np.linspace(0.0, 1.0, 101, dtype=np.float32), (20, 1))  # 0.5 at column 50
    tri = generator_trimap(alpha, band_px=6, unsure=0.0)
    row = tri[10]
    assert set(np.unique(tri)) == {0.0, 0.5, 1.0}
    assert (row[:44] == 0).all() and (row[57:] == 1).all()  # sure beyond 6 px of the 0.5 line
    assert (row[45:56] == 0.5).all()
    # a soft alpha (0.6 / 0.4, no pixel above 0.95) still gives sure fg and bg away from the edge,
    # where make_trimap's 0.95 / 0.05 thresholds leave everything unknown
    soft = np.where(np.arange(60) < 30, 0.4, 0.6).astype(np.float32)[None].repeat(20, 0)
    assert unknown_region(make_trimap(soft, 3)).all()
    band_only = generator_trimap(soft, 3, unsure=0.0)
    assert (band_only[:, :26] == 0).all() and (band_only[:, 34:] == 1).all()
    # ... unless the generator's doubt is asked to count: 0.4 and 0.6 lie inside (0.1, 0.9)
    assert unknown_region(generator_trimap(soft, 3, unsure=0.1)).all()
    assert not unknown_region(generator_trimap(soft, 3, unsure=0.45)[:, :20]).any()


def test_generator_trimap_moves_the_boundary_to_painted_masks():
    alpha = np.zeros((40, 80), np.float32)
    alpha[:, :20] = 1.0  # the generator missed the subject's right part (x 20..49)
    fg_mask = np.zeros_like(alpha)
    fg_mask[:, 15:50] = 1.0
    tri = generator_trimap(alpha, band_px=4, unsure=0.1, fg_mask=fg_mask)
    row = tri[20]
    assert (row[:46] == 1).all() and (row[55:] == 0).all()  # band around the painted edge at 50
    assert (row[46:54] == 0.5).all()
    assert (row[16:24] == 1).all()  # no band where the generator's old edge was
    bg_mask = np.zeros_like(alpha)
    bg_mask[:, :10] = 1.0
    tri2 = generator_trimap(alpha, band_px=4, unsure=0.1, bg_mask=bg_mask)
    assert (tri2[20, 6:14] == 0.5).all() and (tri2[20, :5] == 0).all()
    with pytest.raises(TrimapError, match="foreground mask is 3x3"):
        generator_trimap(alpha, 4, fg_mask=np.ones((3, 3)))
    with pytest.raises(TrimapError, match="unsure"):
        generator_trimap(alpha, 4, unsure=0.5)


def test_user_masks_override_in_order_and_do_not_modify_input():
    tri = np.full((20, 20), 0.5, np.float32)
    fg = np.zeros((20, 20), np.float32)
    bg = np.zeros((20, 20), np.float32)
    unk = np.zeros((20, 20), np.float32)
    fg[:5] = 1
    bg[:10] = 1
    unk[15:] = 1
    tri[15:] = 1.0
    out = apply_user_masks(tri, fg_mask=fg, bg_mask=bg, unknown_mask=unk)
    assert (out[:5] == 1).all()  # fg wins over bg where both are painted
    assert (out[5:10] == 0).all()
    assert (out[15:] == 0.5).all()
    assert (tri[15:] == 1.0).all()  # the input trimap is untouched


def test_wrong_size_mask_names_both_sizes():
    tri = np.zeros((30, 40), np.float32)
    with pytest.raises(TrimapError, match=r"50x20.*40x30"):
        apply_user_masks(tri, fg_mask=np.zeros((20, 50), np.float32))
    image = np.zeros((30, 40, 3), np.float32)
    with pytest.raises(TrimapError, match=r"41x30.*40x30"):
        refine_alpha(image, np.zeros((30, 41), np.float32))


def test_normalise_trimap_snaps_painted_levels():
    painted = np.array([[0.0, 0.05, 0.3, 0.5, 0.7, 0.95, 1.0]], np.float32)
    assert normalise_trimap(painted).tolist() == [[0.0, 0.0, 0.5, 0.5, 0.5, 1.0, 1.0]]


def test_refinement_beats_threshold_of_the_coarse_alpha():
    image, gt, _, _ = synthetic_scene()
    coarse = coarse_alpha(gt)
    thresholded = (coarse >= 0.5).astype(np.float32)
    tri = make_trimap(coarse, band_px=6)
    refined = refine_alpha(image, tri)
    assert sad(refined, gt) < 0.5 * sad(thresholded, gt)
    assert mse(refined, gt) < 0.5 * mse(thresholded, gt)
    assert sad(refined, gt) < sad(coarse, gt)
    known = ~unknown_region(tri)
    np.testing.assert_array_equal(refined[known], tri[known])


def test_tiled_solve_matches_one_big_solve():
    image, gt, _, _ = synthetic_scene()
    tri = make_trimap(coarse_alpha(gt), band_px=6)
    tiled = refine_alpha(image, tri, tile=48, margin=24)
    whole = refine_alpha(image, tri, tile=4096)
    assert np.abs(tiled - whole).mean() < 1e-3
    assert np.abs(tiled - whole).max() < 0.05


def test_tile_callback_can_cancel():
    image, gt, _, _ = synthetic_scene()
    tri = make_trimap(coarse_alpha(gt), band_px=6)
    seen = []

    def stop(i: int, n: int) -> None:
        seen.append((i, n))
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        refine_alpha(image, tri, tile=48, on_tile=stop)
    assert seen == [(1, seen[0][1])] and seen[0][1] > 1


def test_foreground_estimation_removes_background_bleed():
    image, gt, fg_true, _ = synthetic_scene()
    soft = soft_region(gt) & (gt > 0.2)
    fg = estimate_foreground(image, gt)
    before = np.abs(image - fg_true)[soft].mean()
    after = np.abs(fg - fg_true)[soft].mean()
    assert after < 0.5 * before
    opaque = gt >= 1.0
    np.testing.assert_array_equal(fg[opaque], image[opaque])


def test_upsample_alpha_through_placement_puts_outside_to_background():
    photo_shape = (90, 60)
    placement = Placement.centered(photo_shape, 32)
    crop = np.ones((32, 32), np.float32)
    up = upsample_alpha(crop, placement)
    assert up.shape == photo_shape
    assert up[:10].max() == 0.0 and up[-10:].max() == 0.0  # outside the centred square
    assert up[45, 30] == pytest.approx(1.0)
    with pytest.raises(TrimapError, match="16x16"):
        upsample_alpha(np.ones((16, 16), np.float32), placement)


def test_coarse_to_fine_solve_matches_the_direct_solve():
    image, gt, _, _ = synthetic_scene(240, 320)
    tri = make_trimap(coarse_alpha(gt), band_px=12)
    direct = refine_alpha(image, tri, coarse_levels=0)
    pyramid = refine_alpha(image, tri, coarse_levels=1)
    assert sad(pyramid, gt) < 1.15 * sad(direct, gt)
    assert np.abs(pyramid - direct).mean() < 0.01
    known = ~unknown_region(tri)
    np.testing.assert_array_equal(pyramid[known], tri[known])


def test_a_big_photo_solved_at_a_working_size_keeps_its_edge():
    image, gt, _, _ = synthetic_scene(400, 480, seed=3)
    tri = make_trimap(coarse_alpha(gt), band_px=16)
    full = refine_alpha(image, tri, coarse_levels=0)
    small = refine_alpha(image, tri, work_side=240)
    # half the size loses the 1-px strands' share of detail (SAD 108 against 51 here), not the
    # edge; plain bilinear upsampling of the same solve is ~7x worse than the guided one
    assert sad(small, gt) < 2.5 * sad(full, gt)
    assert np.abs(small - full)[unknown_region(tri)].mean() < 0.05
    known = ~unknown_region(tri)
    np.testing.assert_array_equal(small[known], tri[known])
    assert refine_alpha(image, tri, work_side=480) is not None  # not bigger than the photo: no-op


def test_guided_upsampling_follows_the_full_resolution_colour_edge():
    from latent_atelier.editors.matting.guided_upsample import guided_upsample

    image, gt, _, _ = synthetic_scene(320, 320, seed=1)
    small_img = cv2.resize(image, (80, 80), interpolation=cv2.INTER_AREA)
    small_alpha = cv2.resize(gt, (80, 80), interpolation=cv2.INTER_AREA)
    guided = guided_upsample(small_alpha, small_img, image)
    bilinear = np.clip(cv2.resize(small_alpha, (320, 320), interpolation=cv2.INTER_LINEAR), 0, 1)
    assert guided.shape == gt.shape and guided.dtype == np.float32
    assert guided.min() >= 0.0 and guided.max() <= 1.0
    assert sad(guided, gt) < 0.8 * sad(bilinear, gt)
    where = np.zeros(gt.shape, bool)
    where[100:200, 100:200] = True
    part = guided_upsample(small_alpha, small_img, image, where=where)
    np.testing.assert_allclose(part[where], guided[where], atol=1e-5)
    assert not part[~where].any()

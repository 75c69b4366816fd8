"""Alpha-matting errors and segmentation scores against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from latent_atelier.editors.matting.metrics import (
    connectivity_error,
    gradient_error,
    matting_errors,
    mse,
    sad,
    segmentation_scores,
)


def test_sad_and_mse_by_hand_with_region():
    gt = np.array([[0.0, 1.0], [0.5, 0.25]])
    pred = np.array([[0.5, 1.0], [0.0, 0.25]])
    assert sad(pred, gt) == pytest.approx(1.0)
    assert mse(pred, gt) == pytest.approx((0.25 + 0.25) / 4)
    region = np.array([[True, False], [False, False]])
    assert sad(pred, gt, region) == pytest.approx(0.5)
    assert mse(pred, gt, region) == pytest.approx(0.25)


def test_identical_mattes_have_zero_errors_and_perfect_scores():
    rng = np.random.default_rng(0)
    gt = rng.random((40, 50))
    errs = matting_errors(gt, gt)
    for key in ("sad", "mse", "gradient", "connectivity"):
        assert errs[key] == 0.0
    for key in ("iou_fg", "iou_bg", "miou", "precision", "recall", "f1", "accuracy"):
        assert errs[key] == 1.0


def test_gradient_error_ignores_offsets_and_grows_with_blur():
    gt = np.zeros((40, 40))
    gt[:, 20:] = 0.9
    offset = gt + 0.05  # same edges, every value off by 0.05
    assert sad(offset, gt) == pytest.approx(0.05 * gt.size)
    assert gradient_error(offset, gt) == pytest.approx(0.0, abs=1e-9)
    errors = []
    for width in (4, 8, 16):
        ramp = np.clip((np.arange(40) - 20 + width / 2) / width, 0, 1) * 0.9
        errors.append(gradient_error(ramp[None].repeat(40, 0), gt))
    assert 0 < errors[0] < errors[1] < errors[2]


def test_connectivity_forgives_small_drops_but_not_islands():
    gt = np.zeros((30, 30))
    gt[5:25, 5:15] = 1.0  # 200 px subject
    dimmer = gt * 0.9  # whole subject slightly low: still one connected piece
    island = gt.copy()
    island[5:25, 25:27] = 0.5  # 40 px of false foreground, floating free
    assert sad(dimmer, gt) == pytest.approx(sad(island, gt))
    assert connectivity_error(dimmer, gt) == pytest.approx(0.0)
    assert connectivity_error(island, gt) == pytest.approx(40 * 0.5)


def test_segmentation_scores_by_hand():
    gt = np.array([[1, 1, 0, 0]], float)
    pred = np.array([[0.9, 0.2, 0.7, 0.1]])  # TP, FN, FP, TN
    s = segmentation_scores(pred, gt)
    assert s["iou_fg"] == pytest.approx(1 / 3)
    assert s["iou_bg"] == pytest.approx(1 / 3)
    assert s["miou"] == pytest.approx(1 / 3)
    assert s["precision"] == pytest.approx(0.5)
    assert s["recall"] == pytest.approx(0.5)
    assert s["f1"] == pytest.approx(0.5)
    assert s["accuracy"] == pytest.approx(0.5)


def test_mismatched_shapes_are_refused():
    with pytest.raises(ValueError, match="one size"):
        sad(np.zeros((3, 4)), np.zeros((4, 3)))

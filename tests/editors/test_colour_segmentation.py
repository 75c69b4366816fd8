"""GrabCut seeded by a generator alpha: the edge moves to the colour edge, painted labels hold."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from latent_atelier.editors.matting.colour_segmentation import segment_by_colour
from latent_atelier.editors.matting.metrics import segmentation_scores


def _portrait(seed: int = 0):
    """A hard-edged head-and-shoulders shape in two skin/hair tones on a textured background."""
    rng = np.random.default_rng(seed)
    h, w = 120, 100
    yy, xx = np.mgrid[:h, :w].astype(np.float32)
    head = (xx - 50) ** 2 / 22**2 + (yy - 50) ** 2 / 28**2 < 1
    shoulders = (yy > 88) & (np.abs(xx - 50) < 40)
    truth = head | shoulders
    photo = np.empty((h, w, 3), np.float32)
    photo[:] = (0.2, 0.45, 0.3)
    photo += 0.08 * np.sin(xx / 3.0)[..., None] * np.array([1.0, 0.5, 0.2], np.float32)
    photo[truth] = (0.85, 0.65, 0.55)
    photo[head & (yy < 40)] = (0.35, 0.2, 0.1)  # hair
    photo += rng.normal(0, 0.01, photo.shape).astype(np.float32)
    return np.clip(photo, 0, 1), truth


def _rough_prior(truth: np.ndarray, shift: int = 6, blur: float = 5.0) -> np.ndarray:
    """What a low-resolution generator gives: shifted, blurred and missing the shoulders."""
    a = np.roll(truth.astype(np.float32), shift, axis=1)
    a[95:] = 0.3  # unsure about the shoulders
    return cv2.GaussianBlur(a, (0, 0), blur)


def test_the_edge_moves_to_the_colour_edge():
    photo, truth = _portrait()
    prior = _rough_prior(truth)
    before = segmentation_scores((prior >= 0.5).astype(np.float32), truth)["iou_fg"]
    mask = segment_by_colour(photo, prior)
    after = segmentation_scores(mask.astype(np.float32), truth)["iou_fg"]
    assert mask.dtype == bool and mask.shape == truth.shape
    assert before < 0.8 and after > 0.95


def test_working_size_downscales_and_the_answer_comes_back_full_size():
    small_photo, small_truth = _portrait()
    prior = cv2.resize(_rough_prior(small_truth), (200, 240), interpolation=cv2.INTER_LINEAR)
    photo = cv2.resize(small_photo, (200, 240), interpolation=cv2.INTER_NEAREST)
    truth = cv2.resize(small_truth.astype(np.uint8), (200, 240), interpolation=cv2.INTER_NEAREST) > 0
    mask = segment_by_colour(photo, prior, work_px=100)
    assert mask.shape == truth.shape
    assert segmentation_scores(mask.astype(np.float32), truth)["iou_fg"] > 0.9


def test_painted_masks_are_hard_labels_at_full_resolution():
    photo, truth = _portrait()
    prior = _rough_prior(truth)
    bg_mask = np.zeros(truth.shape, np.float32)
    bg_mask[30:60, 40:60] = 1.0  # the user says: this part of the face is background
    fg_mask = np.zeros(truth.shape, np.float32)
    fg_mask[5:8, 5:8] = 1.0  # and this corner is subject
    mask = segment_by_colour(photo, prior, fg_mask=fg_mask, bg_mask=bg_mask, work_px=40)
    assert not mask[30:60, 40:60].any()
    assert mask[5:8, 5:8].all()


def test_nothing_to_fit_returns_the_thresholded_prior():
    photo, truth = _portrait()
    empty = np.zeros(truth.shape, np.float32)
    assert not segment_by_colour(photo, empty).any()
    full = np.ones(truth.shape, np.float32)
    assert segment_by_colour(photo, full).all()
    flat = np.full(photo.shape, 0.5, np.float32)  # no colours to tell apart
    prior = _rough_prior(truth)
    assert segment_by_colour(flat, prior).shape == truth.shape


def test_bad_shapes_get_clear_errors():
    photo, truth = _portrait()
    with pytest.raises(ValueError, match="H x W x 3 image and an H x W prior"):
        segment_by_colour(photo, truth[:-1].astype(np.float32))
    with pytest.raises(ValueError, match="resize or repaint"):
        segment_by_colour(photo, truth.astype(np.float32), fg_mask=np.ones((5, 5)))
    with pytest.raises(ValueError, match="work_px"):
        segment_by_colour(photo, truth.astype(np.float32), work_px=2)

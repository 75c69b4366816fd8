"""The mask-limits figures locate where an alpha misses the person and what the image draws there."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.mask_limits import mask_limits


def bright(images: np.ndarray) -> np.ndarray:
    """A stand-in parser: the person is wherever the image is bright."""
    return images.mean(-1) > 0.5


def test_an_alpha_that_misses_the_drawn_shoulders_is_located() -> None:
    truth = np.zeros((2, 12, 12), np.float32)
    truth[:, 2:12, 3:9] = 1  # head and shoulders down to the bottom edge
    alpha = truth.copy()
    alpha[:, 8:12] = 0  # the alpha leaves out the bottom third
    recon = np.repeat(truth[..., None], 3, axis=-1)  # the image still draws all of the person
    out = mask_limits(alpha, recon, truth, bright, originals=recon)
    assert out["missed_pixels_the_reconstruction_draws_as_person"] == 1.0
    assert out["parser_on_reconstructions_vs_truth_iou_fg"] == 1.0
    assert out["parser_on_originals_vs_truth_iou_fg"] == 1.0
    assert out["alpha_vs_truth_iou_fg"] == pytest.approx(36 / 60)
    recall = out["alpha_recall_by_band"]
    assert recall["top"] == 1.0 and recall["middle"] == 1.0 and recall["bottom"] == 0.0
    assert out["extra_person_share_of_pixels"] == 0.0


def test_a_reconstruction_that_lost_the_person_is_told_apart() -> None:
    truth = np.zeros((1, 12, 12), np.float32)
    truth[:, 2:12, 3:9] = 1
    alpha = np.zeros_like(truth)
    recon = np.zeros((1, 12, 12, 3), np.float32)  # nothing drawn: the image failed, not the alpha
    out = mask_limits(alpha, recon, truth, bright)
    assert out["missed_pixels_the_reconstruction_draws_as_person"] == 0.0
    assert out["parser_on_reconstructions_vs_truth_iou_fg"] == 0.0
    assert "parser_on_originals_vs_truth_iou_fg" not in out


def test_mismatched_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="same images"):
        mask_limits(np.zeros((1, 8, 8)), np.zeros((1, 8, 8, 3)), np.zeros((2, 8, 8)), bright)

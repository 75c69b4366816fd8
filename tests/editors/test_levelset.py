"""Level-set boundary refinement on constructed cases."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from latent_atelier.editors.operation import OperationError
from latent_atelier.editors.stitching.levelset import refine_labels

N = 96


def _photo(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.uniform(0.3, 0.7, (N, N, 3)).astype(np.float32)


def _disk(cy: float, cx: float, r: float) -> np.ndarray:
    yy, xx = np.mgrid[0:N, 0:N]
    return (yy - cy) ** 2 + (xx - cx) ** 2 < r**2


def _two_halves() -> np.ndarray:
    labels = np.full((N, N), 1, np.int32)
    labels[:, 48:] = 2
    return labels


def _square_on_background() -> np.ndarray:
    labels = np.zeros((N, N), np.int32)
    labels[24:72, 24:72] = 3
    return labels


def _perimeter(mask: np.ndarray) -> int:
    return int((mask[:, 1:] != mask[:, :-1]).sum() + (mask[1:, :] != mask[:-1, :]).sum())


def _boundary_distance(labels: np.ndarray) -> np.ndarray:
    edge = np.zeros(labels.shape, bool)
    edge[:, 1:] |= labels[:, 1:] != labels[:, :-1]
    edge[:, :-1] |= labels[:, 1:] != labels[:, :-1]
    edge[1:, :] |= labels[1:, :] != labels[:-1, :]
    edge[:-1, :] |= labels[1:, :] != labels[:-1, :]
    return ndimage.distance_transform_edt(~edge)


def test_boundary_between_segments_leaves_high_difference_region() -> None:
    photo = _photo()
    labels = _two_halves()
    blob = _disk(48, 48, 10)  # straddles the 1|2 border
    edited1 = photo.copy()
    edited1[blob] += 0.5
    out = refine_labels(labels, photo, {1: edited1, 2: photo + 0.02})
    before = (blob & (labels == 1)).sum()
    after = (blob & (out == 1)).sum()
    assert after <= 0.2 * before
    # Segment 2 matched the photo there, so it takes the pixels over.
    assert (blob & (out == 2)).sum() >= (blob & (labels == 2)).sum() + 0.8 * before


def test_segment_cedes_high_difference_region_to_the_photo() -> None:
    photo = _photo()
    labels = _square_on_background()
    blob = _disk(24, 48, 9)  # straddles the square's top edge
    edited = photo + 0.01
    edited[blob] += 0.6
    out = refine_labels(labels, photo, {3: edited})
    before = (blob & (labels == 3)).sum()
    assert (blob & (out == 3)).sum() <= 0.2 * before
    # Away from the blob the square is essentially untouched.
    far = ~ndimage.binary_dilation(blob, iterations=6)
    assert ((out != labels) & far).sum() <= 0.02 * (labels == 3).sum()


def test_refined_boundary_stays_smooth_with_noisy_difference() -> None:
    rng = np.random.default_rng(3)
    photo = _photo()
    labels = _square_on_background()
    blob = _disk(24, 48, 9)
    edited = photo + 0.05 * rng.standard_normal(photo.shape).astype(np.float32)
    edited[blob] += 0.6
    out = refine_labels(labels, photo, {3: edited})
    for k in (0, 3):
        assert ndimage.label(out == k)[1] == 1, f"label {k} broke into pieces / specks"
    assert _perimeter(out == 3) <= 1.3 * _perimeter(labels == 3)


@pytest.mark.parametrize("max_move", [3, 8])
def test_never_moves_further_than_max_move(max_move: int) -> None:
    photo = _photo()
    labels = _square_on_background()
    edited = photo + 0.5  # disagrees everywhere: the square wants to vanish
    out = refine_labels(labels, photo, {3: edited}, iterations=200, max_move=max_move)
    changed = out != labels
    assert changed.any()
    assert _boundary_distance(labels)[changed].max() <= max_move


def test_zero_difference_moves_nothing() -> None:
    photo = _photo()
    labels = _two_halves()
    out = refine_labels(labels, photo, {1: photo.copy(), 2: photo.copy()}, iterations=50)
    assert np.array_equal(out, labels)


def test_boundary_without_difference_stays_put() -> None:
    """F is high only in a blob deep inside segment 1: the 1|2 border must not move."""
    photo = _photo()
    labels = _two_halves()
    edited = photo.copy()
    edited[_disk(48, 20, 6)] += 0.5  # 22 px from the border, F = 0 near the border
    out = refine_labels(labels, photo, {1: edited, 2: photo.copy()})
    assert np.array_equal(out, labels)


def test_result_is_a_partition_with_the_same_ids() -> None:
    photo = _photo()
    labels = _two_halves()
    labels[30:60, 30:60] = 5
    labels[:10] = 0
    edited = photo + 0.4  # composite form: every segment disagrees everywhere
    out = refine_labels(labels, photo, edited, iterations=300, max_move=40)
    assert out.shape == labels.shape and out.dtype == labels.dtype
    assert set(np.unique(out)) == set(np.unique(labels))


def test_only_requested_segments_shrink() -> None:
    photo = _photo()
    labels = _two_halves()
    edited = photo + 0.5
    out = refine_labels(labels, photo, {1: edited, 2: edited}, segments=[2])
    assert (out == 2).sum() < (labels == 2).sum()
    assert np.all(out[labels == 1] == 1)


def test_bad_inputs_raise_clear_errors() -> None:
    photo = _photo()
    labels = _two_halves()
    with pytest.raises(OperationError, match="no edited image"):
        refine_labels(labels, photo, {1: photo})
    with pytest.raises(OperationError, match="do not occur"):
        refine_labels(labels, photo, photo, segments=[7])
    with pytest.raises(OperationError, match="dt must be"):
        refine_labels(labels, photo, photo + 0.3, dt=5.0)

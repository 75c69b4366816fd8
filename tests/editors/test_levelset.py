"""Level-set boundary refinement on constructed cases: absolute speed, holes, motion bounds."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from latent_atelier.editors.operation import OperationError
from latent_atelier.editors.stitching.levelset import (
    change_map,
    refine_labels,
    speed_from_change,
    to_lab,
)

N = 96
SHIFT = np.array([0.3, -0.2, 0.15], np.float32)  # a strong colour change (dE ~ 30)


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
    labels[16:80, 16:80] = 3
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


@pytest.mark.parametrize("sigma", [0.002, 0.005])
def test_invisible_noise_moves_no_boundary_pixel(sigma: float) -> None:
    rng = np.random.default_rng(7)
    photo = _photo()
    labels = _two_halves()
    labels[:12] = 0
    noisy = {k: photo + sigma * rng.standard_normal(photo.shape).astype(np.float32) for k in (1, 2)}
    assert np.array_equal(refine_labels(labels, photo, noisy), labels)
    # the same noise on a dark, saturated photo (where sRGB steps are largest in Lab)
    dark = np.random.default_rng(8).uniform(0.0, 0.15, (N, N, 3)).astype(np.float32)
    noisy = {
        k: np.clip(dark + sigma * rng.standard_normal(dark.shape), 0, 1).astype(np.float32) for k in (1, 2)
    }
    assert np.array_equal(refine_labels(labels, dark, noisy), labels)


BLOB_CASES = {
    "edge_to_photo": (_square_on_background, 3, _disk(16, 48, 11), {}),
    "edge_between_segments": (_two_halves, 1, _disk(48, 48, 12), {2: "photo"}),
    "deep_inside": (_square_on_background, 3, _disk(48, 48, 10), {}),
}


@pytest.mark.parametrize("case", sorted(BLOB_CASES))
def test_strongly_changed_blob_is_removed_and_the_rest_kept(case: str) -> None:
    make_labels, k, blob, others = BLOB_CASES[case]
    photo = _photo()
    labels = make_labels()
    edited = photo.copy()
    edited[blob] += SHIFT
    images = {k: edited, **{j: photo.copy() for j in others}}
    out = refine_labels(labels, photo, images)
    inside = labels == k
    changed_part = blob & inside
    unchanged_part = inside & ~blob
    removed = 1 - (changed_part & (out == k)).sum() / changed_part.sum()
    kept = (unchanged_part & (out == k)).sum() / unchanged_part.sum()
    assert removed >= 0.98, f"{case}: only {removed:.1%} of the changed blob removed"
    assert kept >= 0.99, f"{case}: only {kept:.1%} of the unchanged pixels kept"


def test_released_pixels_go_to_a_neighbour_that_matches_else_to_the_photo() -> None:
    photo = _photo()
    labels = _two_halves()
    near, deep = _disk(48, 46, 6), _disk(48, 14, 6)  # at the 1|2 border, 30 px inside 1
    edited = photo.copy()
    edited[near | deep] += SHIFT
    out = refine_labels(labels, photo, {1: edited, 2: photo.copy()})
    assert (out[near & (labels == 1)] == 2).mean() >= 0.98  # segment 2 drew the photo there
    assert (out[deep] == 0).mean() >= 0.98  # nobody near matches: the photo itself


def test_threshold_is_an_absolute_colour_difference() -> None:
    photo = _photo()
    labels = _square_on_background()
    edited = photo.copy()
    band = np.zeros((N, N), bool)
    band[10:24, 30:66] = True  # across the square's top edge
    edited[band] += np.float32(0.06)  # a uniform grey step of about 6 dE
    delta_e = change_map(to_lab(photo), edited)
    assert 4.0 < float(np.median(delta_e[band])) < 9.0
    moved = refine_labels(labels, photo, {3: edited}, threshold=2.5)
    assert (moved[band & (labels == 3)] != 3).mean() >= 0.98
    still = refine_labels(labels, photo, {3: edited}, threshold=10.0)
    assert np.array_equal(still, labels)
    assert speed_from_change(np.array([0.0, 2.5, 3.75, 5.0, 40.0]), 2.5).tolist() == [0.0, 0.0, 0.5, 1.0, 1.0]


@pytest.mark.parametrize("depth", [6, 14])
def test_front_alone_crosses_a_changed_band_of_any_depth_within_max_move(depth: int) -> None:
    """Without holes the iteration count follows the distance: a deep band is crossed too."""
    photo = _photo()
    labels = _square_on_background()
    edited = photo.copy()
    band = np.zeros((N, N), bool)
    band[16 : 16 + depth, 28:68] = True  # touches the top edge, ``depth`` px deep
    edited[band] += SHIFT
    out = refine_labels(labels, photo, {3: edited}, holes=False)
    assert (out[band] != 3).mean() >= 0.98
    assert (out[(labels == 3) & ~ndimage.binary_dilation(band, iterations=2)] == 3).all()


def test_refined_boundary_stays_smooth_with_noisy_difference() -> None:
    rng = np.random.default_rng(3)
    photo = _photo()
    labels = _square_on_background()
    blob = _disk(16, 48, 9)
    edited = photo + 0.01 * rng.standard_normal(photo.shape).astype(np.float32)
    edited[blob] += SHIFT
    out = refine_labels(labels, photo, {3: edited})
    for k in (0, 3):
        assert ndimage.label(out == k)[1] == 1, f"label {k} broke into pieces / specks"
    assert _perimeter(out == 3) <= 1.3 * _perimeter(labels == 3)


@pytest.mark.parametrize("max_move", [3, 8])
def test_fronts_never_move_further_than_max_move(max_move: int) -> None:
    photo = _photo()
    labels = _square_on_background()
    edited = photo + 0.5  # disagrees everywhere: the square wants to vanish
    out = refine_labels(labels, photo, {3: edited}, holes=False, max_move=max_move)
    changed = out != labels
    assert changed.any()
    assert _boundary_distance(labels)[changed].max() <= max_move


def test_a_change_over_most_of_the_segment_is_no_hole() -> None:
    """A global edit (the whole square changed) shrinks the borders but keeps the interior."""
    photo = _photo()
    labels = _square_on_background()
    out = refine_labels(labels, photo, {3: photo + 0.5}, max_move=6)
    assert (out[28:68, 28:68] == 3).all()


def test_zero_difference_moves_nothing() -> None:
    photo = _photo()
    labels = _two_halves()
    out = refine_labels(labels, photo, {1: photo.copy(), 2: photo.copy()})
    assert np.array_equal(out, labels)


def test_without_holes_a_deep_change_leaves_the_boundary_alone() -> None:
    photo = _photo()
    labels = _two_halves()
    edited = photo.copy()
    edited[_disk(48, 20, 6)] += SHIFT  # 22 px from the border
    out = refine_labels(labels, photo, {1: edited, 2: photo.copy()}, holes=False)
    assert np.array_equal(out, labels)


def test_result_is_a_partition_with_the_same_ids() -> None:
    photo = _photo()
    labels = _two_halves()
    labels[30:60, 30:60] = 5
    labels[:10] = 0
    edited = photo + 0.4  # composite form: every segment disagrees everywhere
    out = refine_labels(labels, photo, edited, max_move=40)
    assert out.shape == labels.shape and out.dtype == labels.dtype
    assert set(np.unique(out)) == set(np.unique(labels))


def test_only_requested_segments_shrink() -> None:
    photo = _photo()
    labels = _two_halves()
    edited = photo + 0.5
    out = refine_labels(labels, photo, {1: edited, 2: edited}, segments=[2])
    assert (out == 2).sum() < (labels == 2).sum()
    assert np.all(out[labels == 1] == 1)


@pytest.mark.parametrize(
    ("edited", "options", "message"),
    [
        (lambda photo: {1: photo}, {}, "no edited image"),
        (lambda photo: photo, {"segments": [7]}, "do not occur"),
        (lambda photo: photo + 0.3, {"dt": 5.0}, "dt must be"),
        (lambda photo: photo + 0.3, {"threshold": 0.0}, "threshold"),
        (lambda photo: {1: photo[:10], 2: photo}, {}, "shape"),
    ],
)
def test_bad_inputs_raise_clear_errors(edited, options, message) -> None:
    photo = _photo()
    with pytest.raises(OperationError, match=message):
        refine_labels(_two_halves(), photo, edited(photo), **options)


def _bar_edit(before: np.ndarray, rows: slice, cols: slice) -> np.ndarray:
    after = before.copy()
    after[rows, cols] += SHIFT
    return np.clip(after, 0.0, 1.0)


def test_grow_takes_in_a_new_feature_that_reaches_across_the_border():
    """The paper's Fig. 7: the edit draws a bar from inside the segment 8 px beyond it."""
    from latent_atelier.editors.stitching.levelset import grow_labels

    labels = np.zeros((N, N), np.int32)
    labels[30:66, 30:60] = 1
    before = _photo()
    after = _bar_edit(before, slice(44, 52), slice(40, 68))  # the bar ends at column 67
    grown = grow_labels(labels, {1: before}, {1: after})
    bar_outside = np.zeros((N, N), bool)
    bar_outside[45:51, 60:66] = True
    assert (grown[bar_outside] == 1).all()  # the new feature now belongs to the segment
    assert (grown[:, 70:] == 0).all()  # and nothing beyond it
    unchanged_border = np.zeros((N, N), bool)
    unchanged_border[30:40, 60:64] = True  # the same border, where the edit changed nothing
    assert (grown[unchanged_border] == 0).all()
    assert ((grown == 1) & (labels == 0)).sum() < 120  # the bar's outside part and its edge


def test_grow_without_change_keeps_the_labels_and_each_id_keeps_a_pixel():
    from latent_atelier.editors.stitching.levelset import grow_labels

    labels = np.zeros((N, N), np.int32)
    labels[30:66, 30:60] = 1
    labels[40:44, 61:64] = 2  # a small neighbour right where the edit spreads
    before = _photo()
    assert np.array_equal(grow_labels(labels, {1: before}, {1: before.copy()}), labels)
    grown = grow_labels(labels, {1: before}, {1: _bar_edit(before, slice(30, 66), slice(30, 70))})
    assert set(np.unique(grown)) == {0, 1, 2}
    with pytest.raises(OperationError, match="before and an after"):
        grow_labels(labels, {2: before}, {1: before})


def test_a_global_edit_grows_no_border():
    from latent_atelier.editors.stitching.levelset import grow_labels

    labels = np.zeros((N, N), np.int32)
    labels[30:66, 30:60] = 1
    before = _photo()
    after = _bar_edit(before, slice(0, N), slice(0, N))  # the whole picture changed
    assert np.array_equal(grow_labels(labels, {1: before}, {1: after}), labels)

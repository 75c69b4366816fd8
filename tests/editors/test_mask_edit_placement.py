"""mask-edit without a placement: the face is found and framed from the photo's label map."""

from __future__ import annotations

import numpy as np

from latent_atelier.editors.mask_guided.label_placement import (
    TRAINING_FACE_CENTRE,
    TRAINING_POINTS,
    placement_from_labels,
)
from latent_atelier.editors.operation import Progress
from latent_atelier.editors.registry import get_operation
from latent_atelier.models.mask_guided.classes import HAIR, LEFT_EYE, MOUTH, RIGHT_EYE, SKIN


def small_face(h: int = 240, w: int = 320, cx: float = 230.0, cy: float = 80.0, eye_gap: float = 24.0):
    """A big photo's label map with one small face far from the centre: eyes ``eye_gap``
    px apart around ``(cx, cy)``, the mouth below."""
    lab = np.zeros((h, w), np.int32)
    yy, xx = np.mgrid[:h, :w]
    r = eye_gap * 1.4
    lab[(yy - cy - 0.3 * eye_gap) ** 2 + (xx - cx) ** 2 < r**2] = SKIN
    lab[(yy < cy - 0.6 * eye_gap) & (np.abs(xx - cx) < r) & (yy > cy - 1.4 * eye_gap)] = HAIR
    d = max(int(eye_gap // 8), 1)
    ex = int(eye_gap / 2)
    lab[int(cy) - d : int(cy) + d, int(cx) - ex - 2 * d : int(cx) - ex + 2 * d] = RIGHT_EYE  # image left
    lab[int(cy) - d : int(cy) + d, int(cx) + ex - 2 * d : int(cx) + ex + 2 * d] = LEFT_EYE
    my = int(cy + 0.9 * eye_gap)
    lab[my - d : my + d, int(cx) - ex // 2 : int(cx) + ex // 2] = MOUTH
    return lab


def centre_in_crop(placement, lab: np.ndarray, cls: int) -> np.ndarray:
    ys, xs = np.nonzero(lab == cls)
    p = np.array([xs.mean(), ys.mean(), 1.0])
    return placement.matrix @ p


def test_eyes_and_mouth_land_where_the_training_faces_have_them() -> None:
    lab = small_face()
    placement, how = placement_from_labels(lab, 64)
    assert how == "eyes and mouth"
    for cls, (tx, ty) in TRAINING_POINTS.items():
        u, v = centre_in_crop(placement, lab, cls)
        assert abs(u - tx) < 2.5 and abs(v - ty) < 2.5, (cls, u, v)
    # the same at another model size: the points scale with it
    p128, _ = placement_from_labels(lab, 128)
    u, v = centre_in_crop(p128, lab, LEFT_EYE)
    assert abs(u - 2 * TRAINING_POINTS[LEFT_EYE][0]) < 5 and abs(v - 2 * TRAINING_POINTS[LEFT_EYE][1]) < 5


def test_without_eyes_the_face_box_is_framed_and_without_a_face_nothing_is() -> None:
    lab = small_face()
    no_eyes = np.where(np.isin(lab, (LEFT_EYE, RIGHT_EYE)), SKIN, lab)
    placement, how = placement_from_labels(no_eyes, 64)
    assert how == "face box"
    ys, xs = np.nonzero(np.isin(no_eyes, (SKIN, MOUTH)))
    c = placement.matrix @ np.array([(xs.min() + xs.max() + 1) / 2, (ys.min() + ys.max() + 1) / 2, 1.0])
    assert np.allclose(c, TRAINING_FACE_CENTRE, atol=1.0)
    none, why = placement_from_labels(np.where(lab == HAIR, HAIR, 0), 64)
    assert none is None and "no face" in why


def run(tiny_model: str, photo: np.ndarray, lab: np.ndarray, edited: np.ndarray):
    op = get_operation("mask-edit")
    inputs = {"photo": photo, "labels": lab, "edited": edited}
    return op.run(None, inputs, op.Params(mask_model=tiny_model), Progress())


def test_mask_edit_frames_a_small_off_centre_face_by_its_map(tiny_model) -> None:
    lab = small_face()
    photo = np.random.default_rng(0).uniform(0, 1, (*lab.shape, 3)).astype(np.float32)
    edited = np.where(lab == MOUTH, SKIN, lab)
    edited[(lab == SKIN) & (np.abs(np.arange(lab.shape[0])[:, None] - 101) < 3)] = MOUTH  # a wider mouth
    res = run(tiny_model, photo, lab, edited)
    assert any("placed by the label map's eyes and mouth" in n for n in res.notes)
    crop_map = res.outputs["edited_labels"]
    # the crop holds the face at the training framing, not the centred square of the photo
    ys, xs = np.nonzero(crop_map == LEFT_EYE)
    assert abs(xs.mean() - TRAINING_POINTS[LEFT_EYE][0] / 2) < 2.0
    assert abs(ys.mean() - TRAINING_POINTS[LEFT_EYE][1] / 2) < 2.0
    # only near the face did pixels change
    changed = np.abs(res.outputs["result"] - photo).max(axis=2) > 1e-6
    assert changed.any() and not changed[:, :150].any()


def test_mask_edit_without_a_face_in_the_map_says_it_used_the_centre(tiny_model) -> None:
    lab = np.zeros((40, 40), np.int32)
    lab[:10] = HAIR
    photo = np.full((40, 40, 3), 0.5, np.float32)
    edited = lab.copy()
    edited[10:14] = HAIR
    res = run(tiny_model, photo, lab, edited)
    assert any("shows no face" in n and "using the centred square" in n for n in res.notes)
    assert res.outputs["result"].shape == photo.shape

"""The mask-edit operation with a tiny random model: paste-back, edges, component transfer."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from latent_atelier.editors.operation import OperationError, Progress
from latent_atelier.editors.placement import Placement
from latent_atelier.editors.registry import get_operation
from latent_atelier.models.mask_guided.classes import HAIR, LEFT_EYE, MOUTH, RIGHT_EYE, SKIN
from tests.editors.conftest import tiny_mask_guided_config

TINY = tiny_mask_guided_config()
H, W = 48, 64  # the photo; the placement is its centred 48 px square


def portrait(seed: int = 0, hair_rows: int = 10) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    photo = rng.uniform(0, 1, (H, W, 3)).astype(np.float32)
    lab = np.zeros((H, W), np.int32)
    yy, xx = np.mgrid[:H, :W]
    lab[(yy - 26) ** 2 + (xx - 32) ** 2 < 15**2] = SKIN
    lab[6 : 6 + hair_rows, 20:44] = HAIR
    lab[20:23, 24:29] = RIGHT_EYE
    lab[20:23, 35:40] = LEFT_EYE
    lab[32:35, 27:37] = MOUTH
    photo[lab == HAIR] = (0.8, 0.1, 0.1) if seed == 0 else (0.1, 0.2, 0.9)
    return photo, lab


def run(tiny_model: str, **inputs):
    op = get_operation("mask-edit")
    take = inputs.pop("take", "nothing")
    params = op.Params(mask_model=tiny_model, take=take, **inputs.pop("params", {}))
    inputs.setdefault("edited", inputs["labels"])  # an unchanged map unless the test edits it
    # the centred square unless the test passes placement=None (then the map places the face)
    inputs.setdefault("placement", Placement.centered((H, W), TINY.size))
    return op.run(None, inputs, params, Progress())


def test_edit_is_pasted_back_only_where_the_map_changed(tiny_model) -> None:
    photo, lab = portrait()
    edited = lab.copy()
    edited[18:25, 22:30] = RIGHT_EYE  # a bigger right eye
    res = run(tiny_model, photo=photo, labels=lab, edited=edited)
    out = res.outputs["result"]
    assert out.shape == photo.shape and res.outputs["crop"].shape == (32, 32, 3)
    assert not np.allclose(out[18:25, 22:30], photo[18:25, 22:30])
    changed = np.abs(out - photo).max(axis=2) > 1e-6
    far = np.ones((H, W), bool)
    far[8:36, 12:40] = False  # the edit, its margin and feather (<= 6 model px = 9 photo px)
    assert not changed[far].any()
    assert res.metrics["model_seconds"] > 0 and 0 <= res.metrics["parser_miou"] <= 1
    # without keep_unchanged the whole placed square is the model's
    full = run(tiny_model, photo=photo, labels=lab, edited=edited, params={"keep_unchanged": False})
    assert (np.abs(full.outputs["result"] - photo).max(axis=2) > 1e-6)[:, 8:56].mean() > 0.9


def test_unchanged_map_changes_nothing_and_says_so(tiny_model) -> None:
    photo, lab = portrait()
    res = run(tiny_model, photo=photo, labels=lab)
    assert np.array_equal(res.outputs["result"], photo)
    assert any("nothing to redraw" in n for n in res.notes)


def test_wrong_size_and_unknown_classes_are_clear_errors(tiny_model) -> None:
    photo, lab = portrait()
    with pytest.raises(OperationError, match="edited map is 32x48 px but the photo is 64x48"):
        run(tiny_model, photo=photo, labels=lab, edited=lab[:, :32])
    bad = lab.copy()
    bad[0, 0] = 17
    with pytest.raises(OperationError, match="unknown class values 17"):
        run(tiny_model, photo=photo, labels=lab, edited=bad)
    with pytest.raises(OperationError, match="second portrait"):
        run(tiny_model, photo=photo, labels=lab, take="hair")
    with pytest.raises(OperationError, match="no such model file"):
        run(str(tiny_model) + ".missing", photo=photo, labels=lab)


def test_missing_mouth_is_handled_and_said(tiny_model) -> None:
    photo, lab = portrait()
    edited = np.where(lab == MOUTH, SKIN, lab)
    res = run(tiny_model, photo=photo, labels=lab, edited=edited)
    assert res.outputs["result"].shape == photo.shape
    assert any("no mouth in the edited map" in n for n in res.notes)


def test_hair_from_a_second_portrait(tiny_model) -> None:
    photo, lab = portrait(0)
    donor, donor_lab = portrait(1, hair_rows=4)
    res = run(tiny_model, photo=photo, labels=lab, donor=donor, donor_labels=donor_lab, take="hair")
    used = res.outputs["edited_labels"]
    plain = run(tiny_model, photo=photo, labels=lab, edited=np.where(lab == HAIR, 0, lab))
    assert not np.allclose(res.outputs["crop"], plain.outputs["crop"])  # the donor's code is used
    # its shape too: the donor's shorter hair (in crop coordinates, 32 px for 48 photo px)
    assert (used == HAIR).sum() < (np.asarray(lab[:, 8:56]) == HAIR).sum() * (32 / 48) ** 2
    keep = run(
        tiny_model,
        photo=photo,
        labels=lab,
        donor=donor,
        donor_labels=donor_lab,
        take="hair",
        params={"take_shape": False},
    )
    assert (keep.outputs["edited_labels"] == HAIR).sum() > (used == HAIR).sum()


def test_cli_mask_edit(tiny_model, tmp_path) -> None:
    from latent_atelier.app.cli import main

    photo, lab = portrait()
    edited = lab.copy()
    edited[2:6, 20:44] = HAIR
    Image.fromarray((photo * 255).astype(np.uint8)).save(tmp_path / "photo.png")
    Image.fromarray(lab.astype(np.uint8)).save(tmp_path / "labels.png")
    Image.fromarray(edited.astype(np.uint8)).save(tmp_path / "edited.png")
    out = tmp_path / "out"
    code = main(
        [
            "mask-edit",
            str(tmp_path / "photo.png"),
            "--labels",
            str(tmp_path / "labels.png"),
            "--edited",
            str(tmp_path / "edited.png"),
            "--model",
            tiny_model,
            "--out-dir",
            str(out),
        ]
    )
    assert code == 0
    result = np.asarray(Image.open(out / "result.png"))
    assert result.shape == (H, W, 3)


def test_take_shape_moves_hair_and_keeps_the_face_parts() -> None:
    from latent_atelier.editors.mask_guided.map_edits import take_shape

    _photo, lab = portrait(0, hair_rows=10)
    _donor, donor_lab = portrait(1, hair_rows=4)
    donor_lab[20:23, 24:29] = HAIR  # donor hair where the target has its right eye
    out = take_shape(lab, donor_lab, ("hair",))
    assert (out == HAIR).sum() < (lab == HAIR).sum()
    assert out[8, 32] == HAIR and out[14, 22] != HAIR  # the donor's shorter hair
    assert out[14, 21] == 0  # former hair outside the face -> background
    assert (out[20:23, 24:29] == RIGHT_EYE).all()  # donor hair never covers the eyes


def test_rerender_reads_the_drawn_variant() -> None:
    from latent_atelier.models.training.mask_guided_rerender import drawn_variant, option_name

    svg = '<svg><g data-part="mouth" data-variant="variant07"><path/></g></svg>'
    assert drawn_variant(svg, "mouth") == "variant07" and drawn_variant(svg, "eyes") is None
    assert option_name("mouth", "notionists") == "lips" and option_name("mouth", "lorelei") == "mouth"

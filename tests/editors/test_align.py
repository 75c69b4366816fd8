"""FFHQ face alignment: the recipe, detection on hard photos, paste-back, manual fallback."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from latent_atelier.editors import faces
from latent_atelier.editors.faces import backend
from latent_atelier.editors.faces.align import Align, ffhq_quad, parse_points, placement_from_points
from latent_atelier.editors.operation import OperationError, Progress
from latent_atelier.editors.registry import get_operation
from tests.editors.command_line import TINY_MODEL, cli

SAMPLES = Path(__file__).resolve().parents[2] / "resources" / "samples"
# FFHQ-aligned faces have their eye centres near these fractions of the crop side
FFHQ_EYES = np.array([[0.375, 0.47], [0.625, 0.47]])
EYE_TOL = 8.0  # pixels at 256


def load(name: str) -> np.ndarray:
    return np.asarray(Image.open(SAMPLES / name).convert("RGB"), np.float32) / 255.0


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return load("astronaut.png")


def align(photo: np.ndarray, **params):
    op = Align()
    p = op.default_params()
    for k, v in params.items():
        setattr(p, k, v)
    return op.run(None, {"photo": photo}, p, Progress())


def eyes_in(crop: np.ndarray) -> np.ndarray:
    """Eye centres found independently in the aligned crop (image-left eye first)."""
    found = faces.detect_faces(crop)
    assert found, "no face in the aligned crop"
    return np.stack([found[0].right_eye, found[0].left_eye])


def angle_deg(placement) -> float:
    m = placement.matrix
    return float(np.degrees(np.arctan2(m[1, 0], m[0, 0])))


# -- the recipe, by hand ------------------------------------------------------------------
def test_ffhq_quad_matches_the_recipe_worked_by_hand():
    # eye_to_eye (60, 0), eye_to_mouth (0, 70): x = (130, 0) -> scaled to max(120, 126) = 126
    quad = ffhq_quad((100, 100), (160, 100), (130, 170))
    c = np.array([130.0, 107.0])  # eye_avg + 0.1 * eye_to_mouth
    expected = c + np.array([[-126, -126], [-126, 126], [126, 126], [126, -126]])
    np.testing.assert_allclose(quad, expected, atol=1e-9)


def test_manual_placement_maps_the_quad_onto_the_crop_edges():
    pl = placement_from_points((100, 100), (160, 100), (130, 170), 256, (300, 300))
    quad = ffhq_quad((100, 100), (160, 100), (130, 170))
    np.testing.assert_allclose(
        pl.to_crop(quad), [[-0.5, -0.5], [-0.5, 255.5], [255.5, 255.5], [255.5, -0.5]], atol=1e-9
    )
    np.testing.assert_allclose(pl.corners()[[0, 3, 2, 1]], quad, atol=1e-9)
    # eyes 60 px apart become 60 * 256 / 252 px apart, level, above the centre
    eyes = pl.to_crop(np.array([[100, 100], [160, 100]]))
    assert eyes[1, 0] - eyes[0, 0] == pytest.approx(60 * 256 / 252)
    assert eyes[0, 1] == pytest.approx(eyes[1, 1])
    np.testing.assert_allclose(pl.to_photo(pl.to_crop(quad)), quad, atol=1e-9)


def test_eye_order_does_not_matter():
    a = placement_from_points((100, 100), (160, 100), (130, 170), 128, (300, 300))
    b = placement_from_points((160, 100), (100, 100), (130, 170), 128, (300, 300))
    np.testing.assert_allclose(a.matrix, b.matrix, atol=1e-12)


def test_degenerate_or_malformed_points_give_clear_errors():
    with pytest.raises(OperationError, match="do not define a face"):
        placement_from_points((10, 10), (10, 10), (10, 10), 64, (50, 50))
    with pytest.raises(OperationError, match="three 'x,y' pairs"):
        parse_points("1,2 3,4")
    np.testing.assert_array_equal(parse_points("1,2; 3,4 5.5,6"), [[1, 2], [3, 4], [5.5, 6]])


# -- automatic alignment -----------------------------------------------------------------
def test_astronaut_aligns_with_eyes_at_ffhq_positions(astronaut):
    res = align(astronaut)
    crop, pl = res.outputs["aligned"], res.outputs["placement"]
    assert crop.shape == (256, 256, 3) and crop.dtype == np.float32
    assert res.outputs["placements"] == [pl]
    np.testing.assert_allclose(eyes_in(crop), FFHQ_EYES * 256, atol=EYE_TOL)
    assert abs(angle_deg(pl)) < 5  # she holds her head nearly upright


def test_paste_back_round_trip_keeps_the_face(astronaut):
    res = align(astronaut)
    pl = res.outputs["placement"]
    back = pl.paste(astronaut, res.outputs["aligned"])
    x0, y0, x1, y1 = (round(v) for v in faces.detect_faces(astronaut)[0].box)
    err = np.mean((back[y0:y1, x0:x1] - astronaut[y0:y1, x0:x1]) ** 2)
    psnr = 10 * np.log10(1.0 / err)
    assert psnr >= 40.0, f"paste-back PSNR {psnr:.1f} dB"
    outside = pl.crop_mask() == 0
    np.testing.assert_array_equal(back[outside], astronaut[outside])


def test_output_size_follows_the_generator(astronaut, tiny_gen):
    res = Align().run(tiny_gen, {"photo": astronaut}, Align().default_params(), Progress())
    assert res.outputs["aligned"].shape == (tiny_gen.resolution,) * 2 + (3,)
    assert res.outputs["placement"].size == tiny_gen.resolution


@pytest.mark.parametrize("degrees", [30.0, -30.0])
def test_rotated_photo_is_turned_upright(astronaut, degrees):
    centre = (225.0, 120.0)  # about the face, so it stays in the frame
    rot = cv2.getRotationMatrix2D(centre, degrees, 1.0)
    turned = cv2.warpAffine(astronaut, rot, (512, 512), borderMode=cv2.BORDER_REFLECT101)
    upright = align(astronaut).outputs["placement"]
    res = align(turned)
    # the crop undoes the turn: angles differ by the rotation, eyes land where they should
    assert angle_deg(res.outputs["placement"]) - angle_deg(upright) == pytest.approx(degrees, abs=4)
    np.testing.assert_allclose(eyes_in(res.outputs["aligned"]), FFHQ_EYES * 256, atol=EYE_TOL)


def test_small_face_in_a_large_canvas(astronaut):
    small = cv2.resize(astronaut, None, fx=0.77, fy=0.77, interpolation=cv2.INTER_AREA)
    canvas = np.full((1200, 1600, 3), 0.45, np.float32)
    canvas[500 : 500 + small.shape[0], 700 : 700 + small.shape[1]] = small
    found = faces.detect_faces(canvas)
    assert len(found) == 1 and 65 <= found[0].width <= 95  # the face is ~80 px wide
    res = align(canvas)
    np.testing.assert_allclose(eyes_in(res.outputs["aligned"]), FFHQ_EYES * 256, atol=EYE_TOL)


def test_large_photo_aligns_at_full_resolution(astronaut):
    factor = 4000 / 512
    big = cv2.resize(astronaut, (4000, 4000), interpolation=cv2.INTER_LINEAR)
    res = align(big)
    pl = res.outputs["placement"]
    assert pl.photo_shape == (4000, 4000)
    # the same face region, just 7.8x larger: the crop scale shrinks by that factor
    assert pl.scale == pytest.approx(align(astronaut).outputs["placement"].scale / factor, rel=0.03)
    np.testing.assert_allclose(eyes_in(res.outputs["aligned"]), FFHQ_EYES * 256, atol=EYE_TOL)


def test_each_face_gets_a_placement_and_the_user_picks(astronaut):
    two = np.concatenate([astronaut, astronaut[:, ::-1]], axis=1)
    res = align(two, face=1)
    placements = res.outputs["placements"]
    assert len(placements) == 2 and res.metrics["faces"] == 2
    assert res.outputs["placement"] is placements[1]
    centres = sorted(p.to_photo([[127.5, 127.5]])[0, 0] for p in placements)
    assert centres[0] < 512 < centres[1]  # one face on each half
    with pytest.raises(OperationError, match="only 2 face"):
        align(two, face=2)


@pytest.mark.parametrize("photo", ["coffee", "noise"])
def test_photo_without_a_face_gets_the_message(photo):
    img = (
        load("coffee.png")
        if photo == "coffee"
        else (np.random.default_rng(0).random((300, 400, 3)).astype(np.float32))
    )
    with pytest.raises(OperationError, match="no face was found") as info:
        align(img)
    assert "click both eye centres" in str(info.value)


# -- without the extra --------------------------------------------------------------------
@pytest.fixture
def no_face_models(monkeypatch):
    """Simulate a set-up without the ``faces`` extra: importing its modules fails."""
    backend.load_solutions.cache_clear()
    monkeypatch.setitem(sys.modules, "mediapipe.python.solutions", None)
    yield
    backend.load_solutions.cache_clear()


def test_without_the_extra_the_error_says_how_to_enable_it(no_face_models, astronaut):
    assert not faces.faces_available()
    with pytest.raises(faces.FacesUnavailable) as info:
        align(astronaut)
    msg = str(info.value)
    assert "requirements/faces.txt" in msg and "click both eye centres" in msg
    with pytest.raises(faces.FacesUnavailable):
        faces.detect_faces(astronaut)


def test_manual_alignment_works_without_the_extra(no_face_models, astronaut):
    eyes_mouth = np.array([[203.5, 101.6], [246.7, 104.0], [223.8, 140.2]])  # from the photo
    text = " ".join(f"{x},{y}" for x, y in eyes_mouth)
    res = align(astronaut, points=text, size=128)
    pl = res.outputs["placement"]
    assert res.outputs["aligned"].shape == (128, 128, 3) and res.params["manual"]
    expected = placement_from_points(*eyes_mouth, 128, astronaut.shape[:2])
    np.testing.assert_allclose(pl.matrix, expected.matrix)
    np.testing.assert_allclose(pl.to_crop(eyes_mouth[:2]), FFHQ_EYES * 128, atol=EYE_TOL / 2)
    # the GUI passes clicked points as an array input
    res2 = Align().run(None, {"photo": astronaut, "points": eyes_mouth}, Align().default_params(), Progress())
    assert res2.outputs["placement"].size == 256
    assert not faces.faces_available()


def test_align_is_registered_and_needs_no_generator():
    op = get_operation("align")
    assert isinstance(op, Align) and op.needs_generator is False
    assert any(s.name == "placements" and s.multiple for s in op.outputs)


@pytest.mark.filterwarnings("error")  # also: the progress bar takes align's "step 0 of 2"
def test_cli_align_then_embed_in_the_aligned_box_with_a_smaller_model(tmp_path):
    """`align` without a model writes a 256 px placement; a 32 px model works in that region."""
    from latent_atelier.editors.placement import Placement

    photo = (np.random.default_rng(3).random((120, 160, 3)) * 255).astype(np.uint8)
    Image.fromarray(photo).save(tmp_path / "photo.png")

    points = ("--points", "70,50 100,50 85,85")
    assert cli("align", tmp_path / "photo.png", *points, "--out-dir", tmp_path / "al") == 0
    aligned = Placement.from_dict(json.loads((tmp_path / "al" / "placement.json").read_text()))
    assert aligned.size == 256
    embed = ("embed", tmp_path / "photo.png", "--placement", tmp_path / "al" / "placement.json")
    steps = ("--steps-w", 1, "--steps-noise", 0)
    assert cli(*TINY_MODEL, *embed, *steps, "--out-dir", tmp_path / "emb") == 0
    used = Placement.from_dict(json.loads((tmp_path / "emb" / "placement.json").read_text()))
    assert used.size == 32
    np.testing.assert_allclose(used.matrix, aligned.at_size(32).matrix)

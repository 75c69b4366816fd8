"""The matte's person prior on real photos (needs the ``faces`` extra; skipped without it)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from latent_atelier.editors import faces
from latent_atelier.editors.matting.matte import MatteParams
from latent_atelier.editors.operation import OperationError, Progress
from latent_atelier.editors.placement import Placement
from latent_atelier.editors.registry import get_operation

needs_faces = pytest.mark.skipif(not faces.faces_available(), reason="the faces extra is absent")
SIDE = 256  # the photos are halved: the person prior and the solver stay fast


def _small(img: np.ndarray, side: int = SIDE) -> np.ndarray:
    h, w = img.shape[:2]
    s = side / max(h, w)
    return cv2.resize(img, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="module")
def real():
    from benchmarks.real_references import read_photo, read_reference

    return {n: (_small(read_photo(n)), _small(read_reference(n))) for n in ("astronaut", "grace_hopper")}


@pytest.fixture(scope="module")
def tiny_furry():
    from latent_atelier.models.zoo import random_generator

    return random_generator("furrygan", 32, 0, style_dim=32, n_mlp=2, channels={4: 32, 8: 32, 16: 32, 32: 32})


def _iou(alpha: np.ndarray, ref: np.ndarray) -> float:
    a, r = alpha >= 0.5, ref >= 0.5
    return float((a & r).sum() / (a | r).sum())


def _run(gen, photo, **kw):
    inputs = {"photo": photo, **{k: v for k, v in kw.items() if k != "params"}}
    return get_operation("matte").run(gen, inputs, kw.get("params", MatteParams()), Progress())


@needs_faces
@pytest.mark.parametrize("name", ["astronaut", "grace_hopper"])
def test_person_source_cuts_out_real_portraits_without_strokes(real, name):
    photo, ref = real[name]
    res = _run(None, photo, params=MatteParams(source="person"))
    assert _iou(res.outputs["alpha"], ref) >= 0.93
    assert res.metrics["faces"] == 1.0


@needs_faces
def test_auto_with_an_out_of_domain_generator_lets_the_person_lead(real, tiny_furry):
    photo, ref = real["astronaut"]
    res = _run(tiny_furry, photo, params=MatteParams(steps_w=2, steps_noise=1))
    assert res.metrics["trust"] < 0.5
    assert any("out of its domain" in n for n in res.notes)
    assert _iou(res.outputs["alpha"], ref) >= 0.93


@needs_faces
def test_the_face_box_is_where_the_generator_looks_not_a_wall(real, tiny_furry):
    photo, ref = real["astronaut"]
    box = Placement.from_box(80.0, 5.0, 80.0, 32, photo.shape[:2])  # around the head only
    res = _run(tiny_furry, photo, placement=box, params=MatteParams(steps_w=2, steps_noise=1))
    alpha = res.outputs["alpha"]
    assert alpha[200, 60] >= 0.5 and alpha[160, 170] >= 0.5  # suit and shoulder, far outside
    assert _iou(alpha, ref) >= 0.9


@needs_faces
def test_eyes_and_lips_are_never_holes_unless_painted(real):
    photo, _ref = real["grace_hopper"]
    found = faces.detect_faces(photo)[0]
    eye = np.round(found.right_eye).astype(int)
    mouth = np.round(found.mouth_center).astype(int)
    res = _run(None, photo, params=MatteParams(source="person"))
    for x, y in (eye, mouth):
        assert res.outputs["alpha"][y, x] >= 0.99
    bg = np.zeros(photo.shape[:2], np.float32)
    cv2.circle(bg, (int(mouth[0]), int(mouth[1])), 4, 1.0, -1)
    res = _run(None, photo, bg_mask=bg, params=MatteParams(source="person"))
    assert res.outputs["alpha"][mouth[1], mouth[0]] == 0.0  # painted strokes win


@needs_faces
@pytest.mark.parametrize("source", ["person", "auto"])
def test_several_people_are_all_foreground(real, tiny_furry, source):
    (a, ra), (g, rg) = real["astronaut"], real["grace_hopper"]
    h = min(a.shape[0], g.shape[0])
    photo = np.concatenate([a[:h], g[:h]], axis=1)
    ref = np.concatenate([ra[:h], rg[:h]], axis=1)
    gen = tiny_furry if source == "auto" else None
    res = _run(gen, photo, params=MatteParams(source=source, steps_w=2, steps_noise=1))
    assert res.metrics["faces"] == 2.0
    alpha = res.outputs["alpha"]
    w = a.shape[1]
    assert _iou(alpha[:, :w], ref[:, :w]) >= 0.9 and _iou(alpha[:, w:], ref[:, w:]) >= 0.9


@needs_faces
@pytest.mark.parametrize("sample", ["coffee", "chelsea"])  # a cup, a cat: no person
def test_a_photo_without_a_person_gets_a_note_and_the_generator(tiny_furry, sample):
    from latent_atelier.app.document.image_read import read_image
    from latent_atelier.resources import resources_dir

    photo = _small(read_image(resources_dir() / "samples" / f"{sample}.png").pixels[..., :3], 128)
    res = _run(tiny_furry, photo, params=MatteParams(steps_w=2, steps_noise=1))
    assert any("no face found" in n and "generator" in n for n in res.notes)
    assert "trust" not in res.metrics
    with pytest.raises(OperationError, match=r"no face found.*source 'generator'"):
        _run(None, photo, params=MatteParams(source="person"))


def test_without_the_faces_extra_auto_says_what_is_missing_and_falls_back(monkeypatch, tiny_furry):
    monkeypatch.setattr(faces, "faces_available", lambda: False)
    photo = np.random.default_rng(0).random((40, 48, 3)).astype(np.float32)
    res = _run(tiny_furry, photo, params=MatteParams(steps_w=2, steps_noise=1))
    assert any(faces.INSTALL_HINT in n for n in res.notes)
    assert res.outputs["alpha"].shape == (40, 48)
    with pytest.raises(OperationError, match=r"requirements/faces\.txt"):
        _run(None, photo, params=MatteParams(source="person"))

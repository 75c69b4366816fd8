"""The matte's priors without the face models: trust rule, fusion, holes, hair band, strokes."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from latent_atelier.editors.matting import trust
from latent_atelier.editors.matting.fusion import (
    HAIR_BAND_FACTOR,
    fill_holes,
    fused_prior,
    fused_trimap,
    strokes_prior,
    sure_labels,
)
from latent_atelier.editors.matting.matte import MatteParams
from latent_atelier.editors.matting.priors import PersonPrior, empty_prior
from latent_atelier.editors.operation import OperationError, Progress, validate_params
from latent_atelier.editors.registry import get_operation


def _disk(shape=(80, 80), centre=(40, 40), r=25.0) -> np.ndarray:
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return ((yy - centre[0]) ** 2 + (xx - centre[1]) ** 2 < r * r).astype(np.float32)


def _photo_of(mask: np.ndarray) -> np.ndarray:
    fg, bg = np.array([0.9, 0.5, 0.2], np.float32), np.array([0.1, 0.3, 0.8], np.float32)
    return mask[..., None] * fg + (1 - mask[..., None]) * bg


# ---------------------------------------------------------------- trust
def test_trust_is_full_in_domain_and_none_out_of_domain():
    in_domain = trust.Fit(psnr=24.0, lpips=0.12, agreement=0.9)
    assert in_domain.trust() == pytest.approx(1.0) and in_domain.note() == ""
    assert trust.Fit(psnr=15.7, lpips=0.28, agreement=0.33).trust() == 0.0
    # the bundled cartoon model's W+ fit of the astronaut (results/matting_real_real.json)
    out = trust.Fit(psnr=17.5, lpips=0.28, agreement=0.48)
    assert out.trust() < 0.1
    assert "out of its domain" in out.note() and "17.5 dB" in out.note()


def test_trust_rises_with_fit_and_agreement():
    psnrs = np.linspace(14, 26, 13)
    ts = [trust.Fit(p, 0.1, 0.9).trust() for p in psnrs]
    assert all(b >= a for a, b in itertools.pairwise(ts)) and ts[0] == 0.0 and ts[-1] == 1.0
    lp = [trust.Fit(25.0, v, 0.9).trust() for v in np.linspace(0.1, 0.5, 9)]
    assert all(b <= a for a, b in itertools.pairwise(lp)) and lp[-1] == 0.0
    good_fit_disagreeing = trust.Fit(25.0, 0.1, 0.2).trust()
    assert good_fit_disagreeing == pytest.approx(1.0 - trust.AGREE_WEIGHT)
    assert trust.Fit(25.0, 0.1, None).trust() == 1.0


def test_an_unsure_person_prior_cannot_lead_however_poor_the_fit():
    poor_fit = dict(psnr=15.0, lpips=0.4, agreement=0.3)
    assert trust.Fit(**poor_fit, person_confidence=0.97).trust() == 0.0  # a real photo
    hazy = trust.Fit(**poor_fit, person_confidence=trust.UNSURE_PERSON - 0.05)
    assert hazy.trust() == 1.0 and hazy.note() == ""
    middle = (trust.UNSURE_PERSON + trust.SURE_PERSON) / 2
    assert trust.Fit(**poor_fit, person_confidence=middle).trust() == pytest.approx(0.5)
    ts = [trust.Fit(**poor_fit, person_confidence=c).trust() for c in np.linspace(0.5, 1.0, 11)]
    assert all(b <= a for a, b in itertools.pairwise(ts))
    # a good fit keeps its trust when the person prior is sure of itself
    assert trust.Fit(25.0, 0.1, 0.9, person_confidence=1.0).trust() == 1.0


def test_decisiveness_tells_a_sure_segmentation_from_a_haze():
    from latent_atelier.editors.matting.priors import decisiveness

    sure = np.zeros((40, 40), np.float32)
    sure[10:30, 10:30] = 0.99
    assert decisiveness(sure) == pytest.approx(0.98)
    haze = np.full((40, 40), 0.5, np.float32)
    haze[10:30, 10:30] = 0.7
    assert decisiveness(haze) < 0.2
    assert decisiveness(np.zeros((8, 8))) == 0.0


def test_agreement_is_iou_at_one_half():
    a = np.zeros((4, 4))
    a[:2] = 1
    b = np.zeros((4, 4))
    b[:, :2] = 1
    assert trust.agreement(a, b) == pytest.approx(4 / 12)
    assert trust.agreement(np.zeros((3, 3)), np.zeros((3, 3))) == 1.0


# ---------------------------------------------------------------- fusion
def _person(mask: np.ndarray, face: np.ndarray | None = None, hair: np.ndarray | None = None) -> PersonPrior:
    z = np.zeros(mask.shape, bool)
    return PersonPrior(
        mask.astype(np.float32), z if face is None else face, z if hair is None else hair, faces=1, found=True
    )


def test_outside_the_placement_the_person_prior_speaks_alone():
    person = _person(_disk())
    gen = np.zeros((80, 80), np.float32)  # the generator saw nothing of the subject
    footprint = np.zeros((80, 80), bool)
    footprint[:, :40] = True
    fused = fused_prior((80, 80), person, gen, 1.0, footprint)
    assert fused[40, 60] == 1.0  # outside the crop: the person
    assert fused[40, 30] == 0.0  # inside, full trust: the generator
    half = fused_prior((80, 80), person, gen, 0.25, footprint)
    assert half[40, 30] == pytest.approx(0.75)
    assert np.array_equal(fused_prior((80, 80), None, gen, 0.0, footprint), gen)


def test_person_holes_are_filled_but_gaps_the_prior_calls_background_stay():
    subject = _disk() > 0.5
    subject[35:40, 30:35] = False  # an "eye" the colour edge cut out
    subject[45:50, 45:52] = False  # a gap the person prior also calls background
    person = _disk() > 0.5
    person[44:51, 44:53] = False
    filled = fill_holes(subject, person)
    assert filled[37, 32] and not filled[47, 48]
    painted_bg = np.zeros_like(subject)
    painted_bg[36:39, 31:34] = True
    assert not fill_holes(subject, person, keep_open=painted_bg)[37, 32]


def test_sure_background_starts_farther_out_where_the_prior_says_hair():
    prior = _disk(r=20)
    hair = np.zeros((80, 80), bool)
    hair[:40] = True  # the top half: hair
    fg, bg = sure_labels(prior, 4.0, hair)
    assert fg[40, 40] and not fg[40, 58]
    assert bg[40, 66] and not bg[40, 62]  # beside the head: a margin of 4 px ...
    assert not bg[12, 40] and bg[5, 40]  # ... above it, in the hair: 2.5 x as far (10 px)


def test_hair_gets_the_wide_unknown_band_and_strokes_win():
    mask = _disk(r=22)
    hair = np.zeros((80, 80), bool)
    hair[:30] = True
    photo = _photo_of(mask)
    trimap, edge = fused_trimap(photo, mask, 2.0, person=_person(mask, hair=hair), colour_edge_px=0)
    unknown = (trimap > 0) & (trimap < 1)
    top = unknown[:30, 40].sum()  # the band crossing the top of the head
    side = unknown[40, 60:].sum()  # the band crossing the side
    assert top >= HAIR_BAND_FACTOR * side - 2 and side >= 3
    bg_paint = np.zeros((80, 80), bool)
    bg_paint[35:45, 35:45] = True  # the user says: background, inside the subject
    trimap, edge = fused_trimap(
        photo, mask, 2.0, person=_person(mask, hair=hair), bg_paint=bg_paint, colour_edge_px=0
    )
    assert not edge[40, 40] and trimap[40, 40] == 0.0


def test_face_ovals_are_sure_subject_even_where_the_prior_is_low():
    mask = _disk(r=25)
    face = _disk(r=8) > 0.5
    prior = mask.copy()
    prior[36:44, 36:44] = 0.0  # eyes and mouth the generator drew as background
    trimap, edge = fused_trimap(
        _photo_of(mask), prior, 2.0, person=_person(mask, face=face), colour_edge_px=0
    )
    assert edge[40, 40] and trimap[40, 40] == 1.0


def test_strokes_prior_takes_the_nearer_stroke():
    fg = np.zeros((20, 40), bool)
    fg[10, 5:10] = True
    bg = np.zeros((20, 40), bool)
    bg[10, 30:35] = True
    p = strokes_prior((20, 40), fg, bg)
    assert p[10, 12] == 1.0 and p[10, 27] == 0.0 and p[0, 0] == 1.0 and p[0, 39] == 0.0


# ---------------------------------------------------------------- the operation
def test_source_is_one_params_choice():
    validate_params(MatteParams(source="person"))
    with pytest.raises(OperationError, match="choose one of"):
        validate_params(MatteParams(source="magic"))
    op = get_operation("matte")
    assert op.wants_generator(MatteParams(source="auto"))
    assert not op.wants_generator(MatteParams(source="person"))
    assert not op.wants_generator(MatteParams(source="painted"))


def test_painted_source_needs_no_model_and_follows_the_strokes():
    mask = _disk(r=22)
    photo = _photo_of(mask)
    fg = np.zeros((80, 80), np.float32)
    fg[38:42, 30:50] = 1
    bg = np.zeros((80, 80), np.float32)
    bg[2:6, 2:78] = 1
    bg[74:78, 2:78] = 1
    op = get_operation("matte")
    res = op.run(
        None, {"photo": photo, "fg_mask": fg, "bg_mask": bg}, MatteParams(source="painted"), Progress()
    )
    alpha = res.outputs["alpha"]
    iou = ((alpha >= 0.5) & (mask > 0.5)).sum() / ((alpha >= 0.5) | (mask > 0.5)).sum()
    assert iou > 0.9
    with pytest.raises(OperationError, match="foreground and a background"):
        op.run(None, {"photo": photo, "fg_mask": fg}, MatteParams(source="painted"), Progress())


def test_an_empty_cut_out_is_never_silent():
    photo = _photo_of(_disk())
    res = get_operation("matte").run(
        None, {"photo": photo, "trimap": np.zeros((80, 80))}, MatteParams(), Progress()
    )
    assert res.outputs["alpha"].max() == 0.0
    assert any("empty" in n and "strokes" in n for n in res.notes)


def test_empty_prior_reports_why():
    p = empty_prior((5, 6), "no face found")
    assert not p.found and p.mask.shape == (5, 6) and p.note == "no face found"
    assert p.resized((10, 12)).mask.shape == (10, 12)


def test_crop_fit_trusts_a_generator_that_redraws_the_crop_and_not_one_that_cannot():
    rng = np.random.default_rng(0)
    crop = np.clip(
        _photo_of(_disk((64, 64), (32, 32), 20)) + 0.05 * rng.standard_normal((64, 64, 3)), 0, 1
    ).astype(np.float32)
    subject = _disk((64, 64), (32, 32), 20)
    near = np.clip(crop + 0.01 * rng.standard_normal(crop.shape), 0, 1).astype(np.float32)
    psnr, lp = trust.crop_fit(near, crop, subject)
    assert psnr > 35 and lp < 0.05
    assert trust.Fit(psnr, lp, 0.95).trust() == 1.0  # in domain: the generator leads
    far = rng.random(crop.shape).astype(np.float32)  # a model that draws something else
    psnr, lp = trust.crop_fit(far, crop, subject)
    assert psnr < 12 and lp > trust.LPIPS_OUT
    assert trust.Fit(psnr, lp, 0.3).trust() == 0.0  # out of domain: the person leads


def test_the_fit_is_judged_on_what_the_w_plus_rows_draw_not_on_the_noise_maps():
    import torch

    from latent_atelier.editors.inversion.embed import EmbedParams, embed_image
    from latent_atelier.editors.inversion.embed_core import from_numpy_image, masked_psnr
    from latent_atelier.editors.matting.matte import w_plus_image
    from latent_atelier.models.zoo import random_generator

    gen = random_generator("furrygan", 16, 0, style_dim=16, n_mlp=1, channels={4: 16, 8: 16, 16: 16})
    crop = _photo_of(_disk((16, 16), (8, 8), 6))
    out = embed_image(gen, crop, EmbedParams(steps_w=3, steps_noise=3, seed=5))
    drawn = w_plus_image(gen, out.latent, seed=5)
    psnr_w = float(masked_psnr(from_numpy_image(drawn), from_numpy_image(crop), None).mean())
    assert psnr_w == pytest.approx(out.metrics["psnr_w"], abs=0.05)  # the W+ phase's own image
    noisier = out.latent.clone()
    noisier.noise = [n + torch.randn_like(n) for n in noisier.noise]
    np.testing.assert_array_equal(w_plus_image(gen, noisier, seed=5), drawn)  # noise maps ignored


def _generator_led_case(confidence: float):
    """A photo of a disk; the generator (a 16 px crop of the left 60 px) sees the disk as it
    is, the person prior sees a larger blob reaching past the crop's right edge."""
    from latent_atelier.editors.matting.sources import from_generator
    from latent_atelier.editors.placement import Placement

    subject = _disk((60, 90), (30, 30), 20)
    photo = _photo_of(subject)
    placement = Placement.from_box(0.0, 0.0, 60.0, 16, (60, 90))
    crop_alpha = placement.extract(subject, border="constant")
    person_mask = np.clip(_disk((60, 90), (30, 30), 24) + _disk((60, 90), (30, 75), 12), 0, 1)
    person = PersonPrior(
        person_mask, np.zeros((60, 90), bool), np.zeros((60, 90), bool), 1, True, confidence=confidence
    )
    recon = placement.extract(photo)[..., ::-1]  # a poor fit: colours swapped
    params = MatteParams(colour_edge_px=0, band_px=3)
    led = from_generator(photo, placement, crop_alpha, recon, params, person)
    alone = from_generator(photo, placement, crop_alpha, recon, params, None)
    return led, alone, placement


def test_an_unsure_person_lets_the_generator_rule_decide_inside_its_crop():
    from latent_atelier.editors.matting.trimaps import placement_footprint

    led, alone, placement = _generator_led_case(confidence=0.3)
    assert led.metrics["generator_leads"] == 1.0 and led.metrics["trust"] == 1.0
    inside = placement_footprint(placement)
    inside[:, 60 - int(np.ceil(led.band)) - 1 :] = False  # the band of the subject past the crop
    np.testing.assert_array_equal(led.trimap[inside], alone.trimap[inside])
    assert led.trimap[30, 80] == 1.0 and alone.trimap[30, 80] == 0.0  # the person beyond the crop
    sure, _, _ = _generator_led_case(confidence=0.99)
    assert sure.metrics["generator_leads"] == 0.0 and sure.metrics["trust"] < trust.GENERATOR_LEADS


def test_a_resized_person_prior_is_made_once_per_size():
    person = _person(_disk())
    big = person.resized((160, 160))
    assert person.resized((160, 160)) is big and big.mask.shape == (160, 160)
    assert person.resized((80, 80)) is person


def test_a_photo_longer_than_the_trimap_side_gets_the_same_trimap_at_full_size(monkeypatch):
    from latent_atelier.editors.matting import sources

    subject = _disk((120, 120), (60, 60), 40)
    photo, person = _photo_of(subject), _person(subject)
    params = MatteParams(colour_edge_px=0, band_px=4)
    full = sources.from_person(photo, params, person)
    monkeypatch.setattr(sources, "TRIMAP_SIDE", 60)  # built at half size, brought back up
    half = sources.from_person(photo, params, person)
    assert half.trimap.shape == full.trimap.shape
    assert (half.trimap != full.trimap).mean() < 0.02

"""Per-segment inversion: one batch, better fidelity than one global W+, photo kept at id 0."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from latent_atelier.editors.inversion.embed import EmbedParams, embed_image
from latent_atelier.editors.inversion.embed_core import to_numpy_image
from latent_atelier.editors.inversion.segments import (
    Segments,
    SegmentsParams,
    composite_psnr,
    crop_labels,
    invert_segments,
    loss_masks,
    segment_ids,
)
from latent_atelier.editors.operation import OperationError, Progress
from latent_atelier.editors.placement import Placement
from tests.editors.command_line import segments_cli
from tests.editors.conftest import TINY_WIDTHS

torch.set_num_threads(1)
SIZE = 32


class CountingGenerator:
    """Wraps a generator and records the batch size of every synthesize call."""

    def __init__(self, gen) -> None:
        self._gen = gen
        self.batches: list[int] = []

    def __getattr__(self, name):
        return getattr(self._gen, name)

    def synthesize(self, latent, **kwargs):
        self.batches.append(latent.batch)
        return self._gen.synthesize(latent, **kwargs)


def _image(gen, seed: int) -> np.ndarray:
    with torch.no_grad():
        return to_numpy_image(gen.synthesize(gen.random_latent(seed)).image)


def _halves(gen) -> tuple[np.ndarray, np.ndarray]:
    """Left half from one latent, right half from another; labels 1 | 2."""
    a, b = _image(gen, 1), _image(gen, 2)
    labels = np.ones((SIZE, SIZE), np.int32)
    labels[:, SIZE // 2 :] = 2
    img = np.where((labels == 1)[..., None], a, b).astype(np.float32)
    return img, labels


def _three_segments() -> np.ndarray:
    labels = np.zeros((SIZE, SIZE), np.int32)
    labels[4:14, 4:28] = 1
    labels[16:28, 4:14] = 2
    labels[16:28, 18:28] = 5
    return labels


def test_all_segments_are_optimised_as_one_batch(tiny_gen):
    counting = CountingGenerator(tiny_gen)
    photo = _image(tiny_gen, 3)
    labels = _three_segments()
    steps_w, steps_noise = 4, 3
    params = SegmentsParams(steps_w=steps_w, steps_noise=steps_noise, poisson=False, candidates=0)
    result = Segments().run(counting, {"photo": photo, "labels": labels}, params, Progress())
    assert set(counting.batches) == {3}  # every synthesis draws all three segments at once
    # one synthesis per step (plus two for the metrics), not one per segment and step
    assert len(counting.batches) == steps_w + steps_noise + 2
    assert result.outputs["latents"].batch == 3
    assert len(result.outputs["segment_images"]) == 3
    assert result.params["segment_ids"] == [1, 2, 5]
    # start codes: the mean face once, then the candidates in chunks shared by all segments
    counting.batches.clear()
    params = SegmentsParams(steps_w=steps_w, steps_noise=steps_noise, poisson=False, candidates=20)
    Segments().run(counting, {"photo": photo, "labels": labels}, params, Progress())
    assert counting.batches == [1, 16, 4] + [3] * (steps_w + steps_noise + 2)


def test_per_segment_beats_one_global_w_plus_by_3_db():
    """Two halves drawn from two latents: each segment can be met exactly, one code cannot.

    The generator has no noise (the noise realisation of a target cannot be found by a
    W+ search, and would cap both methods at the same level).
    """
    from latent_atelier.models.zoo import random_generator

    gen = random_generator(
        "stylegan2", SIZE, 0, noise_strength=0.0, style_dim=32, n_mlp=2, channels=TINY_WIDTHS
    )
    img, labels = _halves(gen)
    steps, lr = 100, 0.2
    params = SegmentsParams(steps_w=steps, lr_w=lr, margin=0, poisson=False)  # hard cut
    per_segment = Segments().run(gen, {"photo": img, "labels": labels}, params, Progress())
    glob = embed_image(gen, img, EmbedParams(steps_w=steps, steps_noise=0, lr_w=lr))
    full = np.ones((SIZE, SIZE), bool)
    psnr_seg = composite_psnr(per_segment.outputs["result"], img, full)
    psnr_global = composite_psnr(glob.image, img, full)
    assert psnr_seg >= psnr_global + 3.0, (psnr_seg, psnr_global)


def test_label_zero_pixels_are_exactly_the_photo(tiny_gen):
    rng = np.random.default_rng(0)
    photo = rng.random((50, 40, 3), dtype=np.float32)  # larger than the model, not square
    labels = np.zeros((50, 40), np.int32)
    labels[10:25, 5:20] = 1
    labels[26:40, 22:36] = 2
    labels[45:, :] = 3  # outside the centred crop: cannot be projected, stays photo
    for poisson in (True, False):
        params = SegmentsParams(steps_w=3, poisson=poisson)
        out = Segments().run(tiny_gen, {"photo": photo, "labels": labels}, params, Progress())
        result = out.outputs["result"]
        assert result.shape == photo.shape
        keep = (labels == 0) | (labels == 3)
        np.testing.assert_array_equal(result[keep], photo[keep])
        assert np.abs(result[labels == 1] - photo[labels == 1]).mean() > 0.01
        assert out.params["segment_ids"] == [1, 2]


def test_overlap_margin_decides_which_pixels_the_loss_sees(tiny_gen):
    labels = np.zeros((SIZE, SIZE), np.int32)
    labels[8:24, 8:16] = 1
    labels[8:24, 20:28] = 2
    margin = 2
    masks = loss_masks(labels, [1, 2], margin)
    assert masks[0, 8, 17] == 1.0 and masks[0, 8, 19] == 0.0  # dilated by 2 px, not 3
    base = _image(tiny_gen, 4)

    def latent_of_segment_1(photo):
        inv = invert_segments(
            tiny_gen, photo, labels, SegmentsParams(steps_w=5, margin=margin, candidates=0, loss="segments")
        )
        return inv.latent.select(0).w["w"]

    ref = latent_of_segment_1(base)
    far = base.copy()
    far[:, 19:] = 1.0 - far[:, 19:]  # outside segment 1's dilated mask
    assert torch.allclose(latent_of_segment_1(far), ref, atol=1e-6)
    ring = base.copy()
    ring[8:24, 16:18] = 1.0 - ring[8:24, 16:18]  # inside the 2 px margin only
    assert (latent_of_segment_1(ring) - ref).abs().max() > 1e-4


def test_w_space_keeps_one_vector_per_segment(tiny_gen):
    photo = _image(tiny_gen, 5)
    labels = _three_segments()
    params = SegmentsParams(space="w", steps_w=5, poisson=False)
    out = Segments().run(tiny_gen, {"photo": photo, "labels": labels}, params, Progress())
    w = out.outputs["latents"].w["w"]
    assert torch.allclose(w, w[:, :1].expand_as(w), atol=1e-6)  # rows tied
    mean = tiny_gen.mean_latent().w["w"][0, 0]
    assert all((w[i, 0] - mean).abs().max() > 1e-4 for i in range(3))  # each one moved
    assert (w[0, 0] - w[1, 0]).abs().max() > 1e-5  # segments have their own codes


def test_refine_returns_full_resolution_labels_with_the_same_ids(tiny_gen):
    photo = _image(tiny_gen, 6)
    labels = _three_segments()
    params = SegmentsParams(steps_w=3, refine=True)
    out = Segments().run(tiny_gen, {"photo": photo, "labels": labels}, params, Progress())
    refined = out.outputs["labels"]
    assert refined.shape == labels.shape and refined.dtype == np.int32
    assert segment_ids(refined) == [1, 2, 5]


def test_default_stitch_keeps_each_segments_colours(tiny_gen):
    """Segments cover the whole crop (no id 0 to anchor the solve): plain Poisson shifts whole
    segments by their seam mismatch, the screened stitch (the operation's Poisson settings)
    keeps the hard cut's colours away from the seams; the default output is the hard cut."""
    from scipy.ndimage import binary_dilation

    photo = _image(tiny_gen, 8)
    labels = np.ones((SIZE, SIZE), np.int32)
    labels[:, SIZE // 2 :] = 2

    def run(**kw):
        return (
            Segments()
            .run(tiny_gen, {"photo": photo, "labels": labels}, SegmentsParams(steps_w=0, **kw), Progress())
            .outputs["result"]
        )

    hard, default = run(poisson=False), run()
    plain, screened = run(poisson=True, screen=0.0, seams="mean"), run(poisson=True)
    np.testing.assert_array_equal(default, hard)
    far = ~binary_dilation(labels == 1, iterations=6) | ~binary_dilation(labels == 2, iterations=6)
    drift = lambda out: float(np.abs(out - hard)[far].mean())  # noqa: E731
    assert drift(screened) < 0.25 * drift(plain), (drift(screened), drift(plain))
    assert SegmentsParams().screen > 0 and SegmentsParams().seams == "stronger"


def test_each_segment_starts_from_the_candidate_that_fits_it(tiny_gen):
    """Left half drawn by random code 3, right half by code 5 (same noise): each segment's
    start is exactly its own code; a segment no candidate fits better keeps the mean."""
    from latent_atelier.editors.inversion.embed import initial_latent
    from latent_atelier.editors.inversion.segments import CANDIDATE_TRUNCATION, best_candidates
    from latent_atelier.models.generator import Latent

    pool = tiny_gen.random_latent(0, batch=8, truncation=CANDIDATE_TRUNCATION)
    start = initial_latent(tiny_gen, "mean", 0, batch=3)
    noise = start.select(0).noise
    with torch.no_grad():
        left, right, mean = (
            tiny_gen.synthesize(Latent(w, noise)).image
            for w in (
                {k: v[3:4] for k, v in pool.w.items()},
                {k: v[5:6] for k, v in pool.w.items()},
                start.select(0).w,
            )
        )
    x = torch.cat([left[..., : SIZE // 2], right[..., SIZE // 2 :]], -1)
    x[..., :4, :] = mean[..., :4, :]  # a strip only the mean latent draws
    masks = torch.zeros(3, 1, SIZE, SIZE)
    masks[0, :, 8:, : SIZE // 2] = 1
    masks[1, :, 8:, SIZE // 2 :] = 1
    masks[2, :, :4, :] = 1
    chosen = best_candidates(tiny_gen, start, x, masks, 8, seed=0)
    for k, v in chosen.w.items():
        assert torch.equal(v[0], pool.w[k][3]) and torch.equal(v[1], pool.w[k][5])
        assert torch.equal(v[2], start.w[k][2])
    assert all(torch.equal(a, b) for a, b in zip(chosen.noise, start.noise))


def test_crop_labels_follow_the_placement():
    labels = np.zeros((64, 64), np.int32)
    labels[32:, 32:] = 7
    place = Placement.from_box(32, 32, 32, 16, (64, 64))
    lab = crop_labels(place, labels)
    assert lab.shape == (16, 16) and set(np.unique(lab)) == {7}


def test_bad_inputs_get_clear_errors(tiny_gen):
    photo = _image(tiny_gen, 7)
    op = Segments()
    with pytest.raises(OperationError, match="same image"):
        op.run(
            tiny_gen,
            {"photo": photo, "labels": np.zeros((8, 8), np.int32)},
            SegmentsParams(steps_w=1),
            Progress(),
        )
    with pytest.raises(OperationError, match="no segment"):
        op.run(
            tiny_gen,
            {"photo": photo, "labels": np.zeros((SIZE, SIZE), np.int32)},
            SegmentsParams(steps_w=1),
            Progress(),
        )
    with pytest.raises(OperationError, match="whole numbers"):
        op.run(
            tiny_gen,
            {"photo": photo, "labels": np.full((SIZE, SIZE), 0.5)},
            SegmentsParams(steps_w=1),
            Progress(),
        )
    wrong = Placement.centered((SIZE + 8, SIZE), SIZE)  # made for another photo
    with pytest.raises(OperationError, match="place the region again"):
        op.run(
            tiny_gen,
            {"photo": photo, "labels": _three_segments(), "placement": wrong},
            SegmentsParams(steps_w=1),
            Progress(),
        )


def test_cli_reads_label_pngs_and_runs_segments(tmp_path):
    from PIL import Image

    from latent_atelier.app.cli_io import read_labels

    labels = _three_segments().astype(np.uint8)
    Image.fromarray(labels, mode="L").save(tmp_path / "gray.png")
    pal = Image.fromarray(labels, mode="P")
    pal.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255] * 10)
    pal.save(tmp_path / "pal.png")
    colours = np.zeros((SIZE, SIZE, 3), np.uint8)
    colours[labels == 1] = (255, 0, 0)
    colours[labels == 2] = (0, 255, 0)
    colours[labels == 5] = (0, 0, 255)
    Image.fromarray(colours).save(tmp_path / "rgb.png")
    np.testing.assert_array_equal(read_labels(tmp_path / "gray.png"), labels)
    np.testing.assert_array_equal(read_labels(tmp_path / "pal.png"), labels)
    rgb = read_labels(tmp_path / "rgb.png")
    assert set(np.unique(rgb)) == {0, 1, 2, 3} and (rgb == 0).sum() == (labels == 0).sum()
    for k in (1, 2, 5):  # one id per colour
        assert len(np.unique(rgb[labels == k])) == 1

    photo = (np.random.default_rng(1).random((SIZE, SIZE, 3)) * 255).astype(np.uint8)
    Image.fromarray(photo).save(tmp_path / "photo.png")
    out = tmp_path / "out"
    rc = segments_cli(tmp_path / "photo.png", tmp_path / "gray.png", out, "--space", "w+")
    assert rc == 0
    names = {p.name for p in out.iterdir()}
    assert {"result.png", "latents.npz", "labels.png", "segment_images_0.png"} <= names
    from latent_atelier.models.generator import Latent

    assert Latent.load(out / "latents.npz").batch == 3


def test_poisson_without_a_fit_across_borders_gets_advice():
    advice = Segments().advice
    assert advice(SegmentsParams()) == []  # hard cut: nothing to say
    assert "loss 'segments'" in advice(SegmentsParams(poisson=True))[0]
    assert "margin of 0 px" in advice(SegmentsParams(poisson=True, loss="segments", margin=0))[0]
    assert advice(SegmentsParams(poisson=True, loss="segments", margin=2)) == []


def test_cli_prints_the_advice_and_still_runs(tmp_path, capsys):
    from PIL import Image

    Image.fromarray(_three_segments().astype(np.uint8), mode="L").save(tmp_path / "labels.png")
    Image.fromarray(np.full((SIZE, SIZE, 3), 128, np.uint8)).save(tmp_path / "photo.png")
    rc = segments_cli(
        tmp_path / "photo.png", tmp_path / "labels.png", tmp_path / "out", "--candidates", 0, "--poisson"
    )
    assert rc == 0 and (tmp_path / "out" / "result.png").exists()
    assert "note: the composite loss fits no segment across its border" in capsys.readouterr().err


def test_furrygan_segments_in_w_space_tie_both_groups():
    from latent_atelier.models.zoo import random_generator

    gen = random_generator("furrygan", 16, 0, style_dim=32, channels={4: 16, 8: 16, 16: 16})
    rng = np.random.default_rng(3)
    photo = rng.random((16, 16, 3), dtype=np.float32)
    labels = np.zeros((16, 16), np.int32)
    labels[2:8, 2:14] = 1
    labels[9:15, 2:14] = 2
    params = SegmentsParams(space="w", steps_w=3, steps_noise=2, margin=1)
    out = Segments().run(gen, {"photo": photo, "labels": labels}, params, Progress())
    lat = out.outputs["latents"]
    assert lat.batch == 2 and set(lat.w) == {"fg", "bg"}
    for w in lat.w.values():
        assert torch.allclose(w, w[:, :1].expand_as(w), atol=1e-6)
    np.testing.assert_array_equal(out.outputs["result"][labels == 0], photo[labels == 0])


def test_the_seam_choices_offered_are_the_ones_poisson_accepts():
    from latent_atelier.editors.inversion.segments import SEAM_CHOICES
    from latent_atelier.editors.stitching.poisson import SEAM_GUIDANCE

    assert set(SEAM_CHOICES) == set(SEAM_GUIDANCE)

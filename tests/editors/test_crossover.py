"""Crossover (Algorithm 3): photo 1 inside, photo 2 outside, a seam smoother than cut-and-paste."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from latent_atelier.editors.i2s.crossover import Crossover, CrossoverParams, crossover
from latent_atelier.editors.inversion.embed_core import to_numpy_image
from latent_atelier.editors.masks import blur_mask
from latent_atelier.editors.operation import Cancelled, Progress
from latent_atelier.editors.registry import all_operations
from tests.editors.images import weighted_psnr

STEPS = {"steps_init": 20, "steps_w": 40, "steps_noise": 80}


def _target(gen, seed: int) -> np.ndarray:
    """A generated "photo" without the per-pixel noise texture (random weights make it loud)."""
    lat = gen.random_latent(seed, truncation=0.7)
    lat.noise = [torch.zeros_like(n) for n in lat.noise]
    with torch.no_grad():
        return to_numpy_image(gen.synthesize(lat).image)


def _seam_energy(img: np.ndarray, col: int, half_width: int = 2) -> float:
    """Squared horizontal differences in the columns around a vertical seam at ``col``."""
    dx = np.diff(img, axis=1)[:, col - half_width : col + half_width]
    return float((dx**2).sum())


@pytest.fixture(scope="module")
def pair_and_result(tiny_gen):
    # seeds 1 and 3 differ clearly in colour, so cut-and-paste leaves a visible seam
    p1, p2 = _target(tiny_gen, 1), _target(tiny_gen, 3)
    mask = np.zeros((32, 32), np.float32)
    mask[:, :16] = 1.0
    out = crossover(tiny_gen, p1, p2, blur_mask(mask, 0.08), CrossoverParams(seed=0, **STEPS))
    return p1, p2, mask, out


def test_photo1_inside_and_photo2_outside_beat_the_reverse(pair_and_result):
    p1, p2, mask, out = pair_and_result
    inner = np.zeros_like(mask)
    inner[:, :12] = 1.0  # away from the blended seam
    outer = np.zeros_like(mask)
    outer[:, 20:] = 1.0
    wanted = weighted_psnr(out.image, p1, inner) + weighted_psnr(out.image, p2, outer)
    reverse = weighted_psnr(out.image, p2, inner) + weighted_psnr(out.image, p1, outer)
    assert wanted > reverse + 20.0, (wanted, reverse)
    assert weighted_psnr(out.image, p1, inner) > 25.0
    assert weighted_psnr(out.image, p2, outer) > 25.0


def test_seam_has_at_most_a_third_of_the_cut_and_paste_gradient_energy(pair_and_result):
    p1, p2, mask, out = pair_and_result
    naive = p1 * mask[..., None] + p2 * (1.0 - mask[..., None])
    ours, cut = _seam_energy(out.image, 16), _seam_energy(naive, 16)
    assert ours <= cut / 3.0, (ours, cut)


def test_operation_pastes_into_the_full_photo_and_is_deterministic(tiny_gen):
    assert "crossover" in all_operations()
    rng = np.random.default_rng(0)
    photo = np.clip(rng.random((40, 48, 3), dtype=np.float32), 0, 1)
    photo2 = np.clip(_target(tiny_gen, 5), 0, 1)
    mask = np.zeros((40, 48), np.float32)
    mask[10:30, 14:30] = 1.0
    params = CrossoverParams(steps_init=2, steps_w=3, steps_noise=3)
    seen = []
    prog = Progress(lambda i, n, _p, _m: seen.append((i, n)))
    inputs = {"photo": photo, "photo2": photo2, "mask": mask}
    a = Crossover().run(tiny_gen, inputs, params, prog)
    b = Crossover().run(tiny_gen, inputs, params, Progress())
    assert a.outputs["result"].shape == photo.shape
    assert a.outputs["crossover"].shape == (32, 32, 3)
    assert np.array_equal(a.outputs["result"], b.outputs["result"])
    assert [i for i, _ in seen] == list(range(1, 9)) and all(n == 8 for _, n in seen)


def test_cancel_raises_and_leaves_inputs_alone(tiny_gen):
    p1 = _target(tiny_gen, 1)
    before = p1.copy()
    prog = Progress(lambda i, _n, _p, _m: prog.cancel() if i == 2 else None)
    with pytest.raises(Cancelled):
        Crossover().run(
            tiny_gen,
            {"photo": p1, "photo2": p1, "mask": np.eye(32, dtype=np.float32)},
            CrossoverParams(steps_init=3, steps_w=3, steps_noise=3),
            prog,
        )
    assert np.array_equal(p1, before)


def test_beyond_the_crop_photo2_continues_outside_the_mask_and_photo1_inside_it(tiny_gen):
    rng = np.random.default_rng(1)
    photo = rng.random((40, 72, 3), dtype=np.float32)  # wider than the centred 40 px crop
    photo2 = rng.random((40, 72, 3), dtype=np.float32)
    mask = np.zeros((40, 72), np.float32)
    mask[:, :30] = 1.0  # photo 1 on the left, reaching beyond the crop (columns 16..55)
    out = (
        Crossover()
        .run(
            tiny_gen,
            {"photo": photo, "photo2": photo2, "mask": mask},
            CrossoverParams(steps_init=1, steps_w=1, steps_noise=1, blur=0.0),
            Progress(),
        )
        .outputs["result"]
    )
    np.testing.assert_allclose(out[:, :14], photo[:, :14], atol=1e-6)  # left of the crop: photo 1
    np.testing.assert_allclose(out[:, 58:], photo2[:, 58:], atol=1e-6)  # right of it: photo 2


def test_photo2_of_another_size_is_brought_through_its_placement():
    from latent_atelier.editors.i2s.crossover import outside_the_crop
    from latent_atelier.editors.placement import Placement

    rng = np.random.default_rng(2)
    photo = rng.random((40, 60, 3), dtype=np.float32)
    photo2 = np.repeat(np.repeat(photo, 2, axis=0), 2, axis=1)  # the same scene at twice the size
    # photo 1's pixel (y, x) covers photo 2's pixels 2y..2y+1, 2x..2x+1: centre (2y + 0.5, 2x + 0.5)
    place1 = Placement.centered(photo.shape[:2], 32)
    place2 = Placement.centered(photo2.shape[:2], 32)
    out = outside_the_crop(photo, photo2, place1, place2, np.zeros((40, 60), np.float32))
    np.testing.assert_allclose(out, photo, atol=1e-5)  # photo 2's 2 x 2 block lands on (y, x)

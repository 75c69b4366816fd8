"""The dual-domain benchmark's ruler: the bundled parser reads rendered portraits' parts."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.dds_labeller import ParserRuler, iou, part_masks
from latent_atelier.models.training.synthetic.sample import render_sample
from latent_atelier.models.training.synthetic.svg_sources import FixtureSvgSource
from tests.models.conftest import FIXTURE


@pytest.fixture(scope="module")
def ruler() -> ParserRuler:
    return ParserRuler()


def test_ruler_reads_the_eyes_nose_and_mouth_of_rendered_portraits(ruler) -> None:
    source = FixtureSvgSource(FIXTURE)
    renders = [render_sample(r, 11, 128) for r in source.records(seed=11, start=0, count=8)]
    labels = np.stack([lab for _img, _alpha, lab in renders])
    images = np.stack([img for img, _alpha, _lab in renders]).astype(np.float32) / 255.0
    small = images.reshape(8, 64, 2, 64, 2, 3).mean(axis=(2, 4))  # 2x2 box average to 64 px
    exact = part_masks(labels, 64)
    found = ruler.predict(small)
    assert found.shape == exact.shape and set(np.unique(found)) <= {0.0, 1.0}
    assert iou(found, exact).mean() > 0.8
    # a shuffled pairing scores far lower: the ruler follows each face's parts
    assert iou(found, np.roll(exact, 1, axis=0)).mean() < iou(found, exact).mean() - 0.15


def test_ruler_refuses_another_size(ruler) -> None:
    with pytest.raises(ValueError, match="64 px"):
        ruler.predict(np.zeros((1, 32, 32, 3), np.float32))


def test_averaged_ruler_agrees_with_the_ruler_and_repeats_with_its_seed(ruler) -> None:
    import torch

    from benchmarks.bench_dual_domain import DEMO, latents, load, to_numpy
    from benchmarks.bench_part_reference import AveragedRuler

    torch.set_num_threads(1)
    gen = load(DEMO)
    lats = latents(gen, 3)
    averaged = AveragedRuler(ruler)
    with torch.no_grad():
        images = to_numpy(gen.synthesize(lats).image)
    prob = averaged.part_probability(images)
    assert prob.shape == images.shape[:3] and prob.min() >= 0 and prob.max() <= 1 + 1e-5
    first, again = averaged.masks(gen, lats, 2, seed=1), averaged.masks(gen, lats, 2, seed=1)
    np.testing.assert_array_equal(first, again)
    assert 0 < first.mean() < 0.3  # some face parts, not the whole image
    # a reading over redrawn noise still finds the parts where the plain reading does
    assert iou(ruler.predict(images), averaged.masks(gen, lats, 1, seed=3)).mean() > 0.2

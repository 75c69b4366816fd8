"""Part masks from the bundled face parser, and the ``dual-domain`` operation's parser route."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from benchmarks.dds_labeller import iou
from latent_atelier.editors.dual_domain.parser_parts import part_masks
from latent_atelier.models.mask_guided.io import load_parser
from latent_atelier.models.training.synthetic.sample import render_sample
from latent_atelier.models.training.synthetic.svg_sources import FixtureSvgSource
from tests.models.conftest import FIXTURE

PART_CLASSES = (3, 5, 6)  # EYES, NOSE, MOUTH of the synthetic set's exact labels


@pytest.fixture(scope="module")
def parser():
    return load_parser()


@pytest.fixture(scope="module")
def portraits():
    """Eight rendered portraits at 128 px ([-1, 1], B x 3 x S x S) and their exact part masks."""
    source = FixtureSvgSource(FIXTURE)
    renders = [render_sample(r, 11, 128) for r in source.records(seed=11, start=0, count=8)]
    images = np.stack([img for img, _alpha, _lab in renders]).astype(np.float32) / 127.5 - 1
    exact = np.stack([np.isin(lab, PART_CLASSES) for _img, _alpha, lab in renders]).astype(np.float32)
    return torch.from_numpy(images).permute(0, 3, 1, 2), exact


def test_masks_cover_the_exact_parts_at_the_parsers_size_and_at_twice_it(parser, portraits) -> None:
    model, size = parser
    images, exact = portraits
    small = torch.nn.functional.interpolate(images, size=(64, 64), mode="area")
    exact_small = exact.reshape(8, 64, 2, 64, 2).max(axis=(2, 4))
    for x, truth in ((small, exact_small), (images, exact)):
        found = part_masks(model, x, size)[:, 0].numpy()
        assert found.shape == truth.shape and set(np.unique(found)) <= {0.0, 1.0}
        covered = (found * truth).sum() / truth.sum()
        assert covered > 0.85  # the grown mask takes in the labelled strokes
        assert 0.02 < found.mean() < 0.25  # a face's parts, not the face
        shuffled = np.roll(truth, 1, axis=0)  # each face scored against another face's parts
        assert iou(found, truth).mean() > iou(found, shuffled).mean() + 0.1


def test_a_higher_threshold_gives_a_smaller_mask(parser, portraits) -> None:
    model, size = parser
    images, _ = portraits
    loose, strict = part_masks(model, images, size, 0.2), part_masks(model, images, size, 0.9)
    assert strict.sum() < loose.sum() and bool((strict <= loose).all())


def test_cli_dual_domain_with_parser_parts(tmp_path) -> None:
    from latent_atelier.app.cli import main
    from latent_atelier.resources import resources_dir

    models = resources_dir() / "models"
    out = tmp_path / "out"
    command = ["--model", models / "furrygan-demo.safetensors", "--device", "cpu", "dual-domain"]
    options = ["--parts", "parser", "--steps", 2, "--count", 2, "--out-dir", out]
    assert main([str(a) for a in [*command, models / "furrygan-big-ears.safetensors", *options]]) == 0
    for i in range(2):
        part_s = np.asarray(Image.open(out / f"part_source_{i}.png"), np.float32) / 255
        part_t = np.asarray(Image.open(out / f"part_target_{i}.png"), np.float32) / 255
        np.testing.assert_array_equal(part_s, part_t)  # one reading, used on both images
        assert 0.01 < (part_s > 0.5).mean() < 0.25
        rows, cols = np.nonzero(part_s > 0.5)
        assert 16 < rows.mean() < 52 and 16 < cols.mean() < 48  # inside the face, not an edge

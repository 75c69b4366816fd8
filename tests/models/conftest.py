"""Shared fixtures of the model tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from latent_atelier.models.training.synthetic.svg_sources import FixtureSvgSource

#: Six avatars (one per style) written by models/training/synthetic/js/render.mjs (--seed 7).
FIXTURE = Path(__file__).parent / "fixtures" / "dicebear_svgs.jsonl.gz"


@pytest.fixture(scope="session")
def source() -> FixtureSvgSource:
    """The fixture SVGs as an SVG source: runs without Node."""
    return FixtureSvgSource(FIXTURE)


@pytest.fixture(scope="module")
def image_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Ten 40 px images of a coloured box on a flat colour (the trainer tests' data)."""
    from PIL import Image

    root = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    for i in range(10):
        a = np.zeros((40, 40, 3), np.uint8) + rng.integers(0, 255, 3).astype(np.uint8)
        a[10:30, 12:28] = rng.integers(0, 255, 3)
        Image.fromarray(a).save(root / f"{i}.png")
    return root

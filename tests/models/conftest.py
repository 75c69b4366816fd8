"""Shared fixtures of the model tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from latent_atelier.models.training.synthetic.svg_sources import FixtureSvgSource

#: Six avatars (one per style) written by models/training/synthetic/js/render.mjs (--seed 7).
FIXTURE = Path(__file__).parent / "fixtures" / "dicebear_svgs.jsonl.gz"


@pytest.fixture(scope="session")
def source() -> FixtureSvgSource:
    """The fixture SVGs as an SVG source: runs without Node."""
    return FixtureSvgSource(FIXTURE)

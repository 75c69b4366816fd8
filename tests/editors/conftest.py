"""Tiny generators for editor tests: real architectures, random weights, seconds on a CPU."""

from __future__ import annotations

import pytest

TINY_WIDTHS = {4: 32, 8: 32, 16: 32, 32: 32, 64: 16}


def tiny_stylegan2(size: int = 32, seed: int = 0):
    """A StyleGAN2 generator small enough to optimise in a test."""
    from latent_atelier.models.zoo import random_generator

    return random_generator("stylegan2", size, seed, style_dim=32, n_mlp=2, channels=TINY_WIDTHS)


@pytest.fixture(scope="module")
def tiny_gen():
    """A 32 px StyleGAN2 with random weights (module-scoped: built once per file)."""
    return tiny_stylegan2()

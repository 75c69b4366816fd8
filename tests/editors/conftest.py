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


def tiny_mask_guided_config():
    """The 32 px mask-guided model settings of the editor tests (widths 4-8: milliseconds a run)."""
    from latent_atelier.models.mask_guided.config import MaskGuidedConfig

    return MaskGuidedConfig(size=32, width=4, code_dim=8, feat_channels=4, n_res=1, parser_width=4)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> str:
    """A tiny mask-guided model file with random weights and a parser (module-scoped)."""
    import torch

    from latent_atelier.models.mask_guided.io import MaskGuidedModel, save_model
    from latent_atelier.models.mask_guided.networks import FaceParser, MaskGuidedGenerator

    torch.manual_seed(0)
    cfg = tiny_mask_guided_config()
    path = tmp_path_factory.mktemp("mg") / "tiny.safetensors"
    save_model(
        path,
        MaskGuidedModel(cfg, generator=MaskGuidedGenerator(cfg), parser=FaceParser(cfg.parser_width)),
        dtype=torch.float32,
    )
    return str(path)

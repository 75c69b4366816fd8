"""A tiny FurryGAN training configuration for the trainer tests (32 px, 16 channels)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from latent_atelier.models.training.config import TrainConfig

TINY = {4: 16, 8: 16, 16: 16, 32: 16}


def tiny_config(data: str | Path, out: str | Path, **kw: Any) -> TrainConfig:
    """Settings that train in a second on CPU; ``kw`` overrides any of them."""
    args = {
        "arch": "furrygan",
        "data": str(data),
        "out": str(out),
        "size": 32,
        "batch": 4,
        "iters": 4,
        "style_dim": 32,
        "channels": TINY,
        "fine_fade_in": 10,
        "binarization_decay": 10,
        "sample_every": 0,
        "checkpoint_every": 0,
        "r1_every": 2,
        "n_samples": 2,
        "threads": 1,
    }
    return TrainConfig(**(args | kw))

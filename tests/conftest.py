"""Shared test set-up: offscreen Qt, deterministic torch, few threads."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("LATENT_ATELIER_DEVICE", "cpu")

import pytest

try:  # tiny test models are overhead-bound: one thread is faster and immune to load
    import torch

    torch.set_num_threads(1)
except ImportError:  # pragma: no cover
    pass


@pytest.fixture(autouse=True)
def _seed_torch():
    try:
        import torch
    except ImportError:  # pragma: no cover
        yield
        return
    torch.manual_seed(0)
    torch.set_num_threads(1)  # again: a test that ran a CLI or benchmark may have changed it
    yield

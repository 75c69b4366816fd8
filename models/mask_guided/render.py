"""Pictures of label maps in the class colours (for sample grids and figures)."""

from __future__ import annotations

import numpy as np
import torch

from .classes import CLASS_COLOURS


def colourise(labels: torch.Tensor) -> torch.Tensor:
    """``N x H x W`` class ids -> ``N x 3 x H x W`` colours in [0, 1]."""
    lut = torch.tensor(CLASS_COLOURS, dtype=torch.float32) / 255.0
    return lut[labels.long().clamp(0, len(CLASS_COLOURS) - 1)].permute(0, 3, 1, 2)


def colourise_np(labels: np.ndarray) -> np.ndarray:
    """``H x W`` class ids -> ``H x W x 3`` float32 colours in [0, 1]."""
    lut = np.asarray(CLASS_COLOURS, np.float32) / 255.0
    return lut[np.clip(labels, 0, len(CLASS_COLOURS) - 1)]

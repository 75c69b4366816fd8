"""Preview grid of dataset samples next to their colour-coded part labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from .dataset import PortraitDataset

#: Display colour per label class: background, skin, hair, eyes, brows, nose, mouth, other.
LABEL_DISPLAY = np.array(
    [
        [20, 20, 20],
        [238, 190, 150],
        [120, 70, 30],
        [40, 120, 255],
        [255, 220, 0],
        [255, 60, 200],
        [220, 20, 40],
        [150, 150, 150],
    ],
    np.uint8,
)


def colour_labels(labels: np.ndarray) -> np.ndarray:
    """RGB picture of a label map."""
    return LABEL_DISPLAY[labels]


def sample_grid(dataset: PortraitDataset, rows: int = 8, cols: int = 8, start: int = 0) -> np.ndarray:
    """rows x cols cells; each cell shows the image with its label map to its right."""
    n = rows * cols
    if len(dataset) < n + start:
        raise ValueError(f"need {n + start} samples, the split has {len(dataset)}")
    images, _, labels = dataset.batch(range(start, start + n))
    s = dataset.size
    pad = 2
    cell_w, cell_h = 2 * s + 3 * pad, s + 2 * pad
    grid = np.full((rows * cell_h, cols * cell_w, 3), 255, np.uint8)
    for k in range(n):
        r, c = divmod(k, cols)
        y, x = r * cell_h + pad, c * cell_w + pad
        grid[y : y + s, x : x + s] = images[k]
        grid[y : y + s, x + s + pad : x + 2 * s + pad] = colour_labels(labels[k])
    return grid


def save_grid(
    data_dir: str | Path, out_png: str | Path, split: str = "train", rows: int = 8, cols: int = 8
) -> Path:
    """Write the preview grid PNG and return its path."""
    out = Path(out_png)
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(sample_grid(PortraitDataset(data_dir, split), rows, cols)).save(out)
    return out

"""A tiny data set in PortraitDataset's layout for tests: a disc 'figure' over a gradient."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

DATA_SIZE = 48  # not the tiny test models' 32 px: loaders must resize


def fake_sample(rng: np.random.Generator, size: int) -> tuple[np.ndarray, ...]:
    yy, xx = np.mgrid[:size, :size] / size
    radius = rng.uniform(0.25, 0.35)
    dist = np.hypot(yy - 0.55, xx - 0.5)
    alpha = np.clip((radius - dist) * size / 2 + 0.5, 0, 1)
    bg = np.stack([yy, xx, 1 - yy], axis=2)
    fg = np.array(rng.uniform(0, 1, 3))
    img = alpha[..., None] * fg + (1 - alpha[..., None]) * bg
    labels = (alpha > 0.5).astype(np.uint8)
    return (img * 255).round().astype(np.uint8), (alpha * 255).round().astype(np.uint8), labels


def write_fake_dataset(root: Path, count: int = 3, size: int = DATA_SIZE) -> Path:
    """A dataset in PortraitDataset's layout: a disc 'figure' over a gradient."""
    fmt = {"format": "latent-atelier-portraits"}
    splits = {"train": {"folder": "train", "id_start": 0}, "eval": {"folder": "eval", "id_start": 10**9}}
    root.mkdir(parents=True)
    (root / "meta.json").write_text(json.dumps({**fmt, "size": size, "splits": splits}))
    rng = np.random.default_rng(0)
    for name, info in splits.items():
        folder = root / info["folder"]
        folder.mkdir()
        items = [fake_sample(rng, size) for _ in range(count)]
        for k, kind in enumerate(("images", "alpha", "labels")):
            np.save(folder / f"{kind}_00000.npy", np.stack([it[k] for it in items]))
        meta = {
            **fmt,
            "split": name,
            "size": size,
            "count": count,
            "id_start": info["id_start"],
            "shard_counts": [count],
        }
        (folder / "meta.json").write_text(json.dumps(meta))
    return root

"""Torch-free reader for a built portrait dataset split (memory-mapped .npy shards)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

FORMAT = "latent-atelier-portraits"
_KINDS = ("images", "alpha", "labels")


def _read_meta(folder: Path) -> dict:
    path = folder / "meta.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"{folder} is not a portrait dataset (no meta.json); build one "
            "with `python -m latent_atelier.models.training.synthetic build`"
        )
    meta = json.loads(path.read_text())
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path} is not a {FORMAT} dataset")
    return meta


class PortraitDataset:
    """One split of a synthetic portrait dataset.

    `root` is either the dataset folder (then `split` picks "train" or "eval") or a split
    folder itself. Items are (image HxWx3, alpha HxW, labels HxW), all uint8.
    """

    def __init__(self, root: str | Path, split: str = "train") -> None:
        folder = Path(root)
        meta = _read_meta(folder)
        if "splits" in meta:
            if split not in meta["splits"]:
                raise ValueError(f"no split {split!r}; have {sorted(meta['splits'])}")
            folder = folder / meta["splits"][split]["folder"]
            meta = _read_meta(folder)
        self.folder, self.meta = folder, meta
        self.size: int = int(meta["size"])
        self.split: str = str(meta["split"])
        self.id_start: int = int(meta["id_start"])
        self._shards = [
            {
                kind: np.load(folder / f"{kind}_{i:05d}.npy", mmap_mode="r", allow_pickle=False)
                for kind in _KINDS
            }
            for i in range(len(meta["shard_counts"]))
        ]
        self._starts = np.cumsum([0, *meta["shard_counts"]])
        if int(self._starts[-1]) != int(meta["count"]):
            raise ValueError(f"{folder}: shard counts do not add up to {meta['count']}")

    def __len__(self) -> int:
        return int(self._starts[-1])

    def _locate(self, index: int) -> tuple[int, int]:
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} samples")
        index %= len(self)
        shard = int(np.searchsorted(self._starts, index, side="right")) - 1
        return shard, index - int(self._starts[shard])

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        shard, offset = self._locate(int(index))
        arrays = self._shards[shard]
        return tuple(np.array(arrays[k][offset]) for k in _KINDS)  # type: ignore[return-value]

    def batch(self, indices: Sequence[int] | np.ndarray) -> tuple[np.ndarray, ...]:
        """Stacked (images NxHxWx3, alpha NxHxW, labels NxHxW) for the given indices."""
        items = [self[int(i)] for i in indices]
        s = self.size
        if not items:
            return (
                np.zeros((0, s, s, 3), np.uint8),
                np.zeros((0, s, s), np.uint8),
                np.zeros((0, s, s), np.uint8),
            )
        return tuple(np.stack([it[k] for it in items]) for k in range(3))

    def sample_id(self, index: int) -> int:
        """The generator id of a sample (train ids and eval ids never overlap)."""
        self._locate(int(index))  # bounds check
        return self.id_start + int(index) % len(self)


def resize_images(images: np.ndarray, size: int) -> np.ndarray:
    """An ``N x S x S x C`` stack at ``size`` px (area averaging); returned as is when already there."""
    import cv2

    if images.shape[1] == size:
        return images
    return np.stack([cv2.resize(a, (size, size), interpolation=cv2.INTER_AREA) for a in images])

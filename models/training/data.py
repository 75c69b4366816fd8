"""Training images as torch tensors: the synthetic portrait set or a plain image folder.

Both give ``(3, size, size)`` float32 tensors in [-1, 1]. :func:`open_training_data` picks
the reader from what the folder holds (a ``meta.json`` portrait dataset, else images).
:func:`image_cache` decodes and resizes a data set once into a uint8 ``(N, S, S, 3)``
memory-mapped ``.npy`` file; :class:`CachedImages` reads it, and :class:`BatchSampler`
then builds each batch with one indexed read (no per-image Python work).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")


def _to_tensor(image: np.ndarray, size: int) -> torch.Tensor:
    """uint8 ``HxWx3`` -> float ``(3, size, size)`` in [-1, 1] (area resize if needed)."""
    t = torch.from_numpy(np.array(image, dtype=np.uint8, copy=True)).permute(2, 0, 1).float() / 127.5 - 1.0
    if t.shape[-1] != size or t.shape[-2] != size:
        t = F.interpolate(t.unsqueeze(0), size=(size, size), mode="area").squeeze(0)
    return t


class PortraitImages(torch.utils.data.Dataset):
    """A split of the synthetic portrait dataset (``models.training.synthetic``), images only."""

    def __init__(self, root: str | Path, size: int, split: str = "train") -> None:
        from latent_atelier.models.training.synthetic.dataset import PortraitDataset

        self.data = PortraitDataset(root, split)
        self.size = size

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> torch.Tensor:
        image, _alpha, _labels = self.data[int(index)]
        return _to_tensor(image, self.size)


class ImageFolder(torch.utils.data.Dataset):
    """Every image under ``root`` (recursively), centre-cropped square and resized."""

    def __init__(self, root: str | Path, size: int) -> None:
        self.root = Path(root)
        self.files = sorted(p for p in self.root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self.files:
            raise ValueError(f"{root}: no images ({', '.join(IMAGE_SUFFIXES)}) found")
        self.size = size

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> torch.Tensor:
        from PIL import Image

        with Image.open(self.files[int(index)]) as im:
            im = im.convert("RGB")
            w, h = im.size
            s = min(w, h)
            left, top = (w - s) // 2, (h - s) // 2
            im = im.crop((left, top, left + s, top + s)).resize((self.size, self.size), Image.LANCZOS)
            return _to_tensor(np.asarray(im), self.size)


def open_training_data(root: str | Path, size: int) -> torch.utils.data.Dataset:
    """The dataset at ``root``: a portrait set (has ``meta.json``) or a folder of images."""
    path = Path(root)
    if not path.is_dir():
        raise FileNotFoundError(f"{root}: no such data folder (give a portrait dataset or image folder)")
    if (path / "meta.json").is_file():
        return PortraitImages(path, size)
    return ImageFolder(path, size)


def _source_key(dataset: torch.utils.data.Dataset) -> dict:
    """What a cache was built from (rebuilt when any of it changes)."""
    if isinstance(dataset, PortraitImages):
        meta = dataset.data.folder / "meta.json"
        return {
            "kind": "portraits",
            "folder": str(dataset.data.folder.resolve()),
            "count": len(dataset),
            "meta_mtime_ns": meta.stat().st_mtime_ns,
        }
    if isinstance(dataset, ImageFolder):
        stats = [f.stat() for f in dataset.files]
        return {
            "kind": "folder",
            "folder": str(dataset.root.resolve()),
            "count": len(dataset),
            "bytes": sum(st.st_size for st in stats),
            "newest_mtime_ns": max(st.st_mtime_ns for st in stats),
        }
    raise TypeError(f"no cache for {type(dataset).__name__}")


def _uint8_chunk(dataset: torch.utils.data.Dataset, lo: int, hi: int, size: int) -> np.ndarray:
    """Items lo..hi-1 as uint8 ``(n, size, size, 3)`` (portraits resized in one call)."""
    if isinstance(dataset, PortraitImages):
        images = dataset.data.batch(np.arange(lo, hi))[0]
        t = torch.from_numpy(images).permute(0, 3, 1, 2).float()
    else:
        t = (torch.stack([dataset[i] for i in range(lo, hi)]) + 1.0) * 127.5
    if t.shape[-1] != size or t.shape[-2] != size:
        t = F.interpolate(t, size=(size, size), mode="area")
    return t.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()


def image_cache(
    dataset: torch.utils.data.Dataset, size: int, path: str | Path, chunk: int = 500
) -> np.ndarray:
    """A read-only uint8 ``(N, size, size, 3)`` memory map of ``dataset`` at ``path`` (.npy).

    Built once (atomically: a temporary file renamed into place) and reused while the
    source is unchanged (``path`` + ``.json`` records what it was built from).
    """
    path = Path(path)
    key = {"size": size, **_source_key(dataset)}
    info = path.with_suffix(".json")
    if path.is_file() and info.is_file():
        try:
            if json.loads(info.read_text()) == key:
                return np.load(path, mmap_mode="r", allow_pickle=False)
        except ValueError:
            pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    n = len(dataset)
    out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=(n, size, size, 3))
    for lo in range(0, n, chunk):
        out[lo : lo + chunk] = _uint8_chunk(dataset, lo, min(n, lo + chunk), size)
    out.flush()
    del out
    os.replace(tmp, path)
    info.write_text(json.dumps(key, indent=1))
    return np.load(path, mmap_mode="r", allow_pickle=False)


class CachedImages(torch.utils.data.Dataset):
    """Images from a uint8 ``(N, S, S, 3)`` array (e.g. :func:`image_cache`'s memory map)."""

    def __init__(self, array: np.ndarray) -> None:
        if array.ndim != 4 or array.shape[-1] != 3 or array.dtype != np.uint8:
            raise ValueError(f"need a uint8 (N, S, S, 3) array, got {array.dtype} {array.shape}")
        self.array = array
        self.size = int(array.shape[1])

    def __len__(self) -> int:
        return len(self.array)

    def __getitem__(self, index: int) -> torch.Tensor:
        return self.batch(torch.tensor([int(index)]))[0]

    def batch(self, indices: torch.Tensor) -> torch.Tensor:
        """``(B, 3, S, S)`` float in [-1, 1] for ``indices`` (one indexed read)."""
        raw = torch.from_numpy(np.ascontiguousarray(self.array[indices.numpy()]))
        return raw.permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0).contiguous()


class BatchSampler:
    """Random batches (with horizontal flips) drawn from a seeded ``torch.Generator``.

    No worker processes: the trainer's generator state alone decides every batch, so a
    resumed run sees the same batches as an uninterrupted one.
    """

    def __init__(self, dataset: Any, batch: int, flip: bool = True) -> None:  # a sized torch Dataset
        if len(dataset) == 0:
            raise ValueError("the training data set is empty")
        self.dataset, self.batch, self.flip = dataset, batch, flip

    def next(self, gen: torch.Generator) -> torch.Tensor:
        """One batch ``(B, 3, size, size)`` in [-1, 1]."""
        idx = torch.randint(len(self.dataset), (self.batch,), generator=gen)
        if isinstance(self.dataset, CachedImages):
            images = self.dataset.batch(idx)
        else:
            images = torch.stack([self.dataset[int(i)] for i in idx])
        if self.flip:
            flips = torch.rand(self.batch, generator=gen) < 0.5
            images = torch.where(flips.view(-1, 1, 1, 1), images.flip(-1), images)
        return images

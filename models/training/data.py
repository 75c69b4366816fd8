"""Training images as torch tensors: the synthetic portrait set or a plain image folder.

Both give ``(3, size, size)`` float32 tensors in [-1, 1]. :func:`open_training_data` picks
the reader from what the folder holds (a ``meta.json`` portrait dataset, else images).
"""

from __future__ import annotations

from pathlib import Path

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


class BatchSampler:
    """Random batches (with horizontal flips) drawn from a seeded ``torch.Generator``.

    No worker processes: the trainer's generator state alone decides every batch, so a
    resumed run sees the same batches as an uninterrupted one.
    """

    def __init__(self, dataset: torch.utils.data.Dataset, batch: int, flip: bool = True) -> None:
        if len(dataset) == 0:
            raise ValueError("the training data set is empty")
        self.dataset, self.batch, self.flip = dataset, batch, flip

    def next(self, gen: torch.Generator) -> torch.Tensor:
        """One batch ``(B, 3, size, size)`` in [-1, 1]."""
        idx = torch.randint(len(self.dataset), (self.batch,), generator=gen)
        images = torch.stack([self.dataset[int(i)] for i in idx])
        if self.flip:
            flips = torch.rand(self.batch, generator=gen) < 0.5
            images = torch.where(flips.view(-1, 1, 1, 1), images.flip(-1), images)
        return images

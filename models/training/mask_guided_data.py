"""(image, label map) pairs for mask-guided training, held in memory at the training size.

Sources, picked by what the folder holds:

- the synthetic portrait set (``meta.json``; exact 8-class maps, eyes and brows split into
  left and right here);
- CelebAMask-HQ as distributed: ``CelebA-HQ-img/<i>.jpg`` and
  ``CelebAMask-HQ-mask-anno/<k>/<iiiii>_<class>.png`` (one binary mask per class);
- a folder of pairs in CelebAMask-HQ's classes: ``images/<name>.<ext>`` and
  ``labels/<name>.png`` holding values 0..18.

CelebAMask-HQ's 19 classes are mapped to ours (``models/mask_guided/classes.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from latent_atelier.models.mask_guided.classes import CELEBAMASK_NAMES
from latent_atelier.models.mask_guided.labels import downsample_labels, from_celebamask, from_synthetic

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp")
#: largest photo side read from a folder (larger files are refused, not decoded)
MAX_SIDE = 4096


@dataclass
class LabelledImages:
    """``images`` N x S x S x 3 uint8 and ``labels`` N x S x S uint8 (our classes)."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.images)


def _resize_pair(image: np.ndarray, labels: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Area-resize the image and majority-vote the labels down to ``size`` (square inputs)."""
    h = image.shape[0]
    if image.shape[:2] != (size, size):
        image = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)
    if labels.shape != (size, size):
        factor = labels.shape[0] // size
        if factor >= 1 and labels.shape[0] == factor * size and labels.shape[1] == factor * size:
            labels = downsample_labels(labels, factor)
        else:
            labels = cv2.resize(labels, (size, size), interpolation=cv2.INTER_NEAREST)
    del h
    return image, labels


def load_synthetic(
    root: str | Path, size: int, split: str = "train", count: int | None = None, start: int = 0
) -> LabelledImages:
    """``count`` samples (all when None) of a synthetic portrait split from ``start``."""
    from latent_atelier.models.training.synthetic.dataset import PortraitDataset

    data = PortraitDataset(root, split)
    stop = len(data) if count is None else min(len(data), start + count)
    if stop <= start:
        raise ValueError(f"{root} ({split}) has {len(data)} samples; nothing from {start}")
    images, labels = [], []
    for i in range(start, stop):
        image, _alpha, lab8 = data[i]
        image, lab = _resize_pair(image, from_synthetic(lab8), size)
        images.append(image)
        labels.append(lab)
    return LabelledImages(np.stack(images), np.stack(labels))


def _read_rgb(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        if max(im.size) > MAX_SIDE:
            raise ValueError(f"{path}: {im.size[0]}x{im.size[1]} px is larger than {MAX_SIDE} px")
        return np.asarray(im.convert("RGB"))


def _read_gray(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        if max(im.size) > MAX_SIDE:
            raise ValueError(f"{path}: {im.size[0]}x{im.size[1]} px is larger than {MAX_SIDE} px")
        return np.asarray(im.convert("L"))


def _celeba_annotation_pairs(root: Path) -> list[tuple[Path, list[Path]]]:
    """(image, its class mask files) from CelebAMask-HQ's own layout."""
    masks: dict[int, list[Path]] = {}
    for f in (root / "CelebAMask-HQ-mask-anno").glob("*/*.png"):
        stem = f.stem.split("_", 1)
        if len(stem) == 2 and stem[0].isdigit():
            masks.setdefault(int(stem[0]), []).append(f)
    pairs = []
    for img in sorted((root / "CelebA-HQ-img").iterdir(), key=lambda p: (len(p.stem), p.stem)):
        if img.suffix.lower() in IMAGE_SUFFIXES and img.stem.isdigit() and int(img.stem) in masks:
            pairs.append((img, masks[int(img.stem)]))
    return pairs


def _celeba_labels_from_masks(files: list[Path]) -> np.ndarray:
    """One 0..18 label map from per-class binary masks (later classes in the list win)."""
    out: np.ndarray | None = None
    order = {name: i for i, name in enumerate(CELEBAMASK_NAMES)}
    for f in sorted(files, key=lambda p: order.get(p.stem.split("_", 1)[1], -1)):
        cls = order.get(f.stem.split("_", 1)[1])
        if cls is None:
            continue
        m = _read_gray(f) > 127
        if out is None:
            out = np.zeros(m.shape, np.uint8)
        out[m] = cls
    if out is None:
        raise ValueError(f"no known class masks among {[f.name for f in files[:3]]}")
    return out


def load_celebamask(root: str | Path, size: int, count: int | None = None, start: int = 0) -> LabelledImages:
    """Pairs from a CelebAMask-HQ folder (either layout, see the module docstring)."""
    root = Path(root)
    images, labels = [], []
    if (root / "CelebA-HQ-img").is_dir() and (root / "CelebAMask-HQ-mask-anno").is_dir():
        pairs = _celeba_annotation_pairs(root)
        chosen = pairs[start : None if count is None else start + count]
        for img, files in chosen:
            lab = from_celebamask(_celeba_labels_from_masks(files))
            image = cv2.resize(_read_rgb(img), lab.shape[::-1], interpolation=cv2.INTER_AREA)
            image, lab = _resize_pair(image, lab, size)
            images.append(image)
            labels.append(lab)
    elif (root / "images").is_dir() and (root / "labels").is_dir():
        files = sorted(p for p in (root / "images").iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        files = [p for p in files if (root / "labels" / (p.stem + ".png")).is_file()]
        for img in files[start : None if count is None else start + count]:
            lab = from_celebamask(_read_gray(root / "labels" / (img.stem + ".png")))
            image = _read_rgb(img)
            if image.shape[:2] != lab.shape:
                image = cv2.resize(image, lab.shape[::-1], interpolation=cv2.INTER_AREA)
            image, lab = _resize_pair(_square(image), _square(lab), size)
            images.append(image)
            labels.append(lab)
    else:
        raise FileNotFoundError(
            f"{root}: not a portrait dataset (meta.json) nor CelebAMask-HQ (CelebA-HQ-img/ + "
            "CelebAMask-HQ-mask-anno/, or images/ + labels/ with values 0..18)"
        )
    if not images:
        raise ValueError(f"{root}: no (image, label map) pairs found")
    return LabelledImages(np.stack(images), np.stack(labels))


def _square(a: np.ndarray) -> np.ndarray:
    h, w = a.shape[:2]
    s = min(h, w)
    return a[(h - s) // 2 : (h - s) // 2 + s, (w - s) // 2 : (w - s) // 2 + s]


def open_pairs(
    root: str | Path, size: int, split: str = "train", count: int | None = None, start: int = 0
) -> LabelledImages:
    """The pairs at ``root``, whatever its layout (``split`` only matters for the portrait set)."""
    path = Path(root)
    if not path.is_dir():
        raise FileNotFoundError(f"{root}: no such data folder")
    if (path / "meta.json").is_file():
        return load_synthetic(path, size, split, count, start)
    return load_celebamask(path, size, count, start)

"""Varied backgrounds: gradients, procedural textures, noise and crops of scikit-image photos."""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

import cv2
import numpy as np

#: scikit-image sample photos used for crops: no faces, and each CC0, public domain or
#: "no known copyright restrictions" per skimage.data's docstrings (see resources/LICENSES).
PHOTO_FILES: tuple[str, ...] = (
    "brick.png",
    "chelsea.png",
    "coffee.png",
    "grass.png",
    "gravel.png",
    "hubble_deep_field.jpg",
    "ihc.png",
    "rocket.jpg",
    "retina.jpg",
    "coins.png",
    "horse.png",
)


def skimage_data_dir() -> Path:
    """Folder of scikit-image's bundled sample images (found without importing skimage)."""
    spec = importlib.util.find_spec("skimage")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("scikit-image is not installed; `pip install scikit-image`")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


@cache
def _photos() -> tuple[np.ndarray, ...]:
    folder = skimage_data_dir()
    photos = []
    for name in PHOTO_FILES:
        img = cv2.imread(str(folder / name), cv2.IMREAD_COLOR)
        if img is not None:
            photos.append(cv2.cvtColor(img, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0)
    if not photos:
        raise FileNotFoundError(f"no sample photos found in {folder}")
    return tuple(photos)


def _colour(rng: np.random.Generator) -> np.ndarray:
    return rng.uniform(0.0, 1.0, 3).astype(np.float32)


def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / max(size - 1, 1)
    return yy, xx


def _mix(t: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a * (1.0 - t[..., None]) + b * t[..., None]


def linear_gradient(rng: np.random.Generator, size: int) -> np.ndarray:
    yy, xx = _grid(size)
    angle = rng.uniform(0, 2 * np.pi)
    t = np.cos(angle) * xx + np.sin(angle) * yy
    t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
    return _mix(t, _colour(rng), _colour(rng))


def radial_gradient(rng: np.random.Generator, size: int) -> np.ndarray:
    yy, xx = _grid(size)
    cy, cx = rng.uniform(0.1, 0.9, 2)
    t = np.clip(np.hypot(yy - cy, xx - cx) / rng.uniform(0.5, 1.2), 0, 1)
    return _mix(t, _colour(rng), _colour(rng))


def value_noise(rng: np.random.Generator, size: int) -> np.ndarray:
    """Multi-octave smooth noise mapped between two or three colours."""
    t = np.zeros((size, size), np.float32)
    amp, total = 1.0, 0.0
    for cells in (2, 4, 8, 16, 32)[: rng.integers(2, 6)]:
        grid = rng.uniform(0, 1, (cells + 1, cells + 1)).astype(np.float32)
        t += amp * cv2.resize(grid, (size, size), interpolation=cv2.INTER_CUBIC)
        total += amp
        amp *= rng.uniform(0.4, 0.7)
    t = np.clip(t / total, 0, 1)
    if rng.random() < 0.5:
        return _mix(t, _colour(rng), _colour(rng))
    mid = _colour(rng)
    low = _mix(np.clip(2 * t, 0, 1), _colour(rng), mid)
    return np.where((t < 0.5)[..., None], low, _mix(np.clip(2 * t - 1, 0, 1), mid, _colour(rng)))


def pattern(rng: np.random.Generator, size: int) -> np.ndarray:
    """Rotated stripes, checks or dots, softened slightly."""
    yy, xx = _grid(size)
    angle = rng.uniform(0, np.pi)
    u = np.cos(angle) * xx + np.sin(angle) * yy
    v = -np.sin(angle) * xx + np.cos(angle) * yy
    freq = rng.uniform(3, 14)
    kind = rng.integers(3)
    if kind == 0:
        t = (np.sin(2 * np.pi * freq * u) > 0).astype(np.float32)
    elif kind == 1:
        t = ((np.floor(freq * u) + np.floor(freq * v)) % 2).astype(np.float32)
    else:
        fu, fv = (freq * u) % 1 - 0.5, (freq * v) % 1 - 0.5
        t = (np.hypot(fu, fv) < rng.uniform(0.15, 0.4)).astype(np.float32)
    t = cv2.GaussianBlur(t, (0, 0), 0.6)
    return _mix(t, _colour(rng), _colour(rng))


def photo_crop(rng: np.random.Generator, size: int) -> np.ndarray:
    """A random square crop of a sample photo, rescaled, maybe flipped and tinted."""
    photos = _photos()
    photo = photos[rng.integers(len(photos))]
    h, w = photo.shape[:2]
    side = int(rng.uniform(0.25, 1.0) * min(h, w))
    y, x = rng.integers(0, h - side + 1), rng.integers(0, w - side + 1)
    crop = cv2.resize(photo[y : y + side, x : x + side], (size, size), interpolation=cv2.INTER_AREA)
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    if rng.random() < 0.3:
        crop = crop * rng.uniform(0.6, 1.3, 3).astype(np.float32)
    return np.ascontiguousarray(crop)


def flat(rng: np.random.Generator, size: int) -> np.ndarray:
    return np.broadcast_to(_colour(rng), (size, size, 3)).copy()


_KINDS = (
    (linear_gradient, 0.17),
    (radial_gradient, 0.13),
    (value_noise, 0.2),
    (pattern, 0.1),
    (photo_crop, 0.32),
    (flat, 0.08),
)


def random_background(rng: np.random.Generator, size: int) -> np.ndarray:
    """One background, float32 (size, size, 3) in [0, 1]."""
    weights = np.array([w for _, w in _KINDS])
    make = _KINDS[rng.choice(len(_KINDS), p=weights / weights.sum())][0]
    bg = make(rng, size).astype(np.float32)
    if rng.random() < 0.3:
        bg = cv2.GaussianBlur(bg, (0, 0), rng.uniform(0.5, 2.5))
    if rng.random() < 0.4:
        bg = bg + rng.normal(0, rng.uniform(0.01, 0.05), bg.shape).astype(np.float32)
    return np.clip(bg, 0.0, 1.0)

"""The "ink sketch" domain: a fixed image filter that turns a portrait into a pen drawing.

A second domain we can measure: the few-shot adaptation (``models.training.adapt``) sees
ten filtered portraits, and an adapted generator ``G_B`` can then be checked against
``ink_sketch(G_A(z))`` for the same latent. The filter is an XDoG edge drawing (difference
of Gaussians on the luminance, soft-thresholded into dark strokes) over a light wash of
the original tones, in blue-black ink on warm paper. Blur widths scale with the image side
(they are given for 64 px), so a 128 px portrait filtered and then resized looks like the
same portrait resized and then filtered.

Command line (ten shots and a held-out set from a built portrait dataset)::

    python -m latent_atelier.models.training.synthetic.ink --data data/portraits128 \
        --out data/ink --size 64 --shots 10 --held-out 256
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np


@dataclass(frozen=True)
class InkStyle:
    """The filter's constants (fixed: the domain must not drift between runs)."""

    sigma: float = 0.6  # inner Gaussian, in pixels at 64 px
    k: float = 1.6  # outer / inner sigma ratio
    p: float = 0.985  # weight of the outer Gaussian (XDoG)
    eps: float = 0.0  # threshold of the difference
    phi: float = 60.0  # steepness of the stroke edge
    wash: float = 0.22  # how much of the original tone shows under the strokes
    ink: tuple[float, float, float] = (0.08, 0.09, 0.16)
    paper: tuple[float, float, float] = (0.97, 0.95, 0.90)


INK = InkStyle()


def _luminance(image: np.ndarray) -> np.ndarray:
    return (image[..., 0] * 0.299 + image[..., 1] * 0.587 + image[..., 2] * 0.114).astype(np.float32)


def ink_sketch(image: np.ndarray, style: InkStyle = INK) -> np.ndarray:
    """``H x W x 3`` float32 in [0, 1] -> the same portrait as an ink drawing (same shape)."""
    arr = np.asarray(image, np.float32)
    if arr.ndim != 3 or arr.shape[2] < 3:
        raise ValueError(f"ink_sketch needs an H x W x 3 image, got shape {arr.shape}")
    lum = _luminance(np.clip(arr[..., :3], 0.0, 1.0))
    scale = max(arr.shape[0], arr.shape[1]) / 64.0
    s1 = style.sigma * scale
    g1 = cv2.GaussianBlur(lum, (0, 0), s1, borderType=cv2.BORDER_REPLICATE)
    g2 = cv2.GaussianBlur(lum, (0, 0), s1 * style.k, borderType=cv2.BORDER_REPLICATE)
    dog = g1 - style.p * g2
    strokes = np.where(dog >= style.eps, 1.0, 1.0 + np.tanh(style.phi * (dog - style.eps)))
    shade = cv2.GaussianBlur(lum, (0, 0), 1.5 * scale, borderType=cv2.BORDER_REPLICATE)
    paper_level = (1.0 - style.wash) + style.wash * shade  # light wash of the tones
    coverage = np.clip(strokes * paper_level, 0.0, 1.0)[..., None]  # 1 = bare paper
    ink = np.asarray(style.ink, np.float32)
    paper = np.asarray(style.paper, np.float32)
    return (ink + (paper - ink) * coverage).astype(np.float32)


def ink_sketch_batch(images: np.ndarray, style: InkStyle = INK) -> np.ndarray:
    """``N x H x W x 3`` float images (or uint8) -> ink drawings, float32 in [0, 1]."""
    arr = np.asarray(images)
    if arr.dtype == np.uint8:
        arr = arr.astype(np.float32) / 255.0
    return np.stack([ink_sketch(a, style) for a in arr]) if len(arr) else arr.astype(np.float32)


def ink_sketch_tensor(x, style: InkStyle = INK):
    """A torch batch ``(B, 3, H, W)`` in [-1, 1] -> its ink drawings, same layout (no gradient)."""
    import torch

    imgs = ((x.detach().float().clamp(-1, 1) + 1) * 0.5).permute(0, 2, 3, 1).cpu().numpy()
    out = torch.from_numpy(ink_sketch_batch(imgs, style)).permute(0, 3, 1, 2)
    return (out * 2 - 1).to(x.device)


def write_ink_sets(
    data: str | Path, out: str | Path, size: int = 64, shots: int = 10, held_out: int = 256, seed: int = 0
) -> dict[str, int]:
    """Filter portraits of a built dataset: ``out/shots`` (PNG files, from the train split,
    picked by ``seed``) and ``out/held_out.npy`` (the eval split's first ``held_out``)."""
    from PIL import Image

    from latent_atelier.models.training.synthetic.dataset import PortraitDataset, resize_images

    out = Path(out)
    (out / "shots").mkdir(parents=True, exist_ok=True)
    train = PortraitDataset(data, "train")
    pick = np.random.default_rng(seed).choice(len(train), size=shots, replace=False)
    imgs = resize_images(train.batch(np.sort(pick))[0].astype(np.float32) / 255.0, size)
    for i, (idx, img) in enumerate(zip(np.sort(pick), ink_sketch_batch(imgs))):
        Image.fromarray((img * 255 + 0.5).astype(np.uint8)).save(out / "shots" / f"shot_{i:02d}_{idx}.png")
    ev = PortraitDataset(data, "eval")
    n = min(held_out, len(ev))
    held = ink_sketch_batch(resize_images(ev.batch(np.arange(n))[0].astype(np.float32) / 255.0, size))
    np.save(out / "held_out.npy", (held * 255 + 0.5).astype(np.uint8))
    return {"shots": int(shots), "held_out": int(n)}


def main(argv: list[str] | None = None) -> int:
    """``python -m latent_atelier.models.training.synthetic.ink``: write the shot and held-out sets."""
    p = argparse.ArgumentParser(description="ink-sketch shots and held-out set from a portrait dataset")
    p.add_argument("--data", required=True, help="built portrait dataset (meta.json)")
    p.add_argument("--out", required=True, help="folder for shots/ and held_out.npy")
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--shots", type=int, default=10)
    p.add_argument("--held-out", type=int, default=256)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    print(write_ink_sets(a.data, a.out, a.size, a.shots, a.held_out, a.seed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

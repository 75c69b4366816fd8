"""One dataset sample: posed render, exact alpha, part labels, composited background."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .backgrounds import random_background
from .raster import decode_labels, rasterise, reconcile_labels
from .svg_variants import Pose, posed_svgs

#: Per-style framing (zoom, downward shift in picture heights) so faces fill the frame alike.
FRAMING: dict[str, tuple[float, float]] = {
    "lorelei": (1.0, 0.0),
    "notionists": (1.3, 0.1),
    "adventurer": (1.0, 0.02),
    "micah": (1.2, 0.07),
    "personas": (1.25, 0.08),
    "big-ears": (1.05, 0.02),
}


@dataclass(frozen=True)
class SvgRecord:
    """One avatar from the Node renderer: sample id, DiceBear style name and tagged SVG."""

    id: int
    style: str
    svg: str


def random_pose(rng: np.random.Generator, style: str) -> Pose:
    """Small random rotation (+-10 deg), scale and shift on top of the style's framing."""
    zoom, drop = FRAMING.get(style, (1.0, 0.0))
    return Pose(
        rotation=float(rng.uniform(-10, 10)),
        scale=float(zoom * rng.uniform(0.92, 1.12)),
        shift_x=float(rng.uniform(-0.06, 0.06)),
        shift_y=float(drop + rng.uniform(-0.04, 0.06)),
    )


def sample_rng(seed: int, sample_id: int) -> np.random.Generator:
    """The random stream for one sample, fixed by the dataset seed and the sample id."""
    return np.random.default_rng([seed, sample_id, 0x5EED])


def render_sample(
    record: SvgRecord, seed: int, size: int, background: np.ndarray | None = None
) -> tuple[np.ndarray, ...]:
    """(image SxSx3, alpha SxS, labels SxS), all uint8, for one avatar record.

    `background` (float SxSx3 in [0, 1]) replaces the random one, e.g. to check the matte.
    """
    rng = sample_rng(seed, record.id)
    picture_svg, label_svg = posed_svgs(record.svg, record.style, random_pose(rng, record.style))
    rgba = rasterise(picture_svg, size)
    alpha = rgba[..., 3]
    labels = reconcile_labels(decode_labels(rasterise(label_svg, size)), alpha)
    bg = random_background(rng, size) if background is None else background
    a = alpha[..., None].astype(np.float32) / 255.0
    image = rgba[..., :3].astype(np.float32) / 255.0 * a + bg * (1.0 - a)
    image_u8 = np.clip(np.rint(image * 255.0), 0, 255).astype(np.uint8)
    return image_u8, alpha.copy(), labels


def render_batch(records: list[SvgRecord], seed: int, size: int) -> tuple[np.ndarray, ...]:
    """Stacked (images, alpha, labels) for a list of records (runs in a worker process)."""
    out = [render_sample(r, seed, size) for r in records]
    return tuple(np.stack([o[k] for o in out]) for k in range(3))

"""Model-independent inputs of ``bench_mask_guided``: held-out pairs and exact re-renders.

The re-renders (the same held-out avatar with its mouth, eyes or hair swapped, drawn by the
dataset's own renderer) take Node and resvg a few seconds each, so they are cached in
``runs/eval/mask_guided_rerenders_<size>.npz``.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
PARTS = ("mouth", "eyes", "hair")


def held_out(data: str | Path, size: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The first ``n`` held-out (eval split) images (uint8) and our label maps at ``size``."""
    from latent_atelier.models.training.mask_guided_data import load_synthetic

    pairs = load_synthetic(data, size, "eval", n)
    return pairs.images, pairs.labels


def train_images(data: str | Path, size: int, n: int, start: int = 25000) -> np.ndarray:
    """``n`` training images (for the train-vs-held-out Frechet floor)."""
    from latent_atelier.models.training.mask_guided_data import load_synthetic

    return load_synthetic(data, size, "train", n, start).images


def rerenders(
    size: int, count: int, seed: int = 0, deadline: float | None = None, cache: Path | None = None
) -> dict[str, np.ndarray]:
    """Up to ``count`` exact-edit cases: eval index, part, original and re-rendered image
    (uint8) and label map (ours) at ``size``; parts rotate mouth, eyes, hair."""
    from latent_atelier.models.mask_guided.labels import from_synthetic
    from latent_atelier.models.training.mask_guided_data import _resize_pair
    from latent_atelier.models.training.mask_guided_rerender import swapped_pair

    cache = cache or REPO / "runs" / "eval" / f"mask_guided_rerenders_{size}.npz"
    if cache.is_file():
        with np.load(cache, allow_pickle=False) as z:
            found = {k: z[k] for k in z.files}
        if len(found["index"]) >= count:
            return {k: v[:count] for k, v in found.items()}
    rng = np.random.default_rng(seed)
    rows: dict[str, list] = {k: [] for k in ("index", "part", "image", "labels", "image_new", "labels_new")}
    i = 0
    while len(rows["index"]) < count and (deadline is None or time.time() < deadline):
        part = PARTS[len(rows["index"]) % len(PARTS)]
        got = swapped_pair(seed, i, part, 128, rng)
        i += 1
        if got is None:
            continue
        (img, _a, lab), (img2, _a2, lab2), _variant = got
        a, la = _resize_pair(img, from_synthetic(lab), size)
        b, lb = _resize_pair(img2, from_synthetic(lab2), size)
        for key, val in (
            ("index", i - 1),
            ("part", PARTS.index(part)),
            ("image", a),
            ("labels", la),
            ("image_new", b),
            ("labels_new", lb),
        ):
            rows[key].append(val)
    out = {k: np.asarray(v) for k, v in rows.items()}
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(cache, **out)
    return out

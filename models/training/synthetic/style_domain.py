"""A "near" second domain: the portraits of one DiceBear style.

The demo FurryGAN is trained on six avatar styles mixed; adapting it few-shot to ten
portraits of a single style (e.g. ``big-ears``) gives a second generator whose domain is
close to the first, like the paper's natural -> caricature pair, beside the far ink-sketch
domain. A built dataset does not store each sample's style, so the styles are read back
from the SVG source that rendered it (the same seed and sample ids give the same records).

Command line (needs the Node renderer that built the dataset)::

    python -m latent_atelier.models.training.synthetic.style_domain --data data/portraits128 \
        --style big-ears --out data/big-ears --size 64 --shots 10
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

from .dataset import PortraitDataset, resize_images
from .svg_sources import NodeSvgSource, SvgSource


def sample_styles(source: SvgSource, dataset: PortraitDataset) -> list[str]:
    """The DiceBear style of every sample of a built split, in index order."""
    seed, start, count = int(dataset.meta["seed"]), dataset.id_start, len(dataset)
    styles = [r.style for r in source.records(seed, start, count)]
    if len(styles) != count:
        raise RuntimeError(f"the SVG source gave {len(styles)} records for {count} samples")
    return styles


def write_style_sets(
    data: str | Path,
    out: str | Path,
    style: str,
    size: int = 64,
    shots: int = 10,
    seed: int = 0,
    source: SvgSource | None = None,
) -> dict:
    """Write ``shots`` training portraits of ``style`` as PNGs and its eval portraits as ``held_out.npy``."""
    source = source if source is not None else NodeSvgSource()
    out = Path(out)
    train, ev = PortraitDataset(data, "train"), PortraitDataset(data, "eval")
    train_styles = sample_styles(source, train)
    known = sorted(set(train_styles))
    pool = np.flatnonzero(np.asarray(train_styles) == style)
    if style not in known:
        raise ValueError(f"no training portrait has style {style!r}; the dataset has {', '.join(known)}")
    if len(pool) < shots:
        raise ValueError(f"only {len(pool)} training portraits have style {style!r}; ask for fewer shots")
    pick = np.sort(np.random.default_rng(seed).choice(pool, size=shots, replace=False))
    (out / "shots").mkdir(parents=True, exist_ok=True)
    for i, (idx, img) in enumerate(zip(pick, resize_images(train.batch(pick)[0], size))):
        Image.fromarray(img).save(out / "shots" / f"shot_{i:02d}_{idx}.png")
    held = np.flatnonzero(np.asarray(sample_styles(source, ev)) == style)
    empty = np.zeros((0, size, size, 3), np.uint8)
    np.save(out / "held_out.npy", resize_images(ev.batch(held)[0], size) if len(held) else empty)
    return {"style": style, "shots": int(shots), "shot_indices": pick.tolist(), "held_out": len(held)}


def main(argv: list[str] | None = None) -> int:
    """``python -m ...synthetic.style_domain``: one style's shots and held-out set."""
    p = argparse.ArgumentParser(description="one DiceBear style's shots and held-out set")
    p.add_argument("--data", required=True, help="built portrait dataset (meta.json)")
    p.add_argument("--style", required=True, help="DiceBear style name, e.g. big-ears")
    p.add_argument("--out", required=True, help="folder for shots/ and held_out.npy")
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--shots", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    print(write_style_sets(a.data, a.out, a.style, a.size, a.shots, a.seed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Level-set boundary refinement: time on 512 x 512 with several segments, and its effect.

A synthetic photo with ``--segments`` Voronoi segments inside a disc (label 0 outside).
Each segment's edited image differs from the photo in one blob that straddles its border,
plus mild noise. Reports the run time (default parameters, 100 iterations) beside one
Poisson stitch of the same frame as a same-run reference, and how much of the blobs the
segments still cover afterwards.

Run: ``.venv/bin/python -m benchmarks.bench_levelset [--size 512] [--segments 6]``
"""

from __future__ import annotations

import argparse

import numpy as np

from benchmarks.common import timed, write_result
from latent_atelier.editors.stitching.levelset import refine_labels
from latent_atelier.editors.stitching.poisson import poisson_stitch


def make_case(size: int, segments: int, seed: int = 0):
    """Photo, labels, {label: edited image}, {label: blob mask it should leave}."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    photo = rng.uniform(0.3, 0.7, (size, size, 3)).astype(np.float32)
    pts = rng.uniform(0.25, 0.75, (segments, 2))
    dist = np.stack([(yy - py) ** 2 + (xx - px) ** 2 for py, px in pts])
    labels = (dist.argmin(0) + 1).astype(np.int32)
    labels[(yy - 0.5) ** 2 + (xx - 0.5) ** 2 > 0.42**2] = 0
    edited, blobs = {}, {}
    for k in range(1, segments + 1):
        mask = labels == k
        border = mask & ~np.roll(mask, 1, axis=1)  # a left-border pixel of segment k
        ys, xs = np.nonzero(border)
        c = len(ys) // 2
        blob = (yy * size - ys[c]) ** 2 + (xx * size - xs[c]) ** 2 < (size / 40) ** 2
        image = photo + 0.03 * rng.standard_normal(photo.shape).astype(np.float32)
        image[blob] += 0.5
        edited[k], blobs[k] = image, blob
    return photo, labels, edited, blobs


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--segments", type=int, default=6)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    photo, labels, edited, blobs = make_case(args.size, args.segments)
    out = refine_labels(labels, photo, edited)
    figures: dict = {"size": args.size, "segments": args.segments, "iterations": 100}
    figures["refine_labels"] = timed(lambda: refine_labels(labels, photo, edited),
                                     repeat=args.repeat)
    figures["poisson_stitch_same_frame"] = timed(lambda: poisson_stitch(photo, labels, edited),
                                                 repeat=args.repeat)
    kept = {k: float((blobs[k] & (out == k)).sum() / max((blobs[k] & (labels == k)).sum(), 1))
            for k in blobs}
    figures["blob_overlap_kept_fraction"] = kept
    figures["pixels_changed"] = int((out != labels).sum())
    for name, value in figures.items():
        print(f"{name}: {value}")
    write_result("levelset", figures)
    return figures


if __name__ == "__main__":
    main()

"""Level-set boundary refinement: how well it removes changed blobs, how still it keeps under
invisible noise, and its time on 512 x 512 with several segments.

* ``blob_cases``: three 256 px cases with a strongly changed coloured blob across a segment's
  edge to the photo, across the border between two segments, and deep inside a segment.
  IoU of the refined segment with the ideal mask (the segment without the blob), the share
  of the blob removed and of the other pixels kept; default settings, and with ``holes`` off
  (front motion only).
* ``noise_sweep``: Gaussian noise of several sigmas (sRGB, 0..1) between photo and edit, no
  other change: IoU of the refined segments with the original ones (1 = nothing moved).
* ``timing``: ``--segments`` Voronoi segments inside a disc at ``--size`` px, each edit with
  one blob across its border plus invisible noise (sigma 0.004); one Poisson stitch of the
  same frame is timed in the same run as a reference.

Run: ``.venv/bin/python -m benchmarks.bench_levelset [--size 512] [--segments 6]``
"""

from __future__ import annotations

import time

import numpy as np

from benchmarks.common import count_options, report, timed
from latent_atelier.editors.stitching.levelset import DEFAULT_THRESHOLD, refine_labels
from latent_atelier.editors.stitching.poisson import poisson_stitch

CASE_SIZE = 256
NOISE_SIGMAS = (0.0, 0.001, 0.002, 0.005, 0.01, 0.02)


def _disk(size: int, cy: float, cx: float, r: float) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size]
    return (yy - cy) ** 2 + (xx - cx) ** 2 < r**2


def blob_cases(size: int = CASE_SIZE, seed: int = 0):
    """``(name, labels, photo, {label: edited}, segment, blob)`` for the three blob cases."""
    photo = np.random.default_rng(seed).uniform(0.3, 0.7, (size, size, 3)).astype(np.float32)
    q = size // 4
    square = np.zeros((size, size), np.int32)
    square[q : 3 * q, q : 3 * q] = 1
    halves = np.ones((size, size), np.int32)
    halves[:, 2 * q :] = 2
    specs = [
        ("edge_to_photo", square, (q, 2 * q, size / 12), (0.3, -0.2, 0.1), {}),
        ("edge_between_segments", halves, (2 * q, 2 * q, size / 11), (-0.2, 0.25, 0.2), {2: photo}),
        ("deep_inside", square, (2 * q, 2 * q, size / 16), (0.25, 0.25, -0.2), {}),
    ]
    for name, labels, (cy, cx, r), shift, others in specs:
        blob = _disk(size, cy, cx, r)
        edited = photo.copy()
        edited[blob] += np.array(shift, np.float32)
        yield name, labels, photo, {1: edited, **others}, 1, blob


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


def measure_blobs() -> list[dict]:
    """IoU with the ideal mask, share removed / kept, seconds; with and without holes."""
    rows = []
    for name, labels, photo, edited, k, blob in blob_cases():
        inside = labels == k
        ideal = inside & ~blob
        for holes in (True, False):
            t0 = time.perf_counter()
            out = refine_labels(labels, photo, edited, holes=holes)
            seconds = time.perf_counter() - t0
            rows.append(
                {
                    "case": name,
                    "holes": holes,
                    "iou_ideal": _iou(out == k, ideal),
                    "blob_removed": float(1 - (blob & inside & (out == k)).sum() / (blob & inside).sum()),
                    "unchanged_kept": float((ideal & (out == k)).sum() / ideal.sum()),
                    "seconds": seconds,
                }
            )
    return rows


def measure_noise(seed: int = 5) -> list[dict]:
    """IoU with the original segments when the edit is only noise of each sigma."""
    rng = np.random.default_rng(seed)
    _, square, photo, _, _, _ = next(blob_cases())
    labels = square.copy()
    labels[:, : CASE_SIZE // 2] *= 2  # two segments side by side inside the square
    rows = []
    for sigma in NOISE_SIGMAS:
        edited = {k: photo + sigma * rng.standard_normal(photo.shape).astype(np.float32) for k in (1, 2)}
        out = refine_labels(labels, photo, edited)
        rows.append(
            {
                "sigma": sigma,
                "pixels_moved": int((out != labels).sum()),
                "iou_original": min(_iou(out == k, labels == k) for k in (1, 2)),
            }
        )
    return rows


def timing_case(size: int, segments: int, seed: int = 0, noise: float = 0.004):
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
        image = photo + noise * rng.standard_normal(photo.shape).astype(np.float32)
        image[blob] += 0.5
        edited[k], blobs[k] = image, blob
    return photo, labels, edited, blobs


def main(argv: list[str] | None = None) -> dict:
    args = count_options(__doc__, argv, size=512, segments=6, repeat=3)
    figures: dict = {"threshold_dE": DEFAULT_THRESHOLD, "case_size": CASE_SIZE}
    refine_labels(*blob_cases().__next__()[1:4])  # compile the numba kernel outside the timings
    figures["blob_cases"] = measure_blobs()
    figures["noise_sweep"] = measure_noise()
    photo, labels, edited, blobs = timing_case(args.size, args.segments)
    out = refine_labels(labels, photo, edited)
    timing: dict = {"size": args.size, "segments": args.segments}
    timing["refine_labels"] = timed(lambda: refine_labels(labels, photo, edited), repeat=args.repeat)
    timing["poisson_stitch_same_frame"] = timed(
        lambda: poisson_stitch(photo, labels, edited), repeat=args.repeat
    )
    timing["ratio_to_poisson"] = (
        timing["refine_labels"]["median_s"] / timing["poisson_stitch_same_frame"]["median_s"]
    )
    timing["under_1_s"] = timing["refine_labels"]["median_s"] < 1.0
    timing["blob_kept_fraction"] = {
        k: float((blobs[k] & (out == k)).sum() / max((blobs[k] & (labels == k)).sum(), 1)) for k in blobs
    }
    timing["pixels_changed"] = int((out != labels).sum())
    figures["timing"] = timing
    return report("levelset", figures)


if __name__ == "__main__":
    main()

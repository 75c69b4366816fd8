"""Poisson stitching: our single solve vs OpenCV seamlessClone per segment, and solvers.

A synthetic 1024 x 1024 photo with 10 Voronoi segments inside a disc (label 0 outside);
each segment image is the photo plus its own colour offset and a low-frequency ramp, so
the ideal stitched result has the photo's own gradients across every seam.

Run: ``.venv/bin/python -m benchmarks.bench_poisson [--size 1024] [--segments 10]``
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np

from benchmarks.common import timed, write_result
from editors.poisson import (
    naive_composite,
    poisson_residual,
    poisson_stitch,
    seam_gradient_jump,
)


def make_case(size: int, segments: int, seed: int = 0):
    """Photo (H x W x 3), labels (0 outside a disc), {label: segment image}."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    chans = [0.5 + 0.3 * np.sin(6 * xx + c) * np.cos(5 * yy - c) for c in range(3)]
    photo = np.stack(chans, -1) + 0.02 * rng.standard_normal((size, size, 3))
    photo = np.clip(photo, 0, 1).astype(np.float32)
    pts = rng.uniform(0.2, 0.8, (segments, 2))
    labels = np.zeros((size, size), np.int32)
    best = np.full((size, size), np.inf)
    for k, (py, px) in enumerate(pts, start=1):
        d = (yy - py) ** 2 + (xx - px) ** 2
        labels[d < best] = k
        best = np.minimum(best, d)
    labels[(yy - 0.5) ** 2 + (xx - 0.5) ** 2 > 0.42**2] = 0
    segs = {}
    for k in range(1, segments + 1):
        offset = rng.uniform(-0.12, 0.12, 3) + 0.04 * np.sin(3 * xx + k)[..., None]
        segs[k] = np.clip(photo + offset, 0, 1).astype(np.float32)
    return photo, labels, segs


def opencv_clone(photo: np.ndarray, labels: np.ndarray, segs: dict[int, np.ndarray]):
    """cv2.seamlessClone applied segment after segment onto the running result (uint8)."""
    out = (photo * 255 + 0.5).astype(np.uint8)
    for k, image in segs.items():
        mask = ((labels == k) * 255).astype(np.uint8)
        x, y, w, h = cv2.boundingRect(mask)
        src = (image * 255 + 0.5).astype(np.uint8)
        out = cv2.seamlessClone(src, out, mask, (x + w // 2, y + h // 2), cv2.NORMAL_CLONE)
    return out.astype(np.float32) / 255


def _solver_run(method: str, size: int, segments: int) -> dict:
    photo, labels, segs = make_case(size, segments)
    entry: dict = {"method": method, "size": size}
    try:
        t0 = time.perf_counter()
        out = poisson_stitch(photo, labels, segs, method=method)
        entry["seconds"] = time.perf_counter() - t0
        entry["residual"] = poisson_residual(out, photo, labels, segs)
    except Exception as exc:  # e.g. pyamg not installed
        entry["error"] = str(exc)
    return entry


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--segments", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--skip-slow", action="store_true", help="skip the direct and plain-CG solvers")
    ap.add_argument("--cg-size", type=int, default=256,
                    help="image size for the Jacobi-CG run (it takes minutes at 1024)")
    args = ap.parse_args(argv)
    photo, labels, segs = make_case(args.size, args.segments)
    figures: dict = {"size": args.size, "segments": args.segments,
                     "unknown_pixels": int((labels > 0).sum())}

    ours = poisson_stitch(photo, labels, segs)
    figures["ours_auto"] = timed(lambda: poisson_stitch(photo, labels, segs), repeat=args.repeat)
    cv_out = opencv_clone(photo, labels, segs)
    figures["opencv_seamlessclone"] = timed(lambda: opencv_clone(photo, labels, segs),
                                            repeat=args.repeat)
    naive = naive_composite(photo, labels, segs)
    figures["seam_jump"] = {
        "photo": seam_gradient_jump(photo, labels),
        "naive": seam_gradient_jump(naive, labels),
        "ours": seam_gradient_jump(ours, labels),
        "opencv": seam_gradient_jump(cv_out, labels),
    }
    figures["residual_ours"] = poisson_residual(ours, photo, labels, segs)
    figures["speedup_vs_opencv"] = (figures["opencv_seamlessclone"]["median_s"]
                                    / figures["ours_auto"]["median_s"])

    runs = [("multigrid", args.size), ("amg", args.size)]
    if not args.skip_slow:
        runs += [("direct", args.size), ("multigrid", args.cg_size), ("cg", args.cg_size)]
    figures["solvers_single_run"] = [_solver_run(method, size, args.segments)
                                     for method, size in runs]
    for name, value in figures.items():
        print(f"{name}: {value}")
    write_result("poisson", figures)
    return figures


if __name__ == "__main__":
    main()

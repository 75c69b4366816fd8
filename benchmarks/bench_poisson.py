"""Poisson stitching: our single solve vs OpenCV seamlessClone per segment, and solvers.

A synthetic 1024 x 1024 photo with 10 Voronoi segments inside a disc (label 0 outside);
each segment image is the photo plus its own colour offset and a low-frequency ramp, so
the ideal stitched result has the photo's own gradients across every seam.

Besides ours vs OpenCV, ``variants`` times the default solver beside the choices it was
tuned against, in the same run: the previous stopping tolerance (2e-5), plain V-cycles
(``coarse_cycles=1``) instead of W-cycles below the finest level, and two smoothing passes
instead of one.

Run: ``.venv/bin/python -m benchmarks.bench_poisson [--size 1024] [--segments 10]``
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator

import cv2
import numpy as np

from benchmarks.common import timed, write_result
from latent_atelier.editors.stitching import poisson
from latent_atelier.editors.stitching.poisson import (
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


@contextlib.contextmanager
def multigrid_options(**options: float) -> Iterator[None]:
    """Temporarily change the multigrid's keyword defaults (coarse_cycles, over, ...)."""
    init = poisson._Multigrid.__init__
    saved = dict(init.__kwdefaults__)
    init.__kwdefaults__.update(options)
    try:
        yield
    finally:
        init.__kwdefaults__.clear()
        init.__kwdefaults__.update(saved)


def _variants(photo, labels, segs, repeat: int) -> list[dict]:
    """The default solver beside the alternatives it was chosen over (same run)."""
    runs = [("default", {}, {}), ("rtol_2e-5", {"rtol": 2e-5}, {}),
            ("v_cycles", {}, {"coarse_cycles": 1}), ("two_sweeps", {}, {"sweeps": 2})]
    out = []
    for name, kwargs, options in runs:
        with multigrid_options(**options):
            result = poisson_stitch(photo, labels, segs, **kwargs)
            entry = {"variant": name, **kwargs, **options,
                     **timed(lambda kw=kwargs: poisson_stitch(photo, labels, segs, **kw),
                             repeat=repeat)}
        entry["residual"] = poisson_residual(result, photo, labels, segs)
        entry["seam_jump"] = seam_gradient_jump(result, labels)
        out.append(entry)
    return out


def first_call_seconds(size: int, segments: int) -> float:
    """One stitch in a fresh interpreter (numba loads its cached machine code)."""
    code = ("import time; from benchmarks.bench_poisson import make_case; "
            "from latent_atelier.editors.stitching.poisson import poisson_stitch; "
            f"case = make_case({size}, {segments}); t = time.perf_counter(); "
            "poisson_stitch(*case); print(time.perf_counter() - t)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    return float(done.stdout.strip().splitlines()[-1])


def _solver_run(method: str, size: int, segments: int) -> dict:
    photo, labels, segs = make_case(size, segments)
    entry: dict = {"method": method, "size": size}
    try:
        t0 = time.perf_counter()
        out = poisson_stitch(photo, labels, segs, method=method)
        entry["seconds"] = time.perf_counter() - t0
        entry["residual"] = poisson_residual(out, photo, labels, segs)
    except Exception as exc:  # a solver that fails is reported, not fatal
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
    figures["target_under_0_5_s"] = figures["ours_auto"]["median_s"] < 0.5
    figures["variants"] = _variants(photo, labels, segs, args.repeat)
    figures["first_call_fresh_process_s"] = first_call_seconds(args.size, args.segments)

    runs = [("multigrid", args.size)]
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

"""Full-resolution matte refinement on a 4000 x 3000 photo: time, peak memory, quality.

A synthetic photo (two smooth textures, a soft elliptical subject with thin hair strands)
comes with its exact alpha. A "generator" alpha is simulated by shrinking the truth to a
``--model-px`` model crop (default 64, the demo model's size) and warping it back.
Variants, each in a fresh process so that its peak resident memory is its own:

- ``band``: the ``matte`` operation's refinement: its trimap rule
  (:func:`latent_atelier.editors.matting.matte.auto_trimap`: colour segmentation seeded by the generator
  alpha, the automatic band around it), the narrow-band tiled closed-form solver,
  foreground estimation, and a full export;
- ``downscaled``: one closed-form solve of the whole photo at 1/``--down`` resolution,
  upsampled (the usual way to make a big photo fit), as the baseline;
- ``full``: pymatting's own whole-image solve (``--full``; needs a lot of memory).

Writes ``benchmarks/results/matting.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def synthetic_photo(h: int = 3000, w: int = 4000, seed: int = 0, model_px: int = 64):
    """(photo, true alpha, simulated generator alpha) at full resolution."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:h, :w].astype(np.float32)
    cy, cx, ry, rx = h * 0.58, w * 0.5, h * 0.36, w * 0.22
    body = ((yy - cy) ** 2 / ry**2 + (xx - cx) ** 2 / rx**2 < 1).astype(np.float32)
    alpha = cv2.GaussianBlur(body, (0, 0), 2.5)
    strands = np.zeros((h, w), np.float32)
    for angle in rng.uniform(np.pi * 1.05, np.pi * 1.95, 120):
        x0, y0 = cx + rx * 0.95 * np.cos(angle), cy + ry * 0.95 * np.sin(angle)
        length = rng.uniform(0.1, 0.35)
        x1, y1 = x0 + length * rx * np.cos(angle), y0 + length * ry * np.sin(angle)
        cv2.line(
            strands,
            (int(x0 * 16), int(y0 * 16)),
            (int(x1 * 16), int(y1 * 16)),
            float(rng.uniform(0.5, 0.9)),
            2,
            cv2.LINE_AA,
            shift=4,
        )
    alpha = np.maximum(alpha, strands)
    fg = np.dstack([0.8 - 0.3 * yy / h, 0.5 + 0.2 * np.sin(xx / 400), 0.35 + 0.1 * xx / w])
    bg = np.dstack([0.2 + 0.3 * xx / w, 0.4 + 0.2 * np.cos(yy / 300), 0.85 - 0.2 * yy / h])
    photo = (alpha[..., None] * fg + (1 - alpha[..., None]) * bg).astype(np.float32)
    del fg, bg, yy, xx
    from latent_atelier.editors.matting.refine import upsample_alpha
    from latent_atelier.editors.placement import Placement

    placement = Placement.centered((h, w), model_px, fit="contain")
    gen_alpha = upsample_alpha(placement.extract(alpha), placement)
    return photo, alpha, gen_alpha, placement


def _warm_up() -> None:
    """Compile pymatting's numba kernels on a tiny problem (not timed)."""
    from latent_atelier.editors.matting.refine import estimate_foreground, make_trimap, refine_alpha

    a = np.zeros((40, 40), np.float32)
    a[:, 20:] = 1
    img = np.dstack([a, 1 - a, a * 0.5]).astype(np.float32)
    refine_alpha(img, make_trimap(a, 3))
    estimate_foreground(img, cv2.GaussianBlur(a, (0, 0), 2))


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _quality(pred: np.ndarray, gt: np.ndarray, region: np.ndarray) -> dict[str, float]:
    from latent_atelier.editors.matting.metrics import mse, sad

    return {"sad_band": sad(pred, gt, region), "mse_band": mse(pred, gt, region), "sad": sad(pred, gt)}


def run_band(band_fraction: float, tile: int, model_px: int) -> dict:
    """The operation's trimap, the narrow-band tiled solver, foreground estimation, export."""
    from latent_atelier.app.document.image_write import export_matte_set
    from latent_atelier.editors.matting.matte import MatteParams, auto_trimap
    from latent_atelier.editors.matting.refine import estimate_foreground, refine_alpha, unknown_region

    photo, gt, gen_alpha, placement = synthetic_photo(model_px=model_px)
    _warm_up()
    rss_before = _peak_rss_mb()
    tracemalloc.start()
    t0 = time.perf_counter()
    trimap, band = auto_trimap(photo, gen_alpha, MatteParams(band_fraction=band_fraction), placement)
    t1 = time.perf_counter()
    alpha = refine_alpha(photo, trimap, tile=tile, fallback=gen_alpha)
    t2 = time.perf_counter()
    fg = estimate_foreground(photo, alpha, tile=tile)
    t3 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        paths = export_matte_set(tmp, alpha=alpha, foreground=fg, trimap=trimap)
        sizes = {p.name: p.stat().st_size for p in paths}
    t4 = time.perf_counter()
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    region = unknown_region(trimap)
    thresholded = (gen_alpha >= 0.5).astype(np.float32)
    return {
        "photo": list(photo.shape[:2]),
        "band_px": band,
        "unknown_px": int(region.sum()),
        "unknown_fraction": float(region.mean()),
        "trimap_s": t1 - t0,
        "refine_s": t2 - t1,
        "foreground_s": t3 - t2,
        "export_s": t4 - t3,
        "total_s": t4 - t0,
        "peak_rss_mb": _peak_rss_mb(),
        "rss_before_mb": rss_before,
        "traced_peak_mb": traced_peak / 2**20,
        "export_bytes": sizes,
        "quality": _quality(alpha, gt, region),
        "quality_generator_alpha": _quality(gen_alpha, gt, region),
        "quality_threshold": _quality(thresholded, gt, region),
    }


def run_downscaled(band_fraction: float, down: int, model_px: int) -> dict:
    """Whole-photo closed-form solve at 1/down resolution (same trimap rule), upsampled back."""
    from pymatting import estimate_alpha_cf

    from latent_atelier.editors.matting.matte import MatteParams, auto_trimap
    from latent_atelier.editors.matting.refine import _quiet_ichol, unknown_region

    photo, gt, gen_alpha, placement = synthetic_photo(model_px=model_px)
    _warm_up()
    h, w = gt.shape
    params = MatteParams(band_fraction=band_fraction)
    full_trimap, band = auto_trimap(photo, gen_alpha, params, placement)
    t0 = time.perf_counter()
    small = cv2.resize(photo, (w // down, h // down), interpolation=cv2.INTER_AREA)
    small_gen = cv2.resize(gen_alpha, (w // down, h // down), interpolation=cv2.INTER_AREA)
    params.band_px = max(1, round(band / down))
    trimap, _ = auto_trimap(small, small_gen, params)
    alpha_small = estimate_alpha_cf(
        small.astype(np.float64),
        trimap.astype(np.float64),
        preconditioner=_quiet_ichol,
        laplacian_kwargs={"epsilon": 1e-7},
    )
    alpha = cv2.resize(alpha_small.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    t1 = time.perf_counter()
    return {
        "down": down,
        "solve_s": t1 - t0,
        "peak_rss_mb": _peak_rss_mb(),
        "quality": _quality(np.clip(alpha, 0, 1), gt, unknown_region(full_trimap)),
    }


def run_full(band_fraction: float, model_px: int) -> dict:
    """pymatting's whole-image solve at full resolution (for comparison; memory hungry)."""
    from pymatting import estimate_alpha_cf

    from latent_atelier.editors.matting.matte import MatteParams, auto_trimap
    from latent_atelier.editors.matting.refine import _quiet_ichol, unknown_region

    photo, gt, gen_alpha, placement = synthetic_photo(model_px=model_px)
    _warm_up()
    trimap, _ = auto_trimap(photo, gen_alpha, MatteParams(band_fraction=band_fraction), placement)
    t0 = time.perf_counter()
    alpha = estimate_alpha_cf(
        photo.astype(np.float64),
        trimap.astype(np.float64),
        preconditioner=_quiet_ichol,
        laplacian_kwargs={"epsilon": 1e-7},
    )
    t1 = time.perf_counter()
    return {
        "solve_s": t1 - t0,
        "peak_rss_mb": _peak_rss_mb(),
        "quality": _quality(alpha.astype(np.float32), gt, unknown_region(trimap)),
    }


def _child(variant: str, args: argparse.Namespace) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--variant",
        variant,
        "--band-fraction",
        str(args.band_fraction),
        "--tile",
        str(args.tile),
        "--down",
        str(args.down),
        "--model-px",
        str(args.model_px),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return {"error": proc.stderr[-2000:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    """Run the variants (each in its own process) and write the JSON result."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--band-fraction", type=float, default=0.006)
    p.add_argument("--tile", type=int, default=512)
    p.add_argument("--down", type=int, default=4)
    p.add_argument(
        "--model-px", type=int, default=64, help="simulated generator resolution (the demo model's: 64)"
    )
    p.add_argument("--full", action="store_true", help="also run the whole-image solve")
    p.add_argument("--variant", choices=("band", "downscaled", "full"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.variant:  # child process: print one JSON line
        fn = {
            "band": lambda: run_band(args.band_fraction, args.tile, args.model_px),
            "downscaled": lambda: run_downscaled(args.band_fraction, args.down, args.model_px),
            "full": lambda: run_full(args.band_fraction, args.model_px),
        }[args.variant]
        print(json.dumps(fn(), default=float))
        return 0
    from benchmarks.common import write_result

    figures = {"band": _child("band", args), "downscaled": _child("downscaled", args)}
    if args.full:
        figures["full"] = _child("full", args)
    band, down = figures["band"], figures["downscaled"]
    if "error" not in band and "error" not in down:
        figures["ratios"] = {
            "band_refine_vs_downscaled_time": band["refine_s"] / down["solve_s"],
            "band_vs_downscaled_sad": band["quality"]["sad_band"] / down["quality"]["sad_band"],
            "band_vs_threshold_sad": band["quality"]["sad_band"] / band["quality_threshold"]["sad_band"],
        }
    write_result("matting", figures)
    print(json.dumps(figures, indent=1, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

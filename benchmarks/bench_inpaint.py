"""Inpainting quality, after Image2StyleGAN++ Table 1: SSIM, MSE, PSNR and LPIPS.

Seven hole types (``latent_atelier.editors.masks.HOLE_TYPES``, up to half the image) on held-out in-domain
images (the synthetic portrait evaluation split, when built) and the sample photos, at the
model resolution. Compared in the same run: OpenCV's Telea and Navier-Stokes inpainting,
our W+ phase alone (no noise phase), and any method variants named with ``--variants``
(see ``VARIANTS``: the paper's settings, Adam, all W+ rows free, more W+ steps, ...). Every
method is scored on its final composite (the photo outside the hole) against the intact
image; MSE is on the 0..255 scale as in the paper.

    python -m benchmarks.bench_inpaint [--model SPEC] [--n-images 8] [--steps 200 300]
        [--sets portraits_eval] [--hole-types left_half bottom_half] [--variants paper adam]
"""

from __future__ import annotations

import argparse
import inspect
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from benchmarks.common import write_result

ROOT = Path(__file__).resolve().parents[1]
EVAL_DATA = ROOT / "data" / "portraits128"
LARGE_HOLES = ("left_half", "bottom_half")
BASE_METHODS = ("ours", "ours_w_only", "telea", "navier_stokes")
#: the paper's Algorithm 4 settings (plain gradient descent on w_m, noise keeps the fill in M_blur+)
PAPER = {
    "optimizer": "gd",
    "lr_w": 0.8,
    "free_rows": "paper",
    "noise_fill_mask": "blend",
    "grow": 0.02,
    "blur": 0.015,
}
_RING = {"noise_fill_mask": "hole"}
_NARROW = {"grow": 0.0, "blur": 0.008}
#: method variants of ``latent_atelier.editors.i2s.inpaint.inpaint``: the paper's settings with some changed
VARIANTS: dict[str, dict] = {
    "paper": PAPER,
    "adam": {**PAPER, "optimizer": "adam", "lr_w": 0.05},
    "all_rows": {**PAPER, "free_rows": "all"},
    "w_steps_x2": {**PAPER, "steps_w_factor": 2},
    "noise_fits_ring": {**PAPER, **_RING},
    "narrow_blend": {**PAPER, **_NARROW},
    "ring_narrow": {**PAPER, **_RING, **_NARROW},
    "ring_w_steps_x2": {**PAPER, **_RING, "steps_w_factor": 2},
    "ring_adam_slow": {**PAPER, **_RING, "optimizer": "adam", "lr_w": 0.01},
    "adam_ring": {**PAPER, **_RING, "optimizer": "adam", "lr_w": 0.05},
    "adam_ring_narrow": {**PAPER, **_RING, **_NARROW, "optimizer": "adam", "lr_w": 0.05},
}


def _load_training_snapshot(folder: Path, device: str):
    """The EMA generator of a training checkpoint folder (``state.json`` + ``g_ema.safetensors``)."""
    import json

    from safetensors.torch import load_file

    state = json.loads((folder / "state.json").read_text())
    arch = state["architecture"]
    if arch["arch"] == "furrygan":
        from latent_atelier.models.furrygan import FurryGAN as cls
    else:
        from latent_atelier.models.stylegan2 import StyleGAN2Generator as cls
    gen = cls.from_architecture(arch)
    gen.load_state_dict(load_file(str(folder / "g_ema.safetensors")))
    note = f"training snapshot {folder} at step {state.get('step')} (not a finished model)"
    return gen.to(device).eval(), note


def _load_model(spec: str | None, device: str):
    from latent_atelier.models.zoo import default_model_path, load_model

    if spec is not None and (Path(spec) / "state.json").is_file():
        return _load_training_snapshot(Path(spec), device)
    if spec is None and default_model_path().exists():
        return load_model(None, device), "demo model " + default_model_path().name
    spec = spec or "random:stylegan2:64:0:64"
    return load_model(spec, device), spec + (
        " (random weights: not a trained model)" if spec.startswith("random:") else ""
    )


def _resize(img: np.ndarray, size: int) -> np.ndarray:
    if img.shape[0] == size and img.shape[1] == size:
        return img.astype(np.float32)
    return cv2.resize(img.astype(np.float32), (size, size), interpolation=cv2.INTER_AREA)


def eval_images(size: int, n_images: int) -> dict[str, list[np.ndarray]]:
    """Held-out portraits (if the dataset is built) and the sample photos, at ``size``."""
    from latent_atelier.editors.placement import Placement

    sets: dict[str, list[np.ndarray]] = {}
    try:
        from latent_atelier.models.training.synthetic.dataset import PortraitDataset

        ds = PortraitDataset(EVAL_DATA, "eval")
        idx = np.linspace(0, len(ds) - 1, n_images).astype(int)
        sets["portraits_eval"] = [_resize(ds[int(i)][0].astype(np.float32) / 255.0, size) for i in idx]
    except (FileNotFoundError, ValueError, OSError) as exc:
        print(f"no portrait evaluation split ({exc}); using the sample photos only")
    from PIL import Image

    samples = []
    for path in sorted((ROOT / "resources" / "samples").glob("*.png"))[:n_images]:
        with Image.open(path) as im:
            photo = np.asarray(im.convert("RGB"), np.float32) / 255.0
        samples.append(Placement.centered(photo.shape[:2], size).extract(photo))
    sets["sample_photos"] = samples
    return sets


def _opencv(photo: np.ndarray, hole: np.ndarray, flag: int) -> np.ndarray:
    img8 = (np.clip(photo, 0, 1) * 255 + 0.5).astype(np.uint8)
    out = cv2.inpaint(img8, (hole > 0.5).astype(np.uint8), 3, flag)
    return out.astype(np.float32) / 255.0


def _scores(img: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    from latent_atelier.models.metrics import psnr, ssim
    from latent_atelier.models.perceptual import lpips

    mse255 = float((((img - truth) * 255.0) ** 2).mean())
    return {
        "ssim": float(ssim(img, truth, data_range=1.0)),
        "mse": mse255,
        "psnr": float(psnr(img, truth, data_range=1.0)),
        "lpips": float(lpips(img, truth)),
    }


def best_of_variants(
    gen, truth: np.ndarray, hole: np.ndarray, steps_w: int, steps_noise: int, seed: int, n: int
) -> dict[str, dict[str, float]]:
    """``n`` fills as one batch: the scores of the fill whose W+ phase fits the known pixels
    best (a choice the operation could make), and of the fill with the best SSIM against the
    truth (an oracle: the most that any way of picking among the fills could gain)."""
    from latent_atelier.editors.i2s.inpaint import InpaintParams, inpaint

    defective = truth * (1.0 - hole[..., None])
    out = inpaint(
        gen, defective, hole, InpaintParams(variants=n, steps_w=steps_w, steps_noise=steps_noise, seed=seed)
    )
    keep = (1.0 - out.blend)[..., None]
    fit = [float((((g - defective) ** 2) * keep).sum()) for g in out.generated_w]
    scores = [_scores(c, truth) for c in out.composites]
    return {
        f"ours_best_fit_of_{n}": scores[int(np.argmin(fit))],
        f"ours_oracle_of_{n}": max(scores, key=lambda r: r["ssim"]),
    }


def run_one(
    gen,
    truth: np.ndarray,
    hole: np.ndarray,
    steps_w: int,
    steps_noise: int,
    seed: int,
    variants: tuple[str, ...] = (),
) -> dict[str, dict[str, float]]:
    """Every method (and each named variant) on one (image, hole) pair; scores of each composite."""
    from latent_atelier.editors.i2s.inpaint import InpaintParams, inpaint

    defective = truth * (1.0 - hole[..., None])
    out = inpaint(
        gen, defective, hole, InpaintParams(variants=1, steps_w=steps_w, steps_noise=steps_noise, seed=seed)
    )
    a = out.blend[..., None]
    w_only = defective * (1.0 - a) + out.generated_w[0] * a
    results = {
        "ours": out.composites[0],
        "ours_w_only": w_only.astype(np.float32),
        "telea": _opencv(defective, hole, cv2.INPAINT_TELEA),
        "navier_stokes": _opencv(defective, hole, cv2.INPAINT_NS),
    }
    for name in variants:
        kw = dict(VARIANTS[name])
        factor = kw.pop("steps_w_factor", 1)
        v = inpaint(
            gen,
            defective,
            hole,
            InpaintParams(variants=1, steps_w=steps_w * factor, steps_noise=steps_noise, seed=seed, **kw),
        )
        results[name] = v.composites[0]
    return {k: _scores(v, truth) for k, v in results.items()}


def _mean(rows: list[dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    """Mean scores of each method that every row has."""
    methods = [m for m in rows[0] if all(m in r for r in rows)]
    return {m: {k: float(np.mean([r[m][k] for r in rows])) for k in rows[0][m]} for m in methods}


def _pairs(images: list[np.ndarray], kinds: list[str], alternate: bool):
    """(image index, image, hole kind, kind index) to evaluate: every pair, or one kind per
    image in turn with ``alternate``."""
    for i, truth in enumerate(images):
        for j, kind in enumerate(kinds):
            if not alternate or j == i % len(kinds):
                yield i, truth, kind, j


def main(argv: list[str] | None = None) -> dict:
    """Run the evaluation and write ``results/bench_inpaint.json``."""
    from latent_atelier.editors.masks import HOLE_TYPES, hole_mask

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument(
        "--model",
        default=None,
        help="model spec or training checkpoint folder (default: the demo model if present)",
    )
    p.add_argument("--device", default="cpu")
    p.add_argument("--n-images", type=int, default=8, help="images per set")
    p.add_argument(
        "--steps",
        type=int,
        nargs=2,
        default=(200, 300),
        metavar=("W", "NOISE"),
        help="W+ (gradient descent) and noise steps (paper: 200 1000)",
    )
    p.add_argument(
        "--sets",
        nargs="+",
        default=None,
        choices=("portraits_eval", "sample_photos"),
        help="image sets to evaluate (default: all there are)",
    )
    p.add_argument("--hole-types", nargs="+", default=list(HOLE_TYPES), choices=HOLE_TYPES)
    p.add_argument(
        "--alternate-holes",
        action="store_true",
        help="one hole type per image, in turn, instead of every type on every image",
    )
    p.add_argument(
        "--variants",
        nargs="*",
        default=[],
        choices=sorted(VARIANTS),
        help="method variants scored in the same run besides our defaults",
    )
    p.add_argument(
        "--best-of",
        type=int,
        default=0,
        metavar="N",
        help="on the large holes, also N fills as one batch: the best-fitting one and "
        "the best by SSIM against the truth (an oracle bound)",
    )
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--name", default="bench_inpaint", help="result file name (results/NAME.json)")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    gen, model_note = _load_model(args.model, args.device)
    size = gen.resolution
    sets = eval_images(size, args.n_images)
    if args.sets:
        sets = {k: v for k, v in sets.items() if k in args.sets}
    from latent_atelier.editors.i2s.inpaint import inpaint

    defaults = {
        k: v.default
        for k, v in inspect.signature(inpaint).parameters.items()
        if v.default is not inspect.Parameter.empty
    }
    figures: dict = {
        "model": model_note,
        "resolution": size,
        "steps_w": args.steps[0],
        "steps_noise": args.steps[1],
        "hole_types": args.hole_types,
        "alternate_holes": args.alternate_holes,
        "mse_scale": "0..255",
        "ours_settings": {k: v for k, v in defaults.items() if k != "progress"},
        "variants": {k: VARIANTS[k] for k in args.variants},
        "sets": {},
    }
    t0 = time.perf_counter()
    for set_name, images in sets.items():
        per_type: dict[str, list] = {k: [] for k in args.hole_types}
        for i, truth, kind, _j in _pairs(images, args.hole_types, args.alternate_holes):
            hole = hole_mask(kind, size, seed=i * 7 + HOLE_TYPES.index(kind))
            row = run_one(gen, truth, hole, *args.steps, seed=i, variants=tuple(args.variants))
            if args.best_of > 1 and kind in LARGE_HOLES:
                row.update(best_of_variants(gen, truth, hole, *args.steps, seed=i, n=args.best_of))
            per_type[kind].append(row)
            shown = {m: (round(v["ssim"], 3), round(v["lpips"], 3)) for m, v in per_type[kind][-1].items()}
            print(f"{set_name} image {i} {kind} (ssim, lpips): {shown}", flush=True)
        per_type = {k: v for k, v in per_type.items() if v}
        all_rows = [r for rows in per_type.values() for r in rows]
        large = [r for k in LARGE_HOLES for r in per_type.get(k, [])]
        figures["sets"][set_name] = {
            "n_images": len(images),
            "n_pairs": len(all_rows),
            "all_holes": _mean(all_rows),
            "per_hole_type": {k: _mean(v) for k, v in per_type.items()},
        }
        if large:
            figures["sets"][set_name]["large_holes"] = _mean(large)
            figures["sets"][set_name]["n_large_pairs"] = len(large)
    figures["best_of"] = args.best_of
    figures["seconds"] = time.perf_counter() - t0
    write_result(args.name, figures, device=args.device)
    return figures


if __name__ == "__main__":
    main()

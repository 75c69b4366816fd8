"""Matting evaluation (issue 4): generator alpha vs full-resolution refinement vs baselines.

One command, also after the model file was replaced (it reuses the inversions that
bench_furrygan_eval or an earlier run of this script saved when they are of the same
checkpoint, by content hash, and start index, at most --n of them; else it inverts the
images itself and saves them to runs/eval/matting_eval_inversions.npz)::

    python -m benchmarks.bench_matting_eval --n 160 --threads 2   # about 15 min on 2 CPU cores
    python -m benchmarks.bench_matting_eval --n 500                # the whole split

Quick development run::

    python -m benchmarks.bench_matting_eval --n 16 --steps-w 30 --steps-noise 20 \\
        --photo-steps-w 30 --photo-steps-noise 20

On the synthetic evaluation split (exact ground-truth alpha) at the dataset's resolution,
five mattes per image are scored with SAD, MSE, gradient and connectivity errors (plain
sums over the whole image, as latent_atelier.editors.matting.metrics defines them) and IoU/mIoU at 0.5:

- ``generator``: the inverted FurryGAN's alpha (coarse + fine), warped up to the photo;
- ``refined``: the ``matte`` operation's refinement of it with its default settings
  (:func:`latent_atelier.editors.matting.matte.auto_trimap`: the edge moved to the colour edge by GrabCut
  seeded with the alpha, an unknown band of the automatic width around it; closed-form
  matting in the unknown pixels, foreground estimation);
- ``refined_alpha_edge`` (ablation): the same without the colour segmentation
  (``colour_edge_px = 0``: the band drawn around the alpha binarised at 0.5);
- ``coarse_threshold`` (baseline): the coarse mask thresholded at 0.5;
- ``oracle_trimap`` (upper bound): closed-form matting from a trimap made by shrinking the
  ground truth's sure regions by the same band.

Then the ``matte`` and ``composite`` operations on the sample photos give the figures
docs/images/matte_<name>.png (photo | generator alpha | refined alpha | foreground over a
checkerboard | composite over a new background; a second row with a user's few fg / bg
strokes, see :func:`photo_figure`).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from benchmarks import eval_common as ec
from benchmarks.common import write_result

METHODS = ("generator", "refined", "refined_alpha_edge", "coarse_threshold", "oracle_trimap")
ERRORS = ("sad", "mse", "gradient", "connectivity")  # lower is better
SCORES = ("iou_fg", "miou")  # higher is better
DEFAULT_PHOTOS = ("astronaut", "chelsea")
SAMPLES = ec.REPO / "resources" / "samples"
NEW_BACKGROUND = SAMPLES / "coffee.png"
OWN_INVERSIONS = ec.REPO / "runs" / "eval" / "matting_eval_inversions.npz"


# ---------------------------------------------------------------- synthetic split
def reusable_inversions(path: Path, key: str, start: int, n: int, size: int) -> ec.Inversions | None:
    """Saved inversions of this checkpoint, start index and size (their first ``n`` or fewer)."""
    if not path.is_file():
        return None
    try:
        inv = ec.Inversions.load(path)
    except (OSError, ValueError, TypeError, KeyError):
        return None
    if not ec.same_checkpoint(inv.model, key) or inv.start != start or inv.alpha.shape[1] != size:
        return None
    n = min(n, len(inv.alpha))
    fields = ("images", "alpha", "coarse", "alpha_w", "psnr_w", "psnr")
    return ec.Inversions(
        **{f: getattr(inv, f)[:n] for f in fields},
        seconds=inv.seconds * n / len(inv.alpha),
        model=inv.model,
        start=start,
    )


def four_mattes(
    photo: np.ndarray,
    gt: np.ndarray,
    alpha: np.ndarray,
    coarse: np.ndarray,
    band_px: float,
    oracle_band_px: float | None,
    unsure: float,
) -> tuple[dict, dict]:
    """The five mattes of :data:`METHODS` for one photo, and the refinement's timings."""
    from latent_atelier.editors.matting.matte import MatteParams, auto_trimap, matte_from_trimap
    from latent_atelier.editors.matting.refine import make_trimap, unknown_region, upsample_alpha
    from latent_atelier.editors.placement import Placement

    d, s = photo.shape[0], alpha.shape[0]
    placement = Placement.from_box(0.0, 0.0, float(d), s, (d, d))
    gen_alpha = upsample_alpha(alpha, placement)
    params = MatteParams(band_px=round(band_px), unsure=unsure)
    t0 = time.perf_counter()
    trimap, band = auto_trimap(photo, gen_alpha, params, placement)
    refined = matte_from_trimap(photo, trimap, fallback=gen_alpha)
    t_refine = time.perf_counter() - t0
    params.colour_edge_px = 0
    plain_trimap, _ = auto_trimap(photo, gen_alpha, params, placement)
    alpha_edge = matte_from_trimap(photo, plain_trimap, fallback=gen_alpha)
    oracle_band = band if oracle_band_px is None else oracle_band_px
    oracle = matte_from_trimap(photo, make_trimap(gt, oracle_band))
    mattes = {
        "generator": gen_alpha,
        "refined": refined.alpha,
        "refined_alpha_edge": alpha_edge.alpha,
        "coarse_threshold": (upsample_alpha(coarse, placement) >= 0.5).astype(np.float32),
        "oracle_trimap": oracle.alpha,
    }
    info = {
        "band_px": band,
        "oracle_band_px": oracle_band,
        "refine_seconds": t_refine,
        "unknown_fraction": float(unknown_region(trimap).mean()),
        "has_sure_fg": bool((trimap >= 1).any()),
        "has_sure_bg": bool((trimap <= 0).any()),
    }
    return mattes, info


def _improved(key: str, refined: float, generator: float) -> bool:
    """Whether ``refined`` beats ``generator`` on this error (lower) or score (higher)."""
    return refined > generator if key in SCORES else refined < generator


def evaluate_split(
    samples: ec.EvalSamples,
    inv: ec.Inversions,
    band_px: float,
    oracle_band_px: float | None,
    deadline: float | None = None,
    unsure: float | None = None,
) -> dict:
    """Mean errors and scores per method, and whether refinement beat the generator alpha.

    With a ``deadline`` (``time.perf_counter()`` seconds) it stops early; ``n`` says how
    many images were scored.
    """
    from latent_atelier.editors.matting.matte import MatteParams
    from latent_atelier.editors.matting.metrics import matting_errors

    unsure = MatteParams().unsure if unsure is None else unsure
    rows: dict[str, list[dict]] = {m: [] for m in METHODS}
    infos = []
    for i in range(len(inv.alpha)):
        if infos and deadline is not None and time.perf_counter() > deadline:
            print(f"  time limit reached: {i} of {len(inv.alpha)} images scored", flush=True)
            break
        mattes, info = four_mattes(
            samples.images_full[i],
            samples.alpha_full[i],
            inv.alpha[i],
            inv.coarse[i],
            band_px,
            oracle_band_px,
            unsure,
        )
        infos.append(info)
        for m in METHODS:
            rows[m].append(matting_errors(mattes[m], samples.alpha_full[i]))
    means = {m: ec.mean_scores(r) for m, r in rows.items()}
    better = {
        k: float(np.mean([_improved(k, r[k], g[k]) for r, g in zip(rows["refined"], rows["generator"])]))
        for k in ERRORS + SCORES
    }
    improves = {k: _improved(k, means["refined"][k], means["generator"][k]) for k in ERRORS + SCORES}
    return {
        "n": len(infos),
        "unsure": unsure,
        "methods": means,
        "refinement_improves_mean": improves,
        "refinement_improves_every_error": all(improves.values()),
        "fraction_of_images_improved": better,
        "band_px": float(np.mean([i["band_px"] for i in infos])),
        "oracle_band_px": float(np.mean([i["oracle_band_px"] for i in infos])),
        "trimap_unknown_fraction_mean": float(np.mean([i["unknown_fraction"] for i in infos])),
        "images_without_sure_fg": int(sum(not i["has_sure_fg"] for i in infos)),
        "images_without_sure_bg": int(sum(not i["has_sure_bg"] for i in infos)),
        "refine_seconds_per_image": float(np.mean([i["refine_seconds"] for i in infos])),
    }


# ---------------------------------------------------------------- sample photos
def checkerboard(shape: tuple[int, int], square: int = 16) -> np.ndarray:
    """A light grey checkerboard ``H x W x 3`` (what transparency looks like in editors)."""
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    cells = ((yy // square + xx // square) % 2).astype(np.float32)
    return np.repeat((0.75 + 0.2 * cells)[..., None], 3, axis=2)


def _panel(img: np.ndarray, height: int) -> np.ndarray:
    img = img if img.ndim == 3 else np.repeat(img[..., None], 3, axis=2)
    w = max(1, round(img.shape[1] * height / img.shape[0]))
    return cv2.resize(
        np.ascontiguousarray(img[..., :3], np.float32), (w, height), interpolation=cv2.INTER_AREA
    )


def _with_strokes(photo: np.ndarray, fg: np.ndarray, bg: np.ndarray) -> np.ndarray:
    """The photo with the fg strokes in green and the bg strokes in red."""
    out = np.array(photo[..., :3], np.float32, copy=True)
    out[fg > 0.5] = (0.1, 0.9, 0.2)
    out[bg > 0.5] = (0.95, 0.1, 0.1)
    return out


def photo_figure(gen, name: str, steps_w: int, steps_noise: int, folder: Path, height: int = 256) -> dict:
    """Run ``matte`` then ``composite`` on a sample photo and write its figure.

    Row 1, automatic: photo | generator alpha | refined alpha | foreground over a
    checkerboard | composite over a new background. Row 2, with a user's few strokes
    (:mod:`benchmarks.sample_strokes`): photo with strokes | trimap | alpha | foreground |
    composite. The strokes only change the trimap and the solve, not the embedding, so row 2
    reuses row 1's generator alpha with the operation's own rule (``auto_trimap`` then
    ``matte_from_trimap`` with the painted masks): what ``matte`` gives with those masks.
    """
    from benchmarks.sample_strokes import STROKES, stroke_masks
    from latent_atelier.app.document.image_read import read_image
    from latent_atelier.app.document.image_write import write_image
    from latent_atelier.editors.matting.composite import blend
    from latent_atelier.editors.matting.matte import auto_trimap, matte_from_trimap
    from latent_atelier.editors.operation import Progress
    from latent_atelier.editors.registry import get_operation

    photo = read_image(SAMPLES / f"{name}.png").pixels[..., :3]
    matte = get_operation("matte")
    params = matte.default_params()
    params.steps_w, params.steps_noise = steps_w, steps_noise
    t0 = time.perf_counter()
    res = matte.run(gen, {"photo": photo}, params, Progress())
    t_matte = time.perf_counter() - t0
    gen_alpha = res.outputs["generator_alpha"]
    comp_op = get_operation("composite")
    background = read_image(NEW_BACKGROUND).pixels[..., :3]

    def row(first: np.ndarray, second: np.ndarray, alpha: np.ndarray, fg: np.ndarray) -> np.ndarray:
        comp = comp_op.run(
            gen, {"foreground": fg, "background": background}, comp_op.default_params(), Progress()
        ).outputs["composite"]
        over_checker = blend(fg[..., :3], alpha, checkerboard(alpha.shape), linear_light=False)
        return np.concatenate([_panel(p, height) for p in (first, second, alpha, over_checker, comp)], axis=1)

    rows = [row(photo, gen_alpha, res.outputs["alpha"], res.outputs["foreground"])]
    info: dict = {
        "photo_shape": list(photo.shape[:2]),
        "matte_seconds": t_matte,
        "alpha_area": float((res.outputs["alpha"] >= 0.5).mean()),
        "generator_alpha_area": float((gen_alpha >= 0.5).mean()),
        **{k: float(v) for k, v in (res.metrics or {}).items()},
    }
    if name in STROKES:
        fg_mask, bg_mask = stroke_masks(name, photo.shape)
        t0 = time.perf_counter()
        trimap, _ = auto_trimap(photo, gen_alpha, params, None, fg_mask, bg_mask)
        painted = matte_from_trimap(photo, trimap, fg_mask=fg_mask, bg_mask=bg_mask, fallback=gen_alpha)
        info["strokes"] = {
            "n": sum(len(v) for v in STROKES[name].values()),
            "refine_seconds": time.perf_counter() - t0,
            "alpha_area": float((painted.alpha >= 0.5).mean()),
        }
        rows.append(
            row(_with_strokes(photo, fg_mask, bg_mask), painted.trimap, painted.alpha, painted.foreground)
        )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"matte_{name}.png"
    write_image(path, np.concatenate(rows, axis=0))
    return {"file": str(path), **info}


# ---------------------------------------------------------------- main
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options (see the module docstring)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument(
        "--model",
        default=None,
        help="checkpoint or random:furrygan:SIZE[:SEED[:WIDTH]] (default: demo model, "
        "else the newest runs/*/generator_ema*.safetensors)",
    )
    p.add_argument("--data", default=str(ec.DEFAULT_DATA), help="portrait dataset folder")
    p.add_argument("--n", type=int, default=500, help="held-out images (default 500)")
    p.add_argument("--start", type=int, default=0, help="first held-out index")
    p.add_argument(
        "--inversions",
        default=str(ec.REPO / "runs" / "eval" / "furrygan_eval_inversions.npz"),
        help="reuse bench_furrygan_eval's saved inversions when they are of this "
        "model and start (up to --n of them; '' = never)",
    )
    p.add_argument(
        "--save-inversions",
        default=str(OWN_INVERSIONS),
        help="where inversions made here are saved, and reused from by a later run of "
        "the same model and start ('' = neither)",
    )
    p.add_argument("--steps-w", type=int, default=100, help="W+ steps when inverting here")
    p.add_argument("--steps-noise", type=int, default=50, help="noise steps when inverting here")
    p.add_argument("--lr-w", type=float, default=0.03, help="Adam learning rate of W+")
    p.add_argument("--lr-noise", type=float, default=0.5, help="Adam learning rate of the noise")
    p.add_argument("--batch", type=int, default=8, help="images optimised together")
    p.add_argument(
        "--alpha-after",
        choices=("noise", "w"),
        default="noise",
        help="generator alpha after the noise phase (default) or after W+ alone",
    )
    p.add_argument(
        "--band-px",
        type=float,
        default=0.0,
        help="unknown band half-width in dataset pixels (0 = the matte op's auto band)",
    )
    p.add_argument(
        "--unsure",
        type=float,
        default=None,
        help="generator alpha in (unsure, 1 - unsure) is unknown in the trimap "
        "(default: the matte op's default; 0 = the band alone)",
    )
    p.add_argument(
        "--oracle-band-px",
        type=float,
        default=None,
        help="band of the oracle trimap (default: the same as --band-px's)",
    )
    p.add_argument(
        "--photos",
        nargs="*",
        default=list(DEFAULT_PHOTOS),
        help="sample photos (resources/samples/<name>.png) for figures",
    )
    p.add_argument("--photo-steps-w", type=int, default=150, help="matte op W+ steps (photos)")
    p.add_argument("--photo-steps-noise", type=int, default=100, help="matte op noise steps")
    p.add_argument(
        "--figures", default=str(ec.REPO / "docs" / "images"), help="figure folder ('' = no photo figures)"
    )
    p.add_argument("--name", default="matting_eval", help="result name (results/<name>.json)")
    p.add_argument(
        "--max-minutes",
        type=float,
        default=0.0,
        help="stop inverting new images after this many minutes (0 = no limit); "
        "every inverted image is scored and the photo figures still run",
    )
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    """Run the evaluation and write ``results/<name>.json``; returns its figures."""
    args = parse_args(argv)
    torch.set_num_threads(max(1, args.threads))
    cv2.setNumThreads(max(1, args.threads))
    spec = ec.resolve_model_spec(args.model)
    print(f"model: {spec}", flush=True)
    gen, ident = ec.load_furrygan(spec, args.device)
    samples = ec.load_eval_samples(args.data, args.n, gen.resolution, "eval", args.start)
    key = ec.checkpoint_key(ident)
    inv, reused_from = None, None
    for candidate in (args.inversions, args.save_inversions):
        if candidate and inv is None:
            inv = reusable_inversions(Path(candidate), key, args.start, args.n, gen.resolution)
            reused_from = candidate if inv is not None else None
    reused = inv is not None
    if inv is not None:
        samples = ec.take(samples, len(inv.alpha))
    settings = ec.InversionSettings(args.steps_w, args.steps_noise, args.lr_w, args.lr_noise)
    deadline = ec.deadline_after(args.max_minutes)
    if inv is None:
        inv = ec.invert_all(gen, samples.images, settings, args.batch, deadline=deadline)
        inv.model, inv.start = key, args.start
        if args.save_inversions:
            Path(args.save_inversions).parent.mkdir(parents=True, exist_ok=True)
            inv.save(args.save_inversions)
    if args.alpha_after == "w":
        inv.alpha = inv.alpha_w
    t0 = time.perf_counter()
    split = evaluate_split(samples, inv, args.band_px, args.oracle_band_px, None, args.unsure)
    figures: dict = {
        "checkpoint": ident,
        "model_resolution": gen.resolution,
        "data": {
            "folder": args.data,
            "split": "eval",
            "start": args.start,
            "n": split["n"],
            "n_requested": args.n,
            "dataset_resolution": int(samples.images_full.shape[1]),
        },
        "inversion": {
            "reused_from": reused_from,
            **({} if reused else {**vars(settings), "batch": args.batch}),
            "seconds": inv.seconds,
            "psnr_db_mean": float(inv.psnr.mean()),
            "alpha_after": args.alpha_after,
        },
        "errors_are": "sums over the whole image at dataset resolution (MSE: mean), "
        "averaged over images; IoU etc. at threshold 0.5",
        "synthetic_split": split,
        "evaluate_seconds": time.perf_counter() - t0,
    }
    photos = {}
    for name in args.photos if args.figures else []:
        try:
            photos[name] = photo_figure(
                gen, name, args.photo_steps_w, args.photo_steps_noise, Path(args.figures)
            )
        except Exception as exc:  # report a failing operation, keep the split's numbers
            photos[name] = {"error": f"{type(exc).__name__}: {exc}"}
        print(f"  photo {name}: {photos[name]}", flush=True)
    figures["sample_photos"] = photos
    write_result(args.name, figures, device=str(gen.device))
    for m, row in split["methods"].items():
        print(
            f"{m:21s} SAD {row['sad']:8.2f}  MSE {row['mse']:.5f}  grad {row['gradient']:8.2f}  "
            f"conn {row['connectivity']:8.2f}  IoU {row['iou_fg']:.3f}  mIoU {row['miou']:.3f}"
        )
    print(f"refinement improves every error: {split['refinement_improves_every_error']}")
    return figures


if __name__ == "__main__":
    main()

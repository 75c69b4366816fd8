"""FurryGAN demo model evaluation (issue 3): alpha of inverted held-out images, Frechet distance.

Full run (all 500 held-out images, 50 optimised together; resumable: an interrupted run
continues from ``--partial`` when started again with the same model and settings)::

    python -m benchmarks.bench_furrygan_eval --n 500 --steps-w 60 --steps-noise 30 --batch 50

Quick development run (a minute or two)::

    python -m benchmarks.bench_furrygan_eval --n 16 --steps-w 30 --steps-noise 20 --fd-n 64

Each held-out image (resized to the model resolution) is inverted as in the paper's Sec. 4.6:
W+ from the mean latent (perceptual + MSE, the embedding engine's ``W_l``), then the noise
maps (``Mk_n``), several images per optimisation. The generator's alpha is scored at
threshold 0.5 against the exact ground-truth alpha: fg/bg IoU, mIoU, precision, recall, F1,
accuracy (mean over images, and pooled over all pixels), after W+ alone and after the noise
phase, for the coarse mask alone, and for the starting point's alpha (mean latent: what the
scores are without any inversion); where the alpha misses the person and whether the
reconstruction draws it there (``benchmarks.mask_limits``). Also: PSNR and LPIPS of the
inversions; a Frechet distance between ``--fd-n`` generated samples (truncation 1) and as
many held-out images on global-average-pooled VGG-16 conv5_3 features (with the
train-vs-held-out distance as the floor of that scale); the training speed when the run
folder's logs record it; figures in docs/images: demo_samples.png, demo_alpha.png,
demo_inversions.png (held-out image | reconstruction | ground-truth alpha | generator
alpha). The inversions are saved (runs/eval/*.npz) for bench_matting_eval.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks import eval_common as ec
from benchmarks.common import write_result
from benchmarks.mask_limits import mask_limits, parser_person

GOAL = {"iou_fg": 0.93, "miou": 0.88}  # the paper's FFHQ figures (issue 3)
DEFAULT_FIGURES = ec.REPO / "docs" / "images"
EVAL_RUNS = ec.REPO / "runs" / "eval"


def _speed_values(node, out: list[float]) -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            key = k.lower()
            if isinstance(v, int | float) and "per_s" in key and ("img" in key or "image" in key):
                out.append(float(v))
            else:
                _speed_values(v, out)
    elif isinstance(node, list):
        for v in node:
            _speed_values(v, out)


_RATE = re.compile(r"(\d+(?:\.\d+)?)(s/it|it/s)")


def _speed_from_json(run_dir: Path) -> dict | None:
    patterns = ("*.json", "*.jsonl", "*/*.json")
    for path in sorted(p for pattern in patterns for p in run_dir.glob(pattern)):
        text = path.read_text(errors="replace")
        values: list[float] = []
        for chunk in text.splitlines() if path.suffix == ".jsonl" else [text]:
            try:
                _speed_values(json.loads(chunk), values)
            except ValueError:
                continue
        if values:
            return {"source": str(path), "images_per_s": float(np.median(values)), "records": len(values)}
    return None


def _speed_from_progress_log(run_dir: Path) -> dict | None:
    """Median iteration rate of the last 200 progress-bar updates times the batch size."""
    config = run_dir / "config.json"
    logs = [*sorted(run_dir.glob("*.log")), run_dir.with_suffix(".log")]
    logs = [p for p in logs if p.is_file()]
    if not logs or not config.is_file():
        return None
    batch = int(json.loads(config.read_text()).get("batch", 0))
    rates = [
        float(v) if unit == "it/s" else 1.0 / float(v)
        for v, unit in _RATE.findall(logs[-1].read_text(errors="replace"))[-200:]
        if float(v) > 0
    ]
    if not rates or batch < 1:
        return None
    it_s = float(np.median(rates))
    return {
        "source": str(logs[-1]),
        "iterations_per_s": it_s,
        "batch": batch,
        "images_per_s": it_s * batch,
        "records": len(rates),
    }


def training_speed(run_dir: Path | None) -> dict | None:
    """Training images/s from a run folder: JSON logs with an images-per-second field, else
    the progress-bar log (``runs/<run>.log`` or ``<run>/*.log``) times the batch; or None."""
    if run_dir is None or not run_dir.is_dir():
        return None
    return _speed_from_json(run_dir) or _speed_from_progress_log(run_dir)


def _run_dir_of(spec: str, given: str | None) -> Path | None:
    if given:
        return Path(given)
    p = Path(spec).resolve()
    for folder in (p.parent, p.parent.parent):
        if folder.parent.name == "runs":
            return folder
    return None


# ---------------------------------------------------------------- figures
def write_figures(gen, samples: ec.EvalSamples, inv: ec.Inversions, folder: Path) -> list[str]:
    """Sample grid, alpha grid (16 seeds, truncation 0.7) and an inversion figure."""
    from latent_atelier.app.cli_commands import image_grid
    from latent_atelier.app.document.image_write import write_image, write_matte

    folder.mkdir(parents=True, exist_ok=True)
    images, alphas = ec.generated_samples(gen, 16, seed=0, truncation=0.7)
    up = [ec.upscale_nearest(i, 128) for i in images]
    write_image(folder / "demo_samples.png", image_grid(up, 4))
    a_up = [ec.upscale_nearest(a[..., None], 128) for a in alphas]
    write_matte(folder / "demo_alpha.png", image_grid(a_up, 4)[..., 0], bit_depth=8)
    rows = []
    for i in range(min(6, len(inv.alpha))):
        cells = [samples.images[i], inv.images[i], samples.alpha[i], inv.alpha[i]]
        cells = [c if c.ndim == 3 else np.repeat(c[..., None], 3, axis=2) for c in cells]
        rows.extend(ec.upscale_nearest(c, 128) for c in cells)
    write_image(folder / "demo_inversions.png", image_grid(rows, 4))
    return [str(folder / n) for n in ("demo_samples.png", "demo_alpha.png", "demo_inversions.png")]


def write_card_grid(gen, path: Path, seed: int = 0, truncation: float = 0.7) -> Path:
    """The model card's figure: 16 samples (4 x 4, 128 px cells) beside their alpha."""
    from latent_atelier.app.cli_commands import image_grid
    from latent_atelier.app.document.image_write import write_image

    images, alphas = ec.generated_samples(gen, 16, seed=seed, truncation=truncation)
    left = image_grid([ec.upscale_nearest(i, 128) for i in images], 4)
    right = image_grid([ec.upscale_nearest(np.repeat(a[..., None], 3, axis=2), 128) for a in alphas], 4)
    gap = np.ones((left.shape[0], 16, 3), np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_image(path, np.concatenate([left, gap, right], axis=1))
    return path


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
    p.add_argument("--n", type=int, default=500, help="held-out images to invert (default 500)")
    p.add_argument("--start", type=int, default=0, help="first held-out index")
    p.add_argument("--steps-w", type=int, default=100, help="W+ steps per image")
    p.add_argument("--steps-noise", type=int, default=50, help="noise-map steps per image")
    p.add_argument("--lr-w", type=float, default=0.03, help="Adam learning rate of W+")
    p.add_argument("--lr-noise", type=float, default=0.5, help="Adam learning rate of the noise")
    p.add_argument(
        "--free-mask-noise",
        action="store_true",
        help="let the noise phase change the mask heads' noise inputs too",
    )
    p.add_argument(
        "--batch",
        type=int,
        default=50,
        help="images optimised together (per-image losses and Adam: same result as one by one)",
    )
    p.add_argument(
        "--partial",
        default=None,
        help="npz of the inversions so far, resumed from (default: beside --save-inversions)",
    )
    p.add_argument("--fd-n", type=int, default=None, help="images per Frechet set (default --n)")
    p.add_argument(
        "--no-fd-reference", action="store_true", help="skip the train-vs-held-out reference distance"
    )
    p.add_argument("--run-dir", default=None, help="training run folder with speed logs")
    p.add_argument("--figures", default=str(DEFAULT_FIGURES), help="figure folder ('' = none)")
    p.add_argument("--card-grid", default="", help="also write the model card's sample grid here")
    p.add_argument(
        "--save-inversions",
        default=None,
        help="npz for bench_matting_eval and bench_mask_limits (default runs/eval/<name>_inversions.npz, "
        "so evaluations under different --name keep their own; '' = do not save)",
    )
    p.add_argument("--name", default="furrygan_eval", help="result name (results/<name>.json)")
    p.add_argument(
        "--max-minutes",
        type=float,
        default=0.0,
        help="start no inversion batch after this many minutes (0 = no limit)",
    )
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    args = p.parse_args(argv)
    if args.save_inversions is None:
        args.save_inversions = str(EVAL_RUNS / f"{args.name}_inversions.npz")
    return args


def starting_point_alpha(gen, seed: int = 0) -> np.ndarray:
    """The alpha of the inversion's starting latent (mean W+, seeded noise): ``(S, S)``."""
    from latent_atelier.editors.inversion.embed import initial_latent

    with torch.no_grad():
        syn = gen.synthesize(initial_latent(gen, "mean", seed), return_alpha=True)
    return syn.alpha[0, 0].cpu().numpy().astype(np.float32)


def frechet_figures(gen, data: str, n: int, reference: bool) -> dict:
    """Frechet distances on VGG-16 conv5_3 pooled features, ``n`` images per set."""
    from latent_atelier.models.training.synthetic import PortraitDataset

    t0 = time.perf_counter()
    n_eval = min(n, len(PortraitDataset(data, "eval")))
    held = ec.load_eval_samples(data, n_eval, gen.resolution, "eval").images
    fake, _ = ec.generated_samples(gen, n_eval, seed=10_000, truncation=1.0)
    dev = gen.device
    f_held, f_fake = ec.vgg_features(held, device=dev), ec.vgg_features(fake, device=dev)
    out = {
        "layer": ec.FD_LAYER,
        "n": n_eval,
        "resolution": gen.resolution,
        "generated_vs_heldout": ec.frechet_distance(f_fake, f_held),
    }
    if reference:
        train = ec.load_eval_samples(data, n_eval, gen.resolution, "train").images
        f_train = ec.vgg_features(train, device=dev)
        out["train_vs_heldout_reference"] = ec.frechet_distance(f_train, f_held)
    out["seconds"] = time.perf_counter() - t0
    return out


def invert_resumable(
    gen, images: np.ndarray, settings, batch: int, partial: Path, key: str, deadline: float | None
) -> ec.Inversions:
    """:func:`eval_common.invert_batch` over ``images`` in batches, saving the inversions done
    so far to ``partial`` after each batch; a later call with the same ``key`` (the same
    weights, however the path is spelt, and settings) continues after them."""
    parts: list[ec.Inversions] = []
    if partial.is_file():
        done = ec.Inversions.load(partial)
        if ec.same_run_key(done.model, key):
            n = min(len(done.alpha), len(images))
            fields = ("images", "alpha", "coarse", "alpha_w", "psnr_w", "psnr")
            parts.append(
                ec.Inversions(
                    **{f: getattr(done, f)[:n] for f in fields},
                    seconds=done.seconds * n / max(len(done.alpha), 1),
                    model=key,
                )
            )
            print(f"  resuming after {n} inverted images ({partial})", flush=True)
    lo = len(parts[0].alpha) if parts else 0
    fields = ("images", "alpha", "coarse", "alpha_w", "psnr_w", "psnr")
    while lo < len(images):
        if parts and deadline is not None and time.perf_counter() > deadline:
            print(f"  time limit reached: {lo} of {len(images)} images inverted", flush=True)
            break
        part = ec.invert_batch(gen, images[lo : lo + batch], settings)
        parts.append(part)
        lo += len(part.alpha)
        joined = ec.Inversions(
            **{f: np.concatenate([getattr(q, f) for q in parts]) for f in fields},
            seconds=sum(q.seconds for q in parts),
            model=key,
        )
        parts = [joined]
        partial.parent.mkdir(parents=True, exist_ok=True)
        tmp = partial.with_name(partial.stem + ".tmp.npz")
        joined.save(tmp)
        os.replace(tmp, partial)  # a reader never sees half a file
        print(
            f"  inverted {lo}/{len(images)}  {part.seconds:.1f}s  PSNR {part.psnr.mean():.2f} dB", flush=True
        )
    return parts[0]


def _default_partial(args: argparse.Namespace) -> Path:
    """Beside ``--save-inversions`` (``<stem>_partial.npz``), else under runs/eval/."""
    if args.save_inversions:
        saved = Path(args.save_inversions)
        return saved.with_name(saved.stem + "_partial.npz")
    return EVAL_RUNS / f"{args.name}_partial.npz"


def inversion_lpips(inv: ec.Inversions, targets: np.ndarray, device, batch: int = 50) -> np.ndarray:
    """LPIPS (VGG) per image between the reconstructions and the held-out images."""
    from latent_atelier.models.perceptual import get_lpips

    metric = get_lpips(device)
    out = []
    with torch.no_grad():
        for lo in range(0, len(targets), batch):
            a = torch.as_tensor(inv.images[lo : lo + batch]).permute(0, 3, 1, 2).to(device) * 2 - 1
            b = torch.as_tensor(targets[lo : lo + batch]).permute(0, 3, 1, 2).to(device) * 2 - 1
            out.append(metric(a.float(), b.float()).cpu().numpy())
    return np.concatenate(out)


def generated_mask_figures(gen, n: int, data: str) -> dict:
    """The paper's view of mask quality (its Table 2 reads pseudo ground truth from generated
    images): the alpha of ``n`` samples against the person the bundled face parser reads in
    them, and how well that parser reads the person on held-out portraits (true alpha)."""
    from latent_atelier.models.training.mask_probe import MaskProbe

    probe = MaskProbe(n)
    figures: dict = probe.measure(gen)
    figures["n_samples"] = n
    figures["parser_person_iou_on_heldout"] = probe.person_iou_on_heldout(data)
    return figures


def main(argv: list[str] | None = None) -> dict:
    """Run the evaluation and write ``results/<name>.json``; returns its figures."""
    args = parse_args(argv)
    torch.set_num_threads(max(1, args.threads))
    spec = ec.resolve_model_spec(args.model)
    print(f"model: {spec}", flush=True)
    gen, ident = ec.load_furrygan(spec, args.device)
    size = gen.resolution
    samples = ec.load_eval_samples(args.data, args.n, size, "eval", args.start)
    settings = ec.InversionSettings(
        args.steps_w, args.steps_noise, args.lr_w, args.lr_noise, free_mask_noise=args.free_mask_noise
    )
    deadline = ec.deadline_after(args.max_minutes)
    key = f"{ec.checkpoint_key(ident)}|{sorted(vars(settings).items())}|{args.data}|{args.start}"
    partial = Path(args.partial) if args.partial else _default_partial(args)
    inv = invert_resumable(gen, samples.images, settings, args.batch, partial, key, deadline)
    samples = ec.take(samples, len(inv.alpha))
    inv.model, inv.start = ec.checkpoint_key(ident), args.start
    lp = inversion_lpips(inv, samples.images, gen.device)
    if args.save_inversions:
        Path(args.save_inversions).parent.mkdir(parents=True, exist_ok=True)
        inv.save(args.save_inversions)
    final = ec.segmentation_table(inv.alpha, samples.alpha)
    figures: dict = {
        "checkpoint": ident,
        "architecture": gen.architecture(),
        "resolution": size,
        "data": {
            "folder": args.data,
            "split": "eval",
            "start": args.start,
            "n": len(inv.alpha),
            "n_requested": args.n,
            "dataset_resolution": int(samples.images_full.shape[1]),
        },
        "inversion": {
            **vars(settings),
            "batch": args.batch,
            "seconds": inv.seconds,
            "seconds_per_image": inv.seconds / len(inv.alpha),
        },
        "threshold": 0.5,
        "segmentation": final,
        "segmentation_after_w_only": ec.segmentation_table(inv.alpha_w, samples.alpha),
        "segmentation_coarse_mask": ec.segmentation_table(inv.coarse, samples.alpha),
        "segmentation_of_inverted_alpha_diagnostic": ec.segmentation_table(
            1.0 - inv.alpha, samples.alpha
        ),  # high when the model swapped fg and bg
        "segmentation_starting_point_baseline": ec.segmentation_table(
            np.broadcast_to(starting_point_alpha(gen), samples.alpha.shape), samples.alpha
        ),
        "goal": GOAL,
        "meets_goal": all(final["mean_over_images"][k] >= v for k, v in GOAL.items()),
        "psnr_db": {
            "after_w_mean": float(inv.psnr_w.mean()),
            "mean": float(inv.psnr.mean()),
            "min": float(inv.psnr.min()),
            "max": float(inv.psnr.max()),
        },
        "lpips_vgg": {"mean": float(lp.mean()), "min": float(lp.min()), "max": float(lp.max())},
        "alpha_area": {
            "inverted_mean": float((inv.alpha >= 0.5).mean()),
            "ground_truth_mean": float((samples.alpha >= 0.5).mean()),
        },
    }
    fd = frechet_figures(gen, args.data, args.fd_n or args.n, not args.no_fd_reference)
    if "train_vs_heldout_reference" in fd:
        fd["over_floor"] = fd["generated_vs_heldout"] / fd["train_vs_heldout_reference"]
        fd["goal_at_most_2x_floor_met"] = fd["over_floor"] <= 2.0
    figures["frechet_vgg16"] = fd
    figures["generated_masks_vs_parser"] = generated_mask_figures(gen, args.fd_n or args.n, args.data)
    figures["what_limits_the_mask"] = mask_limits(
        inv.alpha, inv.images, samples.alpha, parser_person(), samples.images
    )
    figures["training_speed"] = training_speed(_run_dir_of(spec, args.run_dir))
    if args.figures:
        figures["figure_files"] = write_figures(gen, samples, inv, Path(args.figures))
    if args.card_grid:
        figures["card_grid"] = str(write_card_grid(gen, Path(args.card_grid)))
    write_result(args.name, figures, device=str(gen.device))
    m = final["mean_over_images"]
    print(
        f"fg IoU {m['iou_fg']:.3f}  bg IoU {m['iou_bg']:.3f}  mIoU {m['miou']:.3f}  "
        f"F1 {m['f1']:.3f}  acc {m['accuracy']:.3f}  PSNR {inv.psnr.mean():.2f} dB  "
        f"LPIPS {lp.mean():.3f}  FD {figures['frechet_vgg16']['generated_vs_heldout']:.2f}  "
        f"samples' fg IoU vs the parser {figures['generated_masks_vs_parser']['mask_fg_iou_parser']:.3f}",
        flush=True,
    )
    return figures


if __name__ == "__main__":
    main()

"""Training throughput of the new CPU recipe against the old one, measured in the same run,
and a paired bf16-vs-float32 quality check at equal images shown.

Recipes (FurryGAN, same model size: 64 px, widths 64, style 256, batch 8 by default):

- ``old``: today's demo-model recipe: 1 thread, float32, images read and resized one by one,
  modulated convolutions as one grouped convolution;
- ``new``: bf16 autocast with fp32 master weights where the CPU runs bf16 natively, ``--threads``
  threads, the uint8 memory-mapped image cache, input-scaled modulated convolutions;
- ``new_fp32``, ``new_1thread`` and ``new_grouped``: the new recipe less one of its parts
  (what each part gives);
- ``new_batch16``: the new recipe at the paper's batch of 16 (the same model; more images
  per step, fewer updates per image);
- ``new_batch16_compiled``: that with the G and D passes through ``torch.compile`` (R1 steps
  eager), the campaign's recipe from 2026-12-06 on; its compile (minutes) is done in the
  warm-up and reported apart.

Steps of the recipes are interleaved (old, new, ..., old, new, ...) so a change in the
machine's load hits all of them alike; each figure is the median of ``--steps`` plain steps,
with one lazy-R1 step amortised over its interval (16); plain steps alternate between
odd iterations and even ones (which add the mask-consistency and background terms).
``ratio_vs_old`` is images/s over the old recipe's.

The quality check (``--quality-iters`` > 0) trains copies of a start generator (default: the
bundled demo model; fresh discriminators, same seed, 1 thread) for the same number of
iterations under each of ``--quality-arms`` (``QUALITY_ARMS``: the old recipe's float32 with
grouped convolutions, bf16, the compiled bf16 recipe, and the old one with another seed for
the spread that chance alone gives), then compares the VGG-16 Frechet
distance of their EMA samples to held-out portraits and their mask areas with the old arm's.
``--recipes`` with no names skips the throughput part.

    python -m benchmarks.bench_training [--steps 5] [--threads 2] [--quality-iters 100]
    python -m benchmarks.bench_training --recipes --quality-iters 250 --name bench_training_quality

This module imports torch before ``latent_atelier.models``, so its threads wait the way
``OMP_WAIT_POLICY`` in the environment says (recorded in the results); the app and the CLI
default to passive waiting. Run it with ``OMP_WAIT_POLICY=ACTIVE`` and ``=PASSIVE`` to see both.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks.common import repo_relative, write_result

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO / "data" / "portraits128"
DEMO_MODEL = REPO / "resources" / "models" / "furrygan-demo.safetensors"
RECIPES = {
    "old": {"threads": 1, "precision": "float32", "data_cache": False, "modconv": "grouped"},
    "new": {"threads": None, "precision": "auto", "data_cache": True},
    "new_fp32": {"threads": None, "precision": "float32", "data_cache": True},
    "new_1thread": {"threads": 1, "precision": "auto", "data_cache": True},
    "new_grouped": {"threads": None, "precision": "auto", "data_cache": True, "modconv": "grouped"},
    "new_batch16": {"threads": None, "precision": "auto", "data_cache": True, "batch": 16},
    "new_batch16_compiled": {
        "threads": None,
        "precision": "auto",
        "data_cache": True,
        "batch": 16,
        "compile_passes": True,
    },
}
#: the quality check's arms: training settings that should not change what is learnt
QUALITY_ARMS = {
    "float32": {"precision": "float32", "modconv": "grouped"},
    "bf16": {"precision": "bf16"},
    "bf16_compiled": {"precision": "bf16", "compile_passes": True},
    # the old arm with another seed: how far runs differ by chance alone
    "float32_seed1": {"precision": "float32", "modconv": "grouped", "seed": 1},
}


def _make_images(root: Path, n: int = 16) -> None:
    from PIL import Image

    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (128, 128, 3), dtype=np.uint8)).save(root / f"{i}.png")


def _config(args: argparse.Namespace, data: Path, out: Path, batch: int | None = None, **kw):
    from latent_atelier.models.training.config import TrainConfig

    return TrainConfig(
        arch="furrygan",
        data=str(data),
        out=str(out),
        size=args.size,
        batch=batch or args.batch,
        max_channels=args.max_channels,
        style_dim=args.style_dim,
        r1_every=16,
        **kw,
    )


def _timed_step(trainer, threads: int, step: int) -> float:
    torch.set_num_threads(threads)
    trainer.s.step = step  # 0: an R1 step; 1: a plain odd one; 2: a plain even one (mask terms)
    t0 = time.perf_counter()
    trainer.step()
    if trainer.device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t0


def throughput(args: argparse.Namespace, data: Path, tmp: Path) -> list[dict]:
    """Interleaved timings of every recipe; one row per recipe."""
    from latent_atelier.models.training.trainer import Trainer

    all_threads = args.threads
    trainers, threads = {}, {}
    for name in args.recipes:
        spec = dict(RECIPES[name])
        threads[name] = spec.pop("threads") or all_threads
        trainer = Trainer(_config(args, data, tmp / name, threads=threads[name], **spec))
        trainer.attach_data()
        trainers[name] = trainer
    plain: dict[str, dict[int, list[float]]] = {n: {1: [], 2: []} for n in trainers}
    r1: dict[str, float] = {}
    warmup: dict[str, float] = {}
    for name, trainer in trainers.items():  # every kind of step once (compiles, if compiled)
        warmup[name] = sum(_timed_step(trainer, threads[name], step) for step in (0, 1, 2))
    for _ in range(args.steps):
        for step in (1, 2):
            for name, trainer in trainers.items():
                plain[name][step].append(_timed_step(trainer, threads[name], step))
    for name, trainer in trainers.items():
        r1[name] = _timed_step(trainer, threads[name], 0)
    rows = []
    for name, trainer in trainers.items():
        odd, even = (statistics.median(plain[name][k]) for k in (1, 2))
        per_iter = (odd * 8 + even * 7 + r1[name]) / 16
        rows.append(
            {
                "recipe": name,
                "threads": threads[name],
                "bf16": trainer.amp,
                "modconv": trainer.config.modconv,
                "compiled": trainer.passes.compiled,
                "warmup_s": warmup[name],
                "data_cache": trainer.config.data_cache,
                "size": args.size,
                "batch": trainer.config.batch,
                "max_channels": args.max_channels,
                "style_dim": args.style_dim,
                "s_per_iter": per_iter,
                "images_per_s": trainer.config.batch / per_iter,
                "plain_step_s": plain[name][1],
                "plain_even_step_s": plain[name][2],
                "r1_step_s": r1[name],
                "g_params": sum(p.numel() for p in trainer.s.gen.parameters()),
            }
        )
    base = next((r["images_per_s"] for r in rows if r["recipe"] == "old"), rows[0]["images_per_s"])
    for r in rows:
        r["ratio_vs_old"] = r["images_per_s"] / base
    return rows


def _mask_area(gen, n: int = 200) -> dict:
    """Mean alpha and the area at threshold 0.5 of ``n`` samples (the FD probe's seeds)."""
    from latent_atelier.models.generator import Latent

    areas, means = [], []
    with torch.no_grad():
        for lo in range(0, n, 25):
            lats = [gen.random_latent(10_000 + i) for i in range(lo, min(n, lo + 25))]
            alpha = gen.synthesize(Latent.cat(lats), return_alpha=True).alpha.float()
            areas.append((alpha >= 0.5).float().mean(dim=(1, 2, 3)))
            means.append(alpha.mean(dim=(1, 2, 3)))
    return {"area_at_0.5": float(torch.cat(areas).mean()), "alpha_mean": float(torch.cat(means).mean())}


def quality_check(args: argparse.Namespace, data: Path, tmp: Path) -> dict:
    """Paired runs from one start generator, one per ``--quality-arms`` arm, equal images shown."""
    from latent_atelier.models.training.fd_probe import FdProbe
    from latent_atelier.models.training.trainer import Trainer, train

    probe = FdProbe(data, args.size, args.fd_n, torch.device("cpu"))
    start = Trainer(_config(args, data, tmp / "q0", init_generator=args.start_generator, threads=1))
    start.init_from_generator(args.start_generator, args.start_step)
    out: dict = {
        "start_generator": repo_relative(args.start_generator),
        "iterations": args.quality_iters,
        "images_shown": args.quality_iters * args.batch,
        "fd_n": args.fd_n,
        "start": {"fd_vgg16": probe.measure(start.s.gen_ema), **_mask_area(start.s.gen_ema)},
    }
    for arm in args.quality_arms:
        t0 = time.perf_counter()
        cfg = _config(
            args,
            data,
            tmp / f"q_{arm}",
            threads=1,
            iters=args.start_step + args.quality_iters,
            init_generator=args.start_generator,
            init_step=args.start_step,
            fine_fade_in=1000,
            binarization_decay=1000,
            sample_every=0,
            checkpoint_every=0,
            checkpoint_minutes=0,
            log_every=0,
            **QUALITY_ARMS[arm],
        )
        trainer = train(cfg)
        out[arm] = {
            "settings": QUALITY_ARMS[arm],
            "fd_vgg16": probe.measure(trainer.s.gen_ema),
            **_mask_area(trainer.s.gen_ema),
            "seconds": time.perf_counter() - t0,
        }
        print(arm, out[arm], flush=True)
    base = args.quality_arms[0]
    for arm in args.quality_arms[1:]:
        out[f"fd_{arm}_minus_{base}"] = out[arm]["fd_vgg16"] - out[base]["fd_vgg16"]
        out[f"area_{arm}_minus_{base}"] = out[arm]["area_at_0.5"] - out[base]["area_at_0.5"]
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the measurements and write ``results/bench_training.json``."""
    from latent_atelier.models.devices import default_threads

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument(
        "--data",
        default=str(DEFAULT_DATA),
        help="portrait dataset (default data/portraits128; random images if missing)",
    )
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--max-channels", type=int, default=64)
    p.add_argument("--style-dim", type=int, default=256)
    p.add_argument("--steps", type=int, default=5, help="timed plain steps per recipe")
    p.add_argument("--threads", type=int, default=default_threads(), help="threads of the new recipe")
    p.add_argument("--recipes", nargs="*", default=list(RECIPES), choices=list(RECIPES))
    p.add_argument("--quality-iters", type=int, default=0, help="paired iterations per arm (0 = skip)")
    p.add_argument("--quality-arms", nargs="+", default=list(QUALITY_ARMS), choices=list(QUALITY_ARMS))
    p.add_argument("--start-generator", default=str(DEMO_MODEL), help="start of the quality runs")
    p.add_argument("--start-step", type=int, default=8625, help="the iteration it stands for")
    p.add_argument("--fd-n", type=int, default=200)
    p.add_argument("--name", default="bench_training")
    args = p.parse_args(argv)
    import os

    load_before = os.getloadavg()[0]
    figures: dict = {
        "load_average_1min_before": load_before,
        # read by the OpenMP runtime when torch loaded (before latent_atelier.models sets a default)
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "unset (the OpenMP runtime's default)"),
    }
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        data = Path(args.data)
        if not (data / "meta.json").is_file():
            data = tmp / "images"
            data.mkdir()
            _make_images(data)
        figures["data"] = str(data)
        rows = throughput(args, data, tmp) if args.recipes else []
        for r in rows:
            print(
                {
                    k: (round(v, 3) if isinstance(v, float) else v)
                    for k, v in r.items()
                    if k not in ("plain_step_s", "plain_even_step_s")
                },
                flush=True,
            )
        if rows:
            figures["rows"] = rows
            figures["load_average_1min_after_throughput"] = os.getloadavg()[0]
        if args.quality_iters > 0 and (data / "meta.json").is_file():
            figures["quality_at_equal_images"] = quality_check(args, data, tmp)
    write_result(args.name, figures, device="cpu")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

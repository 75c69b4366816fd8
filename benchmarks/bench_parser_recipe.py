"""The face parser's training recipe (issue 18: the frozen parser's mIoU >= 0.85).

    python -m benchmarks.bench_parser_recipe [--iters 8000] [--width 24] [--threads 2]

Trains a parser with :mod:`latent_atelier.models.training.parser_recipe` (class-balanced
cross-entropy, mirrored samples, one-cycle rate) on training-split portraits and scores it on
the 500 held-out ones every ``--eval-every`` steps (per-class IoU pooled over all pixels, the
mean over the 10 classes, as ``bench_mask_guided``). In the same run, the previous recipe of
the shipped model's frozen parser (plain cross-entropy at a constant 1e-3, no flips, width 16,
300 steps) as the baseline. Writes ``benchmarks/results/mask_guided_parser_recipe.json`` and,
with ``--save``, the parser as a mask-guided model file (parser only).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from benchmarks import mask_guided_cases as cases
from benchmarks.bench_mask_guided import miou, parse
from benchmarks.common import write_result


def previous_recipe(images: np.ndarray, labels: np.ndarray, iters: int, width: int, seed: int):
    """The frozen parser's recipe before: plain CE, constant lr 1e-3, no flips."""
    from latent_atelier.models.mask_guided.networks import FaceParser

    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    parser = FaceParser(width)
    opt = torch.optim.Adam(parser.parameters(), lr=1e-3)
    for _ in range(iters):
        idx = torch.randint(len(images), (16,), generator=gen).numpy()
        x = torch.from_numpy(images[idx]).permute(0, 3, 1, 2).float() / 127.5 - 1.0
        loss = F.cross_entropy(parser(x), torch.from_numpy(labels[idx].astype(np.int64)))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return parser.eval()


def main(argv: list[str] | None = None) -> int:
    """Train both recipes, score them on the held-out portraits, write the JSON."""
    from latent_atelier.models.training.mask_guided_data import open_pairs
    from latent_atelier.models.training.mask_guided_parser import train_parser

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="data/portraits128")
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--width", type=int, default=24)
    p.add_argument("--iters", type=int, default=8000)
    p.add_argument("--count", type=int, default=20000, help="training pairs")
    p.add_argument("--n", type=int, default=500, help="held-out portraits")
    p.add_argument("--eval-every", type=int, default=500)
    p.add_argument("--baseline-iters", type=int, default=300)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--save", default="", help="write the parser here (a parser-only model file)")
    p.add_argument("--name", default="mask_guided_parser_recipe")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    pairs = open_pairs(args.data, args.size, "train", args.count, 0)
    held_images, held_labels = cases.held_out(args.data, args.size, args.n)
    held01 = held_images.astype(np.float32) / 255.0
    curve: list[dict] = []
    t0 = time.process_time()

    def score(parser) -> tuple[float, list[float]]:
        parser.eval()
        out = miou(parse(parser, held01), held_labels)
        parser.train()
        return out

    def on_step(i: int, parser) -> None:
        if i % args.eval_every == 0 or i == args.iters:
            m, per = score(parser)
            curve.append({"step": i, "miou": m, "per_class_iou": per, "cpu_s": time.process_time() - t0})
            print(f"  step {i}: mIoU {m:.4f}", flush=True)

    parser = train_parser(pairs.images, pairs.labels, args.width, args.iters, on_step=on_step)
    recipe_cpu = time.process_time() - t0
    t1 = time.process_time()
    before = previous_recipe(pairs.images, pairs.labels, args.baseline_iters, 16, 1)
    base_m, base_per = miou(parse(before, held01), held_labels)
    figures = {
        "data": args.data,
        "size": args.size,
        "train_pairs": args.count,
        "held_out": args.n,
        "recipe": {
            "width": args.width,
            "steps": args.iters,
            "cpu_s": recipe_cpu,
            "final_miou": curve[-1]["miou"],
            "best": max(curve, key=lambda r: r["miou"]),
            "curve": curve,
        },
        "previous_recipe": {
            "width": 16,
            "steps": args.baseline_iters,
            "cpu_s": time.process_time() - t1,
            "miou": base_m,
            "per_class_iou": base_per,
        },
        "goal_miou": 0.85,
        "threads": args.threads,
    }
    if args.save:
        from latent_atelier.models.mask_guided.config import MaskGuidedConfig
        from latent_atelier.models.mask_guided.io import MaskGuidedModel, save_model

        info = {
            "role": "face parser",
            "recipe": "parser_recipe",
            "steps": args.iters,
            "miou": curve[-1]["miou"],
        }
        config = MaskGuidedConfig(size=args.size, parser_width=args.width)
        save_model(Path(args.save), MaskGuidedModel(config, parser=parser, info=info))
        figures["saved"] = args.save
    write_result(args.name, figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""A face parser trained on its own: the separately trained evaluation parser of
``benchmarks/bench_mask_guided.py`` (the frozen training parser is trained inside the run).

``python -m latent_atelier.models.training.mask_guided_parser --data DIR --out FILE``
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from latent_atelier.models.mask_guided.config import MaskGuidedConfig
from latent_atelier.models.mask_guided.io import MaskGuidedModel
from latent_atelier.models.mask_guided.networks import FaceParser
from latent_atelier.models.training.parser_recipe import (
    class_weights,
    one_cycle_lr,
    parser_batch,
    parser_update,
)


def train_parser(
    images: np.ndarray,
    labels: np.ndarray,
    width: int,
    iters: int,
    batch: int = 16,
    lr: float = 2e-3,
    seed: int = 1,
    balanced: bool = True,
    on_step: Callable[[int, FaceParser], None] | None = None,
) -> FaceParser:
    """The recipe of :mod:`parser_recipe` on ``images`` (N x S x S x 3 uint8) and ``labels``
    (N x S x S); ``balanced`` weights the classes by :func:`class_weights`, ``lr`` is the
    one-cycle peak. ``on_step(i, parser)`` runs after step ``i`` (1-based), e.g. to evaluate."""
    weight = class_weights(labels) if balanced else None
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    parser = FaceParser(width)
    opt = torch.optim.Adam(parser.parameters(), lr=lr)
    for i in range(iters):
        idx = torch.randint(len(images), (batch,), generator=gen).numpy()
        flip = bool(torch.rand(1, generator=gen) < 0.5)
        x, y = parser_batch(images, labels, idx, flip)
        loss = parser_update(parser, opt, x, y, weight, one_cycle_lr(i, iters, lr))
        if i % 50 == 0:
            print(f"parser step {i}/{iters} ce {loss:.3f}", flush=True)
        if on_step is not None:
            on_step(i + 1, parser)
    return parser.eval().requires_grad_(False)


def main(argv: list[str] | None = None) -> int:
    """Train an evaluation parser on train samples the generator did not see first."""
    from latent_atelier.models.mask_guided.io import save_model
    from latent_atelier.models.training.mask_guided_data import open_pairs

    p = argparse.ArgumentParser(prog="mask_guided_parser")
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--width", type=int, default=24)
    p.add_argument("--iters", type=int, default=800)
    p.add_argument("--start", type=int, default=20000, help="first training sample used")
    p.add_argument("--count", type=int, default=5000)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    t0 = time.process_time()
    pairs = open_pairs(args.data, args.size, "train", args.count, args.start)
    parser = train_parser(pairs.images, pairs.labels, args.width, args.iters, seed=args.seed)
    config = MaskGuidedConfig(size=args.size, parser_width=args.width)
    info = {
        "role": "evaluation parser",
        "iters": args.iters,
        "seed": args.seed,
        "loss": "class-balanced CE, mirrored samples, one-cycle lr (parser_recipe)",
        "train_samples": [args.start, args.start + args.count],
        "cpu_seconds": round(time.process_time() - t0, 1),
    }
    save_model(Path(args.out), MaskGuidedModel(config, parser=parser, info=info))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

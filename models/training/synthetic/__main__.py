"""CLI: `python -m models.training.synthetic build --out DIR` and `... grid --data DIR --out PNG`."""

from __future__ import annotations

import argparse
import sys
import time

from .builder import SUPPORTED_SIZES, build_dataset
from .preview import save_grid


def _progress():
    started: dict[str, float] = {}
    last = [0.0]

    def report(split: str, done: int, total: int) -> None:
        now = time.perf_counter()
        t0 = started.setdefault(split, now)
        if done == total or now - last[0] > 10:
            last[0] = now
            rate = done / max(now - t0, 1e-9)
            print(f"{split}: {done}/{total} ({rate:.0f}/s)", file=sys.stderr, flush=True)

    return report


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m latent_atelier.models.training.synthetic")
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="render the synthetic portrait dataset")
    build.add_argument("--out", required=True, help="output folder (must not exist)")
    build.add_argument("--size", type=int, default=128, choices=SUPPORTED_SIZES)
    build.add_argument("--n-train", type=int, default=30000)
    build.add_argument("--n-eval", type=int, default=500)
    build.add_argument("--seed", type=int, default=0)
    build.add_argument("--workers", type=int, default=2)
    build.add_argument("--shard-size", type=int, default=5000)
    build.add_argument("--overwrite", action="store_true", help="replace an existing folder")
    grid = sub.add_parser("grid", help="save an image grid of samples and their labels")
    grid.add_argument("--data", required=True)
    grid.add_argument("--out", required=True)
    grid.add_argument("--split", default="train")
    grid.add_argument("--rows", type=int, default=8)
    grid.add_argument("--cols", type=int, default=8)
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            started = time.perf_counter()
            out = build_dataset(
                args.out,
                args.n_train,
                args.n_eval,
                args.size,
                args.seed,
                args.workers,
                shard_size=args.shard_size,
                overwrite=args.overwrite,
                progress=_progress(),
            )
            print(f"built {out} in {time.perf_counter() - started:.1f} s")
        else:
            print(save_grid(args.data, args.out, args.split, args.rows, args.cols))
    except (FileNotFoundError, FileExistsError, ValueError, RuntimeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

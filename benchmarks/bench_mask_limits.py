"""Where the inverted alpha of held-out portraits goes wrong, from saved inversions.

Reads the inversions ``bench_furrygan_eval --save-inversions FILE`` wrote (no new
optimisation: seconds) and writes ``results/<name>.json`` with the figures of
:func:`benchmarks.mask_limits.mask_limits`::

    python -m benchmarks.bench_mask_limits runs/eval/c7r1x5_11500_all500_inversions.npz \
        --name mask_limits_c7r1x5_11500
"""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks import eval_common as ec
from benchmarks.common import repo_relative, report
from benchmarks.mask_limits import mask_limits, parser_person


def main(argv: list[str] | None = None) -> dict:
    """Score the saved inversions and write the result; returns its figures."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("inversions", help="an .npz written by bench_furrygan_eval --save-inversions")
    p.add_argument("--data", default=str(ec.DEFAULT_DATA), help="the portrait dataset they came from")
    p.add_argument("--name", default="mask_limits", help="result name (results/<name>.json)")
    args = p.parse_args(argv)
    inv = ec.Inversions.load(Path(args.inversions))
    n, size = len(inv.alpha), inv.alpha.shape[1]
    samples = ec.load_eval_samples(args.data, n, size, "eval", inv.start)
    figures = mask_limits(inv.alpha, inv.images, samples.alpha, parser_person(), samples.images)
    figures.update(inversions=repo_relative(args.inversions), model=inv.model, n=n, start=inv.start)
    return report(args.name, figures)


if __name__ == "__main__":
    main()

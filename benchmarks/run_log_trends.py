"""A training run's losses and probes, averaged over windows of iterations, from its run log.

Reads ``log.jsonl`` (the trainer's run log; nothing is trained or loaded)::

    python -m benchmarks.run_log_trends resources/models/furrygan-demo-campaign7-r1x5.log.jsonl \
        --window 500 --start 8500 --name trends_c7r1x5

Each window's row holds the mean D and G loss, the mean real logit (on augmented reals), the
mean R1 penalty and the probes that fall inside it (FD, masks against the parser).
"""

from __future__ import annotations

import argparse
import math
from collections import defaultdict
from pathlib import Path

from benchmarks.common import repo_relative, report
from latent_atelier.models.training.run_log import read_log

LOSSES = ("d", "g", "r1")
PROBES = {"fd": "fd_vgg16", "masks_vs_parser": "mask_fg_iou_parser"}


def window_trends(rows: list[dict], window: int, start: int = 0) -> list[dict]:
    """One dict per window of ``window`` iterations from ``start``: its first iteration, how
    many loss lines it averages, and the plain means of those lines' losses and real logit and
    of the probes inside it."""
    if window < 1:
        raise ValueError(f"window must be at least 1 iteration, got {window}")
    sums: dict[int, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        it = row.get("iteration")
        if not isinstance(it, int) or it <= start or "event" in row:
            continue
        bucket = sums[start + (it - 1 - start) // window * window]
        losses = row.get("losses")
        if isinstance(losses, dict):
            bucket["lines"].append(1.0)
            for key in LOSSES:
                _add(bucket, key, losses.get(key))
            _add(bucket, "real_logit", row.get("real_score"))
        for name, key in PROBES.items():
            _add(bucket, name, row.get(key))
    return [_means(first, sums[first]) for first in sorted(sums)]


def _add(bucket: dict[str, list[float]], key: str, value: object) -> None:
    if isinstance(value, (int, float)) and math.isfinite(value):
        bucket[key].append(float(value))


def _means(first: int, bucket: dict[str, list[float]]) -> dict:
    out: dict = {"from": first, "log_lines": len(bucket.get("lines", []))}
    for key in (*LOSSES, "real_logit", *PROBES):
        values = bucket.get(key, [])
        out[key] = sum(values) / len(values) if values else None
    return out


def main(argv: list[str] | None = None) -> dict:
    """Print and write the trends of one run log; returns the figures."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("log", help="a run log (RUN_DIR/log.jsonl or one committed beside a model card)")
    p.add_argument("--window", type=int, default=500, help="iterations per window")
    p.add_argument("--start", type=int, default=0, help="first iteration (windows start here)")
    p.add_argument("--name", default="run_log_trends", help="result name (results/<name>.json)")
    args = p.parse_args(argv)
    path = Path(args.log)
    rows = read_log(path)
    if not rows:
        raise ValueError(f"{path} holds no run log lines; give the log.jsonl a training run wrote")
    trends = window_trends(rows, args.window, args.start)
    figures = {"log": repo_relative(path), "window": args.window, "start": args.start, "windows": trends}
    return report(args.name, figures)


if __name__ == "__main__":
    main()

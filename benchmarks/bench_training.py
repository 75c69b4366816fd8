"""Training throughput: images/s of one full training iteration (D step, amortised lazy R1,
G step, EMA) for small FurryGAN models on CPU, and on CUDA where available.

Each row reports seconds per iteration, images/s and the projected minutes per 1000
iterations; ``ratio_vs_first`` compares each setting to the first size measured in the
same run. Uses a synthetic in-memory image folder, so no dataset is needed.

    python -m benchmarks.bench_training [--sizes 64 128] [--batch 8] [--max-channels 128]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks.common import write_result


def _make_images(root: Path, n: int = 16) -> None:
    from PIL import Image

    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (128, 128, 3), dtype=np.uint8)).save(root / f"{i}.png")


def measure(arch: str, size: int, batch: int, max_channels: int, style_dim: int, device: str,
            steps: int, data: Path, threads: int) -> dict:
    """Median seconds per training iteration (R1 amortised over its interval)."""
    from latent_atelier.models.training.config import TrainConfig
    from latent_atelier.models.training.trainer import Trainer

    cfg = TrainConfig(
        arch=arch, data=str(data), out=str(data / "run"), size=size, batch=batch,
        max_channels=max_channels, style_dim=style_dim, device=device, threads=threads, r1_every=16,
    )
    trainer = Trainer(cfg)
    trainer.attach_data()
    trainer.s.step = 1  # warm-up without R1
    trainer.step()
    plain = []
    for _ in range(steps):
        trainer.s.step = 1
        t0 = time.perf_counter()
        trainer.step()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        plain.append(time.perf_counter() - t0)
    trainer.s.step = 0  # an R1 step
    t0 = time.perf_counter()
    trainer.step()
    r1_step = time.perf_counter() - t0
    per_iter = (statistics.median(plain) * 15 + r1_step) / 16
    return {
        "arch": arch, "size": size, "batch": batch, "max_channels": max_channels,
        "style_dim": style_dim, "device": device, "threads": threads,
        "s_per_iter": per_iter, "images_per_s": batch / per_iter,
        "minutes_per_1000_iters": per_iter * 1000 / 60,
        "g_params": sum(p.numel() for p in trainer.s.gen.parameters()),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the measurements and write ``results/bench_training.json``."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--sizes", type=int, nargs="+", default=[64, 128])
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--max-channels", type=int, default=128)
    p.add_argument("--style-dim", type=int, default=256)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--arch", default="furrygan")
    args = p.parse_args(argv)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        _make_images(data)
        for device in devices:
            for size in args.sizes:
                row = measure(args.arch, size, args.batch, args.max_channels, args.style_dim,
                              device, args.steps, data, args.threads)
                rows.append(row)
                print({k: (round(v, 3) if isinstance(v, float) else v) for k, v in row.items()})
    for device in devices:
        same = [r for r in rows if r["device"] == device]
        base = same[0]["images_per_s"]
        for r in same:
            r["ratio_vs_first"] = r["images_per_s"] / base
    write_result("bench_training", {"rows": rows}, device="+".join(devices))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The GPU measurements in one command, for the first GPU this project gets.

    python -m benchmarks.gpu_suite --out DIR [--device cuda] [--tiny]

Writes ``DIR/gpu_suite.json`` (every field present; a part that cannot run on this device
holds ``null`` and says why in ``skipped``):

- ``embedding``: W+ and noise it/s of config-F StyleGAN2 (random weights) at 256 and
  1024 px in ``fp32`` (TF32 off), ``tf32`` (TF32 matmuls/convolutions) and ``bf16`` (the
  search twin of ``models.search_model``), each with its peak memory;
- ``segments``: seconds per W+ step of 8 segments in one batch over one segment at 256 px
  (the composite loss; fixed costs cancelled by timing two step counts);
- ``training``: images/s of the demo recipe (FurryGAN 64 px, widths 64, style 256, batch 8,
  random images), one lazy-R1 step amortised over 16;
- ``peak_memory_bytes`` overall, the device, versions and the suite's wall time.

Goals (the issue's): W+ >= 100 it/s at 256 px and >= 30 it/s at 1024 px on an H100-class
card; 8 segments as one batch <= 2x one segment. It runs within 8 minutes on such a GPU.
``--tiny`` shrinks everything (32/64 px, narrow widths, few steps) so the suite runs on a
CPU in the test suite; its numbers mean nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import latent_atelier.models  # noqa: F401  (first: it sets the OpenMP wait policy torch loads with)

# isort: split
import torch

PRECISIONS = ("fp32", "tf32", "bf16")
GOALS = {"w_plus_it_per_s_256": 100.0, "w_plus_it_per_s_1024": 30.0, "segments_batch8_over_one": 2.0}


class Sizes:
    """What the suite runs: the real sizes, or the tiny CPU check."""

    def __init__(self, tiny: bool) -> None:
        self.tiny = tiny
        self.embed_sizes = (32, 64) if tiny else (256, 1024)
        self.steps = {32: 2, 64: 2} if tiny else {256: 30, 1024: 10}
        self.segments_size = 32 if tiny else 256
        self.segments_steps = (1, 3) if tiny else (5, 25)
        self.train_steps = 2 if tiny else 20

    def generator_kwargs(self) -> dict:
        """Narrow widths in the tiny run; config F otherwise."""
        if not self.tiny:
            return {}
        return {"style_dim": 32, "n_mlp": 2, "channels": {4: 32, 8: 32, 16: 32, 32: 32, 64: 16}}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _reset_peak(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def _peak(device: torch.device) -> int | None:
    return int(torch.cuda.max_memory_allocated(device)) if device.type == "cuda" else None


def _set_precision(name: str, device: torch.device) -> None:
    """fp32 (TF32 off), tf32 (TF32 on, float32 loops) or bf16 (the bf16 search twin)."""
    from latent_atelier.models.devices import set_compute_policy

    tf32 = name == "tf32"
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    set_compute_policy(torch.get_num_threads(), "bf16" if name == "bf16" else "float32")


def _it_per_s(fn: Callable[[int], Any], steps: int, device: torch.device) -> float:
    """Steps per second of ``fn(steps)`` after a warm-up ``fn(2)``."""
    fn(2)
    _sync(device)
    t0 = time.perf_counter()
    fn(steps)
    _sync(device)
    return steps / (time.perf_counter() - t0)


def embedding(sizes: Sizes, device: torch.device) -> dict:
    """W+ and noise it/s per size and precision, with peak memory."""
    out: dict = {}
    for size in sizes.embed_sizes:
        out[str(size)] = _embedding_at(size, sizes, device)
        if device.type == "cuda":
            torch.cuda.empty_cache()
    return out


def _embedding_at(size: int, sizes: Sizes, device: torch.device) -> dict:
    from latent_atelier.editors.inversion.embed import Mk_n, W_l, initial_latent
    from latent_atelier.models.devices import bf16_supported
    from latent_atelier.models.zoo import random_generator

    gen = random_generator("stylegan2", size, seed=0, **sizes.generator_kwargs()).to(device)
    gen.requires_grad_(False)
    with torch.no_grad():
        x = gen.synthesize(gen.random_latent(1, truncation=0.7)).image
    start = initial_latent(gen, "mean", 0)
    row: dict = {}
    for name in PRECISIONS:
        if name == "bf16" and not bf16_supported(device):
            row[name] = {
                "w_plus_it_per_s": None,
                "noise_it_per_s": None,
                "peak_memory_bytes": None,
                "steps": 0,
                "skipped": f"no native bf16 on {device.type}",
            }
            continue
        _set_precision(name, device)
        _reset_peak(device)
        steps = sizes.steps[size]
        w = _it_per_s(lambda n: W_l(gen, start, x, steps=n), steps, device)
        noise = _it_per_s(lambda n: Mk_n(gen, start, x, steps=n), steps, device)
        row[name] = {
            "w_plus_it_per_s": w,
            "noise_it_per_s": noise,
            "peak_memory_bytes": _peak(device),
            "steps": steps,
            "skipped": None,
        }
        print(f"embedding {size}px {name}: W+ {w:.2f} it/s, noise {noise:.2f} it/s", flush=True)
    return row


def segments(sizes: Sizes, device: torch.device) -> dict:
    """Seconds per W+ step, 8 segments in a batch over 1, with the default precision."""
    import numpy as np

    from latent_atelier.editors.inversion.segments import SegmentsParams, invert_segments
    from latent_atelier.models.devices import set_compute_policy
    from latent_atelier.models.zoo import random_generator

    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    policy = set_compute_policy(torch.get_num_threads(), "auto")
    size = sizes.segments_size
    gen = random_generator("stylegan2", size, seed=0, **sizes.generator_kwargs()).to(device)
    gen.requires_grad_(False)
    with torch.no_grad():
        x = gen.synthesize(gen.random_latent(1, truncation=0.7)).image
    target = ((x[0].clamp(-1, 1) + 1) * 0.5).permute(1, 2, 0).cpu().numpy()
    eight = np.zeros((size, size), np.int32)
    for k in range(8):
        eight[:, k * size // 8 : (k + 1) * size // 8] = k + 1
    one = np.ones((size, size), np.int32)
    few, many = sizes.segments_steps

    def run(labels: np.ndarray, steps: int) -> float:
        _sync(device)
        t0 = time.perf_counter()
        settings = SegmentsParams(steps_w=steps, steps_noise=0, loss="composite", margin=0, candidates=0)
        invert_segments(gen, target, labels, settings)
        _sync(device)
        return time.perf_counter() - t0

    _reset_peak(device)
    run(one, 1)  # warm-up
    per_step = {}
    for name, labels in (("one", one), ("eight", eight)):
        per_step[name] = max(1e-9, (run(labels, many) - run(labels, few)) / (many - few))
    ratio = per_step["eight"] / per_step["one"]
    print(f"segments {size}px: 8 in a batch cost {ratio:.2f}x one segment", flush=True)
    return {
        "size": size,
        "precision": policy.precision,
        "one_segment_s_per_step": per_step["one"],
        "eight_segments_s_per_step": per_step["eight"],
        "batch8_over_one": ratio,
        "peak_memory_bytes": _peak(device),
    }


def training(sizes: Sizes, device: torch.device) -> dict:
    """Images/s of the demo recipe on random 128 px images (throughput only)."""
    import numpy as np
    from PIL import Image

    from latent_atelier.models.training.config import TrainConfig
    from latent_atelier.models.training.trainer import Trainer

    recipe = {
        "arch": "furrygan",
        "size": 32 if sizes.tiny else 64,
        "batch": 8,
        "r1_every": 16,
        "max_channels": 16 if sizes.tiny else 64,
        "style_dim": 32 if sizes.tiny else 256,
    }
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "images"
        data.mkdir()
        rng = np.random.default_rng(0)
        for i in range(16):
            Image.fromarray(rng.integers(0, 255, (128, 128, 3), dtype=np.uint8)).save(data / f"{i}.png")
        cfg = TrainConfig(
            data=str(data),
            out=str(Path(tmp) / "run"),
            device=str(device),
            threads=torch.get_num_threads(),
            sample_every=0,
            checkpoint_every=0,
            checkpoint_minutes=0,
            log_every=0,
            **recipe,
        )
        trainer = Trainer(cfg)
        trainer.attach_data()
        _reset_peak(device)

        def timed(step: int) -> float:
            trainer.s.step = step  # 0: an R1 step, 1: a plain one
            _sync(device)
            t0 = time.perf_counter()
            trainer.step()
            _sync(device)
            return time.perf_counter() - t0

        timed(1)  # warm-up
        plain = statistics.median(timed(1) for _ in range(sizes.train_steps))
        r1 = timed(0)
        per_iter = (plain * 15 + r1) / 16
        images = recipe["batch"] / per_iter
        print(f"training: {images:.1f} images/s", flush=True)
        return {
            "recipe": recipe,
            "bf16": bool(trainer.amp),
            "s_per_iter": per_iter,
            "images_per_s": images,
            "peak_memory_bytes": _peak(device),
        }


def device_info(device: torch.device) -> dict:
    """The device and the software it ran with."""
    info: dict = {
        "device": str(device),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "threads": torch.get_num_threads(),
    }
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        info.update(
            name=props.name, memory_bytes=int(props.total_memory), capability=f"{props.major}.{props.minor}"
        )
    else:
        import platform

        info["name"] = platform.processor() or platform.machine()
    return info


def run_suite(out_dir: Path, device: torch.device, tiny: bool = False) -> dict:
    """Every part, one JSON (written after each part, so a cut-off run keeps what it measured)."""
    sizes = Sizes(tiny)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "gpu_suite.json"
    t0 = time.perf_counter()
    result: dict = {
        "info": device_info(device),
        "tiny": tiny,
        "goals": GOALS,
        "embedding": None,
        "segments": None,
        "training": None,
        "peak_memory_bytes": None,
        "seconds": None,
    }
    _reset_peak(device)
    for part, fn in (("embedding", embedding), ("segments", segments), ("training", training)):
        result[part] = fn(sizes, device)
        result["seconds"] = time.perf_counter() - t0
        path.write_text(json.dumps(result, indent=2) + "\n")
    peaks = [v for v in _all_peaks(result) if v is not None]
    result["peak_memory_bytes"] = max(peaks) if peaks else None
    result["goals_met"] = _goals_met(result, sizes)
    result["seconds"] = time.perf_counter() - t0
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {path} ({result['seconds']:.0f} s)")
    return result


def _all_peaks(result: dict) -> list[int | None]:
    peaks = [row.get("peak_memory_bytes") for size in result["embedding"].values() for row in size.values()]
    return [*peaks, result["segments"]["peak_memory_bytes"], result["training"]["peak_memory_bytes"]]


def _goals_met(result: dict, sizes: Sizes) -> dict | None:
    """Each goal: met or not (None on the tiny run, whose sizes are not the goals')."""
    if sizes.tiny:
        return None
    emb = result["embedding"]

    def best(size: str) -> float:
        return max((row["w_plus_it_per_s"] or 0.0) for row in emb[size].values())

    return {
        "w_plus_it_per_s_256": best("256") >= GOALS["w_plus_it_per_s_256"],
        "w_plus_it_per_s_1024": best("1024") >= GOALS["w_plus_it_per_s_1024"],
        "segments_batch8_over_one": result["segments"]["batch8_over_one"]
        <= GOALS["segments_batch8_over_one"],
    }


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.gpu_suite --out DIR``."""
    from latent_atelier.models.devices import pick_device

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="folder for gpu_suite.json")
    ap.add_argument("--device", default=None, help="default: the best available (cuda first)")
    ap.add_argument("--tiny", action="store_true", help="tiny sizes (a CPU check that the suite works)")
    args = ap.parse_args(argv)
    device = pick_device(args.device)
    if device.type != "cuda" and not args.tiny:
        print(f"note: no GPU here ({device}); the full sizes will be slow. Use --tiny for a check.")
    run_suite(Path(args.out), device, tiny=args.tiny)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

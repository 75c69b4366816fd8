"""CPU speed of the optimisation loops: today's baseline vs the new default, in the same run.

Modes (``models.devices.set_compute_policy``), run interleaved, round after round, so that
the machine's changing load falls on all of them alike:

- ``baseline``: 1 thread, float32, the shared model (what every step ran before);
- ``new_default``: every core, ``precision="auto"`` (bf16 search twin + bf16 VGG where the
  CPU has native bf16, float32 elsewhere);
- ``bf16_1_thread``: the new precision policy on one thread (what precision alone buys,
  independent of how busy the other cores are).

Measured per size (config-F StyleGAN2 with random weights): it/s of a W+ step (generator
forward/backward + VGG perceptual loss) and of a noise step (MSE only), wall clock and CPU
seconds per step, the paired ratio of each round and their median; the load average
before and after. Quality: PSNR after the same number of W+ then noise steps from the
same start with the baseline and the new default (``bench_embed``'s quality generator,
natural image spread, quiet noise). Segments: one W+ step of 8 segments as one batch vs
one segment (the operation's composite loss). Writes ``benchmarks/results/speed_cpu.json``.

    python -m benchmarks.bench_speed [--sizes 64 256 1024] [--steps 2] [--rounds 3]
        [--quality-steps 30 15] [--segments-size 256] [--skip-quality] [--skip-segments]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from typing import Any

import latent_atelier.models  # noqa: F401  (first: it sets the OpenMP wait policy torch loads with)

# isort: split
import torch

from benchmarks.common import RESULTS_DIR, write_result

BASELINE = {"threads": 1, "precision": "float32"}
QUALITY_GOAL_DB = 0.2
SPEED_GOAL_256 = 2.5


def modes(threads: int) -> dict[str, dict[str, Any]]:
    """The compared policies."""
    return {
        "baseline": BASELINE,
        "new_default": {"threads": threads, "precision": "auto"},
        "bf16_1_thread": {"threads": 1, "precision": "auto"},
    }


def _apply(mode: dict[str, Any]) -> None:
    from latent_atelier.models.devices import set_compute_policy

    set_compute_policy(mode["threads"], mode["precision"])


def _time_steps(gen, x: torch.Tensor, phase: str, steps: int) -> tuple[float, float]:
    """(wall s, CPU s) per step of ``steps`` W+ or noise steps from the mean latent."""
    from latent_atelier.editors.inversion.embed import Mk_n, W_l, initial_latent

    lat = initial_latent(gen, "mean", 0)
    fn = W_l if phase == "w" else Mk_n
    c0, t0 = time.process_time(), time.perf_counter()
    fn(gen, lat, x, steps=steps)
    return (time.perf_counter() - t0) / steps, (time.process_time() - c0) / steps


def speed(size: int, all_modes: dict[str, dict], steps: int, rounds: int) -> dict:
    """Interleaved it/s of every mode for one size; paired ratios against the baseline."""
    from latent_atelier.models.devices import search_dtype
    from latent_atelier.models.zoo import random_generator

    gen = random_generator("stylegan2", size, seed=0).requires_grad_(False)
    with torch.no_grad():
        x = gen.synthesize(gen.random_latent(1, truncation=0.7)).image
    samples: dict[str, dict[str, list]] = {
        m: {"w": [], "noise": [], "w_cpu": [], "noise_cpu": []} for m in all_modes
    }
    dtypes = {}
    for name, mode in all_modes.items():  # warm-up: search twin, VGG weights, allocator
        _apply(mode)
        dtypes[name] = str(search_dtype(x.device, gen)).replace("torch.", "")
        _time_steps(gen, x, "w", 1)
        _time_steps(gen, x, "noise", 1)
    load_before = os.getloadavg()
    for r in range(rounds):
        for name, mode in all_modes.items():
            _apply(mode)
            for phase in ("w", "noise"):
                wall, cpu = _time_steps(gen, x, phase, steps)
                samples[name][phase].append(1.0 / wall)
                samples[name][f"{phase}_cpu"].append(cpu)
            print(
                f"{size}px round {r + 1} {name}: W+ {samples[name]['w'][-1]:.3f} it/s, "
                f"noise {samples[name]['noise'][-1]:.3f} it/s",
                flush=True,
            )
    out: dict[str, Any] = {
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "steps_per_sample": steps,
        "rounds": rounds,
    }
    for name, s in samples.items():
        out[name] = {
            "policy": all_modes[name],
            "search_dtype": dtypes[name],
            "w_plus_it_per_s": statistics.median(s["w"]),
            "noise_it_per_s": statistics.median(s["noise"]),
            "w_plus_cpu_s_per_step": statistics.median(s["w_cpu"]),
            "noise_cpu_s_per_step": statistics.median(s["noise_cpu"]),
            "w_plus_it_per_s_samples": s["w"],
            "noise_it_per_s_samples": s["noise"],
        }
        if name != "baseline":
            base = samples["baseline"]
            for phase, key in (("w", "w_plus"), ("noise", "noise")):
                paired = [a / b for a, b in zip(s[phase], base[phase])]
                out[name][f"{key}_speedup_paired"] = paired
                out[name][f"{key}_speedup"] = statistics.median(paired)
                out[name][f"{key}_cpu_time_ratio"] = statistics.median(
                    base[f"{phase}_cpu"]
                ) / statistics.median(s[f"{phase}_cpu"])
    return out


def quality(size: int, all_modes: dict[str, dict], steps_w: int, steps_noise: int) -> dict:
    """PSNR after ``steps_w`` W+ and ``steps_noise`` noise steps, per mode, same inputs."""
    from benchmarks.bench_embed import QUALITY_IMAGE_STD, QUALITY_NOISE_STRENGTH, quality_generator
    from latent_atelier.editors.inversion.embed import Mk_n, W_l, initial_latent
    from latent_atelier.editors.inversion.embed_core import masked_psnr

    gen, gain = quality_generator(size, QUALITY_NOISE_STRENGTH, QUALITY_IMAGE_STD)
    gen.requires_grad_(False)
    with torch.no_grad():
        x = gen.synthesize(gen.random_latent(1, truncation=0.7)).image
    out: dict[str, Any] = {"size": size, "steps_w": steps_w, "steps_noise": steps_noise, "rgb_gain": gain}
    for name in ("baseline", "new_default"):
        _apply(all_modes[name])
        t0 = time.perf_counter()
        lat = W_l(gen, initial_latent(gen, "mean", 0), x, steps=steps_w)
        with torch.no_grad():
            psnr_w = float(masked_psnr(gen.synthesize(lat).image, x).mean())
        lat = Mk_n(gen, lat, x, steps=steps_noise)
        with torch.no_grad():
            psnr = float(masked_psnr(gen.synthesize(lat).image, x).mean())
        out[name] = {"psnr_w": psnr_w, "psnr": psnr, "seconds": time.perf_counter() - t0}
        print(f"quality {name}: W+ {psnr_w:.3f} dB, +noise {psnr:.3f} dB", flush=True)
    out["psnr_w_difference_db"] = out["new_default"]["psnr_w"] - out["baseline"]["psnr_w"]
    out["psnr_difference_db"] = out["new_default"]["psnr"] - out["baseline"]["psnr"]
    worst = max(abs(out["psnr_w_difference_db"]), abs(out["psnr_difference_db"]))
    out["within_goal"] = worst <= QUALITY_GOAL_DB
    return out


def segments_batching(size: int, mode: dict[str, Any], steps: int, rounds: int) -> dict:
    """Seconds per W+ step of 8 segments in one batch vs 1 segment (composite loss)."""
    import numpy as np

    from latent_atelier.editors.inversion.segments import SegmentsParams, invert_segments
    from latent_atelier.models.zoo import random_generator

    _apply(mode)
    gen = random_generator("stylegan2", size, seed=0).requires_grad_(False)
    with torch.no_grad():
        x = gen.synthesize(gen.random_latent(1, truncation=0.7)).image
    target = ((x[0].clamp(-1, 1) + 1) * 0.5).permute(1, 2, 0).numpy()
    eight = np.zeros((size, size), np.int32)
    for k in range(8):  # 8 vertical bands
        eight[:, k * size // 8 : (k + 1) * size // 8] = k + 1
    one = np.ones((size, size), np.int32)

    def run(labels: np.ndarray, n: int) -> float:
        t0 = time.perf_counter()
        invert_segments(
            gen,
            target,
            labels,
            SegmentsParams(steps_w=n, steps_noise=0, loss="composite", margin=0, candidates=0),
        )
        return time.perf_counter() - t0

    def per_step(labels: np.ndarray) -> float:  # two step counts: fixed costs cancel
        return (run(labels, 1 + steps) - run(labels, 1)) / steps

    run(one, 1)  # warm-up
    ratios, t1s, t8s = [], [], []
    for _ in range(rounds):
        t1, t8 = per_step(one), per_step(eight)
        t1s.append(t1)
        t8s.append(t8)
        ratios.append(t8 / t1)
        print(f"segments {size}px: 1 segment {t1:.2f} s/step, 8 in a batch {t8:.2f} s/step", flush=True)
    return {
        "size": size,
        "policy": mode,
        "loss": "composite",
        "one_segment_s_per_step": statistics.median(t1s),
        "eight_segments_s_per_step": statistics.median(t8s),
        "batch8_over_one": statistics.median(ratios),
        "ratios": ratios,
        "steps": steps,
        "note": "per step: (time of 1 + steps) - (time of 1 step), divided by steps",
    }


def main(argv: list[str] | None = None) -> None:
    """Measure and write ``results/speed_cpu.json``."""
    from latent_atelier.models.devices import available_cores, cpu_bf16_supported

    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[64, 256, 1024])
    ap.add_argument("--steps", type=int, default=2, help="steps per timed sample")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument(
        "--threads", type=int, default=None, help="the new default's threads (default: all cores)"
    )
    ap.add_argument("--quality-size", type=int, default=256)
    ap.add_argument("--quality-steps", type=int, nargs=2, default=[30, 15])
    ap.add_argument("--segments-size", type=int, default=256)
    ap.add_argument("--skip-quality", action="store_true")
    ap.add_argument("--segments-steps", type=int, default=2)
    ap.add_argument("--skip-segments", action="store_true")
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--name", default="speed_cpu")
    args = ap.parse_args(argv)
    all_modes = modes(args.threads or available_cores())
    previous = RESULTS_DIR / f"{args.name}.json"  # a part not run keeps its last figures
    figures: dict[str, Any] = json.loads(previous.read_text())["figures"] if previous.exists() else {}
    figures |= {
        "cpu_bf16": cpu_bf16_supported(),
        "cores": available_cores(),
        "modes": all_modes,
        "goal": (
            f"new_default >= {SPEED_GOAL_256}x baseline W+ it/s at 256 px; PSNR within {QUALITY_GOAL_DB} dB"
        ),
    }
    figures.setdefault("speed", {})
    for size in [] if args.skip_speed else args.sizes:
        figures["speed"][str(size)] = speed(size, all_modes, args.steps, args.rounds)
        write_result(args.name, figures)
    if not args.skip_quality:
        figures["quality"] = quality(args.quality_size, all_modes, *args.quality_steps)
        write_result(args.name, figures)
    if not args.skip_segments:
        figures["segments_batching"] = segments_batching(
            args.segments_size, all_modes["new_default"], args.segments_steps, args.rounds
        )
    write_result(args.name, figures)


if __name__ == "__main__":
    main()

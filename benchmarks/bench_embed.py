"""Embedding engine: iterations per second of the W+ and noise phases, and reconstruction quality.

Speed: config-F StyleGAN2 with random weights at 256 and 1024 px; W+ steps (generator
forward/backward + VGG perceptual loss) and noise steps (MSE only). The perceptual loss
runs on images resized to 256 px; at 1024 px that optimisation is measured against the
plain full-resolution VGG in the same run.

Quality: an image synthesised from a known random W+ and noise is embedded back (W+ phase,
then noise phase) and PSNR is reported after each phase with the step counts.

    python -m benchmarks.bench_embed [--sizes 256 1024] [--device cpu] [--quality-steps 300 300]
"""

from __future__ import annotations

import argparse
import time

import torch

from benchmarks.common import write_result


def _steps_per_second(gen, x, phase: str, n: int, percept_max: int | None = None) -> float:
    import editors.embed_core as core
    from editors.embed import Mk_n, W_l, initial_latent

    old = core.PERCEPT_MAX_SIZE
    if percept_max is not None:
        core.PERCEPT_MAX_SIZE = percept_max
    try:
        lat = initial_latent(gen, "mean", 0)
        fn = W_l if phase == "w" else Mk_n
        fn(gen, lat, x, steps=1)  # warm-up (VGG load, allocator)
        if x.device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn(gen, lat, x, steps=n)
        if x.device.type == "cuda":
            torch.cuda.synchronize()
        return n / (time.perf_counter() - t0)
    finally:
        core.PERCEPT_MAX_SIZE = old


def speed(sizes: list[int], device: torch.device, steps: int) -> dict:
    """it/s of each phase per size, plus the 256 px perceptual optimisation at 1024 px."""
    from models.zoo import random_generator

    out: dict = {}
    for size in sizes:
        gen = random_generator("stylegan2", size, seed=0).to(device)
        with torch.no_grad():
            x = gen.synthesize(gen.random_latent(1, truncation=0.7)).image
        row = {
            "w_plus_it_per_s": _steps_per_second(gen, x, "w", steps),
            "noise_it_per_s": _steps_per_second(gen, x, "noise", steps),
        }
        if size > 256:
            row["w_plus_it_per_s_full_res_vgg"] = _steps_per_second(gen, x, "w", steps, percept_max=size)
            row["speedup_vgg_at_256"] = row["w_plus_it_per_s"] / row["w_plus_it_per_s_full_res_vgg"]
        out[str(size)] = row
        print(size, row)
        del gen
    return out


def quality(size: int, device: torch.device, steps_w: int, steps_noise: int) -> dict:
    """PSNR after each phase for an image drawn from a known latent."""
    from editors.embed import embed_image
    from editors.embed_core import to_numpy_image
    from models.zoo import random_generator

    gen = random_generator("stylegan2", size, seed=0).to(device)
    with torch.no_grad():
        target = to_numpy_image(gen.synthesize(gen.random_latent(1, truncation=0.7)).image)
    t0 = time.perf_counter()
    outcome = embed_image(gen, target, steps_w=steps_w, steps_noise=steps_noise, seed=0, with_lpips=True)
    res = {"size": size, "steps_w": steps_w, "steps_noise": steps_noise,
           "seconds": time.perf_counter() - t0, **outcome.metrics}
    print(res)
    return res


def main(argv: list[str] | None = None) -> None:
    """Run the speed and quality measurements and write ``results/embed.json``."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[256, 1024])
    ap.add_argument("--device", default=None)
    ap.add_argument("--speed-steps", type=int, default=5)
    ap.add_argument("--quality-size", type=int, default=256)
    ap.add_argument("--quality-steps", type=int, nargs=2, default=[300, 300])
    ap.add_argument("--skip-quality", action="store_true")
    args = ap.parse_args(argv)
    from models.devices import pick_device

    device = pick_device(args.device)
    figures = {"speed": speed(args.sizes, device, args.speed_steps)}
    if not args.skip_quality:
        figures["quality"] = quality(args.quality_size, device, *args.quality_steps)
    write_result(f"embed_{device.type}", figures, device=str(device))


if __name__ == "__main__":
    main()

"""Embedding engine: iterations per second of the W+ and noise phases, and reconstruction quality.

Speed: config-F StyleGAN2 with random weights at 256 and 1024 px; W+ steps (generator
forward/backward + VGG perceptual loss) and noise steps (MSE only). The perceptual loss
runs on images resized to 256 px; at 1024 px that optimisation is measured against the
plain full-resolution VGG in the same run.

Quality: an image synthesised from a known random W+ (truncation 0.7) and known noise is
embedded back with Algorithm 2 (W+ phase from the mean latent, then noise phase) and PSNR
and LPIPS are reported after each phase with the step counts and a PSNR trace (every
10th step, as that step saw it before its update; the W+ phase ends at ``steps_w``). A random
config-F generator is not shaped like a trained one in two ways, both corrected here and
recorded in the JSON:

* its images have a standard deviation of about 1 with ~40% of the pixels outside
  [-1, 1]; the ToRGB weights are scaled (``rgb_gain``) so the images have std 0.5, as
  natural images do, and the synthesised tensor itself is the target (never clipped, so
  the true latent reproduces it exactly);
* fresh layers have zero noise strength, and the suite's default of 0.1 lets the noise
  draw most of the image (true W+ with other noise: ~9 dB). Here the strength is 0.01.
  ``w_phase_ceiling_psnr`` is the PSNR of the true W+ with the noise the W+ phase is held
  at: the W+ phase cannot be expected to pass it, and the noise phase must recover the
  noise to go beyond it. (For reference, swapping the noise of the barely trained 64 px
  demo FurryGAN gives ~21 dB, so real models' noise can matter more than this.)

The optimiser settings are the paper's (Adam, W+ lr 0.01, noise lr 5); only the step
counts are shorter than its 5000 + 3000 (``--quality-steps``, ``--quality-lr``).

    python -m benchmarks.bench_embed [--sizes 256 1024] [--device cpu] [--threads 1]
        [--quality-steps 200 100] [--quality-lr 0.01 5] [--skip-speed] [--skip-quality]
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from benchmarks.common import RESULTS_DIR, write_result


def _steps_per_second(gen, x, phase: str, n: int, percept_max: int | None = None) -> float:
    import latent_atelier.editors.inversion.embed_core as core
    from latent_atelier.editors.inversion.embed import Mk_n, W_l, initial_latent

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
    from latent_atelier.models.zoo import random_generator

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


#: the quality experiment's generator: see the module docstring for why these values
QUALITY_NOISE_STRENGTH = 0.01
QUALITY_IMAGE_STD = 0.5
QUALITY_LR_W = 0.01  # the paper's
QUALITY_LR_NOISE = 5.0  # the paper's
TRACE_EVERY = 10


def quality_generator(size: int, noise_strength: float, image_std: float, seed: int = 0):
    """A random config-F StyleGAN2 whose images have a natural spread and quiet noise.

    Returns ``(gen, rgb_gain)``; the gain is chosen so that images of four seeded latents
    (truncation 0.7) have standard deviation ``image_std``.
    """
    from latent_atelier.models.zoo import random_generator, scale_rgb_output

    gen = random_generator("stylegan2", size, seed=seed, noise_strength=noise_strength)
    with torch.no_grad():
        draws = [gen.synthesize(gen.random_latent(1000 + k, truncation=0.7)).image for k in range(4)]
    stds = [float(img.std()) for img in draws]
    gain = image_std / (sum(stds) / len(stds))
    return scale_rgb_output(gen, gain), gain


def quality(
    size: int,
    device: torch.device,
    steps_w: int,
    steps_noise: int,
    *,
    lr_w: float = QUALITY_LR_W,
    lr_noise: float = QUALITY_LR_NOISE,
    noise_strength: float = QUALITY_NOISE_STRENGTH,
    image_std: float = QUALITY_IMAGE_STD,
) -> dict:
    """PSNR and LPIPS after each phase for an image drawn from a known latent (see module doc)."""
    from latent_atelier.editors.inversion.embed import EmbedParams, embed_image, initial_latent
    from latent_atelier.editors.inversion.embed_core import masked_psnr
    from latent_atelier.editors.operation import Progress

    gen, gain = quality_generator(size, noise_strength, image_std)
    gen = gen.to(device)
    truth = gen.random_latent(1, truncation=0.7)
    start = initial_latent(gen, "mean", 0)
    with torch.no_grad():
        x = gen.synthesize(truth).image
        swapped = truth.clone()
        swapped.noise = start.noise  # true W+ with the noise the W+ phase is held at
        ceiling = float(masked_psnr(gen.synthesize(swapped).image, x).mean())
    target = ((x[0].cpu() + 1.0) * 0.5).permute(1, 2, 0).numpy()  # not clipped: x is the image
    setup = {
        "size": size,
        "steps_w": steps_w,
        "steps_noise": steps_noise,
        "lr_w": lr_w,
        "lr_noise": lr_noise,
        "noise_strength": noise_strength,
        "rgb_gain": gain,
        "image_std": float(x.std()),
        "fraction_outside_unit_range": float((x.abs() > 1).float().mean()),
        "w_phase_ceiling_psnr": ceiling,
        "truncation": 0.7,
        "init": "mean",
        "seed": 0,
    }
    print(setup, flush=True)
    trace: list[tuple[int, float]] = []
    t0 = time.perf_counter()
    w_done: list[float] = []

    def on_step(i: int, n: int, preview, metrics) -> None:
        if i == steps_w:
            w_done.append(time.perf_counter() - t0)
        if i % TRACE_EVERY == 0 or i == n:
            trace.append((i, round(float(metrics["psnr"]), 3)))
            print(f"step {i}/{n} psnr {metrics['psnr']:.2f} dB  {time.perf_counter() - t0:.0f} s", flush=True)

    outcome = embed_image(
        gen,
        target,
        EmbedParams(steps_w=steps_w, steps_noise=steps_noise, lr_w=lr_w, lr_noise=lr_noise, seed=0),
        with_lpips=True,
        progress=Progress(on_step, preview_interval_s=1e9),
    )
    seconds = time.perf_counter() - t0
    res = {
        **setup,
        "seconds": seconds,
        "seconds_w": w_done[0] if w_done else None,
        **outcome.metrics,
        "psnr_trace": trace,
    }
    print({k: v for k, v in res.items() if k != "psnr_trace"})
    return res


def _previous_figures(name: str) -> dict:
    path = RESULTS_DIR / f"{name}.json"
    if not path.exists():
        return {}
    data = json.loads(path.read_text())
    figures = data.get("figures", {})
    if "speed" in figures:
        figures.setdefault("speed_measured_on", data.get("machine", {}))
    return figures


def main(argv: list[str] | None = None) -> None:
    """Run the speed and quality measurements and write ``results/embed_<device>.json``.

    A part that is skipped keeps its figures from the previous file of the same name.
    """
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[256, 1024])
    ap.add_argument("--device", default=None)
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    ap.add_argument("--speed-steps", type=int, default=5)
    ap.add_argument("--quality-size", type=int, default=256)
    ap.add_argument("--quality-steps", type=int, nargs=2, default=[200, 100])
    ap.add_argument("--quality-lr", type=float, nargs=2, default=[QUALITY_LR_W, QUALITY_LR_NOISE])
    ap.add_argument("--noise-strength", type=float, default=QUALITY_NOISE_STRENGTH)
    ap.add_argument("--skip-quality", action="store_true")
    ap.add_argument("--skip-speed", action="store_true")
    args = ap.parse_args(argv)
    from latent_atelier.models.devices import pick_device

    if args.threads:
        torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    name = f"embed_{device.type}"
    figures = _previous_figures(name)
    if not args.skip_speed:
        figures["speed"] = speed(args.sizes, device, args.speed_steps)
        figures.pop("speed_measured_on", None)
    if not args.skip_quality:
        figures["quality"] = quality(
            args.quality_size,
            device,
            *args.quality_steps,
            lr_w=args.quality_lr[0],
            lr_noise=args.quality_lr[1],
            noise_strength=args.noise_strength,
        )
        figures["quality"]["torch_threads"] = torch.get_num_threads()
    write_result(name, figures, device=str(device))


if __name__ == "__main__":
    main()

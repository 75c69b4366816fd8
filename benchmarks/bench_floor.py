"""The physical floor of an embedding step: its FLOPs and this CPU's matmul rate.

FLOPs are counted by ``torch.utils.flop_counter`` (matmuls and convolutions, forward and
backward) for one W+ step (generator forward + backward to the latent, VGG perceptual loss
on the image resized to at most 256 px) and one noise step (no VGG) of config-F StyleGAN2
at each size, in two forms: the shared model (``fused``: per-sample modulated weights, so
the backward also convolves for the weight gradient) and the search twin the optimisation
loop runs (``twin``: input-scaled modulation, constant weights, no weight-gradient
convolution). The matmul rate is measured on 2048 x 2048 matrices, float32 and bf16, as
CPU seconds of one thread (the per-core rate, immune to other processes' load) and as wall
time with every core. Writes ``benchmarks/results/floor.json``; ``docs/performance.md``
divides the one by the other.

    python -m benchmarks.bench_floor [--sizes 256 1024]
"""

from __future__ import annotations

import argparse
import time

import latent_atelier.models  # noqa: F401  (first: it sets the OpenMP wait policy torch loads with)

# isort: split
import torch

from benchmarks.common import write_result


def step_flops(size: int) -> dict:
    """GFLOP of one W+ and one noise step, split into generator and VGG, fused and twin forms."""
    from torch.utils.flop_counter import FlopCounterMode

    from latent_atelier.editors.inversion.embed import initial_latent
    from latent_atelier.editors.inversion.embed_core import W_L_WEIGHTS, EmbeddingLoss, Targets
    from latent_atelier.models.search_model import make_search_twin
    from latent_atelier.models.zoo import random_generator

    gen = random_generator("stylegan2", size, seed=0).requires_grad_(False)
    with torch.no_grad():
        x = gen.synthesize(gen.random_latent(1, truncation=0.7)).image
    loss = EmbeddingLoss(Targets(x=x), W_L_WEIGHTS)
    forms = {"fused": gen, "twin": make_search_twin(gen, torch.float32)}
    out: dict = {"size": size, "params": sum(p.numel() for p in gen.parameters())}
    for form, model in forms.items():
        row = {}
        for phase in ("w", "noise"):
            counts = []
            for with_loss in (True, False):  # the whole step; the generator's forward + backward alone
                lat = initial_latent(gen, "mean", 0)
                leaves = list(lat.w.values()) if phase == "w" else lat.noise
                for t in leaves:
                    t.requires_grad_(True)
                with FlopCounterMode(display=False) as counter:
                    img = model.synthesize(lat).image
                    if not with_loss:
                        value = img.sum().reshape(1)
                    elif phase == "w":
                        value = loss(img)
                    else:
                        value = (img - x).pow(2).mean().reshape(1)
                    value.sum().backward()
                counts.append(counter.get_total_flops())
            step, gen_fwd_bwd = counts
            row[phase] = {
                "step_gflop": step / 1e9,
                "generator_fwd_bwd_gflop": gen_fwd_bwd / 1e9,
                "vgg_and_loss_gflop": (step - gen_fwd_bwd) / 1e9,
            }
            print(size, form, phase, row[phase], flush=True)
        with FlopCounterMode(display=False) as fwd, torch.no_grad():
            model.synthesize(initial_latent(gen, "mean", 0))
        row["generator_forward_gflop"] = fwd.get_total_flops() / 1e9
        out[form] = row
    return out


def matmul_rates(n: int = 2048, repeat: int = 5) -> dict:
    """GFLOP/s of an n x n matmul: one thread's CPU time, and wall time with every core."""
    from latent_atelier.models.cpu_threads import available_cores

    a = torch.randn(n, n)
    out: dict = {"n": n}
    flop = 2 * n**3
    for dtype, name in ((torch.float32, "float32"), (torch.bfloat16, "bf16")):
        m = a.to(dtype)
        for threads in (1, available_cores()):
            torch.set_num_threads(threads)
            m @ m  # warm-up
            c0, t0 = time.process_time(), time.perf_counter()
            for _ in range(repeat):
                m @ m
            cpu, wall = time.process_time() - c0, time.perf_counter() - t0
            key = f"{name}_{threads}_thread{'s' if threads > 1 else ''}"
            out[key] = {
                "gflop_per_s_cpu_time": flop * repeat / cpu / 1e9,
                "gflop_per_s_wall": flop * repeat / wall / 1e9,
            }
            print(key, out[key], flush=True)
    return out


def main(argv: list[str] | None = None) -> None:
    """Count, measure, write ``results/floor.json``."""
    import os

    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[256, 1024])
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    figures = {"load_average_before": os.getloadavg(), "matmul": matmul_rates()}
    torch.set_num_threads(1)
    figures["steps"] = {str(s): step_flops(s) for s in args.sizes}
    figures["load_average_after"] = os.getloadavg()
    write_result("floor", figures)


if __name__ == "__main__":
    main()

"""Speed of the VGG-16 perceptual loss (forward + backward) and of LPIPS.

Baseline: the masked perceptual loss (conv1_1..conv3_3) at 256 px, batch 1, float32,
channels-first, with the target features precomputed (as the embedding loop does).
Variants measured in the same run: channels-last memory format, and an unmasked loss.
``python -m benchmarks.bench_perceptual [--device cuda] [--size 256] [--threads N]``
"""

from __future__ import annotations

import argparse

import torch

from benchmarks.common import timed, write_result
from latent_atelier.models.perceptual import PerceptualLoss, VGG16Features, get_lpips


def _loss_step(loss_fn: PerceptualLoss, x: torch.Tensor, target, mask, sync) -> None:
    x = x.detach().requires_grad_(True)
    loss_fn(x, target, mask).sum().backward()
    sync()


def main(argv: list[str] | None = None) -> dict:
    """Time the perceptual loss step and LPIPS; write results/perceptual.json."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: leave)")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    gen = torch.Generator().manual_seed(0)
    x = (torch.rand(1, 3, args.size, args.size, generator=gen) * 2 - 1).to(device)
    y = (torch.rand(1, 3, args.size, args.size, generator=gen) * 2 - 1).to(device)
    mask = torch.zeros(1, 1, args.size, args.size, device=device)
    mask[..., : args.size // 2] = 1

    loss_fn = PerceptualLoss(device)
    target = loss_fn.features(y, mask)
    base = timed(lambda: _loss_step(loss_fn, x, target, mask, sync), repeat=args.repeat)

    xcl = x.contiguous(memory_format=torch.channels_last)
    cl_vgg = VGG16Features().to(device, memory_format=torch.channels_last).eval()
    cl_vgg.requires_grad_(False)
    cl_fn = PerceptualLoss(vgg=cl_vgg)
    cl_target = cl_fn.features(y.contiguous(memory_format=torch.channels_last), mask)
    channels_last = timed(lambda: _loss_step(cl_fn, xcl, cl_target, mask, sync), args.repeat)

    unmasked_target = loss_fn.features(y)
    unmasked = timed(lambda: _loss_step(loss_fn, x, unmasked_target, None, sync), args.repeat)

    metric = get_lpips(device)

    def lpips_call() -> None:
        with torch.no_grad():
            metric(x, y)
        sync()

    lpips_t = timed(lpips_call, repeat=args.repeat)
    figures = {
        "size": args.size,
        "threads": torch.get_num_threads(),
        "perceptual_fwd_bwd_masked_s": base,
        "perceptual_fwd_bwd_channels_last_s": channels_last,
        "perceptual_fwd_bwd_unmasked_s": unmasked,
        "channels_last_speedup": base["median_s"] / channels_last["median_s"],
        "lpips_forward_s": lpips_t,
    }
    write_result("perceptual", figures, device=str(device))
    print(figures)
    return figures


if __name__ == "__main__":
    main()

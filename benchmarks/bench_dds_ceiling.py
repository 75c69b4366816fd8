"""How much of the source's part can the target generator draw at all? (the DDS inside ceiling)

Dual-Domain Synthesis outputs ``G_t`` of an optimised latent, so its image inside the part mask
can be no closer to the source than the closest image ``G_t`` can draw there. This measures
that closeness directly: for each latent, W+ of ``G_t`` (noise maps fixed to the paired
latent's, as in DDS) starts from the paired latent and is optimised by Adam on the masked MSE
to ``x_s`` inside ``y_s`` alone, with nothing asked outside. The inside PSNR gain it reaches
over the plain target image is an empirical upper bound for every DDS variant (z lives inside
W+, and every variant also pays for the outside): if it stays below a goal, no setting of the
optimisation meets that goal with this pair of generators. ``--noise`` also frees the noise
maps, a looser bound on what the generator can draw with any input.

The same latents, masks and part segmenter as ``bench_dual_domain --part dds``; results go
to ``results/dual_domain.json``, section ``dds_ceiling`` (``dds_ceiling_<domain>`` for a near
domain)::

    PYTHONPATH=. python -m benchmarks.bench_dds_ceiling --domain ink
    PYTHONPATH=. python -m benchmarks.bench_dds_ceiling --domain big-ears
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from benchmarks.bench_dual_domain import (
    DEMO,
    EVAL_SEED,
    SEGMENTER,
    adapted_model,
    latents,
    load,
    merge,
    section_name,
)


def inside_ceiling(
    gen_t, inputs, steps: int, lr: float, free_noise: bool = False
) -> tuple[np.ndarray, list[float]]:
    """Per-item best inside PSNR (dB) of ``G_t`` to ``x_s`` over ``steps`` Adam steps, and the
    mean inside PSNR at each step (the first entry is the plain target's)."""
    from latent_atelier.editors.dual_domain.dds import masked_psnr_items
    from latent_atelier.editors.dual_domain.losses import masked_mse
    from latent_atelier.models.generator import Latent

    start = inputs.latent
    w = {k: v.detach().clone().requires_grad_(True) for k, v in start.w.items()}
    noise = [n.detach().clone().requires_grad_(free_noise) for n in start.noise]
    params = list(w.values()) + (noise if free_noise else [])
    opt = torch.optim.Adam(params, lr=lr)
    inside = inputs.y_s
    best = masked_psnr_items(inputs.x_t, inputs.x_s, inside).detach()
    curve = [float(best.mean())]
    for _ in range(steps):
        image = gen_t.synthesize(Latent(w, noise)).image
        loss = masked_mse(image, inputs.x_s, inside)
        opt.zero_grad(set_to_none=True)
        loss.sum().backward()
        opt.step()
        with torch.no_grad():
            now = masked_psnr_items(image, inputs.x_s, inside)
            best = torch.maximum(best, now)
            curve.append(float(now.mean()))
    with torch.no_grad():
        final = masked_psnr_items(gen_t.synthesize(Latent(w, noise)).image, inputs.x_s, inside)
    return torch.maximum(best, final).cpu().numpy(), curve


def main(argv: list[str] | None = None) -> int:
    """Measure the ceiling for the chosen domain and merge it into the results file."""
    from latent_atelier.editors.dual_domain.compat import frozen
    from latent_atelier.editors.dual_domain.dds import masked_psnr_items, paired_inputs
    from latent_atelier.editors.dual_domain.segmenter import PartSegmenter

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--domain", default="ink", help="ink, or the DiceBear style of a near-domain adaptation")
    p.add_argument("--n", type=int, default=32, help="latents (seeds 1000, 1001, ... as the dds part)")
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--lr", type=float, default=0.03)
    p.add_argument("--noise", action="store_true", help="also optimise the noise maps")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)

    t0 = time.perf_counter()
    gen_s, gen_t = load(DEMO), load(adapted_model(args.domain))
    seg = PartSegmenter.load(SEGMENTER)
    lats = latents(gen_s, args.n, seed=EVAL_SEED)
    y_s = (seg.predict(gen_s, lats) > 0.5).float()
    y_t = (seg.predict(gen_t, lats) > 0.5).float()
    inputs = paired_inputs(gen_s, gen_t, lats, y_s, y_t)
    plain = masked_psnr_items(inputs.x_t, inputs.x_s, y_s).numpy()
    with frozen(gen_s, gen_t):
        best, curve = inside_ceiling(gen_t, inputs, args.steps, args.lr, free_noise=args.noise)
    gain = best - plain
    key = "w+_and_noise" if args.noise else "w+"
    section = section_name("dds_ceiling", args.domain)
    figures = {
        "what": "best inside PSNR of G_t to the source, inside term only (an upper bound for DDS)",
        "n_latents": args.n,
        "steps": args.steps,
        "lr": args.lr,
        "domain": args.domain,
        "direction": f"demo (G_A) part into {args.domain} (G_B)",
        "part_fraction_s": float(y_s.mean()),
    }
    bound = {
        "psnr_in_plain_target": float(plain.mean()),
        "psnr_in_ceiling": float(best.mean()),
        "gain_db_mean": float(gain.mean()),
        "gain_db_median": float(np.median(gain)),
        "frac_gain_ge_3db": float((gain >= 3).mean()),
        "curve_every_50": [*curve[::50], curve[-1]],
        "seconds": time.perf_counter() - t0,
    }

    def add_bound(current: dict) -> dict:
        # the other space's bound (w+ or w+ and noise) stays beside this one
        return {**figures, "bounds": {**current.get("bounds", {}), key: bound}}

    merge(section, add_bound)
    share = float((gain >= 3).mean())
    print(f"{args.domain} {key}: inside ceiling gain {gain.mean():+.2f} dB (>= 3 dB on {share:.0%})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

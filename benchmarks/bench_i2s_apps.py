"""Image2StyleGAN++ applications: speed of batched inpainting variants and quality figures.

- inpainting: ``n`` variants optimised as one batch vs one after another (same steps); at
  the default steps, how much the variants differ inside the hole and agree outside;
- crossover: masked PSNR to photo 1 inside / photo 2 outside, and the seam's gradient energy
  as a ratio of naive cut-and-paste;
- scribble: PSNR outside the blurred scribble area, and how far the colour moved inside;
- style transfer: masked Gram loss after / before, inside PSNR vs a plain masked embedding;
- attribute transfer: seconds per transfer and the largest change outside the mask's reach.

    python -m benchmarks.bench_i2s_apps [--model SPEC] [--steps 100] [--variants 3]
        [--only crossover scribble] [--crossover-pairs 8]
"""

from __future__ import annotations

import argparse
import json
import time

import cv2
import numpy as np
import torch

from benchmarks.bench_inpaint import _load_model, eval_images
from benchmarks.common import RESULTS_DIR, write_result


def _psnr(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> float:
    mse = float(((a - b) ** 2 * w[..., None]).sum() / (3 * max(float(w.sum()), 1e-8)))
    return float(10 * np.log10(1.0 / max(mse, 1e-12)))


def _seam_energy(img: np.ndarray, col: int, half: int) -> float:
    """Horizontal gradient energy in the ``2 * half`` columns of differences around ``col``."""
    return float((np.diff(img, axis=1)[:, col - half : col + half] ** 2).sum())


def _cut_energy(img: np.ndarray, col: int) -> float:
    """Energy of the step between columns ``col - 1`` and ``col`` only (where the cut is)."""
    return float((np.diff(img, axis=1)[:, col - 1] ** 2).sum())


def _peak_column_energy(img: np.ndarray, col: int, half: int) -> float:
    """The largest energy of one column of horizontal differences within ``half`` of ``col``:
    where a seam is, it is the strongest column, however far the blend spreads it."""
    per_column = (np.diff(img, axis=1)[:, col - half : col + half] ** 2).sum(axis=(0, 2))
    return float(per_column.max())


def bench_variants(gen, photo: np.ndarray, n: int, steps: int) -> dict:
    """Seconds for ``n`` fills as one batch vs ``n`` single runs."""
    from latent_atelier.editors.i2s.inpaint import InpaintParams, inpaint
    from latent_atelier.editors.masks import hole_mask

    hole = hole_mask("center_box", gen.resolution)
    kw = {"steps_w": steps, "steps_noise": steps}
    inpaint(gen, photo, hole, InpaintParams(variants=n, steps_w=1, steps_noise=1))  # warm-up (VGG, allocator)
    t0 = time.perf_counter()
    inpaint(gen, photo, hole, InpaintParams(variants=n, **kw))
    batched = time.perf_counter() - t0
    t0 = time.perf_counter()
    for s in range(n):
        inpaint(gen, photo, hole, InpaintParams(variants=1, seed=s, **kw))
    sequential = time.perf_counter() - t0
    return {
        "n_variants": n,
        "batched_s": batched,
        "sequential_s": sequential,
        "speedup": sequential / batched,
    }


def bench_agreement(gen, photo: np.ndarray, n: int) -> dict:
    """``n`` fills of a centre box at the operation's default steps (200 W+, 1000 noise):
    how different they are inside, how alike outside."""
    from latent_atelier.editors.i2s.inpaint import InpaintParams, inpaint
    from latent_atelier.editors.masks import hole_mask

    hole = hole_mask("center_box", gen.resolution)
    out = inpaint(gen, photo, hole, InpaintParams(variants=n))
    return {"n_variants": n, **_variant_agreement(out.composites, photo, hole)}


def _variant_agreement(composites: list[np.ndarray], photo: np.ndarray, hole: np.ndarray) -> dict:
    """Smallest pairwise LPIPS between the fills (whole composites; they differ only in the
    hole and its blend ring), and the lowest PSNR outside the hole (ring included) between
    two fills and between a fill and the photo."""
    import itertools

    from latent_atelier.models.perceptual import lpips

    pairs = list(itertools.combinations(composites, 2))
    return {
        "min_pairwise_lpips": min((float(lpips(a, b)) for a, b in pairs), default=0.0),
        "min_pairwise_psnr_outside_hole": min((_psnr(a, b, 1.0 - hole) for a, b in pairs), default=0.0),
        "min_psnr_outside_hole_vs_photo": min(_psnr(c, photo, 1.0 - hole) for c in composites),
    }


def bench_crossover(gen, pairs: list[tuple[np.ndarray, np.ndarray]], steps: int, blur: float = 0.05) -> dict:
    """Crossover with the left half from photo 1, on each pair; the means and each pair.

    Gradient energy along the mask border, ours / naive cut-and-paste, three ways:

    - ``peak_column_energy_ratio`` (the headline): the strongest column of horizontal
      gradient energy within s/16 columns of the border, ours, over the naive cut's column;
    - ``cut_energy_ratio``: the step at the border column alone;
    - ``seam_energy_ratio_vs_cut_and_paste``: all the energy within s/16 columns. It also
      counts the photos' own edges in that band (which a faithful crossover keeps), so
      ``photo_texture_share`` gives the part of the naive band energy that is the photos'
      texture rather than the cut.
    """
    from latent_atelier.editors.i2s.crossover import CrossoverParams, crossover
    from latent_atelier.editors.masks import blur_mask

    s = gen.resolution
    mask = np.zeros((s, s), np.float32)
    mask[:, : s // 2] = 1.0
    inner = np.zeros_like(mask)
    inner[:, : int(s * 0.35)] = 1.0
    outer = inner[:, ::-1].copy()
    half = max(2, s // 16)
    rows = []
    for p1, p2 in pairs:
        out = crossover(
            gen,
            p1,
            p2,
            blur_mask(mask, blur),
            CrossoverParams(steps_init=steps, steps_w=steps, steps_noise=steps),
        )
        naive = p1 * mask[..., None] + p2 * (1 - mask[..., None])
        naive_band = max(_seam_energy(naive, s // 2, half), 1e-12)
        rows.append(
            {
                "psnr_photo1_inside": _psnr(out.image, p1, inner),
                "psnr_photo2_outside": _psnr(out.image, p2, outer),
                "psnr_reverse_inside": _psnr(out.image, p2, inner),
                "seam_energy_ratio_vs_cut_and_paste": _seam_energy(out.image, s // 2, half) / naive_band,
                "photo_texture_share": 1.0 - _cut_energy(naive, s // 2) / naive_band,
                "cut_energy_ratio": _cut_energy(out.image, s // 2) / max(_cut_energy(naive, s // 2), 1e-12),
                "peak_column_energy_ratio": _peak_column_energy(out.image, s // 2, half)
                / max(_cut_energy(naive, s // 2), 1e-12),
            }
        )
    means = {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
    worst = float(max(r["peak_column_energy_ratio"] for r in rows))
    return {
        "blur": blur,
        "n_pairs": len(rows),
        **means,
        "worst_peak_column_energy_ratio": worst,
        "goal_met": means["peak_column_energy_ratio"] <= 1 / 3,
        "per_pair": rows,
    }


def bench_scribble(gen, photo: np.ndarray, steps: int) -> dict:
    """A red disc scribbled on the photo."""
    from latent_atelier.editors.i2s.scribble import ScribbleParams, scribble_edit

    s = gen.resolution
    mask = np.zeros((s, s), np.float32)
    cv2.circle(mask, (s // 2, s // 3), max(2, s // 6), 1.0, -1)
    red = np.array([0.9, 0.1, 0.1], np.float32)
    scribbled = photo * (1 - mask[..., None]) + red * mask[..., None]
    out = scribble_edit(
        gen, photo, scribbled, mask, ScribbleParams(steps_embed=steps, steps_w=steps, steps_noise=steps)
    )
    before = float(np.linalg.norm(photo - red, axis=-1)[mask > 0].mean())
    after = float(np.linalg.norm(out.composite - red, axis=-1)[mask > 0].mean())
    return {
        "psnr_outside_soft": _psnr(out.composite, photo, 1.0 - out.blend),
        "colour_distance_before": before,
        "colour_distance_after": after,
    }


def bench_style(gen, photo: np.ndarray, style: np.ndarray, steps: int, style_weight: float) -> dict:
    """Keep a centre box, restyle the rest."""
    from latent_atelier.editors.i2s.style_transfer import StyleTransferParams, local_style_transfer
    from latent_atelier.editors.inversion.embed import EmbedParams, embed_image
    from latent_atelier.editors.inversion.embed_core import from_numpy_image, from_numpy_mask, to_numpy_image
    from latent_atelier.editors.masks import blur_mask
    from latent_atelier.models.perceptual import get_vgg, gram_style_loss

    s = gen.resolution
    mask = np.zeros((s, s), np.float32)
    mask[s // 5 : 4 * s // 5, s // 4 : 3 * s // 4] = 1.0
    mb = blur_mask(mask, 0.03)
    out = local_style_transfer(
        gen,
        photo,
        style,
        mb,
        StyleTransferParams(steps_embed=steps, steps_w=steps, steps_noise=steps, style_weight=style_weight),
    )
    vgg = get_vgg(next(gen.parameters()).device)

    def gram(img: np.ndarray) -> float:
        with torch.no_grad():
            a = vgg(from_numpy_image(img), layers=("conv3_3",))
            b = vgg(from_numpy_image(style), layers=("conv3_3",))
            return float(gram_style_loss(a, b, from_numpy_mask(1 - mb), None))

    with torch.no_grad():
        start = to_numpy_image(gen.synthesize(out.start).image)
    plain = embed_image(gen, photo, EmbedParams(steps_w=2 * steps, steps_noise=steps), mask=mb)
    inner = (mb > 0.99).astype(np.float32)
    return {
        "style_weight": style_weight,
        "gram_after_over_before": gram(out.image) / gram(start),
        "psnr_inside": _psnr(out.image, photo, inner),
        "psnr_inside_plain_embedding": _psnr(plain.image, photo, inner),
    }


def bench_attributes(gen) -> dict:
    """Copy at the paper's 4th layer between two random latents."""
    from latent_atelier.editors.i2s.attributes import attribute_transfer, influence_radius_px
    from latent_atelier.editors.inversion.embed_core import to_numpy_image
    from latent_atelier.editors.layer_scaling import paper_feature_layers
    from latent_atelier.editors.masks import dilate_mask

    s = gen.resolution
    l1, l2 = gen.random_latent(1, truncation=0.7), gen.random_latent(2, truncation=0.7)
    mask = np.zeros((s, s), np.float32)
    mask[:, : s // 2] = 1.0
    layers = paper_feature_layers(gen.layer_names, gen.n_latent, 4)
    t0 = time.perf_counter()
    out = attribute_transfer(gen, l1, l2, mask, layers=layers)
    seconds = time.perf_counter() - t0
    with torch.no_grad():
        base = to_numpy_image(gen.synthesize(l1).image)
    reach = dilate_mask(mask, influence_radius_px(gen, layers[0])) > 0
    diff = np.abs(out.image - base).max(-1)
    return {
        "layers": layers,
        "seconds": seconds,
        "outside_reach_fraction": float((~reach).mean()),
        "max_change_outside_reach": float(diff[~reach].max()) if (~reach).any() else 0.0,
        "mean_change_inside_mask": float(diff[mask > 0].mean()),
    }


def main(argv: list[str] | None = None) -> dict:
    """Run every application once and write ``results/bench_i2s_apps.json``."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default=None, help="model spec (default: the demo model if present)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--steps", type=int, default=100, help="steps per optimisation phase")
    p.add_argument("--variants", type=int, default=3)
    p.add_argument("--style-weight", type=float, default=2e-4, help="paper: 5e-7")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--crossover-pairs", type=int, default=8, help="photo pairs for the crossover")
    p.add_argument("--crossover-blur", type=float, default=0.05)
    p.add_argument(
        "--only",
        nargs="+",
        default=None,
        choices=(
            "inpaint_variants",
            "inpaint_agreement",
            "crossover",
            "scribble",
            "style_transfer",
            "attribute_transfer",
        ),
        help="run only these parts (the others are kept from the last result file)",
    )
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    gen, note = _load_model(args.model, args.device)
    sets = eval_images(gen.resolution, 2)
    images = sets.get("portraits_eval") or sets["sample_photos"]
    p1, p2 = images[0], images[1]
    # further crossover pairs from a larger draw; its first and last image are p1 and p2
    more = eval_images(gen.resolution, 2 * args.crossover_pairs + 1)
    more = more.get("portraits_eval") or more["sample_photos"]
    pairs = [(p1, p2)] + [
        (more[2 * i + 1], more[2 * i + 2])
        for i in range(args.crossover_pairs - 1)
        if 2 * i + 2 < len(more) - 1
    ]
    parts = {
        "inpaint_variants": lambda: bench_variants(gen, p1, args.variants, args.steps),
        "inpaint_agreement": lambda: bench_agreement(gen, p1, args.variants),
        "crossover": lambda: bench_crossover(gen, pairs, args.steps, args.crossover_blur),
        "scribble": lambda: bench_scribble(gen, p1, args.steps),
        "style_transfer": lambda: bench_style(
            gen, p1, sets["sample_photos"][0], args.steps, args.style_weight
        ),
        "attribute_transfer": lambda: bench_attributes(gen),
    }
    figures = {"model": note, "resolution": gen.resolution, "steps": args.steps}
    previous = RESULTS_DIR / "bench_i2s_apps.json"
    if args.only and previous.is_file():
        figures = {**json.loads(previous.read_text())["figures"], **figures}
    for name, run in parts.items():
        if args.only is None or name in args.only:
            figures[name] = run()
            print(name, figures[name], flush=True)
    write_result("bench_i2s_apps", figures, device=args.device)
    return figures


if __name__ == "__main__":
    main()

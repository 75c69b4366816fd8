"""Dual-Domain Synthesis on the demo model and its few-shot adaptations (CPU).

``--domain ink`` (default) is the far domain, the demo model adapted to ten ink-filtered
portraits; ``--domain big-ears`` (or another DiceBear style) the near one, adapted to ten
portraits of that one style. Sections other than the ink one carry the domain's name.

Parts (``--part``, each merged into ``results/dual_domain.json``):

- ``labeller``: the reference part labeller, the ruler (eyes + nose + mouth; a face parser
  trained on the synthetic portraits' exact labels); its IoU on held-out portraits;
- ``segmenter``: the one-shot part segmenter on generator features, from (a) one held-out
  portrait embedded in the demo model with its exact labels, (b) one generated image
  labelled by the ruler (and, not shipped, the same from several images); IoU against the
  ruler on 64 generated images; the better one-shot segmenter is written next to the demo
  model;
- ``noise`` (not in the default run): how far the ruler's part masks move when only the
  noise maps are redrawn, and whether the shipped segmenter's masks move with them;
  ``--source`` measures another generator here and in ``segmenter`` (sections get its name);
- ``masks``: IoU between each segmenter's masks of ``G_A(z)`` and ``G_B(z)``;
- ``adapt``: the adapted model against its domain: LPIPS(``G_B(z)``, ink(``G_A(z)``)) vs
  shuffled pairs on 64 latents (a style domain, with no filter: LPIPS(``G_B(z)``, ``G_A(z)``)),
  Frechet distances to the domain's held-out set;
- ``dds``: the optimisation for N latents and S steps per variant/space, by default the
  paper's direction (the many-shot domain's eyes/nose/mouth into the adapted domain;
  ``--direction adapted-into-demo`` the other way), in/out PSNR, seam energy, the
  paper's Table 1 distances; the figure.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from benchmarks.common import RESULTS_DIR, machine_info, repo_relative
from benchmarks.eval_common import REPO, frechet_distance, vgg_features
from latent_atelier.editors.dual_domain.dds import STARTS

RESULT = RESULTS_DIR / "dual_domain.json"
WORK = REPO / "runs" / "dds_bench"
DATA = REPO / "data" / "portraits128"
DEMO = REPO / "resources" / "models" / "furrygan-demo.safetensors"
SEGMENTER = REPO / "resources" / "models" / "furrygan-demo.parts.safetensors"
EVAL_SEED = 1000  # latents of every generated-image measure: seeds 1000, 1001, ...


def adapted_model(domain: str) -> Path:
    """The shipped adaptation of the demo model to ``domain``."""
    return REPO / "resources" / "models" / f"furrygan-{domain}.safetensors"


def section_name(base: str, domain: str) -> str:
    """Results section: the ink domain keeps the plain names, others get a suffix."""
    return base if domain == "ink" else f"{base}_{domain}"


def merge(section: str, figures: dict | Callable[[dict], dict]) -> None:
    """Write ``figures`` under ``section`` of the results file (other sections kept; a lock file
    lets several benchmark processes merge into it at once, and the write is atomic).

    ``figures`` may be a function of the section's current content, called under the lock, for
    a writer that adds to a section rather than replacing it."""
    import fcntl

    from latent_atelier.models.atomic import atomic_write_bytes

    empty = {"benchmark": "dual_domain", "figures": {}}
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    with open(RESULT.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        payload = json.loads(RESULT.read_text()) if RESULT.is_file() else empty
        if callable(figures):
            figures = figures(dict(payload["figures"].get(section, {})))
        payload["figures"][section] = figures
        payload.setdefault("machines", {})[section] = machine_info()
        atomic_write_bytes(RESULT, (json.dumps(payload, indent=2, default=float) + "\n").encode())
    print(f"wrote {RESULT} [{section}]")


def to_numpy(x: torch.Tensor) -> np.ndarray:
    return ((x.detach().clamp(-1, 1) + 1) * 0.5).permute(0, 2, 3, 1).cpu().numpy().astype(np.float32)


def latents(gen, n: int, seed: int = EVAL_SEED):
    from latent_atelier.models.generator import Latent

    return Latent.cat([gen.random_latent(seed + i) for i in range(n)])


def load(spec) -> torch.nn.Module:
    from latent_atelier.models.zoo import load_model

    gen = load_model(str(spec), "cpu").eval()
    gen.requires_grad_(False)
    return gen


def portraits(split: str, n: int, size: int, start: int = 0) -> tuple[np.ndarray, np.ndarray]:
    from benchmarks.dds_labeller import part_masks
    from benchmarks.eval_common import resize_stack
    from latent_atelier.models.training.synthetic import PortraitDataset

    ds = PortraitDataset(DATA, split)
    images, _alpha, labels = ds.batch(np.arange(start, start + n))
    return resize_stack(images.astype(np.float32) / 255.0, size), part_masks(labels, size)


# ---------------------------------------------------------------- labeller
def part_labeller(args) -> None:
    """The ruler (a parser trained on the exact labels) against the exact part masks."""
    from benchmarks.dds_labeller import RULER_MODEL, ParserRuler, iou

    t0 = time.perf_counter()
    ruler = ParserRuler()
    ev_imgs, ev_masks = portraits("eval", 200, ruler.size)
    scores = iou(ruler.predict(ev_imgs), ev_masks)
    merge(
        "labeller",
        {
            "ruler": f"the frozen face parser of {RULER_MODEL}",
            "eval_images": 200,
            "iou_mean": float(scores.mean()),
            "iou_median": float(np.median(scores)),
            "part_fraction": float(ev_masks.mean()),
            "seconds": time.perf_counter() - t0,
        },
    )


# ---------------------------------------------------------------- segmenter
def source_suffix(args) -> str:
    """Results-section suffix of ``--source``: none for the demo model, else its file stem."""
    source = Path(args.source)
    return "" if source.resolve() == DEMO.resolve() else f"_{source.stem}"


def part_segmenter(args) -> None:
    from benchmarks.dds_labeller import ParserRuler, iou
    from benchmarks.eval_common import InversionSettings
    from latent_atelier.editors.dual_domain.segmenter import train_segmenter
    from latent_atelier.models.generator import Latent

    gen_a = load(args.source)
    suffix = source_suffix(args)
    ruler = ParserRuler()
    t0 = time.perf_counter()
    # (a) one held-out portrait embedded, with its exact labels
    img, mask = portraits("eval", 1, 64, start=args.shot_index)
    settings = InversionSettings(steps_w=args.embed_steps, steps_noise=args.embed_steps // 2)
    from latent_atelier.editors.inversion.embed import Mk_n, W_l, initial_latent

    x = torch.as_tensor(img).permute(0, 3, 1, 2) * 2 - 1
    lat = initial_latent(gen_a, "mean", 0, batch=1)
    lat = W_l(gen_a, lat, x, steps=settings.steps_w, lr=settings.lr_w)
    lat = Mk_n(gen_a, lat, x, steps=settings.steps_noise, lr=settings.lr_noise)
    seg_a = train_segmenter(
        gen_a, lat, torch.from_numpy(mask).unsqueeze(1), "eyes+nose+mouth", steps=args.seg_steps
    )
    # (b) one generated image labelled by the ruler (the paper's one shot)
    lat_b = gen_a.random_latent(args.shot_seed)
    with torch.no_grad():
        label_b = ruler.predict(to_numpy(gen_a.synthesize(lat_b).image))
    seg_b = train_segmenter(
        gen_a, lat_b, torch.from_numpy(label_b).unsqueeze(1), "eyes+nose+mouth", steps=args.seg_steps
    )
    train_s = time.perf_counter() - t0
    # (c) not shipped: the same from several labelled images, for what the features allow
    lat_c = Latent.cat([gen_a.random_latent(args.shot_seed + 1000 + i) for i in range(args.ceiling_shots)])
    with torch.no_grad():
        label_c = ruler.predict(to_numpy(gen_a.synthesize(lat_c).image))
    seg_c = train_segmenter(
        gen_a, lat_c, torch.from_numpy(label_c).unsqueeze(1), "eyes+nose+mouth", steps=args.seg_steps
    )
    lats = latents(gen_a, args.n_masks)
    with torch.no_grad():
        ref = ruler.predict(to_numpy(gen_a.synthesize(lats).image))
    figures: dict = {
        "n_latents": args.n_masks,
        "latent_seeds": [EVAL_SEED, EVAL_SEED + args.n_masks - 1],
        "seg_steps": args.seg_steps,
        "embed_steps_w": settings.steps_w,
        "train_seconds": train_s,
    }
    best, best_iou = None, -1.0
    routes = (
        ("embedded_portrait_exact_labels", seg_a),
        ("generated_image_ruler_labels", seg_b),
        (f"{args.ceiling_shots}_generated_images_ruler_labels", seg_c),
    )
    for name, seg in routes:
        one_shot = seg is not seg_c
        if one_shot and not suffix:
            seg.save(WORK / f"segmenter_{name}.safetensors")
        pa = (seg.predict(gen_a, lats) > 0.5).float()[:, 0].numpy()
        scores = iou(pa, ref)
        row = {
            "iou_vs_ruler_mean": float(scores.mean()),
            "iou_vs_ruler_median": float(np.median(scores)),
            "frac_ge_0.7": float((scores >= 0.7).mean()),
            "mask_fraction": float(pa.mean()),
        }
        figures[name] = row
        if one_shot and row["iou_vs_ruler_mean"] > best_iou:
            best, best_iou = (name, seg), row["iou_vs_ruler_mean"]
    figures["ruler_on_generated_mask_fraction"] = float(ref.mean())
    figures["source"] = repo_relative(args.source)
    if not suffix:  # the demo model's segmenter ships
        figures["shipped"] = best[0]
        best[1].save(SEGMENTER)
    merge(f"segmenter{suffix}", figures)


def part_noise(args) -> None:
    """How far the parts move with the noise: the ruler's part masks of ``G(w, noise)``
    against those of ``G(w, other noise)`` (only the noise maps redrawn), and, for the
    ruler's own consistency, against its reading of the mirrored image. For the demo model
    also the shipped segmenter's masks: it reads features taken after the noise is added,
    so it can follow the redraw; whether it does is what its IoU against the ruler on the
    redrawn images, and against the ruler's masks of the first images, tells."""
    from benchmarks.dds_labeller import ParserRuler, iou
    from latent_atelier.editors.dual_domain.segmenter import PartSegmenter
    from latent_atelier.models.generator import Latent

    gen, ruler = load(args.source), ParserRuler()
    lats = latents(gen, args.n_masks)
    draw = torch.Generator().manual_seed(EVAL_SEED + 77)
    redrawn = Latent(lats.w, [torch.randn(n.shape, generator=draw) for n in lats.noise])
    with torch.no_grad():
        x, x2 = to_numpy(gen.synthesize(lats).image), to_numpy(gen.synthesize(redrawn).image)
    ref, other = ruler.predict(x), ruler.predict(x2)
    mirrored = ruler.predict(np.ascontiguousarray(x[:, :, ::-1]))[:, :, ::-1]
    figures = {
        "source": repo_relative(args.source),
        "n_latents": args.n_masks,
        "iou_same_w_noise_redrawn": float(iou(ref, other).mean()),
        "iou_ruler_vs_mirrored_reading": float(iou(ref, np.ascontiguousarray(mirrored)).mean()),
        "mean_abs_pixel_change_noise_redrawn": float(np.abs(x - x2).mean()),
    }
    if not source_suffix(args):
        seg = PartSegmenter.load(SEGMENTER)
        seg_x = (seg.predict(gen, lats) > 0.5).float()[:, 0].numpy()
        seg_x2 = (seg.predict(gen, redrawn) > 0.5).float()[:, 0].numpy()
        figures["shipped_segmenter"] = {
            "iou_same_w_noise_redrawn": float(iou(seg_x, seg_x2).mean()),
            "iou_vs_ruler": float(iou(seg_x, ref).mean()),
            "iou_vs_ruler_noise_redrawn": float(iou(seg_x2, other).mean()),
            "iou_redrawn_vs_ruler_of_first": float(iou(seg_x2, ref).mean()),
        }
    merge(f"noise{source_suffix(args)}", figures)


def part_masks(args) -> None:
    """IoU between the part masks of ``G_A(z)`` and ``G_B(z)`` (each trained segmenter).

    A style domain is still a colour portrait, so there the ruler also reads ``G_B(z)``.
    """
    from benchmarks.dds_labeller import ParserRuler, iou
    from latent_atelier.editors.dual_domain.segmenter import PartSegmenter

    gen_a, gen_b = load(DEMO), load(adapted_model(args.domain))
    lats = latents(gen_a, args.n_masks)
    figures: dict = {"n_latents": args.n_masks, "domain": args.domain}
    ruled_b = None
    if args.domain != "ink":
        with torch.no_grad():
            ruled_b = ParserRuler().predict(to_numpy(gen_b.synthesize(lats).image))
        figures["ruler_on_G_B_mask_fraction"] = float(ruled_b.mean())
    for path in sorted(WORK.glob("segmenter_*.safetensors")):
        seg = PartSegmenter.load(path)
        pa = (seg.predict(gen_a, lats) > 0.5).float()[:, 0].numpy()
        pb = (seg.predict(gen_b, lats) > 0.5).float()[:, 0].numpy()
        ab = iou(pa, pb)
        row = figures[path.stem.removeprefix("segmenter_")] = {
            "iou_a_vs_b_mean": float(ab.mean()),
            "iou_a_vs_b_median": float(np.median(ab)),
            "frac_ge_0.6": float((ab >= 0.6).mean()),
            "mask_fraction_b": float(pb.mean()),
        }
        if ruled_b is not None:
            row["iou_b_vs_ruler_mean"] = float(iou(pb, ruled_b).mean())
    merge(section_name("masks", args.domain), figures)


# ---------------------------------------------------------------- adaptation
def part_adapt(args) -> None:
    from benchmarks.eval_common import generated_samples
    from latent_atelier.models.perceptual import lpips
    from latent_atelier.models.training.synthetic.ink import ink_sketch_batch

    ink = args.domain == "ink"
    gen_a, gen_b = load(DEMO), load(adapted_model(args.domain))
    n = args.n_pairs
    lats = latents(gen_a, n)
    with torch.no_grad():
        a_img = to_numpy(gen_a.synthesize(lats).image)
        b_img = gen_b.synthesize(lats).image
    a_t = torch.from_numpy(a_img).permute(0, 3, 1, 2) * 2 - 1
    # the ink domain has a ground truth for each latent (the filter); a style domain has not,
    # so there the pairing is checked against the demo model's own image
    ref = torch.from_numpy(ink_sketch_batch(a_img)).permute(0, 3, 1, 2) * 2 - 1 if ink else a_t
    paired = lpips(b_img, ref).numpy()
    shuffled = lpips(b_img, ref.roll(1, 0)).numpy()
    held = np.load(REPO / "data" / args.domain / "held_out.npy").astype(np.float32)[: args.n_fd] / 255.0
    m = len(held)
    samp_a, _ = generated_samples(gen_a, m, seed=5000)
    samp_b, _ = generated_samples(gen_b, m, seed=5000)
    f_held, f_a, f_b = (vgg_features(x) for x in (held, samp_a, samp_b))
    fd_a, fd_b = (frechet_distance(f, f_held) for f in (f_a, f_b))
    state = REPO / "runs" / args.domain / "checkpoint" / "state.json"
    run = json.loads(state.read_text()) if state.is_file() else {}
    figures = {
        "domain": args.domain,
        "n_latents": n,
        "paired_reference": "ink(G_A(z))" if ink else "G_A(z)",
        "lpips_paired_mean": float(paired.mean()),
        "lpips_shuffled_mean": float(shuffled.mean()),
        "frac_paired_lower": float((paired < shuffled).mean()),
        "fd_samples": m,
        "fd_layer": "conv5_3",
        f"fd_G_A_to_{args.domain}": fd_a,
        f"fd_G_B_to_{args.domain}": fd_b,
        "fd_ratio_B_over_A": fd_b / fd_a,
        "adaptation_steps": run.get("step"),
        "adaptation_cpu_seconds": run.get("cpu_seconds"),
    }
    if ink:
        figures["lpips_source_vs_ink_of_source_mean"] = float(lpips(a_t, ref).numpy().mean())
        figures["fd_ink_of_G_A_to_ink"] = frechet_distance(vgg_features(ink_sketch_batch(samp_a)), f_held)
    merge(section_name("adapt", args.domain), figures)


# ---------------------------------------------------------------- DDS
def seam_energy(img: np.ndarray, region: np.ndarray) -> np.ndarray:
    """Mean squared gradient (summed over channels) on the 1-px band around ``region``'s border."""
    import cv2

    k = np.ones((3, 3), np.uint8)
    out = []
    for im, r in zip(img, region):
        r8 = (r > 0.5).astype(np.uint8)
        band = (cv2.dilate(r8, k) - cv2.erode(r8, k)) > 0
        gx = np.diff(im, axis=1, append=im[:, -1:])
        gy = np.diff(im, axis=0, append=im[-1:])
        g = (gx**2 + gy**2).sum(-1)
        out.append(float(g[band].mean()) if band.any() else 0.0)
    return np.asarray(out)


def paired_scores(a: np.ndarray, b: np.ndarray) -> dict:
    from latent_atelier.models.metrics import psnr, ssim

    return {
        "psnr": float(np.mean([psnr(x, y) for x, y in zip(a, b)])),
        "ssim": float(np.mean([ssim(x, y) for x, y in zip(a, b)])),
    }


def part_dds(args) -> None:
    from benchmarks.eval_common import generated_samples
    from latent_atelier.editors.dual_domain.compat import frozen
    from latent_atelier.editors.dual_domain.dds import DDSSettings, dual_domain_synthesis, paired_inputs
    from latent_atelier.editors.dual_domain.segmenter import PartSegmenter

    torch.set_num_threads(args.threads)
    gen_a, gen_b = load(DEMO), load(adapted_model(args.domain))
    seg = PartSegmenter.load(SEGMENTER)
    forward = args.direction == "demo-into-adapted"
    gen_s, gen_t = (gen_a, gen_b) if forward else (gen_b, gen_a)
    lats = latents(gen_a, args.n_dds, seed=EVAL_SEED)
    y_s = (seg.predict(gen_s, lats) > 0.5).float()
    y_t = (seg.predict(gen_t, lats) > 0.5).float()
    inputs = paired_inputs(gen_s, gen_t, lats, y_s, y_t)
    x_s, x_t, x_c = to_numpy(inputs.x_s), to_numpy(inputs.x_t), to_numpy(inputs.crossover)
    ref_s, _ = generated_samples(gen_s, args.n_ref, seed=5000)
    ref_t, _ = generated_samples(gen_t, args.n_ref, seed=5000)
    f_s, f_t, f_c = vgg_features(ref_s), vgg_features(ref_t), vgg_features(x_c)
    region = y_s[:, 0].numpy()
    seam_naive = seam_energy(x_c, region)
    seam_target = seam_energy(x_t, region)
    figures: dict = {
        "n_latents": args.n_dds,
        "steps": args.steps,
        "lr": args.lr,
        "part_weight": args.part_weight,
        "start": args.start,
        "lr_rampdown": args.lr_rampdown,
        "domain": args.domain,
        "direction": f"demo (G_A) part into {args.domain} (G_B)"
        if forward
        else f"{args.domain} (G_B) part into demo (G_A)",
        "part_fraction_s": float(y_s.mean()),
        "part_fraction_t": float(y_t.mean()),
        "seam_naive_mean": float(seam_naive.mean()),
        "seam_target_own_mean": float(seam_target.mean()),
        "reference_sets": args.n_ref,
        "combos": {},
    }
    results = {}
    for combo in args.combos.split(","):
        variant, space = combo.split("/")
        t0 = time.perf_counter()
        with frozen(gen_s, gen_t):
            out = dual_domain_synthesis(
                gen_s,
                gen_t,
                inputs,
                DDSSettings(
                    variant=variant,
                    space=space,
                    steps=args.steps,
                    lr=args.lr,
                    part_weight=args.part_weight,
                    start=args.start,
                    lr_rampdown=args.lr_rampdown,
                ),
            )
        secs = time.perf_counter() - t0
        res = to_numpy(out.image)
        results[combo] = res
        f_r = vgg_features(res)
        seam = seam_energy(res, region)
        fd = {
            "to_source_domain": frechet_distance(f_r, f_s),
            "to_crossovers": frechet_distance(f_r, f_c),
            "to_target_domain": frechet_distance(f_r, f_t),
        }
        gain = out.metrics["psnr_in"] - out.metrics["psnr_in_target"]
        figures["combos"][combo] = {
            "seconds": secs,
            "seconds_per_latent_step": secs / (args.n_dds * max(args.steps, 1)),
            "est_minutes_32x300": secs / (args.n_dds * max(args.steps, 1)) * 32 * 300 / 60,
            "psnr_in_to_source": float(out.metrics["psnr_in"].mean()),
            "psnr_in_plain_target": float(out.metrics["psnr_in_target"].mean()),
            "psnr_in_gain_db": float(gain.mean()),
            "frac_gain_ge_3db": float((gain >= 3).mean()),
            "psnr_out_to_target": float(out.metrics["psnr_out"].mean()),
            "seam_mean": float(seam.mean()),
            "seam_ratio_vs_naive": float(seam.mean() / max(seam_naive.mean(), 1e-12)),
            "fd": fd,
            "table1_order_ok": fd["to_target_domain"] < fd["to_crossovers"] < fd["to_source_domain"],
            "paired_to_source": paired_scores(res, x_s),
            "paired_to_crossover": paired_scores(res, x_c),
            "paired_to_target": paired_scores(res, x_t),
            "loss_first_last": [out.losses[0], out.losses[-1]] if out.losses else [],
        }
        merge(section_name(args.section, args.domain), figures)
        if args.figure != "none":
            figure = args.figure or str(REPO / "docs" / "images" / f"dds_{args.domain}.png")
            save_figure(x_s, x_t, x_c, results, figure)


def save_figure(x_s, x_t, x_c, results: dict, path: str, rows: int = 4, scale: int = 3) -> None:
    """source | target | naive cut-and-paste | DDS (each combo), ``rows`` latents."""
    from PIL import Image

    cols = [x_s, x_t, x_c, *results.values()]
    n = min(rows, len(x_s))
    gap = 2
    s = x_s.shape[1]
    grid = np.ones((n * (s + gap) - gap, len(cols) * (s + gap) - gap, 3), np.float32)
    for r in range(n):
        for c, col in enumerate(cols):
            grid[r * (s + gap) : r * (s + gap) + s, c * (s + gap) : c * (s + gap) + s] = col[r]
    im = Image.fromarray((grid * 255 + 0.5).astype(np.uint8))
    im = im.resize((im.width * scale, im.height * scale), Image.NEAREST)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    im.save(path)
    print(f"wrote {path} (columns: source, target, naive, {', '.join(results)})")


def main(argv: list[str] | None = None) -> int:
    """Run the selected parts (default: all, in order)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--part", default="labeller,segmenter,adapt,masks,dds")
    p.add_argument("--shot-index", type=int, default=0, help="eval portrait embedded for the one shot")
    p.add_argument("--shot-seed", type=int, default=7, help="seed of the labelled generated image")
    p.add_argument("--embed-steps", type=int, default=100)
    p.add_argument("--seg-steps", type=int, default=200)
    p.add_argument("--ceiling-shots", type=int, default=4, help="images for the unshipped comparison")
    p.add_argument("--n-masks", type=int, default=64)
    p.add_argument("--n-pairs", type=int, default=64)
    p.add_argument("--n-fd", type=int, default=256, help="images per set for the Frechet distances")
    p.add_argument("--n-dds", type=int, default=32)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--lr", type=float, default=0.01, help="Adam learning rate of the dds part")
    p.add_argument("--part-weight", type=float, default=1.0, help="DDS weight of the inside terms")
    p.add_argument("--start", default="default", choices=STARTS, help="DDS start (latent: W+ combos only)")
    p.add_argument(
        "--lr-rampdown", type=float, default=0.0, help="DDS: fraction of steps the rate falls over"
    )
    p.add_argument("--n-ref", type=int, default=256)
    p.add_argument("--combos", default="paper/z,code/w+,paper/w+,code/z")
    p.add_argument("--source", default=str(DEMO), help="generator of the segmenter and noise parts")
    p.add_argument("--domain", default="ink", help="ink, or the DiceBear style of a near-domain adaptation")
    p.add_argument(
        "--direction", choices=("demo-into-adapted", "adapted-into-demo"), default="demo-into-adapted"
    )
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--section", default="dds", help="results section of the dds part")
    p.add_argument("--figure", default="", help="default docs/images/dds_<domain>.png; 'none' skips it")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    parts = {
        "labeller": part_labeller,
        "segmenter": part_segmenter,
        "noise": part_noise,
        "adapt": part_adapt,
        "masks": part_masks,
        "dds": part_dds,
    }
    for name in args.part.split(","):
        print(f"== {name}")
        parts[name](args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Mask-guided portrait editing (issue 18): parser, reconstruction, edits, transfer, speed.

    python -m benchmarks.bench_mask_guided [--n 500] [--pairs 100] [--minutes 25]

On held-out synthetic portraits at the model's size (64 px):

- parsers: the frozen training parser and the separately trained evaluation parser, mIoU
  (per-class IoU pooled over all pixels, mean over the 10 classes) on the real images;
- paired reconstruction ``G(x, m, x, m)`` vs ``x``: PSNR, LPIPS; the label-to-image baseline
  trained for the same CPU time, on the same images;
- edited maps: photo i with the map of portrait i+1; the evaluation parser's reading of the
  output vs that map (mIoU), and the background PSNR (label 0 in both maps, eroded 2 px);
- component transfer: hair (code and shape) from portrait i+1, through the ``mask-edit``
  operation; is the output's hair region closer (LPIPS, pixels outside it blanked) to the
  donor's than to the original's?
- exact edits: the renderer draws the same avatar with its mouth, eyes or hair swapped; is
  the ``mask-edit`` result closer (LPIPS) to that re-render than the unedited photo?
- Frechet distance on VGG-16 conv5_3 features (reconstructions and edited-map outputs vs
  held-out), next to the train-vs-held-out floor; inference time per image (1 thread).

Writes ``benchmarks/results/mask_guided.json`` and ``docs/images/mask_guided_edits.png``.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from benchmarks import eval_common as ec
from benchmarks import mask_guided_cases as cases
from benchmarks.common import write_result

REPO = Path(__file__).resolve().parents[1]
GOALS = {
    "parser_miou": 0.85,
    "psnr": 24.0,
    "lpips": 0.15,
    "edit_miou": 0.75,
    "bg_psnr": 30.0,
    "transfer_share": 0.80,
    "exact_share": 0.75,
    "seconds": 0.2,
}


def _t(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(images).permute(0, 3, 1, 2).float() / 127.5 - 1.0


def _np01(t: torch.Tensor) -> np.ndarray:
    return ((t.clamp(-1, 1).permute(0, 2, 3, 1).numpy() + 1) / 2).astype(np.float32)


def miou(pred: np.ndarray, truth: np.ndarray, n_classes: int = 10) -> tuple[float, list[float]]:
    """Per-class IoU pooled over every pixel; the mean over classes present in either."""
    ious = []
    for c in range(n_classes):
        p, t = pred == c, truth == c
        union = np.logical_or(p, t).sum()
        ious.append(float(np.logical_and(p, t).sum() / union) if union else float("nan"))
    return float(np.nanmean(ious)), ious


def per_image_miou(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """mIoU of each image over the classes in its truth or prediction."""
    return np.array([miou(p[None], t[None])[0] for p, t in zip(pred, truth)])


def psnr(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Per-image PSNR of [0, 1] images (within ``mask`` when given; NaN where it is empty)."""
    err = (a - b) ** 2
    if mask is None:
        mse = err.reshape(len(a), -1).mean(1)
    else:
        m = mask[..., None].astype(np.float32)
        mse = (err * m).reshape(len(a), -1).sum(1) / np.maximum(m.reshape(len(a), -1).sum(1) * 3, 1)
        mse[m.reshape(len(a), -1).sum(1) == 0] = np.nan
    return 10 * np.log10(1.0 / np.maximum(mse, 1e-10))


def lpips_batch(a: np.ndarray, b: np.ndarray, batch: int = 50) -> np.ndarray:
    """LPIPS per image pair ([0, 1] float images)."""
    from latent_atelier.models.perceptual import get_lpips

    metric, out = get_lpips("cpu"), []
    with torch.no_grad():
        for lo in range(0, len(a), batch):
            x = torch.from_numpy(a[lo : lo + batch]).permute(0, 3, 1, 2) * 2 - 1
            y = torch.from_numpy(b[lo : lo + batch]).permute(0, 3, 1, 2) * 2 - 1
            out.append(metric(x.float(), y.float()).numpy())
    return np.concatenate(out)


def parse(parser, images01: np.ndarray, batch: int = 100) -> np.ndarray:
    out = []
    with torch.no_grad():
        for lo in range(0, len(images01), batch):
            x = torch.from_numpy(images01[lo : lo + batch]).permute(0, 3, 1, 2).float() * 2 - 1
            out.append(parser(x).argmax(1).numpy())
    return np.concatenate(out)


def generate(
    gen, images: np.ndarray, labels: np.ndarray, target_labels: np.ndarray, batch: int = 50
) -> np.ndarray:
    """``G(x, m, x, m_t)`` with the background read where both maps are background."""
    from latent_atelier.models.mask_guided.networks import background_mask

    out = []
    with torch.no_grad():
        for lo in range(0, len(images), batch):
            x = _t(images[lo : lo + batch])
            m = torch.from_numpy(labels[lo : lo + batch].astype(np.int64))
            mt = torch.from_numpy(target_labels[lo : lo + batch].astype(np.int64))
            bg = background_mask(m) * background_mask(mt)
            out.append(_np01(gen.synthesize(gen.encode(x, m), x, mt, bg)["image"]))
    return np.concatenate(out)


def baseline_images(baseline, labels: np.ndarray, batch: int = 50) -> np.ndarray:
    """The label-to-image baseline's pictures of ``labels``."""
    with torch.no_grad():
        return np.concatenate(
            [
                _np01(baseline(torch.from_numpy(labels[lo : lo + batch].astype(np.int64))))
                for lo in range(0, len(labels), batch)
            ]
        )


def masked_hair(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``image`` inside ``mask`` (H x W x 1), mid grey outside."""
    return np.where(mask, image, 0.5).astype(np.float32)


def eroded_background(a: np.ndarray, b: np.ndarray, px: int = 2) -> np.ndarray:
    """Label 0 in both maps, eroded by ``px`` pixels."""
    both = torch.from_numpy(((a == 0) & (b == 0)).astype(np.float32))[:, None]
    k = 2 * px + 1
    return (1 - F.max_pool2d(1 - both, k, 1, px))[:, 0].numpy() > 0.5


def run_op(model_path: str, photo01: np.ndarray, labels: np.ndarray, edited: np.ndarray, **extra):
    from latent_atelier.editors.operation import Progress
    from latent_atelier.editors.placement import Placement
    from latent_atelier.editors.registry import get_operation

    op = get_operation("mask-edit")
    take = extra.pop("take", "nothing")
    inputs = {
        "photo": photo01,
        "labels": labels,
        "edited": edited,
        "placement": Placement.from_box(0, 0, photo01.shape[1], photo01.shape[0], photo01.shape[:2]),
        **extra,
    }
    return op.run(None, inputs, op.Params(mask_model=model_path, take=take), Progress())


PARTS = ("parsers", "paired", "edited", "fd", "transfer", "exact", "speed")


def _floor_features(data: str, size: int, n: int, real_f: np.ndarray) -> float:
    """The train-vs-held-out Frechet distance (cached: it does not depend on the model)."""
    cache = REPO / "runs" / "eval" / f"mask_guided_fd_floor_{size}_{n}.npz"
    if cache.is_file():
        with np.load(cache) as z:
            return float(z["fd"])
    train = cases.train_images(data, size, n).astype(np.float32) / 255.0
    fd = ec.frechet_distance(ec.vgg_features(train), real_f)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, fd=fd)
    return fd


def main(argv: list[str] | None = None) -> int:
    """Run the evaluation (all parts, or ``--parts a,b``) and write the JSON."""
    from latent_atelier.models.mask_guided.io import load_model

    p = argparse.ArgumentParser(prog="bench_mask_guided")
    p.add_argument("--model", default=str(REPO / "resources" / "models" / "mask-guided-64.safetensors"))
    p.add_argument("--baseline", default=str(REPO / "runs" / "label-to-image-64" / "mask_guided.safetensors"))
    p.add_argument("--eval-parser", default=str(REPO / "runs" / "eval-parser-64.safetensors"))
    p.add_argument("--data", default=str(ec.DEFAULT_DATA))
    p.add_argument("--n", type=int, default=500)
    p.add_argument("--pairs", type=int, default=100)
    p.add_argument("--fd-n", type=int, default=500)
    p.add_argument("--parts", default=",".join(PARTS), help=f"comma list of {PARTS}")
    p.add_argument("--minutes", type=float, default=None, help="stop adding cases after this long")
    p.add_argument("--figure", default=str(REPO / "docs" / "images" / "mask_guided_edits.png"))
    args = p.parse_args(argv)
    parts = [x for x in args.parts.split(",") if x]
    unknown = set(parts) - set(PARTS)
    if unknown:
        p.error(f"unknown parts {sorted(unknown)}; choose from {PARTS}")
    torch.set_num_threads(1)
    t_start = time.time()
    deadline = None if args.minutes is None else t_start + 60 * args.minutes
    model = load_model(args.model)
    gen, size = model.generator, model.config.size
    images, labels = cases.held_out(args.data, size, args.n)
    x01 = images.astype(np.float32) / 255.0
    target = np.roll(labels, -1, axis=0)
    fig: dict = {
        "model": args.model,
        "model_info": model.info,
        "n_held_out": len(images),
        "goals": GOALS,
        "parts": parts,
    }
    need_eval_parser = {"parsers", "edited"} & set(parts)
    eval_parser = load_model(args.eval_parser).parser if need_eval_parser else None
    base_model = load_model(args.baseline) if {"paired", "edited", "fd"} & set(parts) else None

    if "parsers" in parts:  # on the real held-out images
        for name, parser in (("frozen_parser", model.parser), ("eval_parser", eval_parser)):
            m, per_class = miou(parse(parser, x01), labels)
            fig[name] = {"miou": m, "per_class_iou": per_class}
        fig["eval_parser_info"] = load_model(args.eval_parser).info
        print("parsers", fig["frozen_parser"]["miou"], fig["eval_parser"]["miou"], flush=True)

    recon = generate(gen, images, labels, labels) if {"paired", "fd"} & set(parts) else None
    base = baseline_images(base_model.baseline, labels) if {"paired", "fd"} & set(parts) else None
    if "paired" in parts:
        face = labels != 0
        fig["paired"] = {}
        for name, out in (("mask_guided", recon), ("label_to_image", base)):
            fig["paired"][name] = {
                "psnr": float(np.mean(psnr(out, x01))),
                "psnr_face": float(np.nanmean(psnr(out, x01, face))),
                "lpips": float(np.mean(lpips_batch(out, x01))),
            }
        fig["paired"]["baseline_info"] = base_model.info
        print("paired", fig["paired"], flush=True)

    swapped = generate(gen, images, labels, target) if {"edited", "fd"} & set(parts) else None
    if "edited" in parts:  # photo i with the map of portrait i + 1
        read = parse(eval_parser, swapped)
        bg = eroded_background(labels, target)
        fig["edited_maps"] = {
            "miou_pooled": miou(read, target)[0],
            "miou_per_image_mean": float(np.mean(per_image_miou(read, target))),
            "bg_psnr": float(np.nanmean(psnr(swapped, x01, bg))),
            "bg_pixels_per_image": float(bg.reshape(len(bg), -1).sum(1).mean()),
            "baseline_miou_pooled": miou(
                parse(eval_parser, baseline_images(base_model.baseline, target)), target
            )[0],
        }
        print("edited", fig["edited_maps"], flush=True)

    if "fd" in parts:  # VGG-16 conv5_3: outputs vs held-out, and the train-vs-held-out floor
        n_fd = min(args.fd_n, len(images))
        real_f = ec.vgg_features(x01[:n_fd])
        fig["frechet_vgg_conv5_3"] = {
            "n": n_fd,
            "reconstructions": ec.frechet_distance(ec.vgg_features(recon[:n_fd]), real_f),
            "edited_map_outputs": ec.frechet_distance(ec.vgg_features(swapped[:n_fd]), real_f),
            "baseline": ec.frechet_distance(ec.vgg_features(base[:n_fd]), real_f),
            "floor_train_vs_held_out": _floor_features(args.data, size, n_fd, real_f),
        }
        print("fd", fig["frechet_vgg_conv5_3"], flush=True)

    if "transfer" in parts:  # hair (code and shape) from the next portrait, through the operation
        closer = []
        for i in range(min(args.pairs, len(images))):
            if deadline is not None and time.time() > deadline:
                break
            j = (i + 1) % len(images)
            res = run_op(
                args.model, x01[i], labels[i], labels[i], donor=x01[j], donor_labels=labels[j], take="hair"
            )
            m = (res.outputs["edited_labels"] == 2)[..., None]
            if not m.any():
                continue
            out = masked_hair(res.outputs["result"], m)
            d = lpips_batch(np.stack([out, out]), np.stack([masked_hair(x01[j], m), masked_hair(x01[i], m)]))
            closer.append(bool(d[0] < d[1]))
        fig["hair_transfer"] = {
            "pairs": len(closer),
            "share_closer_to_donor": float(np.mean(closer)) if closer else None,
        }
        print("transfer", fig["hair_transfer"], flush=True)

    rr = cases.rerenders(size, args.pairs) if {"exact"} & set(parts) else None
    if "exact" in parts:  # against the renderer's own re-render with one part swapped
        fig["exact_edits"] = exact_edits(args.model, rr, images, deadline)
        print("exact", fig["exact_edits"], flush=True)
        _figure(args.figure, x01, labels, target, rr, args.model)

    if "speed" in parts:  # the operation on a 64 px photo and on a 512 px photo, 1 thread
        fig["inference"] = speed(args.model, x01[0], labels[0], target[0])
    fig["elapsed_s"] = round(time.time() - t_start, 1)
    name = "mask_guided" if set(parts) == set(PARTS) else "mask_guided_" + "_".join(parts)
    write_result(name, fig)
    return 0


def exact_edits(model_path: str, rr: dict, images: np.ndarray, deadline: float | None) -> dict:
    """Share of cases where the mask-edit result (and the raw model output) is closer to the
    true re-render than the unedited photo is."""
    ex: dict[str, list] = {"op": [], "raw": [], "unedited": [], "part": []}
    same_as_dataset = []
    for k in range(len(rr["index"])):
        if deadline is not None and time.time() > deadline:
            break
        a01, b01 = rr["image"][k].astype(np.float32) / 255, rr["image_new"][k].astype(np.float32) / 255
        idx = int(rr["index"][k])
        if idx < len(images):
            same_as_dataset.append(float(np.abs(rr["image"][k].astype(int) - images[idx]).max()))
        res = run_op(model_path, a01, rr["labels"][k], rr["labels_new"][k])
        d = lpips_batch(np.stack([res.outputs["result"], res.outputs["crop"], a01]), np.stack([b01] * 3))
        for key, v in zip(("op", "raw", "unedited"), d):
            ex[key].append(v)
        ex["part"].append(cases.PARTS[int(rr["part"][k])])
    op_d, raw_d, un_d = (np.array(ex[k]) for k in ("op", "raw", "unedited"))
    if not len(op_d):
        return {"cases": 0}
    return {
        "cases": len(op_d),
        "share_op_closer": float(np.mean(op_d < un_d)),
        "share_raw_closer": float(np.mean(raw_d < un_d)),
        "lpips_op": float(op_d.mean()),
        "lpips_raw": float(raw_d.mean()),
        "lpips_unedited": float(un_d.mean()),
        "per_part_share_op_closer": {
            q: float(np.mean([o < u for o, u, r in zip(op_d, un_d, ex["part"]) if r == q]))
            for q in sorted(set(ex["part"]))
        },
        "originals_vs_dataset_max_abs_diff": max(same_as_dataset) if same_as_dataset else None,
    }


def speed(model_path: str, photo: np.ndarray, labels: np.ndarray, edited: np.ndarray) -> dict:
    """Median seconds of the whole operation (and of the model alone) at 64 and 512 px."""
    up = np.ones((8, 8), np.uint8)
    big = np.ascontiguousarray(np.kron(photo, np.ones((8, 8, 1), np.float32)))
    timings = {}
    for name, call in (
        ("op_64px", lambda: run_op(model_path, photo, labels, edited)),
        ("op_512px", lambda: run_op(model_path, big, np.kron(labels, up), np.kron(edited, up))),
    ):
        call()
        ts, cpu, model_s = [], [], []
        for _ in range(10):
            t0, c0 = time.perf_counter(), time.process_time()
            res = call()
            ts.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            model_s.append(res.metrics["model_seconds"])
        timings[name] = {
            "median_s": float(np.median(ts)),
            "min_s": float(np.min(ts)),
            "cpu_median_s": float(np.median(cpu)),
            "model_only_median_s": float(np.median(model_s)),
            "load_average_1min": os.getloadavg()[0],
        }
    return timings


def _figure(path: str, x01, labels, target, rr, model_path: str) -> None:
    """photo | map | edited map | mask-edit result: 2 swapped maps and 3 exact edits."""
    from PIL import Image

    from latent_atelier.models.mask_guided.render import colourise_np

    rows = []
    for i in (0, 3):
        res = run_op(model_path, x01[i], labels[i], target[i])
        rows.append([x01[i], colourise_np(labels[i]), colourise_np(target[i]), res.outputs["result"]])
    for k in range(min(3, len(rr["index"]))):
        a01 = rr["image"][k].astype(np.float32) / 255
        res = run_op(model_path, a01, rr["labels"][k], rr["labels_new"][k])
        rows.append(
            [a01, colourise_np(rr["labels"][k]), colourise_np(rr["labels_new"][k]), res.outputs["result"]]
        )
    grid = np.concatenate([np.concatenate(r, axis=1) for r in rows], axis=0)
    grid = np.kron(grid, np.ones((3, 3, 1), np.float32))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray((grid * 255).round().astype(np.uint8)).save(path)
    print(f"wrote {path}")


if __name__ == "__main__":
    raise SystemExit(main())

"""Per-segment inversion: fidelity against one global W+ projection, and what batching buys.

(a) Fidelity. Targets: the sample photos (astronaut, chelsea, coffee; centred square) and
held-out synthetic portraits (``data/portraits128`` eval split, when present). Segments:
SLIC superpixels merged to a few regions for the photos, the dataset's part labels
(every part, background included, is a segment) for the portraits. Per-segment W+ (one
batch, Poisson stitched) against one global W+ projection with the same steps, and against
a global projection given the same wall time. PSNR and LPIPS over the whole crop. The
issue's fidelity measurement proper (demo model, 24 portraits, one global run observed at
equal steps and at equal time) is ``benchmarks/bench_segments_fidelity.py``.

(b) Batching. Seconds per W+ step for 8 segments in one batch, for 1 segment, and for the
same 8 segments projected one after another, in the same run.

Model: the demo model (``latent_atelier.models.zoo.load_model(None)``) when its file exists, else a
seeded random StyleGAN2 (said in the JSON). Keep it short with ``--steps``/``--size``.

(c) SeFa: LPIPS between a test latent's image and its edits along the top directions,
for growing |alpha| (should grow monotonically).

    python -m benchmarks.bench_segments [--steps 60] [--size 64] [--portraits 2] [--device cpu]
        [--parts fidelity batching sefa] [--figure F.png] [--sefa-figure S.png]
"""

from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks.common import write_result

ROOT = Path(__file__).resolve().parents[1]
PHOTOS = ("astronaut", "chelsea", "coffee")


def _generator(size: int, width: int, device: torch.device):
    from latent_atelier.models.zoo import default_model_path, load_model, random_generator

    if default_model_path().exists():
        gen = load_model(None)
        return gen.to(device), f"demo model {default_model_path().name}"
    channels = {r: width for r in (4, 8, 16, 32, 64, 128, 256, 512, 1024) if r <= size}
    gen = random_generator("stylegan2", size, 0, style_dim=width * 2, channels=channels)
    return gen.to(device), f"random stylegan2 {size}px width {width} style_dim {width * 2} (no demo model)"


def slic_labels(image: np.ndarray, n_regions: int) -> np.ndarray:
    """SLIC superpixels (ids from 1) merged by mean colour down to ``n_regions``."""
    from skimage.segmentation import slic

    sp = slic(image, n_segments=n_regions * 4, compactness=10.0, start_label=1)
    ids = [int(k) for k in np.unique(sp)]
    colours = {k: image[sp == k].mean(0) for k in ids}
    sizes = {k: int((sp == k).sum()) for k in ids}
    while len(colours) > n_regions:  # merge the smallest region into its closest-colour neighbour
        small = min(sizes, key=sizes.get)
        ring = _neighbours(sp, small)
        target = min(ring, key=lambda k: float(np.abs(colours[k] - colours[small]).sum()))
        sp[sp == small] = target
        total = sizes[target] + sizes[small]
        colours[target] = (colours[target] * sizes[target] + colours[small] * sizes[small]) / total
        sizes[target] = total
        del colours[small], sizes[small]
    relabel = {k: i + 1 for i, k in enumerate(sorted(colours))}
    return np.vectorize(relabel.get)(sp).astype(np.int32)


def _neighbours(labels: np.ndarray, k: int) -> set[int]:
    from scipy import ndimage

    ring = ndimage.binary_dilation(labels == k) & (labels != k)
    found = {int(v) for v in np.unique(labels[ring])}
    return found or {int(v) for v in np.unique(labels) if v != k}


def _targets(size: int, n_regions: int, n_portraits: int) -> list[tuple[str, np.ndarray, np.ndarray]]:
    from PIL import Image

    from latent_atelier.editors.placement import Placement

    out = []
    for name in PHOTOS:
        path = ROOT / "resources" / "samples" / f"{name}.png"
        photo = np.asarray(Image.open(path).convert("RGB"), np.float32) / 255.0
        crop = Placement.centered(photo.shape[:2], size).extract(photo)
        out.append((name, crop, slic_labels(crop, n_regions)))
    root = ROOT / "data" / "portraits128"
    if n_portraits > 0 and root.exists():
        import cv2

        from latent_atelier.models.training.synthetic import PortraitDataset

        ds = PortraitDataset(root, "eval")
        for i in range(n_portraits):
            img, _alpha, lab = ds[i]
            crop = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
            parts = cv2.resize(lab, (size, size), interpolation=cv2.INTER_NEAREST).astype(np.int32)
            out.append((f"portrait_eval_{i}", crop, parts + 1))
    return out


def _lpips(a: np.ndarray, b: np.ndarray, device: torch.device) -> float:
    from latent_atelier.models.perceptual import lpips

    return float(lpips(a, b, device))


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(1.0 / max(float(np.mean((a - b) ** 2)), 1e-12)))


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def fidelity(
    gen, device, targets, steps: int, margin: int, lr: float, strips: list[np.ndarray] | None = None
) -> list[dict]:
    """Per-segment vs global W+ (same steps, and same wall time) on every target.

    With ``strips``, one picture row per target is appended: target | segments | per-segment
    | global (same steps) | global (same time).
    """
    from latent_atelier.editors.inversion.embed import EmbedParams, embed_image
    from latent_atelier.editors.inversion.segments import SegmentsParams, invert_segments, segment_ids, stitch

    rows = []
    for name, crop, labels in targets:
        _sync(device)
        t0 = time.perf_counter()
        inv = invert_segments(
            gen,
            crop,
            labels,
            SegmentsParams(steps_w=steps, margin=margin, lr_w=lr, candidates=0, loss="segments"),
        )
        seg = stitch(crop, labels, inv.ids, inv.images, poisson=True)
        _sync(device)
        t_seg = time.perf_counter() - t0
        t0 = time.perf_counter()
        glob = embed_image(gen, crop, EmbedParams(steps_w=steps, steps_noise=0, lr_w=lr))
        _sync(device)
        t_glob = time.perf_counter() - t0
        eq_steps = max(steps, round(steps * t_seg / max(t_glob, 1e-9)))
        glob_eq = embed_image(gen, crop, EmbedParams(steps_w=eq_steps, steps_noise=0, lr_w=lr))
        row = {
            "target": name,
            "segments": len(segment_ids(labels)),
            "steps": steps,
            "seconds_segments": t_seg,
            "seconds_global": t_glob,
            "psnr_segments": _psnr(seg, crop),
            "psnr_global": _psnr(glob.image, crop),
            "global_equal_time_steps": eq_steps,
            "psnr_global_equal_time": _psnr(glob_eq.image, crop),
            "lpips_segments": _lpips(seg, crop, device),
            "lpips_global": _lpips(glob.image, crop, device),
            "lpips_global_equal_time": _lpips(glob_eq.image, crop, device),
        }
        row["gain_db_same_steps"] = row["psnr_segments"] - row["psnr_global"]
        row["gain_db_equal_time"] = row["psnr_segments"] - row["psnr_global_equal_time"]
        print({k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()})
        rows.append(row)
        if strips is not None:
            shown = _colour_labels(labels)
            strips.append(np.concatenate([crop, shown, seg, glob.image, glob_eq.image], 1))
    return rows


def batching(gen, device, steps: int, n_segments: int = 8, repeat: int = 2) -> dict:
    """Seconds per W+ step: n segments batched, 1 segment, n segments one after another,
    with each of the segments operation's losses (top-level figures: its default loss)."""
    from latent_atelier.editors.inversion.segments import LOSSES, SegmentsParams

    by_loss = {loss: _batching(gen, device, steps, loss, n_segments, repeat) for loss in LOSSES}
    res = {**by_loss[SegmentsParams().loss], "default_loss": SegmentsParams().loss, "by_loss": by_loss}
    print(res)
    return res


def _batching(gen, device, steps: int, loss: str, n_segments: int, repeat: int) -> dict:
    from latent_atelier.editors.inversion.segments import SegmentsParams, invert_segments

    size = gen.resolution
    with torch.no_grad():
        from latent_atelier.editors.inversion.embed_core import to_numpy_image

        crop = to_numpy_image(gen.synthesize(gen.random_latent(1)).image)
    labels = np.zeros((size, size), np.int32)
    cols = np.array_split(np.arange(size), n_segments // 2)
    for i, c in enumerate(cols):
        labels[: size // 2, c] = 2 * i + 1
        labels[size // 2 :, c] = 2 * i + 2
    single = np.where(labels == 1, 1, 0).astype(np.int32)

    def run(lab) -> float:
        _sync(device)
        t0 = time.perf_counter()
        invert_segments(gen, crop, lab, SegmentsParams(steps_w=steps, loss=loss, margin=4, candidates=0))
        _sync(device)
        return (time.perf_counter() - t0) / steps

    run(labels)  # warm-up (VGG, allocator)
    # the three layouts take turns, and each keeps its fastest round: on a shared machine
    # the minimum is the figure least disturbed by other work
    batched, one, serial = [], [], []
    for _ in range(repeat):
        batched.append(run(labels))
        one.append(run(single))
        serial.append(
            sum(run(np.where(labels == k, 1, 0).astype(np.int32)) for k in range(1, n_segments + 1))
        )
    batched, one, serial = min(batched), min(one), min(serial)
    res = {
        "segments": n_segments,
        "steps": steps,
        "repeat": repeat,
        "s_per_step_batched": batched,
        "s_per_step_one_segment": one,
        "s_per_step_serial": serial,
        "batched_over_one": batched / one,
        "serial_over_batched": serial / batched,
    }
    return res


def sefa_smoothness(gen, device, k: int = 3, alphas=(0.5, 1, 2, 4, 8), figure: Path | None = None) -> dict:
    """LPIPS to the unedited image along each of the top-``k`` SeFa directions (both signs)."""
    from latent_atelier.editors.inversion.directions import apply_direction, sefa_directions
    from latent_atelier.editors.inversion.embed_core import to_numpy_image
    from latent_atelier.models.perceptual import get_lpips

    lat = gen.random_latent(11, truncation=0.7)
    dirs = sefa_directions(gen, k)
    metric = get_lpips(device)
    out: dict = {"alphas": list(alphas), "directions": {}}
    rows = []
    with torch.no_grad():
        base = gen.synthesize(lat).image
        for i in range(k):
            row, pics = {}, {}
            for sign in (-1.0, 1.0):
                vals = []
                for a in alphas:
                    img = gen.synthesize(apply_direction(lat, dirs[i], sign * a)).image
                    vals.append(float(metric(img, base)[0]))
                    pics[sign * a] = to_numpy_image(img)
                row["minus" if sign < 0 else "plus"] = vals
                row["monotonic_" + ("minus" if sign < 0 else "plus")] = bool(
                    all(b > a for a, b in itertools.pairwise(vals))
                )
            out["directions"][str(i)] = row
            ordered = [pics[-a] for a in reversed(alphas)] + [to_numpy_image(base)]
            rows.append(np.concatenate(ordered + [pics[a] for a in alphas], 1))
    out["all_monotonic"] = all(
        r["monotonic_minus"] and r["monotonic_plus"] for r in out["directions"].values()
    )
    print(out)
    if figure is not None:
        _save_figure(figure, np.concatenate(rows, 0))
    return out


def _colour_labels(labels: np.ndarray) -> np.ndarray:
    """A distinct colour per id (golden-angle hues), black for 0."""
    import colorsys

    ids = np.arange(int(labels.max()) + 1)
    lut = np.array([colorsys.hsv_to_rgb((k * 0.618) % 1.0, 0.6, 0.95) for k in ids], np.float32)
    lut[0] = 0.0
    return lut[labels]


def _save_figure(path: Path, image: np.ndarray, scale: int = 2) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.fromarray((np.clip(image, 0, 1) * 255).round().astype(np.uint8))
    img.resize((img.width * scale, img.height * scale), Image.NEAREST).save(path)
    print(f"wrote {path}")


def main(argv: list[str] | None = None) -> None:
    """Run (a) fidelity and (b) batching; write ``results/segments_<device>.json``."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default=None)
    ap.add_argument("--size", type=int, default=64, help="random-generator size (no demo model)")
    ap.add_argument("--width", type=int, default=64, help="random-generator channels")
    ap.add_argument("--steps", type=int, default=60, help="W+ steps per projection")
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--margin", type=int, default=2)
    ap.add_argument("--regions", type=int, default=6, help="SLIC regions per photo")
    ap.add_argument("--portraits", type=int, default=2, help="held-out synthetic portraits")
    ap.add_argument("--batch-steps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument(
        "--parts",
        nargs="+",
        default=["fidelity", "batching", "sefa"],
        choices=("fidelity", "batching", "sefa"),
    )
    ap.add_argument("--sefa-figure", default=None, help="write a PNG of SeFa edits along alpha")
    ap.add_argument(
        "--figure",
        default=None,
        help="write a PNG: target | segments | per-segment | global | global same time",
    )
    args = ap.parse_args(argv)
    from latent_atelier.models.devices import pick_device

    torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    gen, model = _generator(args.size, args.width, device)
    figures: dict = {"model": model, "resolution": gen.resolution}
    if "fidelity" in args.parts:
        targets = _targets(gen.resolution, args.regions, args.portraits)
        strips: list[np.ndarray] = []
        rows = fidelity(gen, device, targets, args.steps, args.margin, args.lr, strips)
        if args.figure:
            _save_figure(Path(args.figure), np.concatenate(strips, 0))
        figures["fidelity"] = rows
        figures["fidelity_mean"] = {
            k: float(np.mean([r[k] for r in rows]))
            for k in (
                "gain_db_same_steps",
                "gain_db_equal_time",
                "lpips_segments",
                "lpips_global",
                "lpips_global_equal_time",
            )
        }
        print(figures["fidelity_mean"])
    if "batching" in args.parts:
        figures["batching"] = batching(gen, device, args.batch_steps)
    if "sefa" in args.parts:
        fig = Path(args.sefa_figure) if args.sefa_figure else None
        figures["sefa_lpips"] = sefa_smoothness(gen, device, figure=fig)
    suffix = "" if len(args.parts) == 3 else "_" + "_".join(args.parts)
    write_result(f"segments_{device.type}{suffix}", figures, device=str(device))


if __name__ == "__main__":
    main()

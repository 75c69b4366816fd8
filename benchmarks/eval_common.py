"""Shared pieces of the FurryGAN and matting evaluations.

- which checkpoint to evaluate (an explicit spec, else the bundled demo model, else the
  newest ``runs/*/generator_ema*.safetensors``);
- held-out samples of the synthetic portrait set, resized to the model's resolution;
- batched inversion (W+ then noise, the embedding engine's ``W_l`` and ``Mk_n``): the loss
  is per item and Adam is element-wise, so B images optimised together give the same result
  as B separate runs, at a fraction of the CPU time;
- VGG-16 features and the Frechet distance between two feature sets.
"""

from __future__ import annotations

import hashlib
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO / "data" / "portraits128"
FD_LAYER = "conv5_3"  # the deepest layer latent_atelier.models.perceptual.VGG16Features offers


# ---------------------------------------------------------------- checkpoint
def newest_run_checkpoint(runs: Path = REPO / "runs") -> Path | None:
    """The newest ``runs/*/generator_ema*.safetensors`` export, else the newest training
    checkpoint ``runs/*/checkpoint/g_ema.safetensors``, or None."""
    for pattern in ("*/generator_ema*.safetensors", "*/checkpoint/g_ema.safetensors"):
        found = sorted(runs.glob(pattern), key=lambda p: p.stat().st_mtime)
        if found:
            return found[-1]
    return None


def resolve_model_spec(spec: str | None) -> str:
    """``spec`` if given, else the demo model if it exists, else the newest run's generator."""
    if spec:
        return spec
    from latent_atelier.models.zoo import default_model_path

    demo = default_model_path()
    if demo.is_file():
        return str(demo)
    newest = newest_run_checkpoint()
    if newest is not None:
        return str(newest)
    raise FileNotFoundError(
        f"no model to evaluate: {demo} does not exist and runs/ holds no "
        "generator_ema*.safetensors; pass --model PATH or --model random:furrygan:64:0:32"
    )


def _short_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def checkpoint_id(spec: str) -> dict:
    """The spec, and for a file its size, modification time and a short SHA-256."""
    p = Path(spec)
    if not p.is_file():
        return {"spec": spec}
    mtime = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(p.stat().st_mtime))
    return {
        "spec": spec,
        "sha256_16": _short_hash(p.read_bytes()),
        "bytes": p.stat().st_size,
        "modified_utc": mtime,
    }


def checkpoint_key(ident: dict) -> str:
    """One string naming a checkpoint's exact content (spec plus hash for files)."""
    return f"{ident['spec']}#{ident.get('sha256_16', '')}"


def same_checkpoint(key_a: str, key_b: str) -> bool:
    """Whether two :func:`checkpoint_key` strings name the same weights: the same content
    hash (however the path was spelt), or the same spec when there is no hash."""
    spec_a, _, hash_a = str(key_a).rpartition("#")
    spec_b, _, hash_b = str(key_b).rpartition("#")
    return hash_a == hash_b if hash_a and hash_b else (spec_a, hash_a) == (spec_b, hash_b)


def same_run_key(key_a: str, key_b: str) -> bool:
    """Whether two ``checkpoint_key|settings...`` strings name the same weights (by
    :func:`same_checkpoint`) and exactly the same settings."""
    head_a, _, rest_a = str(key_a).partition("|")
    head_b, _, rest_b = str(key_b).partition("|")
    return same_checkpoint(head_a, head_b) and rest_a == rest_b


def _training_checkpoint_folder(spec: str) -> Path | None:
    p = Path(spec)
    folder = p if p.is_dir() else p.parent
    if (folder / "state.json").is_file() and (folder / "g_ema.safetensors").is_file():
        return folder
    return None


def _load_training_checkpoint(folder: Path) -> tuple[torch.nn.Module, dict]:
    """The EMA generator of a trainer checkpoint folder (``state.json`` + ``g_ema``)."""
    import json

    from safetensors.torch import load as load_safetensors

    from latent_atelier.models.checkpoints import build_generator

    for attempt in range(5):  # the trainer swaps the folder atomically; retry mid-swap
        try:
            state = json.loads((folder / "state.json").read_text())
            data = (folder / "g_ema.safetensors").read_bytes()
            break
        except (FileNotFoundError, json.JSONDecodeError):
            if attempt == 4:
                raise
            time.sleep(2.0)
    gen = build_generator(state["architecture"])
    gen.load_state_dict(load_safetensors(data), strict=True)
    ident = {
        "spec": str(folder / "g_ema.safetensors"),
        "sha256_16": _short_hash(data),
        "bytes": len(data),
        "kind": "training checkpoint (EMA generator)",
        "step": int(state.get("step", -1)),
    }
    return gen, ident


def load_furrygan(spec: str, device: str = "cpu") -> tuple[torch.nn.Module, dict]:
    """Load a generator from a spec (also a trainer checkpoint folder) onto ``device``.

    Raises ValueError when it is not a FurryGAN (these evaluations need its alpha).
    """
    from latent_atelier.models.zoo import load_model

    folder = _training_checkpoint_folder(spec)
    if folder is not None:
        gen, ident = _load_training_checkpoint(folder)
    else:
        gen, ident = load_model(spec, "cpu"), checkpoint_id(spec)
    gen = gen.to(device).eval()
    if "bg" not in getattr(gen, "latent_groups", ()):
        raise ValueError(f"{spec} is not a FurryGAN model: these evaluations need its alpha")
    return gen, ident


# ---------------------------------------------------------------- data
@dataclass
class EvalSamples:
    """Held-out samples: model-resolution copies and the dataset-resolution originals."""

    indices: np.ndarray  # (N,) dataset indices
    images: np.ndarray  # (N, S, S, 3) float32 [0, 1] at the model resolution
    alpha: np.ndarray  # (N, S, S) float32 [0, 1] at the model resolution
    images_full: np.ndarray  # (N, D, D, 3) float32 at the dataset resolution
    alpha_full: np.ndarray  # (N, D, D) float32


def resize_stack(arr: np.ndarray, size: int) -> np.ndarray:
    """Every ``(D, D[, C])`` item of ``arr`` as the ``matte`` operation sees a photo at
    ``size`` px: :meth:`Placement.extract` of the whole square (antialiased when shrinking),
    so that :func:`latent_atelier.editors.matting.refine.upsample_alpha` maps the result back exactly."""
    from latent_atelier.editors.placement import Placement

    d = arr.shape[1]
    if d == size:
        return np.asarray(arr, np.float32).copy()
    placement = Placement.from_box(0.0, 0.0, float(d), size, (d, d))
    return np.stack([placement.extract(a) for a in arr]).astype(np.float32)


def take(samples: EvalSamples, n: int) -> EvalSamples:
    """The first ``n`` samples."""
    return EvalSamples(
        *(getattr(samples, f)[:n] for f in ("indices", "images", "alpha", "images_full", "alpha_full"))
    )


def load_eval_samples(
    data: str | Path, n: int, size: int, split: str = "eval", start: int = 0
) -> EvalSamples:
    """The first ``n`` samples of ``split`` from ``start``, also resized to ``size`` px."""
    from latent_atelier.models.training.synthetic import PortraitDataset

    ds = PortraitDataset(data, split)
    if n < 1:
        raise ValueError(f"--n must be at least 1, got {n}")
    if start + n > len(ds):
        raise ValueError(f"{ds.folder} holds {len(ds)} {ds.split} samples; ask for at most {len(ds) - start}")
    idx = np.arange(start, start + n)
    images, alpha, _labels = ds.batch(idx)
    images_full = images.astype(np.float32) / 255.0
    alpha_full = alpha.astype(np.float32) / 255.0
    return EvalSamples(
        idx,
        resize_stack(images_full, size),
        resize_stack(alpha_full, size),
        images_full,
        alpha_full,
    )


# ---------------------------------------------------------------- inversion
@dataclass
class Inversions:
    """Inverted images and what the generator draws for them (all at model resolution)."""

    images: np.ndarray  # (N, S, S, 3) reconstruction, [0, 1]
    alpha: np.ndarray  # (N, S, S) final alpha (after the noise phase)
    coarse: np.ndarray  # (N, S, S) coarse mask
    alpha_w: np.ndarray  # (N, S, S) alpha after the W+ phase alone
    psnr_w: np.ndarray  # (N,) dB after W+
    psnr: np.ndarray  # (N,) dB after noise
    seconds: float = 0.0
    model: str = ""  # which checkpoint (see checkpoint_key); set by the caller
    images_w: np.ndarray | None = None  # (N, S, S, 3) what the W+ rows draw (invert_batch)
    start: int = 0  # dataset index of the first image

    def save(self, path: str | Path) -> None:
        """Write as a compressed ``.npz`` (no pickle) for a later evaluation to reuse."""
        np.savez_compressed(path, **{k: np.asarray(v) for k, v in vars(self).items() if v is not None})

    @staticmethod
    def load(path: str | Path) -> Inversions:
        """Read an ``.npz`` written by :meth:`save` (never unpickling); ValueError otherwise."""
        try:
            with open(path, "rb") as f, np.load(f, allow_pickle=False) as z:  # closed on any failure
                return Inversions(**{k: (z[k] if z[k].ndim else z[k].item()) for k in z.files})
        except (ValueError, TypeError, zipfile.BadZipFile, EOFError) as exc:
            raise ValueError(
                f"{path} is not saved inversions ({type(exc).__name__}); give a file that "
                "bench_furrygan_eval --save-inversions wrote, or run that again"
            ) from exc


@dataclass(frozen=True)
class InversionSettings:
    """Steps and learning rates of the two phases; ``free_mask_noise`` lets the noise phase
    also change the mask heads' noise inputs (the official model redraws those every call,
    so by default they stay at their seeded N(0, 1) draw)."""

    steps_w: int = 100
    steps_noise: int = 50
    lr_w: float = 0.03
    lr_noise: float = 0.5  # the engine's 5.0 overshoots in short runs (~7 dB worse here)
    seed: int = 0
    free_mask_noise: bool = False


def _to_numpy_images(t: torch.Tensor) -> np.ndarray:
    img = ((t.detach().clamp(-1, 1) + 1) * 0.5).permute(0, 2, 3, 1)
    return img.cpu().numpy().astype(np.float32)


def _noise_choice(gen, free_mask_noise: bool) -> list[bool]:
    n_synth = int(getattr(gen, "num_layers", len(gen.noise_shapes)))
    return [free_mask_noise or i < n_synth for i in range(len(gen.noise_shapes))]


def invert_batch(gen, images: np.ndarray, settings: InversionSettings) -> Inversions:
    """Invert ``(B, S, S, 3)`` images together (Algorithm 2: W+ from the mean, then noise)."""
    from latent_atelier.editors.inversion.embed import Mk_n, W_l, initial_latent
    from latent_atelier.editors.inversion.embed_core import masked_psnr

    size = gen.resolution
    if images.ndim != 4 or images.shape[1:] != (size, size, 3):
        raise ValueError(f"images are {images.shape}; the model needs (B, {size}, {size}, 3)")
    t0 = time.perf_counter()
    x = torch.as_tensor(images, dtype=torch.float32).permute(0, 3, 1, 2).contiguous() * 2 - 1
    x = x.to(gen.device)
    torch.manual_seed(settings.seed)
    lat = initial_latent(gen, "mean", settings.seed, batch=len(images))
    lat = W_l(gen, lat, x, steps=settings.steps_w, lr=settings.lr_w)
    with torch.no_grad():
        syn_w = gen.synthesize(lat, return_alpha=True)
    lat = Mk_n(
        gen,
        lat,
        x,
        steps=settings.steps_noise,
        lr=settings.lr_noise,
        noise_maps=_noise_choice(gen, settings.free_mask_noise),
    )
    with torch.no_grad():
        syn = gen.synthesize(lat, return_alpha=True)
        return Inversions(
            images=_to_numpy_images(syn.image),
            alpha=syn.alpha[:, 0].cpu().numpy().astype(np.float32),
            coarse=syn.coarse[:, 0].cpu().numpy().astype(np.float32),
            alpha_w=syn_w.alpha[:, 0].cpu().numpy().astype(np.float32),
            psnr_w=masked_psnr(syn_w.image, x).cpu().numpy(),
            psnr=masked_psnr(syn.image, x).cpu().numpy(),
            seconds=time.perf_counter() - t0,
            images_w=_to_numpy_images(syn_w.image),
        )


def deadline_after(minutes: float | None) -> float | None:
    """A ``time.perf_counter()`` deadline ``minutes`` from now (None = no limit)."""
    return None if not minutes or minutes <= 0 else time.perf_counter() + 60.0 * minutes


def invert_all(
    gen,
    images: np.ndarray,
    settings: InversionSettings,
    batch: int = 8,
    verbose: bool = True,
    deadline: float | None = None,
) -> Inversions:
    """Invert the images ``batch`` at a time; prints one line per batch when ``verbose``.

    With a ``deadline`` (``time.perf_counter()`` seconds) no new batch starts after it, so
    fewer images may come back (at least one batch).
    """
    if batch < 1:
        raise ValueError(f"--batch must be at least 1, got {batch}")
    parts: list[Inversions] = []
    for lo in range(0, len(images), batch):
        if parts and deadline is not None and time.perf_counter() > deadline:
            print(f"  time limit reached: {lo} of {len(images)} images inverted", flush=True)
            break
        part = invert_batch(gen, images[lo : lo + batch], settings)
        parts.append(part)
        if verbose:
            done = min(lo + batch, len(images))
            print(
                f"  inverted {done}/{len(images)}  {part.seconds:.1f}s  PSNR {part.psnr.mean():.2f} dB",
                flush=True,
            )
    fields = ("images", "alpha", "coarse", "alpha_w", "psnr_w", "psnr")
    joined = {f: np.concatenate([getattr(p, f) for p in parts]) for f in fields}
    return Inversions(**joined, seconds=sum(p.seconds for p in parts))


# ---------------------------------------------------------------- Frechet distance
def vgg_features(
    images: np.ndarray, layer: str = FD_LAYER, batch: int = 32, device: str | torch.device = "cpu"
) -> np.ndarray:
    """Global-average-pooled VGG-16 activations ``(N, C)`` of ``(N, H, W, 3)`` images in [0, 1]."""
    from latent_atelier.models.perceptual import get_vgg

    vgg = get_vgg(device)
    out = []
    with torch.no_grad():
        for lo in range(0, len(images), batch):
            x = torch.as_tensor(images[lo : lo + batch], dtype=torch.float32, device=device)
            x = x.permute(0, 3, 1, 2).contiguous() * 2 - 1
            out.append(vgg(x, layers=(layer,))[layer].mean(dim=(2, 3)).double().cpu().numpy())
    return np.concatenate(out)


def _psd_sqrt(cov: np.ndarray) -> np.ndarray:
    """Symmetric square root of a positive semi-definite matrix (negative eigenvalues -> 0)."""
    from scipy import linalg

    vals, vecs = linalg.eigh(cov)
    return (vecs * np.sqrt(np.clip(vals, 0.0, None))) @ vecs.T


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Frechet distance between Gaussians fitted to feature sets ``a`` and ``b`` (N x C).

    ``tr sqrt(C_a C_b)`` is taken as ``tr sqrt(C_a^1/2 C_b C_a^1/2)`` (same eigenvalues,
    but symmetric), which stays exact when N < C makes the covariances singular.
    """
    from scipy import linalg

    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
        raise ValueError(f"need two (N >= 2, C) feature sets of one width, got {a.shape} and {b.shape}")
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root_a = _psd_sqrt(cov_a)
    middle = linalg.eigvalsh(root_a @ cov_b @ root_a)
    trace_root = float(np.sqrt(np.clip(middle, 0.0, None)).sum())
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_root)


def generated_samples(
    gen, n: int, seed: int = 0, truncation: float = 1.0, batch: int = 16
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random images ``(N, S, S, 3)`` and alphas ``(N, S, S)``, seeds seed, seed+1, ..."""
    from latent_atelier.models.generator import Latent

    images, alphas = [], []
    with torch.no_grad():
        for lo in range(0, n, batch):
            lats = [gen.random_latent(seed + i, truncation=truncation) for i in range(lo, min(n, lo + batch))]
            syn = gen.synthesize(Latent.cat(lats), return_alpha=True)
            images.append(_to_numpy_images(syn.image))
            alphas.append(syn.alpha[:, 0].cpu().numpy().astype(np.float32))
    return np.concatenate(images), np.concatenate(alphas)


# ---------------------------------------------------------------- scores
def mean_scores(rows: list[dict[str, float]]) -> dict[str, float]:
    """Per-key mean over per-image score dicts."""
    if not rows:
        return {}
    return {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}


def segmentation_table(pred: np.ndarray, gt: np.ndarray, threshold: float = 0.5) -> dict:
    """Segmentation scores at ``threshold``: mean over images, and pooled over all pixels."""
    from latent_atelier.editors.matting.metrics import segmentation_scores

    per_image = [segmentation_scores(p, g, threshold) for p, g in zip(pred, gt)]
    pooled = segmentation_scores(pred.reshape(-1, pred.shape[-1]), gt.reshape(-1, gt.shape[-1]), threshold)
    return {"mean_over_images": mean_scores(per_image), "pooled_pixels": pooled}


def upscale_nearest(img: np.ndarray, min_size: int) -> np.ndarray:
    """Nearest-neighbour upscale of a figure panel so it is at least ``min_size`` px tall."""
    factor = max(1, int(np.ceil(min_size / img.shape[0])))
    if factor == 1:
        return img
    return np.repeat(np.repeat(img, factor, axis=0), factor, axis=1)

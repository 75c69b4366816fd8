"""CLI sub-commands that are not Operations: ``sample`` and ``info``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from latent_atelier.app.cli import extra_command


def _sample_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--n", type=int, default=16, help="number of images (default 16)")
    p.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    p.add_argument("--truncation", type=float, default=0.7, help="truncation psi (default 0.7)")
    p.add_argument("--out", default="samples.png", help="grid PNG to write")
    p.add_argument("--alpha", action="store_true", help="FurryGAN: also write the alpha grid")


def image_grid(images: list[np.ndarray], columns: int | None = None) -> np.ndarray:
    """Tile equally sized ``H x W x C`` images into one grid image."""
    n = len(images)
    cols = columns or int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    h, w = images[0].shape[:2]
    grid = np.zeros((rows * h, cols * w, *images[0].shape[2:]), np.float32)
    for i, img in enumerate(images):
        r, c = divmod(i, cols)
        grid[r * h:(r + 1) * h, c * w:(c + 1) * w] = img
    return grid


@extra_command("sample", "draw random images from a model into a grid PNG", _sample_args)
def sample(args: argparse.Namespace) -> int:
    """Random samples (seeds seed..seed+n-1) as one grid image."""
    import torch

    from latent_atelier.app.document.image_write import write_image, write_matte
    from latent_atelier.editors.inversion.embed_core import to_numpy_image
    from latent_atelier.models.devices import pick_device
    from latent_atelier.models.zoo import load_model

    gen = load_model(args.model, pick_device(args.device))
    images, alphas = [], []
    with torch.no_grad():
        for i in range(args.n):
            lat = gen.random_latent(args.seed + i, truncation=args.truncation)
            out = gen.synthesize(lat, return_alpha=args.alpha)
            images.append(to_numpy_image(out.image))
            if args.alpha and out.alpha is not None:
                alphas.append(out.alpha[0, 0].cpu().numpy())
    write_image(Path(args.out), image_grid(images))
    print(f"wrote {args.out}")
    if alphas:
        apath = Path(args.out).with_name(Path(args.out).stem + "_alpha.png")
        write_matte(apath, image_grid([a[..., None] for a in alphas])[..., 0])
        print(f"wrote {apath}")
    return 0


def _info_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("checkpoint", help="model file to describe")


@extra_command("info", "print a checkpoint's architecture", _info_args)
def info(args: argparse.Namespace) -> int:
    """Describe a checkpoint without building more than needed."""
    from latent_atelier.models.checkpoints import describe

    print(json.dumps(describe(args.checkpoint), indent=2, default=str))
    return 0


def _train_args(p: argparse.ArgumentParser) -> None:
    from latent_atelier.models.training.cli import configure_parser

    configure_parser(p)


@extra_command("train", "train a StyleGAN2 or FurryGAN generator (resumable)", _train_args)
def train(args: argparse.Namespace) -> int:
    """Delegate to the trainer's own runner."""
    from latent_atelier.models.training.cli import run

    return run(args)


def _portraits_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, help="output folder, e.g. data/portraits128")
    p.add_argument("--size", type=int, default=128, help="image size (64, 128 or 256)")
    p.add_argument("--n-train", type=int, default=30000)
    p.add_argument("--n-eval", type=int, default=500)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--overwrite", action="store_true")


@extra_command(
    "build-portraits",
    "render the synthetic portrait set (needs Node + the npm packages in models/training/synthetic/js)",
    _portraits_args,
)
def build_portraits(args: argparse.Namespace) -> int:
    """Build the synthetic portrait dataset (a build-time tool)."""
    from latent_atelier.models.training.synthetic.__main__ import main as synthetic_main

    argv = ["build", "--out", args.out, "--size", str(args.size), "--n-train", str(args.n_train),
            "--n-eval", str(args.n_eval), "--seed", str(args.seed), "--workers", str(args.workers)]
    if args.overwrite:
        argv.append("--overwrite")
    return synthetic_main(argv)

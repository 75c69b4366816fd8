"""CLI sub-commands that are not Operations: ``sample`` and ``info``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from latent_atelier.app.cli import extra_command
from latent_atelier.app.cli_io import finite_float, int_in

MAX_SAMPLES = 1024


def _sample_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--n",
        type=int_in(1, MAX_SAMPLES),
        default=16,
        help=f"number of images [1..{MAX_SAMPLES}] (default 16)",
    )
    p.add_argument("--seed", type=int_in(0, 2**31 - 1), default=0, help="first seed (default 0)")
    p.add_argument("--truncation", type=finite_float, default=0.7, help="truncation psi (default 0.7)")
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
        grid[r * h : (r + 1) * h, c * w : (c + 1) * w] = img
    return grid


@extra_command("sample", "draw random images from a model into a grid PNG", _sample_args)
def sample(args: argparse.Namespace) -> int:
    """Random samples (seeds seed..seed+n-1) as one grid image."""
    import torch

    from latent_atelier.app.cli_io import InputError, check_output_file
    from latent_atelier.app.document.limits import MAX_IMAGE_PIXELS
    from latent_atelier.editors.inversion.embed_core import to_numpy_image
    from latent_atelier.models.devices import pick_device
    from latent_atelier.models.zoo import load_model

    check_output_file(args.out)
    gen = load_model(args.model, pick_device(args.device))
    if args.n * gen.resolution**2 > MAX_IMAGE_PIXELS:
        most = max(1, MAX_IMAGE_PIXELS // gen.resolution**2)
        raise InputError(
            f"--n {args.n}: a grid of {args.n} images of {gen.resolution} px is over "
            f"the image limit; at most {most} at this resolution"
        )
    images, alphas = [], []
    with torch.no_grad():
        for i in range(args.n):
            lat = gen.random_latent(args.seed + i, truncation=args.truncation)
            out = gen.synthesize(lat, return_alpha=args.alpha)
            images.append(to_numpy_image(out.image))
            if args.alpha and out.alpha is not None:
                alphas.append(out.alpha[0, 0].cpu().numpy())
    try:
        _write_grids(Path(args.out), images, alphas)
    except OSError as exc:  # the run is finished: keep it somewhere
        from latent_atelier.app.cli_io import fallback_dir

        fallback = fallback_dir("sample") / Path(args.out).name
        _write_grids(fallback, images, alphas)
        print(
            f"error: could not write {args.out} ({exc.strerror or exc}); the grid was saved to "
            f"{fallback} instead",
            file=sys.stderr,
        )
        return 2
    return 0


def _write_grids(out: Path, images: list[np.ndarray], alphas: list[np.ndarray]) -> None:
    from latent_atelier.app.document.image_write import write_image, write_matte

    write_image(out, image_grid(images))
    print(f"wrote {out}")
    if alphas:
        apath = out.with_name(out.stem + "_alpha.png")
        write_matte(apath, image_grid([a[..., None] for a in alphas])[..., 0])
        print(f"wrote {apath}")


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

    argv = [
        "build",
        "--out",
        args.out,
        "--size",
        str(args.size),
        "--n-train",
        str(args.n_train),
        "--n-eval",
        str(args.n_eval),
        "--seed",
        str(args.seed),
        "--workers",
        str(args.workers),
    ]
    if args.overwrite:
        argv.append("--overwrite")
    return synthetic_main(argv)

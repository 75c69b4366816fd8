"""``latent-atelier-cli train``: argument parser and runner (the app's CLI hooks these in).

Example (a CPU demo run)::

    latent-atelier-cli train --arch furrygan --data data/portraits128 --size 64 \
        --batch 8 --iters 4000 --max-channels 128 --out runs/demo64
"""

from __future__ import annotations

import argparse
import sys

from latent_atelier.models.training.config import ARCHES, TrainConfig


def _width_table(text: str) -> dict[int, int]:
    """``"4:128,8:128,16:128"`` -> ``{4: 128, 8: 128, 16: 128}``."""
    try:
        pairs = [item.split(":") for item in text.split(",") if item.strip()]
        return {int(r): int(c) for r, c in pairs}
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"--channels wants resolution:width pairs like 4:128,8:128 (got {text!r})"
        ) from exc


def configure_parser(p: argparse.ArgumentParser) -> None:
    """Add the ``train`` options to ``p``."""
    d = TrainConfig()
    p.add_argument("--arch", choices=(*ARCHES, "mask-guided"), default=d.arch, help="generator to train")
    p.add_argument(
        "--data",
        default=None,
        help="portrait dataset folder (meta.json) or image folder (required unless --adapt-from)",
    )
    p.add_argument("--out", required=True, help="run folder: checkpoint, samples, generator_ema.safetensors")
    p.add_argument("--size", type=int, default=d.size, help="resolution (power of two >= 16)")
    p.add_argument("--batch", type=int, default=d.batch, help="batch size")
    p.add_argument("--iters", type=int, default=d.iters, help="total iterations (also for --resume)")
    p.add_argument("--resume", action="store_true", help="continue from RUN_DIR/checkpoint")
    p.add_argument("--style-dim", type=int, default=d.style_dim, help="W width (split 3:1 for FurryGAN)")
    p.add_argument("--n-mlp", type=int, default=None, help="mapping depth (default furrygan 2, stylegan2 8)")
    p.add_argument(
        "--channel-scale",
        "--channels-scale",
        type=float,
        default=d.channel_scale,
        help="multiply config-F widths (512 up to 32 px, then halving)",
    )
    p.add_argument("--max-channels", type=int, default=None, help="cap every width (e.g. 128 on CPU)")
    p.add_argument("--channels", type=_width_table, default=None, help="widths, e.g. 4:128,8:128,...")
    p.add_argument("--lr", type=float, default=d.lr, help="Adam learning rate")
    p.add_argument("--r1-gamma", type=float, default=None, help="R1 weight (default 0.0002*size^2/batch)")
    p.add_argument("--r1-every", type=int, default=d.r1_every, help="lazy R1 interval")
    p.add_argument("--ema-kimg", type=float, default=d.ema_kimg, help="EMA half-life in thousands of images")
    p.add_argument("--augment", default=d.augment, help="DiffAugment: color,translation,cutout|none")
    p.add_argument("--mixing", type=float, default=None, help="style-mixing probability")
    p.add_argument("--fine-fade-in", type=int, default=d.fine_fade_in, help="fine-mask fade-in iterations")
    p.add_argument(
        "--binarization-decay",
        type=int,
        default=d.binarization_decay,
        help="iterations for the binarisation weight to fall 5 -> 0.5",
    )
    p.add_argument("--phi1", type=float, default=d.phi1, help="minimum coarse-mask area")
    p.add_argument("--phi2", type=float, default=d.phi2, help="maximum fine-mask area")
    p.add_argument("--sample-every", type=int, default=d.sample_every, help="sample grid interval")
    p.add_argument("--checkpoint-every", type=int, default=d.checkpoint_every, help="checkpoint interval")
    p.add_argument("--seed", type=int, default=d.seed, help="seed of every random draw")
    p.add_argument("--device", default=d.device, help="auto, cpu, cuda, cuda:1, mps")
    p.add_argument(
        "--precision",
        choices=("auto", "float32", "bf16"),
        default=d.precision,
        help="auto: bf16 autocast (fp32 master weights) where the device runs bf16 natively",
    )
    p.add_argument("--threads", type=int, default=d.threads, help="torch CPU threads (0 = every core)")
    p.add_argument("--fp16", action="store_true", help="export the EMA generator in float16")
    p.add_argument(
        "--center-prior",
        type=float,
        default=d.center_prior,
        help="optional warm-up weight asking the mask to cover the centre (not in the paper)",
    )
    p.add_argument(
        "--center-prior-iters",
        type=int,
        default=d.center_prior_iters,
        help="iterations over which the centre prior fades to 0",
    )
    p.add_argument(
        "--center-prior-centre-only",
        action="store_true",
        help="the centre prior without its central-quarter (face) term, as before 2026-11-21",
    )
    p.add_argument(
        "--checkpoint-minutes",
        type=float,
        default=d.checkpoint_minutes,
        help="also checkpoint after this many minutes of wall time (0 = never)",
    )
    p.add_argument(
        "--log-every",
        type=int,
        default=d.log_every,
        help="run log (RUN_DIR/log.jsonl) line every N iterations (0 = none)",
    )
    p.add_argument(
        "--fd-every",
        type=int,
        default=d.fd_every,
        help="log the VGG-16 Frechet distance of EMA samples vs held-out images every N steps",
    )
    p.add_argument("--fd-n", type=int, default=d.fd_n, help="images per set for --fd-every")
    p.add_argument(
        "--no-data-cache",
        action="store_true",
        help="read and resize images every batch instead of a uint8 memory map built once",
    )
    p.add_argument(
        "--init-generator",
        default="",
        help="start from this exported generator with a fresh discriminator "
        "(with --resume: only when RUN_DIR has no checkpoint yet)",
    )
    p.add_argument(
        "--init-step",
        type=int,
        default=0,
        help="the iteration --init-generator stands for (schedules continue there)",
    )
    p.add_argument(
        "--d-warmup",
        type=int,
        default=0,
        help="after --init-generator, iterations that train the fresh discriminator only",
    )
    from latent_atelier.models.training.adapt_cli import add_adapt_options
    from latent_atelier.models.training.mask_guided_cli import add_arguments

    add_arguments(p)
    add_adapt_options(p)


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The :class:`TrainConfig` the parsed options describe."""
    return TrainConfig(
        arch=args.arch,
        data=args.data,
        out=args.out,
        size=args.size,
        batch=args.batch,
        iters=args.iters,
        resume=args.resume,
        style_dim=args.style_dim,
        n_mlp=args.n_mlp,
        channels=args.channels,
        channel_scale=args.channel_scale,
        max_channels=args.max_channels,
        lr=args.lr,
        r1_gamma=args.r1_gamma,
        r1_every=args.r1_every,
        ema_kimg=args.ema_kimg,
        augment=args.augment,
        mixing=args.mixing,
        fine_fade_in=args.fine_fade_in,
        binarization_decay=args.binarization_decay,
        phi1=args.phi1,
        phi2=args.phi2,
        center_prior=args.center_prior,
        center_prior_iters=args.center_prior_iters,
        center_prior_core=not args.center_prior_centre_only,
        sample_every=args.sample_every,
        checkpoint_every=args.checkpoint_every,
        seed=args.seed,
        device=args.device,
        precision=args.precision,
        threads=args.threads,
        save_fp16=args.fp16,
        checkpoint_minutes=args.checkpoint_minutes,
        log_every=args.log_every,
        fd_every=args.fd_every,
        fd_n=args.fd_n,
        data_cache=not args.no_data_cache,
        init_generator=args.init_generator,
        init_step=args.init_step,
        d_warmup=args.d_warmup,
    )


def run(args: argparse.Namespace) -> int:
    """Train with a tqdm progress bar; returns the exit status (2 for bad settings)."""
    if getattr(args, "adapt_from", None):
        from latent_atelier.models.training.adapt_cli import run_adapt

        return run_adapt(args)
    if not args.data:
        print("train: --data is required (a portrait dataset or an image folder)", file=sys.stderr)
        return 2
    if args.arch == "mask-guided":
        from latent_atelier.models.training.mask_guided_cli import run as run_mask_guided

        return run_mask_guided(args)
    from tqdm import tqdm

    from latent_atelier.models.training.trainer import train

    config = config_from_args(args)
    try:
        config.validate()
    except ValueError as exc:
        print(f"train: {exc}", file=sys.stderr)
        return 2
    bar = tqdm(total=config.iters, desc=f"train {config.arch} {config.size}px", unit="it", dynamic_ncols=True)

    def progress(step: int, total: int, logs: dict[str, float]) -> None:
        if bar.n == 0 and step > 1:
            bar.update(step - 1)  # resumed run
        bar.update(1)
        keys = ("d", "g", "alpha_mean", "r1")
        bar.set_postfix({k: f"{logs[k]:.3f}" for k in keys if k in logs}, refresh=False)

    try:
        trainer = train(config, progress)
    except (FileExistsError, FileNotFoundError, ValueError) as exc:
        bar.close()
        print(f"train: {exc}", file=sys.stderr)
        return 2
    bar.close()
    print(f"wrote {trainer.out / 'generator_ema.safetensors'} (step {trainer.s.step})")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry: ``python -m latent_atelier.models.training.cli --data ... --out ...``."""
    parser = argparse.ArgumentParser(prog="train", description="Train StyleGAN2 or FurryGAN")
    configure_parser(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())

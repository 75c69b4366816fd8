"""``latent-atelier-cli train``: argument parser and runner (the app's CLI hooks these in).

Example (a CPU demo run)::

    latent-atelier-cli train --arch furrygan --data data/portraits128 --size 64 \
        --batch 8 --iters 4000 --max-channels 128 --out runs/demo64
"""

from __future__ import annotations

import argparse
import os
import sys

from latent_atelier.models.training.cli_options import add_options, config_kwargs, option, switch_off
from latent_atelier.models.training.cli_run import StageBars, run_training
from latent_atelier.models.training.config import ARCHES, MODCONV_MODES, TrainConfig, resolved_threads


def _width_table(text: str) -> dict[int, int]:
    """``"4:128,8:128,16:128"`` -> ``{4: 128, 8: 128, 16: 128}``."""
    try:
        pairs = [item.split(":") for item in text.split(",") if item.strip()]
        return {int(r): int(c) for r, c in pairs}
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"--channels wants resolution:width pairs like 4:128,8:128 (got {text!r})"
        ) from exc


TRAIN_OPTIONS = (
    option("--arch", choices=(*ARCHES, "mask-guided"), help="generator to train"),
    option(
        "--data",
        default=None,
        help="portrait dataset folder (meta.json) or image folder (required unless --adapt-from)",
    ),
    option("--out", required=True, help="run folder: checkpoint, samples, generator_ema.safetensors"),
    option("--size", help="resolution (power of two >= 16)"),
    option("--batch", help="batch size"),
    option("--iters", help="total iterations (also for --resume)"),
    option("--resume", action="store_true", help="continue from RUN_DIR/checkpoint"),
    option("--style-dim", help="W width (split 3:1 for FurryGAN)"),
    option("--n-mlp", help="mapping depth (default furrygan 2, stylegan2 8)"),
    option(
        "--channel-scale", "--channels-scale", help="multiply config-F widths (512 up to 32 px, then halving)"
    ),
    option("--max-channels", help="cap every width (e.g. 128 on CPU)"),
    option("--channels", type=_width_table, help="widths, e.g. 4:128,8:128,..."),
    option("--lr", help="Adam learning rate"),
    option("--r1-gamma", help="R1 weight (default 0.0002*size^2/batch)"),
    option("--r1-every", help="lazy R1 interval"),
    option(
        "--pl-weight",
        help="StyleGAN2's path length regularisation of G (0 = off; StyleGAN2's training, "
        "which FurryGAN follows, uses 2)",
    ),
    option("--pl-every", help="lazy path length interval"),
    option("--ema-kimg", help="EMA half-life in thousands of images"),
    option("--augment", help="DiffAugment: color,translation,cutout|none"),
    option("--mixing", help="style-mixing probability"),
    option("--fine-fade-in", help="fine-mask fade-in iterations"),
    option("--binarization-decay", help="iterations for the binarisation weight to fall 5 -> 0.5"),
    option("--phi1", help="minimum coarse-mask area"),
    option("--phi2", help="maximum fine-mask area"),
    option("--d-width-scale", help="the discriminator's channels as a multiple of the generator's"),
    option("--bg-part-every", help="background-participation loss interval (0 = off)"),
    option("--mask-reg-every", help="mask-consistency loss interval (0 = off)"),
    option(
        "--bg-part-mask-only",
        action="store_true",
        help="the background-participation loss trains only the mask, not the background "
        "generator (by default it also pulls the background toward the composite)",
    ),
    option("--sample-every", help="sample grid interval"),
    option("--checkpoint-every", help="checkpoint interval"),
    option("--seed", help="seed of every random draw"),
    option("--device", help="auto, cpu, cuda, cuda:1, mps"),
    option(
        "--precision",
        choices=("auto", "float32", "bf16"),
        help="auto: bf16 autocast (fp32 master weights) where the device runs bf16 natively",
    ),
    option("--threads", help="torch CPU threads (0 = every core)"),
    option(
        "--modconv",
        choices=MODCONV_MODES,
        help="modulated convolutions as one grouped convolution or input-scaled (the faster here)",
    ),
    option(
        "--compile",
        action="store_true",
        config_field="compile_passes",
        help="torch.compile the G and D passes: minutes to start, then faster steps (R1 stays eager)",
    ),
    option(
        "--fp16", action="store_true", config_field="save_fp16", help="export the EMA generator in float16"
    ),
    option(
        "--center-prior",
        help="optional warm-up weight asking the mask to cover the centre (not in the paper)",
    ),
    option("--center-prior-iters", help="iterations over which the centre prior fades to 0"),
    switch_off(
        "--center-prior-centre-only",
        "center_prior_core",
        help="the centre prior without its central-quarter (face) term, as before 2026-11-21",
    ),
    option("--checkpoint-minutes", help="also checkpoint after this many minutes of wall time (0 = never)"),
    option("--log-every", help="run log (RUN_DIR/log.jsonl) line every N iterations (0 = none)"),
    option(
        "--fd-every", help="log the VGG-16 Frechet distance of EMA samples vs held-out images every N steps"
    ),
    option("--fd-n", help="images per set for --fd-every"),
    option(
        "--keep-probe-generators",
        action="store_true",
        help="also export the EMA generator at every --fd-every probe (RUN_DIR/probes/), "
        "so any probed state can be evaluated or shipped later",
    ),
    switch_off(
        "--no-data-cache",
        "data_cache",
        help="read and resize images every batch instead of a uint8 memory map built once",
    ),
    option(
        "--init-generator",
        help="start from this exported generator with a fresh discriminator "
        "(with --resume: only when RUN_DIR has no checkpoint yet)",
    ),
    option("--init-step", help="the iteration --init-generator stands for (schedules continue there)"),
    option(
        "--init-images",
        help="images --init-generator had been shown, for the run log's count "
        "(default: --init-step x --batch; give it when the batch size changed)",
    ),
    option("--d-warmup", help="after --init-generator, iterations that train the fresh discriminator only"),
    option(
        "--init-widen",
        action="store_true",
        help="grow a narrower --init-generator to this run's widths, drawing the same images "
        "(new channels start disconnected and are trained in)",
    ),
)


def configure_parser(p: argparse.ArgumentParser) -> None:
    """Add the ``train`` options to ``p``: the shared ones, then mask-guided and adaptation."""
    from latent_atelier.models.training.adapt_cli import add_adapt_options
    from latent_atelier.models.training.mask_guided_cli import add_arguments

    add_options(p, TrainConfig(), TRAIN_OPTIONS)
    add_arguments(p)
    add_adapt_options(p)


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The :class:`TrainConfig` the parsed options describe."""
    return TrainConfig(**config_kwargs(args, TRAIN_OPTIONS))


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
    from latent_atelier.models.training.trainer import train

    config = config_from_args(args)
    from latent_atelier.models.training.passes import wait_policy_note

    policy = os.environ.get("OMP_WAIT_POLICY")
    note = wait_policy_note(config.compile_passes, resolved_threads(config), policy)
    if note:
        print(note, file=sys.stderr)
    bars = StageBars(
        lambda _: f"train {config.arch} {config.size}px", ("d", "g", "alpha_mean", "r1"), total=config.iters
    )
    trainer = run_training(config, train, bars)
    if trainer is None:
        return 2
    print(f"wrote {trainer.out / 'generator_ema.safetensors'} (step {trainer.s.step})")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry: ``python -m latent_atelier.models.training.cli --data ... --out ...``."""
    parser = argparse.ArgumentParser(prog="train", description="Train StyleGAN2 or FurryGAN")
    configure_parser(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())

"""``latent-atelier-cli train --arch mask-guided``: its own options and runner.

The shared options (``--data --out --size --batch --iters --resume --lr --seed --threads
--sample-every --checkpoint-every``) come from ``models/training/cli.py``; these add the
mask-guided ones (prefixed ``--mg-`` where a name could be mistaken for a GAN option).
"""

from __future__ import annotations

import argparse

from latent_atelier.models.training.cli_options import add_options, config_kwargs, option, shared_kwargs
from latent_atelier.models.training.cli_run import StageBars, run_training
from latent_atelier.models.training.mask_guided_train import VARIANTS, MaskGuidedTrainConfig

#: the GAN trainer's --lr default; when --lr is left at it, the mask-guided default is used
_GAN_DEFAULT_LR = 0.002

MASK_GUIDED_OPTIONS = (
    option(
        "--mg-variant",
        choices=VARIANTS,
        config_field="variant",
        help="full: the seed's framework; label-to-image: the plain baseline",
    ),
    option("--mg-width", config_field="width", help="base channel width"),
    option("--mg-code-dim", config_field="code_dim", help="component code length"),
    option("--mg-feat-channels", config_field="feat_channels", help="pasted feature channels"),
    option("--mg-n-res", config_field="n_res", help="residual blocks of the face generator"),
    option(
        "--mg-parser-iters",
        config_field="parser_iters",
        help="face-parser pre-training steps (frozen afterwards)",
    ),
    option(
        "--mg-parser",
        config_field="parser_from",
        help="take the frozen face parser from this model file instead of pre-training one",
    ),
    option(
        "--mg-lr-decay-from",
        config_field="lr_decay_from",
        help="from this step the learning rate falls linearly to 0 at --iters (0: constant)",
    ),
    option("--mg-n-train", config_field="n_train", help="training pairs held in memory"),
    option(
        "--cpu-budget", help="stop after this many seconds of process CPU time, summed over resumes (0: none)"
    ),
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options only ``--arch mask-guided`` reads."""
    g = p.add_argument_group("mask-guided (--arch mask-guided)")
    add_options(g, MaskGuidedTrainConfig(), MASK_GUIDED_OPTIONS)


def config_from_args(args: argparse.Namespace) -> MaskGuidedTrainConfig:
    """The run's settings from the parsed options."""
    from latent_atelier.models.training.cli import TRAIN_OPTIONS

    d = MaskGuidedTrainConfig()
    return MaskGuidedTrainConfig(
        **{
            **shared_kwargs(args, TRAIN_OPTIONS, MaskGuidedTrainConfig),
            **config_kwargs(args, MASK_GUIDED_OPTIONS),
            "lr": d.lr if args.lr == _GAN_DEFAULT_LR else args.lr,
            "threads": args.threads or 1,
        }
    )


def _stage_name(variant: str):
    return lambda stage: "parser" if stage == 0 else f"mask-guided {variant}"


def run(args: argparse.Namespace) -> int:
    """Train with a progress bar; exit status 2 for bad settings or data."""
    from latent_atelier.models.training.mask_guided_train import train

    config = config_from_args(args)
    bars = StageBars(_stage_name(config.variant), ("parser_ce", "d", "global_l1", "local", "parse"))
    trainer = run_training(config, train, bars)
    if trainer is None:
        return 2
    s = trainer.s
    print(
        f"wrote {trainer.out / 'mask_guided.safetensors'} (step {s.step}, parser {s.parser_step}, "
        f"{s.cpu_seconds:.0f} CPU s)"
    )
    return 0

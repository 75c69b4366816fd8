"""``latent-atelier-cli train --adapt-from MODEL --shots DIR``: few-shot adaptation options.

Example (the ink-sketch model of the Dual-Domain Synthesis tools, CPU)::

    latent-atelier-cli train --adapt-from resources/models/furrygan-demo.safetensors \
        --shots data/ink/shots --out runs/ink --iters 1500 --batch 4 --augment translation --fp16
"""

from __future__ import annotations

import argparse

from latent_atelier.models.training.cli_options import add_options, config_kwargs, option, shared_kwargs
from latent_atelier.models.training.cli_run import TRAIN_ERRORS, StageBars, run_training

ADAPT_OPTIONS = (
    option(
        "--adapt-from",
        metavar="MODEL",
        default=None,
        config_field="source",
        help="adapt this generator to the --shots images instead of training from scratch",
    ),
    option(
        "--shots",
        metavar="DIR",
        default=None,
        config_field=None,
        help="folder of about 10 target-domain images (with --adapt-from)",
    ),
    option(
        "--cdc-weight",
        type=float,
        default=1000.0,
        help="weight of the cross-domain distance consistency (paper: 1000)",
    ),
)


def add_adapt_options(p: argparse.ArgumentParser) -> None:
    """The adaptation options of ``train``."""
    g = p.add_argument_group("few-shot adaptation (cross-domain correspondence, for dual-domain)")
    add_options(g, None, ADAPT_OPTIONS)


def config_from_args(args: argparse.Namespace):
    """The :class:`AdaptConfig` the parsed ``train`` options describe."""
    from latent_atelier.models.training.adapt import AdaptConfig
    from latent_atelier.models.training.cli import TRAIN_OPTIONS

    return AdaptConfig(
        **shared_kwargs(args, TRAIN_OPTIONS, AdaptConfig),
        **config_kwargs(args, ADAPT_OPTIONS),
        shots=args.shots or args.data or "",
    )


def run_adapt(args: argparse.Namespace) -> int:
    """Adapt with a tqdm progress bar; returns the exit status (2 for bad settings or files)."""
    from latent_atelier.models.checkpoints import CheckpointError
    from latent_atelier.models.training.adapt import adapt

    config = config_from_args(args)
    bars = StageBars(lambda _: "adapt", ("d", "g", "cdc", "mask"), digits=4, total=config.iters)
    adapter = run_training(config, adapt, bars, (*TRAIN_ERRORS, CheckpointError))
    if adapter is None:
        return 2
    print(f"wrote {adapter.out / 'generator_ema.safetensors'} (step {adapter.s.step})")
    return 0

"""``latent-atelier-cli train --adapt-from MODEL --shots DIR``: few-shot adaptation options.

Example (the ink-sketch model of the Dual-Domain Synthesis tools, CPU)::

    latent-atelier-cli train --adapt-from resources/models/furrygan-demo.safetensors \
        --shots data/ink/shots --out runs/ink --iters 1500 --batch 4 --augment translation --fp16
"""

from __future__ import annotations

import argparse
import sys


def add_adapt_options(p: argparse.ArgumentParser) -> None:
    """The adaptation options of ``train``."""
    g = p.add_argument_group("few-shot adaptation (cross-domain correspondence, for dual-domain)")
    g.add_argument(
        "--adapt-from",
        metavar="MODEL",
        default=None,
        help="adapt this generator to the --shots images instead of training from scratch",
    )
    g.add_argument(
        "--shots",
        metavar="DIR",
        default=None,
        help="folder of about 10 target-domain images (with --adapt-from)",
    )
    g.add_argument(
        "--cdc-weight",
        type=float,
        default=1000.0,
        help="weight of the cross-domain distance consistency (paper: 1000)",
    )


def config_from_args(args: argparse.Namespace):
    """The :class:`AdaptConfig` the parsed ``train`` options describe."""
    from latent_atelier.models.training.adapt import AdaptConfig

    return AdaptConfig(
        source=args.adapt_from,
        shots=args.shots or args.data or "",
        out=args.out,
        iters=args.iters,
        batch=args.batch,
        lr=args.lr,
        cdc_weight=args.cdc_weight,
        augment=args.augment,
        checkpoint_every=args.checkpoint_every,
        sample_every=args.sample_every,
        seed=args.seed,
        device=args.device,
        threads=args.threads,
        save_fp16=args.fp16,
        resume=args.resume,
    )


def run_adapt(args: argparse.Namespace) -> int:
    """Adapt with a tqdm progress bar; returns the exit status (2 for bad settings or files)."""
    from tqdm import tqdm

    from latent_atelier.models.checkpoints import CheckpointError
    from latent_atelier.models.training.adapt import adapt

    config = config_from_args(args)
    try:
        config.validate()
    except ValueError as exc:
        print(f"train: {exc}", file=sys.stderr)
        return 2
    bar = tqdm(total=config.iters, desc="adapt", unit="it", dynamic_ncols=True)

    def progress(step: int, total: int, logs: dict[str, float]) -> None:
        if bar.n == 0 and step > 1:
            bar.update(step - 1)  # resumed run
        bar.update(1)
        bar.set_postfix({k: f"{logs[k]:.4f}" for k in ("d", "g", "cdc", "mask") if k in logs}, refresh=False)

    try:
        adapter = adapt(config, progress)
    except (FileExistsError, FileNotFoundError, ValueError, CheckpointError) as exc:
        bar.close()
        print(f"train: {exc}", file=sys.stderr)
        return 2
    bar.close()
    print(f"wrote {adapter.out / 'generator_ema.safetensors'} (step {adapter.s.step})")
    return 0

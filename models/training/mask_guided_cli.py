"""``latent-atelier-cli train --arch mask-guided``: its own options and runner.

The shared options (``--data --out --size --batch --iters --resume --lr --seed --threads
--sample-every --checkpoint-every``) come from ``models/training/cli.py``; these add the
mask-guided ones (prefixed ``--mg-`` where a name could be mistaken for a GAN option).
"""

from __future__ import annotations

import argparse
import sys

from latent_atelier.models.training.mask_guided_train import VARIANTS, MaskGuidedTrainConfig

#: the GAN trainer's --lr default; when --lr is left at it, the mask-guided default is used
_GAN_DEFAULT_LR = 0.002


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options only ``--arch mask-guided`` reads."""
    d = MaskGuidedTrainConfig()
    g = p.add_argument_group("mask-guided (--arch mask-guided)")
    g.add_argument(
        "--mg-variant",
        choices=VARIANTS,
        default=d.variant,
        help="full: the seed's framework; label-to-image: the plain baseline",
    )
    g.add_argument("--mg-width", type=int, default=d.width, help="base channel width")
    g.add_argument("--mg-code-dim", type=int, default=d.code_dim, help="component code length")
    g.add_argument("--mg-feat-channels", type=int, default=d.feat_channels, help="pasted feature channels")
    g.add_argument("--mg-n-res", type=int, default=d.n_res, help="residual blocks of the face generator")
    g.add_argument(
        "--mg-parser-iters",
        type=int,
        default=d.parser_iters,
        help="face-parser pre-training steps (frozen afterwards)",
    )
    g.add_argument("--mg-n-train", type=int, default=d.n_train, help="training pairs held in memory")
    g.add_argument(
        "--cpu-budget",
        type=float,
        default=d.cpu_budget,
        help="stop after this many seconds of process CPU time, summed over resumes (0: none)",
    )


def config_from_args(args: argparse.Namespace) -> MaskGuidedTrainConfig:
    """The run's settings from the parsed options."""
    d = MaskGuidedTrainConfig()
    return MaskGuidedTrainConfig(
        data=args.data,
        out=args.out,
        variant=args.mg_variant,
        size=args.size,
        width=args.mg_width,
        code_dim=args.mg_code_dim,
        feat_channels=args.mg_feat_channels,
        n_res=args.mg_n_res,
        batch=args.batch,
        iters=args.iters,
        cpu_budget=args.cpu_budget,
        lr=d.lr if args.lr == _GAN_DEFAULT_LR else args.lr,
        parser_iters=args.mg_parser_iters,
        n_train=args.mg_n_train,
        checkpoint_every=args.checkpoint_every,
        sample_every=args.sample_every,
        seed=args.seed,
        threads=args.threads or 1,
        resume=args.resume,
    )


def run(args: argparse.Namespace) -> int:
    """Train with a progress bar; exit status 2 for bad settings or data."""
    from tqdm import tqdm

    from latent_atelier.models.training.mask_guided_train import train

    config = config_from_args(args)
    try:
        config.validate()
    except ValueError as exc:
        print(f"train: {exc}", file=sys.stderr)
        return 2
    bars: dict[float, tqdm] = {}

    def progress(step: int, total: int, logs: dict[str, float]) -> None:
        stage = logs.get("stage", 1.0)
        if stage not in bars:
            for bar in bars.values():
                bar.close()
            name = "parser" if stage == 0 else f"mask-guided {config.variant}"
            bars[stage] = tqdm(total=total, initial=step - 1, desc=name, unit="it", dynamic_ncols=True)
        bars[stage].update(1)
        keys = ("parser_ce", "d", "global_l1", "local", "parse")
        bars[stage].set_postfix({k: f"{logs[k]:.3f}" for k in keys if k in logs}, refresh=False)

    try:
        trainer = train(config, progress)
    except (FileExistsError, FileNotFoundError, ValueError) as exc:
        print(f"train: {exc}", file=sys.stderr)
        return 2
    finally:
        for bar in bars.values():
            bar.close()
    s = trainer.s
    print(
        f"wrote {trainer.out / 'mask_guided.safetensors'} (step {s.step}, parser {s.parser_step}, "
        f"{s.cpu_seconds:.0f} CPU s)"
    )
    return 0

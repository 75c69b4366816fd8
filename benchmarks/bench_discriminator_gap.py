"""How a training run's discriminator scores training, held-out and generated images.

A discriminator that has memorised its training set scores those images above held-out ones
from the same distribution; one that is only ahead of its generator scores both alike and
the generated ones lower. Reads the run's checkpoint (no training)::

    python -m benchmarks.bench_discriminator_gap runs/furrygan64-c7-r1x5 --name d_gap_c7r1x5
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np
import torch

from benchmarks.common import repo_relative, report


def _summary(logits: torch.Tensor) -> dict[str, float]:
    return {"mean": float(logits.mean()), "std": float(logits.std()), "n": int(logits.numel())}


def _read_json(path: Path) -> dict:
    """A run folder's JSON file as a dict; ValueError saying what to give when it is not one."""
    try:
        value = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} cannot be read ({exc}); give a run folder the trainer wrote") from exc
    if not isinstance(value, dict):
        raise ValueError(f"{path} is not a JSON object; give a run folder the trainer wrote")
    return value


def _trainer(run: Path):
    from latent_atelier.models.training import checkpoint_folder as ckpt
    from latent_atelier.models.training.config import TrainConfig
    from latent_atelier.models.training.trainer import Trainer

    stored = _read_json(run / "config.json")
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    settings = {k: v for k, v in stored.items() if k in known}
    settings.update(out=str(run), resume=False, init_generator=None, init_widen=False)
    settings.update(compile_passes=False, threads=1)
    trainer = Trainer(TrainConfig(**settings))
    ckpt.load_weights(run, trainer._networks(), trainer.device)
    step = int(_read_json(run / ckpt.CHECKPOINT_DIR / "state.json").get("step", -1))
    return trainer, step


@torch.no_grad()
def discriminator_gap(run: Path, n_real: int, n_fake: int, seed: int = 0) -> dict:
    """D's logits (no augmentation) on ``n_real`` training and held-out images and ``n_fake``
    samples of the EMA generator (truncation 1, seeds 50 000 on)."""
    from latent_atelier.models.generator import Latent
    from latent_atelier.models.training.data import PortraitImages

    trainer, step = _trainer(run)
    disc, gen = trainer.s.disc.eval(), trainer.s.gen_ema
    cfg = trainer.config

    def logits(x: torch.Tensor) -> torch.Tensor:
        out = disc(x.to(trainer.device))
        return (out[0] if isinstance(out, tuple) else out).flatten().float().cpu()

    figures: dict = {"run": repo_relative(run), "step": step}
    for split in ("train", "eval"):
        data = PortraitImages(cfg.data, cfg.size, split)
        pick = np.random.default_rng(seed).choice(len(data), min(n_real, len(data)), replace=False)
        figures[f"real_{split}"] = _summary(logits(torch.stack([data[int(i)] for i in pick])))
    fakes = []
    for lo in range(0, n_fake, 50):
        lat = Latent.cat([gen.random_latent(50_000 + i) for i in range(lo, min(n_fake, lo + 50))])
        fakes.append(logits(gen.synthesize(lat).image.float()))
    figures["generated_ema"] = _summary(torch.cat(fakes))
    figures["train_minus_heldout"] = figures["real_train"]["mean"] - figures["real_eval"]["mean"]
    figures["heldout_minus_generated"] = figures["real_eval"]["mean"] - figures["generated_ema"]["mean"]
    return figures


def main(argv: list[str] | None = None) -> dict:
    """Score one run's checkpoint and write ``results/<name>.json``; returns the figures."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("run", help="a training run folder (holds config.json and checkpoint/)")
    p.add_argument("--n-real", type=int, default=500, help="training and held-out images each")
    p.add_argument("--n-fake", type=int, default=200, help="generated images")
    p.add_argument("--name", default="discriminator_gap", help="result name (results/<name>.json)")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    figures = discriminator_gap(Path(args.run), args.n_real, args.n_fake)
    return report(args.name, figures)


if __name__ == "__main__":
    main()

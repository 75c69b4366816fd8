"""Running the command line from editor tests: every argument as text, a tiny random model."""

from __future__ import annotations

from pathlib import Path

#: a 32 px StyleGAN2 with random weights (seed 0, 16 channels)
TINY_MODEL = ("--model", "random:stylegan2:32:0:16")


def cli(*args: object) -> int:
    """``latent-atelier`` with ``args`` (paths and numbers turned into text); its exit code."""
    from latent_atelier.app.cli import main

    return main([str(a) for a in args])


def segments_cli(photo: Path, labels: Path, out: Path, *options: object) -> int:
    """The ``segments`` command on the tiny model with one W+ step, writing into ``out``."""
    return cli(*TINY_MODEL, "segments", photo, "--labels", labels, "--steps-w", 1, *options, "--out-dir", out)

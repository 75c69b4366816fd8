"""The trainer's forward passes through G and D, eager or through ``torch.compile``.

``torch.compile`` fuses the many small element-wise operations of a 64 px GAN step
(bias, leaky ReLU, noise, modulation, the bf16 casts of autocast) into generated C++ or
Triton kernels; on this project's CPU it makes a FurryGAN step about 1.3x faster after a
compile of a few minutes at start (``bench_training``: 1.26x at batch 16; torch caches the
generated code on disk, so a resume compiles faster). The lazy R1
step needs a second derivative, which compiled graphs do not give, so it keeps the eager
discriminator. The compiled passes share the networks' parameters, so checkpoints,
the EMA update and resuming are the same either way.

``modconv`` picks how the generator's modulated convolutions run in training: ``grouped``
(per-sample weights, one grouped convolution) or ``input-scaled`` (the input scaled by
the style, one shared convolution, the output demodulated), the same function with
different rounding; input-scaled is the faster here (``bench_training``: 1.07x at batch 8).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from latent_atelier.models.layers import ModulatedConv2d
from latent_atelier.models.training.config import MODCONV_MODES


def set_modconv(gen: nn.Module, mode: str) -> None:
    """Run every modulated convolution of ``gen`` the ``mode`` way (see the module text)."""
    if mode not in MODCONV_MODES:
        raise ValueError(f"modconv must be one of {MODCONV_MODES}, got {mode!r}")
    for module in gen.modules():
        if isinstance(module, ModulatedConv2d):
            module.fused = mode == "grouped"


@dataclass
class TrainingPasses:
    """What one training step calls: ``synthesize(styles, noise)`` -> the fake outputs,
    ``disc(x)`` -> D's output, ``predict_mask(x)`` (FurryGAN's D only), and ``disc_eager``
    and ``synthesize_eager`` for the second derivatives of R1 and path length steps."""

    synthesize: Callable[[dict[str, torch.Tensor], list[torch.Tensor]], dict[str, torch.Tensor]]
    disc: Callable[[torch.Tensor], Any]
    predict_mask: Callable[[torch.Tensor], torch.Tensor] | None
    disc_eager: nn.Module
    compiled: bool
    synthesize_eager: Callable[[dict[str, torch.Tensor], list[torch.Tensor]], dict[str, torch.Tensor]]


def check_compiler(device: torch.device) -> None:
    """Raise ValueError when ``torch.compile`` cannot build CPU kernels here (no C++ compiler)."""
    if device.type != "cpu":
        return
    names = [os.environ.get("CXX", ""), "g++", "clang++", "c++"]
    if not any(name and shutil.which(name) for name in names):
        raise ValueError(
            "--compile builds its CPU kernels with a C++ compiler and none was found "
            "(g++, clang++ or $CXX); install one or train without --compile"
        )


def wait_policy_note(compile_passes: bool, threads: int, policy: str | None) -> str | None:
    """A note when compiled passes run on several CPU threads that sleep between parallel
    regions (``OMP_WAIT_POLICY`` passive, the app's default): the compiled kernels open many
    small regions, and waking the threads for each cost 4.6x the time per step here
    (2.7 s against 0.59 s at batch 16 on 2 threads)."""
    if not compile_passes or threads == 1 or (policy or "").upper() != "PASSIVE":
        return None
    return (
        "note: --compile on several threads with passive OpenMP waiting runs slowly (each small "
        "compiled kernel wakes the sleeping threads); on a machine given over to training start "
        "with OMP_WAIT_POLICY=ACTIVE, or train on one thread (--threads 1)"
    )


def training_passes(
    gen: nn.Module, disc: nn.Module, arch: str, compile_passes: bool, device: torch.device
) -> TrainingPasses:
    """The passes of one run over ``gen`` and ``disc`` (compiled when ``compile_passes``)."""
    any_gen: Any = gen
    any_disc: Any = disc
    if arch == "furrygan":

        def synthesize(styles: dict[str, torch.Tensor], noise: list[torch.Tensor]) -> dict[str, torch.Tensor]:
            return any_gen.layers(styles["fg"], styles["bg"], noise)

    else:
        from latent_atelier.models.generator import Latent

        def synthesize(styles: dict[str, torch.Tensor], noise: list[torch.Tensor]) -> dict[str, torch.Tensor]:
            return {"image": any_gen.synthesize(Latent(styles, noise)).image}

    predict_mask = getattr(any_disc, "predict_mask", None)
    if not compile_passes:
        return TrainingPasses(synthesize, disc, predict_mask, disc, False, synthesize_eager=synthesize)
    check_compiler(device)
    return TrainingPasses(
        torch.compile(synthesize),
        torch.compile(disc),
        torch.compile(predict_mask) if predict_mask is not None else None,
        disc,
        compiled=True,
        synthesize_eager=synthesize,
    )

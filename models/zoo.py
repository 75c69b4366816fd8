"""Where the bundled models live, and how a model is named on the command line.

A model spec is a checkpoint path, or ``random:<arch>:<size>[:<seed>[:<width>]]`` for a
generator with random weights (benchmarks, tests, trying the tools without a checkpoint).
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from latent_atelier.resources import resources_dir

DEMO_MODEL_NAME = "furrygan-demo.safetensors"


def default_model_path() -> Path:
    """The bundled demo model (the app's and the CLI's default)."""
    return resources_dir() / "models" / DEMO_MODEL_NAME


def set_noise_strength(gen: torch.nn.Module, strength: float) -> torch.nn.Module:
    """Give every noise input a learned-strength value like a trained model's.

    Freshly initialised StyleGAN2 layers have zero noise strength, so noise maps would do
    nothing; trained models have strengths of about 0.01-0.3.
    """
    from latent_atelier.models.layers import NoiseInjection

    with torch.no_grad():
        for m in gen.modules():
            if isinstance(m, NoiseInjection):
                m.weight.fill_(strength)
    return gen


def scale_rgb_output(gen: torch.nn.Module, gain: float) -> torch.nn.Module:
    """Multiply every ToRGB convolution weight by ``gain``, so the image scales by ``gain``.

    In StyleGAN2 the ToRGB layers are linear (no demodulation; fresh biases are zero) and
    their outputs are summed, so this scales the whole image exactly (FurryGAN's tanh
    outputs only approximately). A random config-F StyleGAN2 draws images with a standard
    deviation of about 1, much of it outside [-1, 1]; a gain near 0.5 gives the spread of
    natural images.
    """
    from latent_atelier.models.layers import ToRGB

    with torch.no_grad():
        for m in gen.modules():
            if isinstance(m, ToRGB):
                m.conv.weight.mul_(gain)
    return gen


def random_generator(
    arch: str, size: int, seed: int = 0, noise_strength: float = 0.1, rgb_gain: float = 1.0, **kwargs
) -> torch.nn.Module:
    """A generator with seeded random weights (config F widths unless overridden).

    ``rgb_gain`` scales the output image (see :func:`scale_rgb_output`); 1 keeps it as drawn.
    """
    from latent_atelier.models.architectures import generator_class

    cls = generator_class(arch)
    torch.manual_seed(seed)
    gen = cls(size, **kwargs)
    set_noise_strength(gen, noise_strength)
    if rgb_gain != 1.0:
        scale_rgb_output(gen, rgb_gain)
    return gen.eval()


MAX_RANDOM_SIZE = 1024  # what a random:<arch>:<size> spec may ask for


def load_model(spec: str | os.PathLike | None, device: str | torch.device = "cpu") -> torch.nn.Module:
    """Load a generator from a spec (path, ``random:...``, or None for the demo model)."""
    if spec is None:
        path = default_model_path()
        if not path.exists():
            raise FileNotFoundError(
                f"the bundled demo model {path} is missing: reinstall, or pass a model file"
            )
        spec = path
    text = str(spec)
    if text.startswith("random:"):
        parts = text.split(":")
        if len(parts) not in (3, 4, 5):
            raise ValueError("random model spec is random:<arch>:<size>[:<seed>[:<width>]]")
        size = int(parts[2])
        seed = int(parts[3]) if len(parts) >= 4 else 0
        if not 8 <= size <= MAX_RANDOM_SIZE or size & (size - 1):
            raise ValueError(f"random model size {size}: a power of two from 8 to {MAX_RANDOM_SIZE}")
        kwargs = {}
        if len(parts) == 5:  # one channel width for every resolution (small, fast models)
            width = int(parts[4])
            if not 1 <= width <= 1024:
                raise ValueError(f"random model width {width}: from 1 to 1024")
            kwargs = {"channels": {2**i: width for i in range(2, size.bit_length())}, "style_dim": width}
        return random_generator(parts[1], size, seed, **kwargs).to(device)
    from latent_atelier.models.checkpoints import load_generator

    return load_generator(text, device=device).eval()

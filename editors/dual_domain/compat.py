"""Whether two generators can share one latent (a DDS pair), with a message that says why not."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from torch import nn

from latent_atelier.editors.operation import OperationError


class IncompatibleGenerators(OperationError):
    """The two generators do not read the same latents."""


def describe(gen) -> str:
    """``"furrygan 64 px, latent fg 10x192 + bg 10x64"`` style summary."""
    shapes = " + ".join(f"{k} {r}x{d}" for k, (r, d) in gen.latent_shapes().items())
    return f"{getattr(gen, 'arch', '?')} {gen.resolution} px, latent {shapes}"


def check_compatible(gen_a, gen_b) -> None:
    """Raise :class:`IncompatibleGenerators` unless ``gen_a`` and ``gen_b`` take the same latents
    (same architecture, resolution, latent groups and shapes, z size and noise inputs)."""
    problems = []
    if getattr(gen_a, "arch", None) != getattr(gen_b, "arch", None):
        problems.append("different architectures")
    if gen_a.resolution != gen_b.resolution:
        problems.append("different resolutions")
    if gen_a.latent_shapes() != gen_b.latent_shapes():
        problems.append("different latent shapes")
    elif gen_a.z_dim() != gen_b.z_dim():
        problems.append("different z sizes")
    if [tuple(s) for s in gen_a.noise_shapes] != [tuple(s) for s in gen_b.noise_shapes]:
        problems.append("different noise inputs")
    if problems:
        raise IncompatibleGenerators(
            f"the two generators cannot share a latent ({', '.join(problems)}): the first is "
            f"{describe(gen_a)}, the second {describe(gen_b)}. Use a pair where one was "
            "fine-tuned or adapted from the other (latent-atelier-cli train --adapt-from MODEL --shots DIR)."
        )


@contextmanager
def frozen(*modules: nn.Module) -> Iterator[None]:
    """No gradients for the modules' weights inside the block (restored afterwards)."""
    saved = [(p, p.requires_grad) for m in modules for p in m.parameters()]
    try:
        for p, _ in saved:
            p.requires_grad_(False)
        yield
    finally:
        for p, flag in saved:
            p.requires_grad_(flag)

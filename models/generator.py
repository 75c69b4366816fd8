"""The Generator protocol every backend implements, and the Latent value editors optimise.

Conventions (see docs/architecture.md):

- A ``Latent`` holds ``w``: one tensor per latent group, shaped ``(B, n_latent, dim)``
  (StyleGAN2 has one group ``"w"``; FurryGAN has ``"fg"`` and ``"bg"``), and
  ``noise``: one tensor per noise input, shaped ``(B, 1, h, w)``. Every random draw a
  generator makes in its forward pass is one of these noise inputs, so synthesis is a
  pure function of the latent.
- ``Generator.synthesize`` returns a :class:`Synthesis`; images are ``(B, 3, H, W)`` in
  ``[-1, 1]``; masks are ``(B, 1, H, W)`` in ``[0, 1]``.
- Hooks: ``{layer_name: fn(tensor) -> tensor | None}``; a hook sees the named layer's
  output and may return a replacement.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import torch

Hook = Callable[[torch.Tensor], "torch.Tensor | None"]


class LatentShapeError(ValueError):
    """A latent does not fit the generator (or file) it is used with."""


def run_hook(hooks: Mapping[str, Hook], name: str, out: torch.Tensor) -> torch.Tensor:
    """Layer ``name``'s output ``out`` after its hook, if it has one (a hook returning None
    leaves the output as it was)."""
    fn = hooks.get(name)
    replaced = fn(out) if fn is not None else None
    return out if replaced is None else replaced


@dataclass
class Latent:
    """W+ rows per latent group plus the noise maps; the full input of a synthesis."""

    w: dict[str, torch.Tensor]
    noise: list[torch.Tensor] = field(default_factory=list)

    @property
    def batch(self) -> int:
        """Number of latents stacked in this value."""
        return next(iter(self.w.values())).shape[0]

    def clone(self) -> Latent:
        """A deep copy, detached from any graph."""
        return Latent(
            {k: v.detach().clone() for k, v in self.w.items()},
            [n.detach().clone() for n in self.noise],
        )

    def to(self, device: torch.device | str) -> Latent:
        """The same latent on ``device`` (float32 kept)."""
        return Latent({k: v.to(device) for k, v in self.w.items()}, [n.to(device) for n in self.noise])

    def requires_grad_(self, w: bool = True, noise: bool = True) -> Latent:
        """Mark the tensors as leaves to optimise, in place; returns self."""
        for v in self.w.values():
            v.requires_grad_(w)
        for n in self.noise:
            n.requires_grad_(noise)
        return self

    def select(self, index: int | slice) -> Latent:
        """One item (or a slice) of a batched latent, keeping the batch dimension."""
        idx = slice(index, index + 1) if isinstance(index, int) else index
        return Latent({k: v[idx] for k, v in self.w.items()}, [n[idx] for n in self.noise])

    @staticmethod
    def cat(latents: Sequence[Latent]) -> Latent:
        """Stack several latents along the batch dimension."""
        keys = list(latents[0].w)
        w = {k: torch.cat([lat.w[k] for lat in latents]) for k in keys}
        noise = [torch.cat([lat.noise[i] for lat in latents]) for i in range(len(latents[0].noise))]
        return Latent(w, noise)

    def validate(self, gen: Generator) -> None:
        """Raise :class:`LatentShapeError` unless this latent has ``gen``'s groups, W+ shapes
        and noise maps (every generator checks its input with this before drawing)."""
        model = type(gen).__name__
        expected = gen.latent_shapes()
        if set(self.w) != set(expected):
            raise LatentShapeError(f"latent has groups {sorted(self.w)}, {model} needs {sorted(expected)}")
        for name, (rows, dim) in expected.items():
            w = self.w[name]
            if w.ndim != 3 or tuple(w.shape[1:]) != (rows, dim):
                raise LatentShapeError(f"W+ '{name}' is {tuple(w.shape)}, {model} needs (B, {rows}, {dim})")
        if len(self.noise) != len(gen.noise_shapes):
            raise LatentShapeError(
                f"latent has {len(self.noise)} noise maps, {model} needs {len(gen.noise_shapes)}"
            )
        for i, (n, hw) in enumerate(zip(self.noise, gen.noise_shapes)):
            if tuple(n.shape[-2:]) != tuple(hw):
                raise LatentShapeError(f"noise map {i} is {tuple(n.shape[-2:])}, {model} needs {tuple(hw)}")

    # -- files -------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        """Serialise as an ``.npz`` archive (no pickles)."""
        arrays: dict[str, np.ndarray] = {}
        for k, v in self.w.items():
            arrays[f"w__{k}"] = v.detach().cpu().float().numpy()
        for i, n in enumerate(self.noise):
            arrays[f"noise__{i:03d}"] = n.detach().cpu().float().numpy()
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        return buf.getvalue()

    @staticmethod
    def from_bytes(data: bytes, gen: Generator | None = None, source: str = "latent") -> Latent:
        """Read an ``.npz`` written by :meth:`to_bytes`; validate against ``gen`` if given."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                w = {k[3:]: torch.from_numpy(npz[k].copy()) for k in npz.files if k.startswith("w__")}
                noise_keys = sorted(k for k in npz.files if k.startswith("noise__"))
                noise = [torch.from_numpy(npz[k].copy()) for k in noise_keys]
        except Exception as exc:  # zipfile/ValueError/OSError: all mean "not a latent file"
            raise LatentShapeError(f"{source}: not a readable latent .npz file ({exc})") from exc
        if not w:
            raise LatentShapeError(f"{source}: the file holds no W+ rows (keys 'w__<group>')")
        lat = Latent(w, noise)
        batch = {v.shape[0] for v in [*w.values(), *noise]}
        if any(v.ndim != 3 for v in w.values()) or any(n.ndim != 4 for n in noise) or len(batch) > 1:
            raise LatentShapeError(f"{source}: malformed latent arrays")
        if gen is not None:
            try:
                lat.validate(gen)
            except LatentShapeError as exc:
                raise LatentShapeError(f"{source}: {exc}") from exc
        return lat

    def save(self, path: str | os.PathLike) -> None:
        """Write an ``.npz`` file atomically."""
        from latent_atelier.models.atomic import atomic_write_bytes

        atomic_write_bytes(Path(path), self.to_bytes())

    @staticmethod
    def load(path: str | os.PathLike, gen: Generator | None = None) -> Latent:
        """Read a latent ``.npz``; with ``gen``, a shape mismatch raises a clear error."""
        return Latent.from_bytes(Path(path).read_bytes(), gen, source=str(path))


def noise_maps(
    shapes: Sequence[tuple[int, int]],
    batch: int,
    device: torch.device | str,
    rng: torch.Generator | None = None,
) -> list[torch.Tensor]:
    """One ``(batch, 1, h, w)`` map per shape: N(0, 1) draws from ``rng``, or zeros without one."""
    if rng is None:
        return [torch.zeros(batch, 1, h, w, device=device) for h, w in shapes]
    return [torch.randn(batch, 1, h, w, generator=rng).to(device) for h, w in shapes]


def repeat_rows(w: Mapping[str, torch.Tensor], n_latent: int) -> dict[str, torch.Tensor]:
    """One style vector per group, ``(B, dim)``, repeated over all ``n_latent`` W+ rows."""
    return {k: v.reshape(v.shape[0] if v.ndim > 1 else 1, 1, -1).repeat(1, n_latent, 1) for k, v in w.items()}


@dataclass
class Synthesis:
    """What a generator draws. FurryGAN fills the optional fields it was asked for."""

    image: torch.Tensor
    alpha: torch.Tensor | None = None
    coarse: torch.Tensor | None = None
    fine: torch.Tensor | None = None
    fg: torch.Tensor | None = None
    bg: torch.Tensor | None = None


@runtime_checkable
class Generator(Protocol):
    """What every editor sees of a generator (an ``nn.Module`` in practice)."""

    arch: str
    resolution: int
    n_latent: int
    latent_groups: tuple[str, ...]
    noise_shapes: list[tuple[int, int]]
    layer_names: tuple[str, ...]

    def latent_shapes(self) -> dict[str, tuple[int, int]]:
        """``{group: (n_latent, dim)}`` for every latent group."""
        ...

    def z_dim(self) -> int:
        """Size of the input code ``z`` that :meth:`mapping` takes."""
        ...

    def mapping(self, z: torch.Tensor) -> dict[str, torch.Tensor]:
        """Map ``z`` ``(B, z_dim)`` to one style vector ``(B, dim)`` per group."""
        ...

    def mean_latent(self, n_samples: int = 4096) -> Latent:
        """The mean W (repeated over all rows) with zero noise, batch 1."""
        ...

    def random_latent(self, seed: int, batch: int = 1, truncation: float = 1.0) -> Latent:
        """A latent from seeded ``z`` (through the mapping) and seeded noise."""
        ...

    def synthesize(
        self,
        latent: Latent,
        *,
        return_alpha: bool = False,
        hooks: Mapping[str, Hook] | None = None,
    ) -> Synthesis:
        """Draw the image(s) for ``latent``."""
        ...

    def architecture(self) -> dict:
        """JSON-serialisable config that rebuilds this generator (includes ``arch``)."""
        ...

"""What StyleGAN2 and FurryGAN share around their networks: mean W, mean and random
latents, checked synthesis, the device and the architecture dict they rebuild from.

A generator using :class:`LatentMixin` (before ``nn.Module``) provides ``mapping(z) ->
{group: (B, dim)}``, ``z_dim()``, ``latent_shapes()``, ``noise_shapes``, ``n_latent``,
``layer_names``, ``architecture_fields``, ``mapping_parameters()`` and ``draw(latent,
return_alpha, hooks)``; it may override :meth:`fixed_mean_w_groups` with a mean W read
from a checkpoint.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TypeVar, cast

import torch

from latent_atelier.models.generator import Generator, Hook, Latent, Synthesis, noise_maps, repeat_rows

MEAN_LATENT_SEED = 0x5EED
_G = TypeVar("_G", bound="LatentMixin")


class LatentMixin:
    """The generator behaviour StyleGAN2 and FurryGAN share, for any latent groups."""

    arch: str
    n_latent: int
    noise_shapes: list
    layer_names: tuple
    #: the constructor arguments :meth:`architecture` records, in order
    architecture_fields: tuple[str, ...] = ()
    _channels_arg: dict[int, int] | None = None

    def mapping(self, z: torch.Tensor) -> dict[str, torch.Tensor]:  # pragma: no cover - protocol
        raise NotImplementedError

    def z_dim(self) -> int:  # pragma: no cover - protocol
        raise NotImplementedError

    def latent_shapes(self) -> dict[str, tuple[int, int]]:  # pragma: no cover - protocol
        raise NotImplementedError

    def mapping_parameters(self) -> Iterable[torch.nn.Parameter]:  # pragma: no cover - protocol
        raise NotImplementedError

    @property
    def device(self) -> torch.device:
        """Where the weights live."""
        return next(cast(torch.nn.Module, self).parameters()).device

    def draw(
        self, latent: Latent, return_alpha: bool, hooks: Mapping[str, Hook]
    ) -> Synthesis:  # pragma: no cover - protocol
        raise NotImplementedError

    def architecture(self) -> dict:
        """JSON-able config: ``arch`` plus every constructor argument (``architecture_fields``)."""
        config: dict = {"arch": self.arch}
        given = self._channels_arg  # the widths given, not the whole table
        for name in self.architecture_fields:
            if name == "channels":
                config[name] = {str(k): v for k, v in given.items()} if given else None
            else:
                value = getattr(self, name)
                config[name] = list(value) if isinstance(value, tuple) else value
        return config

    @classmethod
    def from_architecture(cls: type[_G], config: Mapping) -> _G:
        """Build an (untrained) generator from :meth:`architecture`'s dict."""
        return cls(**{k: v for k, v in config.items() if k != "arch"})

    def synthesize(
        self,
        latent: Latent,
        *,
        return_alpha: bool = False,
        hooks: Mapping[str, Hook] | None = None,
    ) -> Synthesis:
        """Check ``latent`` and ``hooks`` against this model, then draw: the image, and with
        ``return_alpha`` whatever matte the model has. ``hooks`` maps layer names (see
        ``layer_names``) to functions that see the layer output and may replace it."""
        latent.validate(cast("Generator", self))
        self.check_hooks(hooks)
        return self.draw(latent, return_alpha, hooks or {})

    def forward(self, latent: Latent, hooks: Mapping[str, Hook] | None = None) -> torch.Tensor:
        """The image of :meth:`synthesize` (``nn.Module.__call__``)."""
        return self.synthesize(latent, hooks=hooks).image

    def fixed_mean_w_groups(self) -> dict[str, torch.Tensor] | None:
        """A mean W per group given by a checkpoint, or None (then it is estimated)."""
        return None

    def mean_w(self, n_samples: int = 4096) -> dict[str, torch.Tensor]:
        """The mean W per group, ``{group: (dim,)}``: the checkpoint's if set, else estimated.

        The estimate maps ``n_samples`` seeded ``z`` draws and is cached until the mapping
        weights change (or the device does).
        """
        fixed = self.fixed_mean_w_groups()
        if fixed is not None:
            return {k: v.to(self.device) for k, v in fixed.items()}
        versions = tuple(p._version for p in self.mapping_parameters())
        key = (n_samples, str(self.device), versions)
        cache: dict = self.__dict__.setdefault("_mean_w_cache", {})
        if key not in cache:
            gen = torch.Generator().manual_seed(MEAN_LATENT_SEED)
            z = torch.randn(n_samples, self.z_dim(), generator=gen).to(self.device)
            with torch.no_grad():
                means = {k: v.float().mean(0) for k, v in self.mapping(z).items()}
            cache.clear()
            cache[key] = means
        return cache[key]

    def _noise_like(self, batch: int, gen: torch.Generator | None) -> list[torch.Tensor]:
        return noise_maps(self.noise_shapes, batch, self.device, gen)

    def latent_from_w(self, w: Mapping[str, torch.Tensor], noise: list[torch.Tensor]) -> Latent:
        """A Latent from one style vector ``(B, dim)`` per group, repeated over all rows."""
        return Latent(repeat_rows(w, self.n_latent), noise)

    def mean_latent(self, n_samples: int = 4096) -> Latent:
        """The mean W per group repeated over all rows, zero noise, batch 1."""
        return self.latent_from_w(self.mean_w(n_samples), self._noise_like(1, None))

    def random_latent(self, seed: int, batch: int = 1, truncation: float = 1.0) -> Latent:
        """Seeded ``z`` through the mapping (truncated towards the mean W) and N(0,1) noise."""
        gen = torch.Generator().manual_seed(int(seed))
        z = torch.randn(batch, self.z_dim(), generator=gen).to(self.device)
        noise = self._noise_like(batch, gen)
        with torch.no_grad():
            w = {k: v.float() for k, v in self.mapping(z).items()}
            if truncation != 1.0:
                means = self.mean_w()
                w = {k: means[k] + truncation * (v - means[k]) for k, v in w.items()}
        return self.latent_from_w(w, noise)

    def check_hooks(self, hooks: Mapping[str, Hook] | None) -> None:
        """Raise KeyError naming hooks on layers this model does not have."""
        if hooks:
            unknown = sorted(set(hooks) - set(self.layer_names))
            if unknown:
                raise KeyError(f"unknown layer(s) {unknown}; hookable: {list(self.layer_names)}")

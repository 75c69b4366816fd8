"""The latent helpers StyleGAN2 and FurryGAN share: mean W, mean and random latents, checks.

A generator using :class:`LatentMixin` provides ``mapping(z) -> {group: (B, dim)}``,
``z_dim()``, ``latent_shapes()``, ``noise_shapes``, ``n_latent``, ``layer_names``, ``device``
and ``mapping_parameters()``; it may override :meth:`fixed_mean_w_groups` with a mean W
read from a checkpoint.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import torch

from latent_atelier.models.generator import Hook, Latent, LatentShapeError, noise_maps, repeat_rows

MEAN_LATENT_SEED = 0x5EED


class LatentMixin:
    """Mean and random latents and latent/hook validation, for any latent groups."""

    n_latent: int
    noise_shapes: list
    layer_names: tuple

    def mapping(self, z: torch.Tensor) -> dict[str, torch.Tensor]:  # pragma: no cover - protocol
        raise NotImplementedError

    def z_dim(self) -> int:  # pragma: no cover - protocol
        raise NotImplementedError

    def latent_shapes(self) -> dict[str, tuple[int, int]]:  # pragma: no cover - protocol
        raise NotImplementedError

    def mapping_parameters(self) -> Iterable[torch.nn.Parameter]:  # pragma: no cover - protocol
        raise NotImplementedError

    @property
    def device(self) -> torch.device:  # pragma: no cover - protocol
        raise NotImplementedError

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

    def validate_latent(self, latent: Latent) -> None:
        """Raise :class:`LatentShapeError` unless ``latent`` has this model's groups and shapes."""
        shapes = self.latent_shapes()
        if set(latent.w) != set(shapes):
            raise LatentShapeError(
                f"latent has groups {sorted(latent.w)}, {type(self).__name__} needs {sorted(shapes)}"
            )
        for name, (rows, dim) in shapes.items():
            w = latent.w[name]
            if w.ndim != 3 or tuple(w.shape[1:]) != (rows, dim):
                raise LatentShapeError(f"W+ '{name}' is {tuple(w.shape)}, the model needs (B, {rows}, {dim})")
        if len(latent.noise) != len(self.noise_shapes):
            raise LatentShapeError(
                f"latent has {len(latent.noise)} noise maps, the model needs {len(self.noise_shapes)}"
            )

    def check_hooks(self, hooks: Mapping[str, Hook] | None) -> None:
        """Raise KeyError naming hooks on layers this model does not have."""
        if hooks:
            unknown = sorted(set(hooks) - set(self.layer_names))
            if unknown:
                raise KeyError(f"unknown layer(s) {unknown}; hookable: {list(self.layer_names)}")

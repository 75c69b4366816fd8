"""StyleGAN2 (config F) generator in pure PyTorch, laid out like rosinality's Generator.

``StyleGAN2Generator(...).state_dict()`` has exactly the keys and shapes of rosinality's
``stylegan2-pytorch`` ``Generator`` (``style.N.*``, ``input.input``, ``conv1.*``,
``to_rgb1.*``, ``convs.N.*``, ``to_rgbs.N.*``, ``noises.noise_N``), so its ``g_ema``
weights load with ``strict=True``.

Latent rows (W+): ``conv1`` uses row 0, ``to_rgb1`` row 1, ``convs.{2k}`` row 2k+1,
``convs.{2k+1}`` row 2k+2 and ``to_rgbs.{k}`` row 2k+3. Noise map ``i`` feeds ``conv1``
(i = 0) or ``convs.{i-1}``.

Hookable layers (``layer_names``, in execution order) and what each outputs:

- ``"input"``: the learned constant, ``(B, C4, 4, 4)``.
- ``"conv1"`` / ``"convs.N"``: feature maps after modulated conv, noise, bias and leaky
  ReLU, ``(B, C_res, res, res)``; even ``N`` upsamples.
- ``"to_rgb1"`` / ``"to_rgbs.N"``: the running RGB image at that resolution (the skip
  sum so far), ``(B, 3, res, res)``; the last ``to_rgbs`` is the output image.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

import torch
from torch import nn

from latent_atelier.models.generator import Hook, Latent, Synthesis, run_hook
from latent_atelier.models.generator_parts import (
    LayerCounts,
    mapping_network,
    noise_buffers,
    resolutions,
    stored_noise,
    width_table,
)
from latent_atelier.models.latent_mixin import LatentMixin
from latent_atelier.models.layers import ConstantInput, StyledConv, ToRGB


class StyleGAN2Generator(LatentMixin, nn.Module):
    """StyleGAN2 mapping + synthesis network implementing ``latent_atelier.models.generator.Generator``.

    ``channels`` overrides entries of the width table (keys: resolutions, ints or
    strings), e.g. ``{4: 16, 8: 16, 16: 16, 32: 16}`` for a tiny test model.
    """

    arch = "stylegan2"
    latent_groups = ("w",)
    architecture_fields = ("size", "style_dim", "n_mlp", "channel_multiplier", "lr_mlp", "channels")

    def __init__(
        self,
        size: int,
        style_dim: int = 512,
        n_mlp: int = 8,
        channel_multiplier: int = 2,
        lr_mlp: float = 0.01,
        channels: Mapping[int | str, int] | None = None,
    ) -> None:
        super().__init__()
        table, given = width_table(size, channel_multiplier, channels)
        self.size = self.resolution = size
        self.style_dim = style_dim
        self.n_mlp = n_mlp
        self.channel_multiplier = channel_multiplier
        self.lr_mlp = lr_mlp
        self._channels_arg = {r: given[r] for r in sorted(given)} if channels else None
        self.channels = {r: table[r] for r in resolutions(size)}

        self.style = mapping_network(style_dim, n_mlp, lr_mlp)
        c4 = self.channels[4]
        self.input = ConstantInput(c4)
        self.conv1 = StyledConv(c4, c4, 3, style_dim)
        self.to_rgb1 = ToRGB(c4, style_dim, upsample=False)

        counts = LayerCounts.of(size)
        self.log_size, self.num_layers, self.n_latent = counts.log_size, counts.num_layers, counts.n_latent
        self.convs = nn.ModuleList()
        self.upsamples = nn.ModuleList()  # empty; kept so the module tree matches rosinality
        self.to_rgbs = nn.ModuleList()
        self.noises, self.noise_shapes = noise_buffers(self.num_layers)

        names = ["input", "conv1", "to_rgb1"]
        in_ch = c4
        for k, res in enumerate(resolutions(size)[1:]):
            out_ch = self.channels[res]
            self.convs.append(StyledConv(in_ch, out_ch, 3, style_dim, upsample=True))
            self.convs.append(StyledConv(out_ch, out_ch, 3, style_dim))
            self.to_rgbs.append(ToRGB(out_ch, style_dim))
            names += [f"convs.{2 * k}", f"convs.{2 * k + 1}", f"to_rgbs.{k}"]
            in_ch = out_ch
        self.layer_names: tuple[str, ...] = tuple(names)

        self._mean_w_fixed: torch.Tensor | None = None

    # -- description --------------------------------------------------------------------
    def latent_shapes(self) -> dict[str, tuple[int, int]]:
        """``{"w": (n_latent, style_dim)}``."""
        return {"w": (self.n_latent, self.style_dim)}

    def z_dim(self) -> int:
        """Size of ``z``: equal to ``style_dim``."""
        return self.style_dim

    # -- latents ------------------------------------------------------------------------
    def mapping(self, z: torch.Tensor) -> dict[str, torch.Tensor]:
        """``z`` ``(B, style_dim)`` -> ``{"w": (B, style_dim)}`` through PixelNorm + MLP."""
        return {"w": self.style(z)}

    def set_mean_w(self, w: torch.Tensor | None) -> None:
        """Use ``w`` (e.g. a checkpoint's ``latent_avg``) as the mean W; None forgets it."""
        self._mean_w_fixed = None if w is None else w.detach().reshape(-1).float().clone()

    @property
    def fixed_mean_w(self) -> torch.Tensor | None:
        """The mean W given by :meth:`set_mean_w` (from a checkpoint), or None."""
        return self._mean_w_fixed

    def fixed_mean_w_groups(self) -> dict[str, torch.Tensor] | None:
        """``{"w": mean}`` when a checkpoint gave the mean W (see :meth:`set_mean_w`)."""
        return None if self._mean_w_fixed is None else {"w": self._mean_w_fixed}

    def mapping_parameters(self):
        """The mapping network's weights (the mean W is re-estimated when they change)."""
        return self.style.parameters()

    def stored_noise(self, batch: int = 1) -> list[torch.Tensor]:
        """The checkpoint's fixed noise maps (``noises.noise_i``), repeated over ``batch``."""
        return stored_noise(self.noises, self.num_layers, batch)

    # -- synthesis ----------------------------------------------------------------------
    def draw(self, latent: Latent, return_alpha: bool, hooks: Mapping[str, Hook]) -> Synthesis:
        """Images ``(B, 3, H, W)`` in about [-1, 1] from W+ rows and noise maps (see
        :meth:`synthesize`). StyleGAN2 has no matte: ``alpha`` stays None."""
        del return_alpha
        w, noise, hooked = latent.w["w"], latent.noise, partial(run_hook, hooks)
        out = hooked("input", self.input(w.shape[0]))
        out = hooked("conv1", self.conv1(out, w[:, 0], noise[0]))
        skip = hooked("to_rgb1", self.to_rgb1(out, w[:, 1]))
        for k, to_rgb in enumerate(self.to_rgbs):
            row = 2 * k + 1
            out = hooked(f"convs.{2 * k}", self.convs[2 * k](out, w[:, row], noise[row]))
            out = hooked(f"convs.{2 * k + 1}", self.convs[2 * k + 1](out, w[:, row + 1], noise[row + 1]))
            skip = hooked(f"to_rgbs.{k}", to_rgb(out, w[:, row + 2], skip))
        return Synthesis(image=skip)

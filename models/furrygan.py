"""FurryGAN generator: foreground and background StyleGAN2 branches plus coarse/fine mask heads.

``FurryGAN(...).state_dict()`` has the key names and shapes of the official implementation
(JeongminB/FurryGAN_official ``model.py``, ``Generator``): ``style_fg.N.*``/``style_bg.N.*``
(shallow mapping), ``input_fg``/``input_bg``, ``conv1_fg``/``conv1_bg``,
``convs_fg.N``/``convs_bg.N``, shared ``noises.noise_N``, full-resolution ``to_fg``/``to_bg``
(no skip ToRGBs; tanh) and the mask heads ``pre_m`` (coarse) and ``refine_m`` (fine).

Latent groups ``"fg"`` and ``"bg"``, each ``n_latent = 2*log2(size) - 2`` rows: ``conv1``
reads row 0, block convs rows 1..n-2 in pairs, ``to_fg``/``to_bg`` and both mask heads the
last row. Noise maps: ``num_layers`` maps shared by both branches, then one full-size map
for ``pre_m`` and one for ``refine_m`` (the official code draws those afresh every call;
here they are latent inputs so synthesis is deterministic).

alpha = clip(coarse + gamma * fine, 0, 1); image = alpha * fg + (1 - alpha) * bg.

Hookable layers (``layer_names``): ``input_fg``, ``conv1_fg``, ``convs_fg.N``, ``pre_m``,
``refine_m`` (the normalised masks), ``to_fg`` (the tanh foreground), the same ``_bg``
convolutions and ``to_bg``, and ``alpha`` (the final clipped matte).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from latent_atelier.models.generator import Hook, Latent, LatentShapeError, Synthesis, run_hook
from latent_atelier.models.generator_parts import (
    LayerCounts,
    default_channels,
    mapping_network,
    noise_buffers,
    resolutions,
    stored_noise,
    width_table,
)
from latent_atelier.models.latent_mixin import LatentMixin
from latent_atelier.models.layers import ConstantInput, StyledConv, ToRGB, minmax_normalise

MASK_HEAD_CHANNELS = 32


class FurryGAN(LatentMixin, nn.Module):
    """FurryGAN generator implementing ``latent_atelier.models.generator.Generator``.

    ``channels`` overrides total widths per resolution (before the fg/bg split), e.g.
    ``{4: 32, 8: 32, 16: 32, 32: 32}`` for a tiny model; the foreground gets
    ``ch_ratio[0]`` and the background ``ch_ratio[1]`` parts of ``width // sum(ch_ratio)``.
    ``gamma`` weighs the fine mask (the trainer fades it in from 0 to 1).
    """

    arch = "furrygan"
    latent_groups = ("fg", "bg")
    architecture_fields = (
        *("size", "style_dim", "n_mlp", "channel_multiplier", "lr_mlp"),
        *("ch_ratio", "channels", "gamma"),
    )

    def __init__(
        self,
        size: int,
        style_dim: int = 512,
        n_mlp: int = 2,
        channel_multiplier: int = 2,
        lr_mlp: float = 0.01,
        ch_ratio: Sequence[int] = (3, 1),
        channels: Mapping[int | str, int] | None = None,
        gamma: float = 1.0,
    ) -> None:
        super().__init__()
        table, given = width_table(size, channel_multiplier, channels)
        if len(ch_ratio) != 2 or min(ch_ratio) < 1:
            raise ValueError(f"ch_ratio must be two positive ints (fg, bg), got {ch_ratio}")
        parts = sum(ch_ratio)
        too_small = [r for r in resolutions(size) if table[r] < parts]
        if too_small or style_dim < parts:
            raise ValueError(f"widths and style_dim must be >= sum(ch_ratio) = {parts}")
        self.size = self.resolution = size
        self.style_dim = style_dim
        self.n_mlp = n_mlp
        self.channel_multiplier = channel_multiplier
        self.lr_mlp = lr_mlp
        self.ch_ratio = (int(ch_ratio[0]), int(ch_ratio[1]))
        self._channels_arg = {r: given[r] for r in sorted(given)} if channels else None
        self.gamma = float(gamma)
        self.style_dim_fg = style_dim // parts * self.ch_ratio[0]
        self.style_dim_bg = style_dim // parts * self.ch_ratio[1]
        self.channels_fg = {r: table[r] // parts * self.ch_ratio[0] for r in resolutions(size)}
        self.channels_bg = {r: table[r] // parts * self.ch_ratio[1] for r in resolutions(size)}

        self.style_fg = mapping_network(self.style_dim_fg, n_mlp, lr_mlp)
        self.style_bg = mapping_network(self.style_dim_bg, n_mlp, lr_mlp)
        self.input_fg = ConstantInput(self.channels_fg[4])
        self.input_bg = ConstantInput(self.channels_bg[4])
        self.conv1_fg = StyledConv(self.channels_fg[4], self.channels_fg[4], 3, self.style_dim_fg)
        self.conv1_bg = StyledConv(self.channels_bg[4], self.channels_bg[4], 3, self.style_dim_bg)

        counts = LayerCounts.of(size)
        self.log_size, self.num_layers, self.n_latent = counts.log_size, counts.num_layers, counts.n_latent
        self.convs_fg = self._branch(self.channels_fg, self.style_dim_fg)
        self.convs_bg = self._branch(self.channels_bg, self.style_dim_bg)
        self.noises, shapes = noise_buffers(self.num_layers)
        self.noise_shapes = [*shapes, (size, size), (size, size)]

        c_fg, c_bg = self.channels_fg[size], self.channels_bg[size]
        self.to_fg = ToRGB(c_fg, self.style_dim_fg)  # official keeps the (unused) upsample
        self.to_bg = ToRGB(c_bg, self.style_dim_bg)
        self.pre_m = StyledConv(c_fg, MASK_HEAD_CHANNELS, 1, self.style_dim_fg)
        self.refine_m = StyledConv(c_fg, MASK_HEAD_CHANNELS, 1, self.style_dim_fg)

        conv_names = [f"convs_{{g}}.{i}" for i in range(len(self.convs_fg))]
        names = ["input_fg", "conv1_fg", *[n.format(g="fg") for n in conv_names]]
        names += ["pre_m", "refine_m", "to_fg", "input_bg", "conv1_bg"]
        names += [*[n.format(g="bg") for n in conv_names], "to_bg", "alpha"]
        self.layer_names: tuple[str, ...] = tuple(names)

    def _branch(self, widths: Mapping[int, int], style_dim: int) -> nn.ModuleList:
        convs = nn.ModuleList()
        in_ch = widths[4]
        for res in resolutions(self.size)[1:]:
            out_ch = widths[res]
            convs.append(StyledConv(in_ch, out_ch, 3, style_dim, upsample=True))
            convs.append(StyledConv(out_ch, out_ch, 3, style_dim))
            in_ch = out_ch
        return convs

    # -- description --------------------------------------------------------------------
    @classmethod
    def from_official_state_dict(cls, state: Mapping[str, torch.Tensor]) -> FurryGAN:
        """A generator holding an official FurryGAN ``g_ema`` state dict (loaded strictly)."""
        config = official_config(state)
        gen = cls.from_architecture(config)
        floats = {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
        try:
            gen.load_state_dict(floats, strict=True)
        except RuntimeError as exc:
            raise ValueError(f"FurryGAN weights do not fit the inferred layout {config}: {exc}") from exc
        return gen

    def latent_shapes(self) -> dict[str, tuple[int, int]]:
        """``{"fg": (n_latent, style_dim_fg), "bg": (n_latent, style_dim_bg)}``."""
        return {"fg": (self.n_latent, self.style_dim_fg), "bg": (self.n_latent, self.style_dim_bg)}

    def z_dim(self) -> int:
        """Size of ``z``: the foreground style width; ``z_bg`` is its leading part."""
        return self.style_dim_fg

    # -- latents ------------------------------------------------------------------------
    def mapping(self, z: torch.Tensor) -> dict[str, torch.Tensor]:
        """``z`` ``(B, style_dim_fg)`` -> ``{"fg": w_fg, "bg": w_bg}`` (z_bg = z[:, :dim_bg])."""
        if z.ndim != 2 or z.shape[1] != self.style_dim_fg:
            raise LatentShapeError(f"z is {tuple(z.shape)}, the model needs (B, {self.style_dim_fg})")
        return {"fg": self.style_fg(z), "bg": self.style_bg(z[:, : self.style_dim_bg])}

    def mapping_parameters(self):
        """Both mapping networks' weights (the mean W is re-estimated when they change)."""
        return [*self.style_fg.parameters(), *self.style_bg.parameters()]

    def stored_noise(self, batch: int = 1) -> list[torch.Tensor]:
        """The checkpoint's fixed maps (``noises.noise_i``) plus zero mask-head noise."""
        fixed = stored_noise(self.noises, self.num_layers, batch)
        heads = [torch.zeros(batch, 1, self.size, self.size, device=self.device) for _ in range(2)]
        return fixed + heads

    # -- synthesis ----------------------------------------------------------------------
    def draw(self, latent: Latent, return_alpha: bool, hooks: Mapping[str, Hook]) -> Synthesis:
        """The composite ``(B, 3, H, W)``; with ``return_alpha`` also alpha, coarse, fine, fg, bg."""
        parts = self.layers(latent.w["fg"], latent.w["bg"], latent.noise, hooks)
        return Synthesis(**parts) if return_alpha else Synthesis(image=parts["image"])

    def layers(
        self,
        w_fg: torch.Tensor,
        w_bg: torch.Tensor,
        noise: Sequence[torch.Tensor],
        hooks: Mapping[str, Hook] | None = None,
    ) -> dict[str, torch.Tensor]:
        """Every output: ``image``, ``alpha``, ``coarse``, ``fine``, ``fg``, ``bg`` (the trainer's view)."""
        hooked = partial(run_hook, hooks or {})
        feat = hooked("input_fg", self.input_fg(w_fg.shape[0]))
        feat = hooked("conv1_fg", self.conv1_fg(feat, w_fg[:, 0], noise[0]))
        feat = self._run_convs("fg", self.convs_fg, feat, w_fg, noise, hooked)
        last = w_fg[:, -1]
        n = self.num_layers
        coarse = hooked("pre_m", self._mask_head(self.pre_m, feat, last, noise[n]))
        fine = hooked("refine_m", self._mask_head(self.refine_m, feat, last, noise[n + 1]))
        fg = hooked("to_fg", torch.tanh(self.to_fg(feat, last)))

        back = hooked("input_bg", self.input_bg(w_bg.shape[0]))
        back = hooked("conv1_bg", self.conv1_bg(back, w_bg[:, 0], noise[0]))
        back = self._run_convs("bg", self.convs_bg, back, w_bg, noise, hooked)
        bg = hooked("to_bg", torch.tanh(self.to_bg(back, w_bg[:, -1])))

        alpha = hooked("alpha", torch.clamp(coarse + self.gamma * fine, 0.0, 1.0))
        image = alpha * fg + (1 - alpha) * bg
        return {"image": image, "alpha": alpha, "coarse": coarse, "fine": fine, "fg": fg, "bg": bg}

    @staticmethod
    def _run_convs(group, convs, feat, w, noise, hooked) -> torch.Tensor:
        for i, conv in enumerate(convs):
            feat = hooked(f"convs_{group}.{i}", conv(feat, w[:, i + 1], noise[i + 1]))
        return feat

    @staticmethod
    def _mask_head(
        head: StyledConv, feat: torch.Tensor, style: torch.Tensor, noise: torch.Tensor
    ) -> torch.Tensor:
        m = F.relu(head(feat, style, noise)).mean(dim=1, keepdim=True)
        return minmax_normalise(m)


def official_config(state: Mapping[str, torch.Tensor]) -> dict:
    """The FurryGAN config implied by an official-layout state dict's key names and shapes."""
    try:
        fg_mlp = sorted(int(m.group(1)) for k in state if (m := re.fullmatch(r"style_fg\.(\d+)\.weight", k)))
        dim_fg = int(state["style_fg.1.weight"].shape[0])
        dim_bg = int(state["style_bg.1.weight"].shape[0])
        n_noise = len([k for k in state if re.fullmatch(r"noises\.noise_\d+", k)])
        n_convs = len([k for k in state if re.fullmatch(r"convs_fg\.\d+\.conv\.weight", k)])
        g = math.gcd(dim_fg, dim_bg)
        ratio = (dim_fg // g, dim_bg // g)
        size = 4 * 2 ** (n_convs // 2)
        if n_noise != (int(math.log2(size)) - 2) * 2 + 1:
            raise ValueError(f"{n_noise} noise maps do not fit {n_convs} block convs")
        widths = {4: int(state["input_fg.input"].shape[1]) + int(state["input_bg.input"].shape[1])}
        for k, res in enumerate(resolutions(size)[1:]):
            fg = int(state[f"convs_fg.{2 * k}.conv.weight"].shape[1])
            bg = int(state[f"convs_bg.{2 * k}.conv.weight"].shape[1])
            widths[res] = fg + bg
    except KeyError as exc:
        raise ValueError(f"not an official FurryGAN generator state dict (missing {exc})") from exc
    config: dict = {
        "arch": "furrygan",
        "size": size,
        "style_dim": dim_fg + dim_bg,
        "n_mlp": len(fg_mlp),
        "channel_multiplier": 2,
        "lr_mlp": 0.01,
        "ch_ratio": list(ratio),
        "channels": None,
        "gamma": 1.0,
    }
    parts = sum(ratio)
    for cm in (2, 1, 4):
        table = default_channels(cm)
        if all(table[r] // parts * parts == w for r, w in widths.items()):
            config["channel_multiplier"] = cm
            break
    else:
        config["channels"] = {str(r): w for r, w in widths.items()}
    return config

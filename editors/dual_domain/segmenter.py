"""Part masks from a generator's own features (RepurposingGAN, Tritrong et al. 2021).

A small convolutional head reads the synthesis feature maps (each upsampled to the image
size and stacked) and says, per pixel, whether it belongs to a part (e.g. eyes + nose +
mouth). It is trained from one labelled generated image and then applied to any latent,
and to the other generator of a DDS pair, whose features follow the source's after a
few-shot adaptation. Each image's feature channels are standardised over the image first,
so the head reads where a channel is high rather than by how much: an adapted generator
keeps the layout but shifts and rescales its channels. Saved as ``.safetensors`` with its
settings in the metadata (no pickle).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from latent_atelier.models.generator import Latent

FORMAT = "latent-atelier-part-segmenter"
HIDDEN = (128, 64, 64, 32)
DILATIONS = (1, 2, 4)
EPS = 1e-5


def standardise_per_image(feats: torch.Tensor) -> torch.Tensor:
    """Each image's channels to zero mean and unit variance over its pixels."""
    mean = feats.mean(dim=(2, 3), keepdim=True)
    std = feats.std(dim=(2, 3), keepdim=True)
    return (feats - mean) / (std + EPS)


def feature_layers(gen) -> tuple[str, ...]:
    """The layers read: FurryGAN's foreground convolutions, StyleGAN2's convolutions."""
    if getattr(gen, "arch", "") == "furrygan":
        return tuple(n for n in gen.layer_names if n.startswith(("conv1_fg", "convs_fg.")))
    return tuple(n for n in gen.layer_names if n.startswith(("conv1", "convs.")))


def generator_features(gen, latent: Latent, layers: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """The image ``(B, 3, S, S)`` and the named layers' features, nearest-upsampled to ``S``
    and stacked ``(B, C, S, S)``."""
    feats: dict[str, torch.Tensor] = {}

    def keep(name: str):
        def hook(t: torch.Tensor) -> None:
            feats[name] = t

        return hook

    image = gen.synthesize(latent, hooks={n: keep(n) for n in layers}).image
    size = image.shape[-1]
    stacked = torch.cat([F.interpolate(feats[n], size=(size, size), mode="nearest") for n in layers], dim=1)
    return image, stacked


class PartSegmenter(nn.Module):
    """1x1 conv to 128, dilated 3x3 convs 64-64-32, 1x1 to one logit per pixel; with
    ``standardise`` the features are first standardised per image (files written before
    that setting existed read raw features)."""

    def __init__(
        self,
        in_channels: int,
        layers: Sequence[str],
        part: str = "part",
        arch: str = "",
        resolution: int = 0,
        standardise: bool = True,
    ) -> None:
        super().__init__()
        self.in_channels, self.layers, self.part = int(in_channels), tuple(layers), part
        self.arch, self.resolution, self.standardise = arch, int(resolution), bool(standardise)
        h = HIDDEN
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, h[0], 1),
            nn.ReLU(),
            nn.Conv2d(h[0], h[1], 3, padding=DILATIONS[0], dilation=DILATIONS[0]),
            nn.ReLU(),
            nn.Conv2d(h[1], h[2], 3, padding=DILATIONS[1], dilation=DILATIONS[1]),
            nn.ReLU(),
            nn.Conv2d(h[2], h[3], 3, padding=DILATIONS[2], dilation=DILATIONS[2]),
            nn.ReLU(),
            nn.Conv2d(h[3], 1, 1),
        )

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, 1, S, S)`` for stacked features ``(B, C, S, S)``."""
        return self.net(standardise_per_image(feats) if self.standardise else feats)

    def check_generator(self, gen) -> None:
        """Raise ValueError unless ``gen`` gives the features this segmenter reads."""
        wrong_arch = bool(self.arch) and getattr(gen, "arch", "") != self.arch
        if wrong_arch or (self.resolution and gen.resolution != self.resolution):
            raise ValueError(
                f"this part segmenter was trained on a {self.arch} {self.resolution} px "
                f"generator, not a {getattr(gen, 'arch', '?')} {gen.resolution} px one"
            )
        missing = [n for n in self.layers if n not in gen.layer_names]
        if missing:
            raise ValueError(f"the generator has no layers {missing} that this part segmenter reads")

    @torch.no_grad()
    def predict(self, gen, latent: Latent) -> torch.Tensor:
        """Soft masks ``(B, 1, S, S)`` in [0, 1] for ``latent`` drawn by ``gen``."""
        self.check_generator(gen)
        _img, feats = generator_features(gen, latent, self.layers)
        if feats.shape[1] != self.in_channels:
            raise ValueError(
                f"the generator gives {feats.shape[1]} feature channels; "
                f"this part segmenter reads {self.in_channels}"
            )
        return torch.sigmoid(self(feats.to(next(self.parameters()).device)))

    # -- files ---------------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Write weights + settings as ``.safetensors`` (atomically)."""
        from safetensors.torch import save

        from latent_atelier.models.atomic import atomic_write_bytes

        meta = {
            "format": FORMAT,
            "settings": json.dumps(
                {
                    "in_channels": self.in_channels,
                    "layers": list(self.layers),
                    "part": self.part,
                    "arch": self.arch,
                    "resolution": self.resolution,
                    "standardise": self.standardise,
                }
            ),
        }
        tensors = {k: v.detach().cpu().contiguous() for k, v in self.state_dict().items()}
        atomic_write_bytes(Path(path), save(tensors, metadata=meta))

    @staticmethod
    def load(path: str | Path, device: str | torch.device = "cpu") -> PartSegmenter:
        """Read a file written by :meth:`save`; ValueError when it is not one."""
        from safetensors import safe_open

        try:
            with safe_open(str(path), framework="pt", device="cpu") as f:
                meta = f.metadata() or {}
                tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open is no dict)
            if meta.get("format") != FORMAT:
                raise ValueError("not a part segmenter file")
            s = json.loads(meta["settings"])
            seg = PartSegmenter(
                int(s["in_channels"]),
                [str(n) for n in s["layers"]],
                str(s.get("part", "part")),
                str(s.get("arch", "")),
                int(s.get("resolution", 0)),
                bool(s.get("standardise", False)),
            )
            seg.load_state_dict({k: v.float() for k, v in tensors.items()}, strict=True)
        except (OSError, KeyError, TypeError, RuntimeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path}: not a readable part segmenter ({exc})") from exc
        except Exception as exc:  # safetensors raises its own error types on corrupt headers
            if isinstance(exc, ValueError):
                raise ValueError(f"{path}: {exc}") from exc
            raise ValueError(f"{path}: not a readable part segmenter ({exc})") from exc
        return seg.to(device).eval()


def train_segmenter(
    gen,
    latents: Latent,
    labels: torch.Tensor,
    part: str = "part",
    steps: int = 400,
    lr: float = 1e-3,
    seed: int = 0,
    standardise: bool = True,
) -> PartSegmenter:
    """Fit a segmenter to labelled latents (one is the paper's one shot): ``labels``
    ``(B, 1, S, S)`` in {0, 1}. Binary cross-entropy with the positive class weighted by
    its rarity, Adam, horizontal flips of features and labels. ``standardise``: see
    :class:`PartSegmenter`."""
    layers = feature_layers(gen)
    with torch.no_grad():
        _img, feats = generator_features(gen, latents, layers)
    torch.manual_seed(seed)
    arch = getattr(gen, "arch", "")
    seg = PartSegmenter(feats.shape[1], layers, part, arch, gen.resolution, standardise).to(feats.device)
    labels = labels.to(feats)
    pos = labels.mean().clamp(1e-3, 0.5)
    weight = ((1 - pos) / pos).sqrt()
    opt = torch.optim.Adam(seg.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        flip = bool(torch.rand(1, generator=g) < 0.5)
        x, y = (feats.flip(-1), labels.flip(-1)) if flip else (feats, labels)
        loss = F.binary_cross_entropy_with_logits(seg(x), y, pos_weight=weight)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return seg.eval()

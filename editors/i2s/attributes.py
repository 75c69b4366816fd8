"""Attribute-level feature transfer (Image2StyleGAN++ Sec. 5 and 7.6, I_att).

Both photos are embedded (or their latents given). At one generator layer (default the
paper's 4th, scaled to the model) the activations of photo 1 are replaced inside the mask
(nearest-downsampled to the layer) by photo 2's: spatial copying, averaging with lambda, or
copying only some channels. The rest of the network runs with the W+ of the photo chosen
by ``style_from`` and photo 1's noise maps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from latent_atelier.editors.i2s.steps import require_painted
from latent_atelier.editors.inversion.embed import EmbedParams, embed_image, generator_device
from latent_atelier.editors.inversion.embed_core import from_numpy_mask, to_numpy_image
from latent_atelier.editors.layer_scaling import paper_feature_layers
from latent_atelier.editors.operation import Operation, OperationError, Progress, Result, Slot, param
from latent_atelier.editors.placed_photo import place_photo
from latent_atelier.editors.registry import register
from latent_atelier.editors.slots import FIRST_REGION, region, two_photos
from latent_atelier.editors.stages import StagePlan
from latent_atelier.models.generator import Generator, Latent

MODES = ("copy", "average", "channels")


def mix_activations(
    a: torch.Tensor,
    b: torch.Tensor,
    mask: torch.Tensor,
    mode: str = "copy",
    lam: float = 0.5,
    channels: float = 0.5,
) -> torch.Tensor:
    """Photo 1's activation ``a`` with photo 2's ``b`` put in under ``mask`` ((B,1,H,W), any size).

    ``copy``: b inside; ``average``: lam * a + (1 - lam) * b inside; ``channels``: the first
    ``channels`` fraction of the channels from b inside.
    """
    m = F.interpolate(mask.to(a.dtype), size=tuple(a.shape[-2:]), mode="nearest")
    if mode == "copy":
        return a * (1.0 - m) + b * m
    if mode == "average":
        return a * (1.0 - m) + (lam * a + (1.0 - lam) * b) * m
    if mode == "channels":
        k = round(float(channels) * a.shape[1])
        pick = torch.zeros(1, a.shape[1], 1, 1, dtype=a.dtype, device=a.device)
        pick[:, :k] = 1.0
        mm = m * pick
        return a * (1.0 - mm) + b * mm
    raise ValueError(f"mode must be one of {MODES}, not {mode!r}")


def capture(gen: Generator, latent: Latent, names: list[str]) -> dict[str, torch.Tensor]:
    """The outputs of the layers ``names`` when drawing ``latent``."""
    seen: dict[str, torch.Tensor] = {}

    def keep(name: str):
        def hook(t: torch.Tensor) -> None:
            seen[name] = t.detach().clone()

        return hook

    with torch.no_grad():
        gen.synthesize(latent, hooks={n: keep(n) for n in names})
    return seen


def influence_radius_px(gen: Generator, layer: str) -> float:
    """An upper bound (image pixels) on how far a change at ``layer``'s output can spread.

    Sums, over every later layer, 4 cells of its resolution where the resolution grows
    (transposed conv + blur, or the skip upsampling) and 1 cell otherwise (3x3 conv), plus
    one cell of ``layer`` itself for the nearest-downsampled mask.
    """
    names = list(gen.layer_names)
    shapes = {k: tuple(v.shape) for k, v in capture(gen, _any_latent(gen), names).items()}
    size = gen.resolution
    start = names.index(layer)
    res = shapes[layer][-1]
    total = size / res
    for name in names[start + 1 :]:
        r = shapes[name][-1]
        total += (4.0 if r > res else 1.0) * size / r
        res = max(res, r)
    return total


def _any_latent(gen: Generator) -> Latent:
    return gen.mean_latent()


@dataclass
class AttributeOutcome:
    """The transfer's image (model resolution) and the tensors fed to the hooked layers."""

    image: np.ndarray
    mixed: dict[str, torch.Tensor]
    latent: Latent  # W+ and noise the rest of the network ran with


def attribute_transfer(
    gen: Generator,
    latent1: Latent,
    latent2: Latent,
    mask: np.ndarray,
    *,
    layers: list[str],
    mode: str = "copy",
    lam: float = 0.5,
    channels: float = 0.5,
    style_from: str = "photo",
) -> AttributeOutcome:
    """I_att: photo 2's activations at ``layers`` inside ``mask`` (S x S), fed into the generator."""
    if style_from not in ("photo", "photo2"):
        raise OperationError(f"style_from must be 'photo' or 'photo2', not {style_from!r}")
    device = generator_device(gen)
    m = from_numpy_mask(mask, device)
    a = capture(gen, latent1, layers)
    b = capture(gen, latent2, layers)
    mixed = {n: mix_activations(a[n], b[n], m, mode, lam, channels) for n in layers}
    w_source = latent1 if style_from == "photo" else latent2
    base = Latent({k: v.detach() for k, v in w_source.w.items()}, [n.detach() for n in latent1.noise])
    hooks = {n: (lambda _t, n=n: mixed[n]) for n in layers}
    with torch.no_grad():
        img = gen.synthesize(base, hooks=hooks).image
    return AttributeOutcome(to_numpy_image(img), mixed, base)


@dataclass
class AttributeParams:
    """Settings of ``attribute-transfer`` (paper: spatial copy at the 4th layer)."""

    layer: int = param(4, 1, 18, "the paper's layer number (of 18), scaled to the model")
    layer_name: str = param("", help="a generator layer name instead (overrides layer)")
    mode: str = param(
        "copy", help="copy photo 2's activations, average them, or copy channels", choices=MODES
    )
    lam: float = param(0.5, 0.0, 1.0, "average: weight of photo 1")
    channels: float = param(0.5, 0.0, 1.0, "channels: fraction of channels taken from photo 2")
    style_from: str = param("photo", help="whose W+ drives the other layers", choices=("photo", "photo2"))
    steps_w: int = param(1000, 0, 20000, "W+ steps when a photo has to be embedded")
    steps_noise: int = param(1000, 0, 20000, "noise steps when a photo has to be embedded")
    seed: int = param(0, 0, 2**31 - 1, "random seed of the embeddings")


def _layers_for(gen: Generator, params: AttributeParams) -> list[str]:
    if params.layer_name:
        names = [n.strip() for n in params.layer_name.split(",") if n.strip()]
        unknown = [n for n in names if n not in gen.layer_names]
        if unknown:
            raise OperationError(f"unknown layer(s) {unknown}; choose from {list(gen.layer_names)}")
        return names
    return paper_feature_layers(gen.layer_names, gen.n_latent, params.layer)


@register
class AttributeTransfer(Operation):
    """Move a feature (eyes, hair, mouth) from photo 2 into photo 1 through the generator."""

    name = "attribute-transfer"
    title = "Transfer attributes"
    description = (
        "Copy the generator's activations inside the mask from photo 2 into photo 1 at one "
        "layer (Image2StyleGAN++ Sec. 7.6)."
    )
    inputs = (
        *two_photos("the base", "gives the attribute", "where the attribute goes"),
        Slot(
            "latent",
            "latent",
            region="placement",
            optional=True,
            help="photo 1's embedding (skips embedding it)",
        ),
        Slot(
            "latent2",
            "latent",
            region="placement2",
            role="reference",
            optional=True,
            help="photo 2's embedding (skips embedding it)",
        ),
        FIRST_REGION,
        region("region of photo 2 (default: centre)", "placement2", reference=True),
    )
    outputs = (
        Slot("result", "image", help="the transfer pasted into photo 1"),
        Slot("transfer", "image", help="the transfer at model resolution"),
        Slot("latent", "latent", help="photo 1's embedding"),
        Slot("latent2", "latent", help="photo 2's embedding"),
    )
    Params = AttributeParams

    def run(self, gen: Generator, inputs: dict, params: AttributeParams, progress: Progress) -> Result:
        """Transfer photo 2's features inside ``mask`` into photo 1."""
        self.check_inputs(inputs)
        first = place_photo(inputs, gen.resolution)
        second = place_photo(inputs, gen.resolution, "photo2", "placement2")
        mask = first.crop_mask(inputs["mask"])
        require_painted(mask, "the mask is empty inside the region: paint where to transfer")
        layers = _layers_for(gen, params)
        given = [inputs.get("latent"), inputs.get("latent2")]
        todo = [lat is None for lat in given]
        per = params.steps_w + params.steps_noise
        plan = StagePlan(progress, *[(f"embed photo {i + 1}", per) for i, t in enumerate(todo) if t])
        embed_settings = EmbedParams(steps_w=params.steps_w, steps_noise=params.steps_noise, seed=params.seed)
        embedded = []
        for lat, placed in zip(given, (first, second)):
            if lat is None:
                sub = plan.enter(f"embed photo {len(embedded) + 1}")
                lat = embed_image(gen, placed.crop, embed_settings, progress=sub).latent
            else:
                lat.validate(gen)
                lat = lat.to(generator_device(gen))
            embedded.append(lat)
        out = attribute_transfer(
            gen,
            embedded[0],
            embedded[1],
            mask,
            layers=layers,
            mode=params.mode,
            lam=params.lam,
            channels=params.channels,
            style_from=params.style_from,
        )
        if not any(todo):
            progress.step(1, 1)  # nothing to optimise: one step, still cancellable
        outputs = first.outputs("transfer", out.image, embedded[0], latent2=embedded[1])
        return Result(outputs=outputs, params={"layers": layers})

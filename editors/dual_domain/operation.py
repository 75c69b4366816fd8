"""The ``dual-domain`` Operation: a part from one generator's domain inside the other's image.

Inputs: the app's model and a second, compatible generator (e.g. the ink-sketch model adapted
from the demo model, or a user's FFHQ / MetFaces pair); a latent (a photo embedded with
``embed``) or seeds; a part mask, painted (model-sized, or a square canvas resized to the
model) or found by a part segmenter on the generators' own features. For each latent both
generators draw their image, and :func:`dual_domain_synthesis` looks for the latent whose
target-domain image carries the source domain's part.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from latent_atelier.editors.dual_domain.compat import check_compatible, frozen
from latent_atelier.editors.dual_domain.dds import DDSInputs, DDSSettings, dual_domain_synthesis
from latent_atelier.editors.dual_domain.segmenter import PartSegmenter
from latent_atelier.editors.masks import as_mask
from latent_atelier.editors.operation import Operation, OperationError, Progress, Result, Slot, param
from latent_atelier.editors.registry import register
from latent_atelier.models.generator import Generator, Latent

#: the part segmenter bundled for the demo model (eyes + nose + mouth)
DEMO_SEGMENTER = "furrygan-demo.parts.safetensors"


@dataclass
class DualDomainParams:
    """Settings of ``dual-domain`` (defaults: the paper's Algorithm 1)."""

    source: str = param(
        "second",
        help="which generator gives the part (the other draws the result)",
        choices=("second", "first"),
    )
    variant: str = param(
        "paper",
        help="paper: both generators render, weights 0.9/1/0.5; "
        "code: the authors' code, one generator renders, weights 2/1/3",
        choices=("paper", "code"),
    )
    space: str = param(
        "auto",
        help="optimise z from a random start or W+ from the mean latent "
        "(auto: z for the paper variant, W+ for the code variant)",
        choices=("auto", "z", "w+"),
    )
    start: str = param(
        "default",
        help="where the search starts: default (z: a random start, W+: the mean latent, as in the "
        "paper and the code) or latent: the latent itself (W+ only), so the result starts as "
        "the target image and keeps more of it",
        choices=("default", "latent"),
    )
    steps: int = param(1000, 0, 20000, "optimisation steps (paper: 1000)")
    lr: float = param(0.01, 1e-4, 1.0, "Adam learning rate")
    part_weight: float = param(
        1.0,
        0.0,
        1000.0,
        "how much the part counts against the rest of the image: multiplies the inside terms "
        "(1: the paper's and code's balance; about 1 / the part's area gives its pixels equal say)",
    )
    seed: int = param(0, 0, 2**31 - 1, "first seed of the latents (without a latent input) and of the start")
    count: int = param(1, 1, 64, "how many latents (seeds seed, seed+1, ...) as one batch")
    truncation: float = param(1.0, 0.0, 1.0, "truncation of seeded latents (1: none)")
    parts: str = param(
        "segmenter",
        help="where the part mask comes from when none is painted: the part segmenter on the "
        "generators' features, or the bundled face parser reading the first (app) model's image "
        "(colour portraits, e.g. an embedded photo; its mask is used on both images)",
        choices=("segmenter", "parser"),
    )
    threshold: float = param(0.5, 0.0, 1.0, "the segmenter's or parser's probability that counts as the part")


def load_second_generator(value, gen: Generator) -> Generator:
    """The second generator: a loaded one as is, or a model file / spec loaded on ``gen``'s device."""
    if value is None:
        raise OperationError("dual-domain needs a second generator: give its model file")
    if hasattr(value, "synthesize"):
        return value
    from latent_atelier.models.zoo import load_model

    spec = str(value)
    if not spec.startswith("random:") and not Path(spec).is_file():
        raise OperationError(f"second model {spec!r}: no such file")
    return load_model(spec, next(gen.parameters()).device).eval()


def _resized_mask(mask: np.ndarray, size: int) -> np.ndarray:
    m = as_mask(mask, "part mask")
    if m.shape != (size, size):
        h, w = m.shape
        if abs(h - w) > 0.02 * max(h, w):
            raise OperationError(
                f"the part mask is {w} x {h}: paint it on a square (model-sized) "
                "image so it can be mapped onto the generated one"
            )
        m = cv2.resize(m, (size, size), interpolation=cv2.INTER_AREA)
    return m


def _segmenter_for(gen: Generator, value) -> PartSegmenter | None:
    from latent_atelier.resources import resources_dir

    path = Path(str(value)) if value else resources_dir() / "models" / DEMO_SEGMENTER
    if not path.is_file():
        if value:
            raise OperationError(f"part segmenter {value!r}: no such file")
        return None
    try:
        seg = PartSegmenter.load(path)
        seg.check_generator(gen)
    except ValueError as exc:
        if value:
            raise OperationError(str(exc)) from exc
        return None
    return seg


def _parser_masks(image: torch.Tensor, threshold: float) -> torch.Tensor:
    """The bundled face parser's eyes + nose + mouth masks of ``image`` (B, 3, S, S)."""
    from latent_atelier.editors.dual_domain.parser_parts import part_masks
    from latent_atelier.models.mask_guided.io import ModelFileError, load_parser

    try:
        parser, size = load_parser()
    except (ModelFileError, OSError) as exc:
        raise OperationError(
            f"the bundled face parser cannot be read ({exc}); paint the part mask instead"
        ) from exc
    return part_masks(parser, image, size, threshold)


def _latents(gen: Generator, given: Latent | None, params: DualDomainParams, device) -> Latent:
    if given is not None:
        given.validate(gen)
        return given.to(device)
    return gen.random_latent(params.seed, batch=params.count, truncation=params.truncation).to(device)


def _numpy_images(x: torch.Tensor) -> list[np.ndarray]:
    return list(((x.detach().clamp(-1, 1) + 1) * 0.5).permute(0, 2, 3, 1).cpu().numpy().astype(np.float32))


@register
class DualDomain(Operation):
    """Dual-Domain Synthesis: the source domain's part, the target domain everywhere else."""

    name = "dual-domain"
    title = "Dual-domain part"
    description = (
        "Put a part (eyes, nose, mouth...) drawn by one generator into the image of a second, "
        "compatible generator for the same latent, seamlessly (Dual-Domain Synthesis)."
    )
    inputs = (
        Slot(
            "second_model", "model", help="the other domain's generator (same architecture and latent space)"
        ),
        Slot("latent", "latent", optional=True, help="whose images to combine (default: seeded latents)"),
        Slot(
            "part_mask",
            "mask",
            optional=True,
            help="the part, painted on a model-sized image (default: the part segmenter)",
        ),
        Slot(
            "segmenter",
            "file",
            optional=True,
            help="part segmenter .safetensors (default: the bundled eyes+nose+mouth one, demo model)",
        ),
    )
    outputs = (
        Slot(
            "result", "image", multiple=True, help="the dual-domain image(s), drawn by the target generator"
        ),
        Slot("source", "image", multiple=True, help="the source domain's image of each latent"),
        Slot("target", "image", multiple=True, help="the target domain's image of each latent"),
        Slot("crossover", "image", multiple=True, help="naive cut and paste, for comparison"),
        Slot(
            "part_source",
            "mask",
            optional=True,
            multiple=True,
            layer=False,
            help="the part mask on the source image",
        ),
        Slot(
            "part_target",
            "mask",
            optional=True,
            multiple=True,
            layer=False,
            help="the part mask on the target image",
        ),
        Slot("latent", "latent", help="the latent(s) of the result (W+ and the noise maps)"),
    )
    Params = DualDomainParams

    def run(self, gen: Generator, inputs: dict, params: DualDomainParams, progress: Progress) -> Result:
        """Draw the pair, find the masks, optimise, return the images."""
        self.check_inputs(inputs)
        second = load_second_generator(inputs.get("second_model"), gen)
        check_compatible(gen, second)
        gen_s, gen_t = (second, gen) if params.source == "second" else (gen, second)
        device = next(gen.parameters()).device
        latent = _latents(gen, inputs.get("latent"), params, device)
        with torch.no_grad(), frozen(gen_s, gen_t):
            x_s, x_t = gen_s.synthesize(latent).image, gen_t.synthesize(latent).image
        x_first = x_t if params.source == "second" else x_s
        y_s, y_t = self._masks(inputs, params, gen_s, gen_t, latent, x_first)
        if not bool((y_s > 0.5).any()):
            raise OperationError("the part mask is empty: paint the part, or lower the threshold")
        space = params.space if params.space != "auto" else ("z" if params.variant == "paper" else "w+")
        if params.start == "latent" and space != "w+":
            raise OperationError(
                "starting from the latent needs the W+ space: set the space to w+ "
                "(or choose the code variant, whose automatic space is W+)"
            )
        settings = DDSSettings(
            variant=params.variant,
            space=space,
            steps=params.steps,
            lr=params.lr,
            seed=params.seed,
            part_weight=params.part_weight,
            start=params.start,
        )
        data = DDSInputs(x_s, x_t, y_s, y_t, latent)
        progress.set_stage(f"dual-domain ({params.variant}, {space})")
        with frozen(gen_s, gen_t):
            out = dual_domain_synthesis(gen_s, gen_t, data, settings, progress)
        metrics = {k: float(np.mean(v)) for k, v in out.metrics.items()}
        return Result(
            outputs={
                "result": _numpy_images(out.image),
                "source": _numpy_images(x_s),
                "target": _numpy_images(x_t),
                "crossover": _numpy_images(data.crossover),
                "part_source": list(y_s[:, 0].cpu().numpy()),
                "part_target": list(y_t[:, 0].cpu().numpy()),
                "latent": out.latent,
            },
            metrics=metrics,
        )

    @staticmethod
    def _masks(inputs, params, gen_s, gen_t, latent, x_first) -> tuple[torch.Tensor, torch.Tensor]:
        b, size, device = latent.batch, x_first.shape[-1], x_first.device
        painted = inputs.get("part_mask")
        if painted is not None:
            m = torch.from_numpy(_resized_mask(painted, size)).to(device).view(1, 1, size, size)
            m = m.expand(b, 1, size, size).clone()
            return m, m.clone()
        if params.parts == "parser":
            y_s = _parser_masks(x_first, params.threshold)
            return y_s, y_s.clone()
        seg = _segmenter_for(gen_s, inputs.get("segmenter"))
        if seg is None:
            raise OperationError(
                "no part mask: paint one (Layer > Add mask layer) or give a part "
                "segmenter file that fits this model"
            )
        seg = seg.to(device)
        y_s = (seg.predict(gen_s, latent) > params.threshold).float()
        y_t = (seg.predict(gen_t, latent) > params.threshold).float()
        return y_s, y_t

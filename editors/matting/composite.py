"""Put a matted foreground over a new background, in linear light, with optional defringe.

Backgrounds are either an image (any size, placed with a fit mode, offset and scale) or
drawn by FurryGAN's background generator: a new ``w_bg`` from a seeded ``z`` while the
foreground rows and the noise maps stay those of the photo's embedding. The ``composite``
operation does both (``generate_background = N`` gives N composites to choose from);
``generate-background`` returns the generated backgrounds alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from latent_atelier.editors.operation import Operation, OperationError, Progress, Result, Slot, param
from latent_atelier.editors.registry import register

FITS = ("cover", "contain", "none")


# ---------------------------------------------------------------- colour
def srgb_to_linear(c: np.ndarray) -> np.ndarray:
    """The sRGB transfer function undone (IEC 61966-2-1)."""
    c = np.asarray(c, np.float32)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4).astype(np.float32)


def linear_to_srgb(c: np.ndarray) -> np.ndarray:
    """The sRGB transfer function applied to linear values (clipped to [0, 1])."""
    c = np.clip(np.asarray(c, np.float32), 0.0, 1.0)
    return np.where(c <= 0.0031308, c * 12.92, 1.055 * c ** (1 / 2.4) - 0.055).astype(np.float32)


# ---------------------------------------------------------------- geometry
def background_matrix(
    bg_shape: tuple[int, int],
    out_shape: tuple[int, int],
    fit: str = "cover",
    scale: float = 1.0,
    offset: tuple[float, float] = (0.0, 0.0),
) -> np.ndarray:
    """2x3 affine (background pixels -> output pixels): fit, then ``scale``, centred + offset."""
    if fit not in FITS:
        raise OperationError(f"fit must be one of {FITS}, not {fit!r}")
    if scale <= 0:
        raise OperationError(f"scale must be positive, got {scale}")
    bh, bw = bg_shape[:2]
    oh, ow = out_shape[:2]
    base = {"cover": max(ow / bw, oh / bh), "contain": min(ow / bw, oh / bh), "none": 1.0}[fit]
    s = base * scale
    tx = (ow - s * bw) / 2 + offset[0]
    ty = (oh - s * bh) / 2 + offset[1]
    return np.array([[s, 0.0, tx], [0.0, s, ty]], np.float64)


def fit_background(
    background: np.ndarray,
    out_shape: tuple[int, int],
    fit: str = "cover",
    scale: float = 1.0,
    offset: tuple[float, float] = (0.0, 0.0),
) -> tuple[np.ndarray, np.ndarray]:
    """The background resampled onto the output canvas, and its coverage (1 inside)."""
    bg = np.ascontiguousarray(background[..., :3], np.float32)
    m = background_matrix(bg.shape, out_shape, fit, scale, offset)
    s = m[0, 0]
    if s < 1.0:  # antialias before shrinking
        sigma = 0.5 / s
        bg = cv2.GaussianBlur(bg, (0, 0), sigmaX=sigma, sigmaY=sigma)
    oh, ow = out_shape[:2]
    out = cv2.warpAffine(bg, m, (ow, oh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    cover = cv2.warpAffine(
        np.ones(bg.shape[:2], np.float32),
        m,
        (ow, oh),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
    )
    return np.clip(out, 0.0, 1.0), np.clip(cover, 0.0, 1.0)


# ---------------------------------------------------------------- blending
def defringe(
    foreground: np.ndarray,
    alpha: np.ndarray,
    strength: float = 0.5,
    radius: float = 4.0,
    interior: float = 0.95,
) -> np.ndarray:
    """Pull edge colours toward the nearby opaque interior's colour.

    The interior colour is a normalised Gaussian average (``radius`` px) of pixels with
    ``alpha >= interior``; each soft pixel moves toward it by ``strength * (1 - alpha)``.
    Pixels with no interior nearby keep their colour.
    """
    if strength <= 0:
        return np.asarray(foreground, np.float32)
    fg = np.asarray(foreground, np.float32)[..., :3]
    a = np.asarray(alpha, np.float32)
    w = (a >= interior).astype(np.float32)
    num = cv2.GaussianBlur(fg * w[..., None], (0, 0), radius)
    den = cv2.GaussianBlur(w, (0, 0), radius)
    has = den > 1e-3
    inner = np.where(has[..., None], num / np.maximum(den, 1e-3)[..., None], fg)
    t = np.clip(strength, 0.0, 1.0) * (1.0 - a) * (a > 0) * has
    return (fg * (1.0 - t[..., None]) + inner * t[..., None]).astype(np.float32)


def blend(
    foreground: np.ndarray, alpha: np.ndarray, background: np.ndarray, linear_light: bool = True
) -> np.ndarray:
    """``alpha * F + (1 - alpha) * B``; in linear light when asked (sRGB in and out)."""
    f = np.asarray(foreground, np.float32)[..., :3]
    b = np.asarray(background, np.float32)[..., :3]
    a = np.asarray(alpha, np.float32)[..., None]
    if linear_light:
        return linear_to_srgb(a * srgb_to_linear(f) + (1.0 - a) * srgb_to_linear(b))
    return np.clip(a * f + (1.0 - a) * b, 0.0, 1.0).astype(np.float32)


def split_foreground(foreground: np.ndarray, alpha: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """(RGB, alpha) from an RGBA foreground or an RGB one plus a separate alpha."""
    fg = np.asarray(foreground, np.float32)
    if alpha is None:
        if fg.ndim != 3 or fg.shape[2] != 4:
            raise OperationError("the foreground has no alpha channel: give an alpha matte too")
        return fg[..., :3], fg[..., 3]
    a = np.asarray(alpha, np.float32)
    if a.ndim == 3:
        a = a[..., 0]
    if a.shape != fg.shape[:2]:
        raise OperationError(
            f"alpha is {a.shape[1]}x{a.shape[0]} but the foreground is "
            f"{fg.shape[1]}x{fg.shape[0]}: use the matte made for this foreground"
        )
    return fg[..., :3], a


# ---------------------------------------------------------------- generated backgrounds
def generated_backgrounds(
    gen,
    latent,
    seeds: list[int],
    truncation: float = 0.7,
    what: str = "bg",
    on_image: Callable[[int, int, np.ndarray], None] | None = None,
) -> list[np.ndarray]:
    """FurryGAN backgrounds for new seeded ``w_bg`` rows; ``w_fg`` and noise kept.

    ``what="bg"`` returns the background generator's image, ``"composite"`` the
    generator's own composite of the kept foreground over it. Images are S x S x 3 in [0, 1].
    ``on_image(i, n, image)`` is called after each one (it may raise to cancel).
    """
    import torch

    from latent_atelier.models.generator import Latent

    if "bg" not in getattr(gen, "latent_groups", ()):
        raise OperationError("generated backgrounds need a FurryGAN model (latent group 'bg')")
    if what not in ("bg", "composite"):
        raise OperationError(f"what must be 'bg' or 'composite', not {what!r}")
    device = latent.w["bg"].device
    mean_bg = gen.mean_latent().w["bg"].to(device)[:1, :1]
    rows = latent.w["bg"].shape[1]
    out = []
    with torch.no_grad():
        for seed in seeds:
            z = torch.randn((1, gen.z_dim()), generator=torch.Generator().manual_seed(int(seed)))
            w_bg = gen.mapping(z.to(device))["bg"][:, None, :]
            w_bg = mean_bg + truncation * (w_bg - mean_bg)
            lat = Latent(
                {**{k: v[:1] for k, v in latent.w.items()}, "bg": w_bg.expand(1, rows, -1).clone()},
                [n[:1] for n in latent.noise],
            )
            syn = gen.synthesize(lat, return_alpha=True)
            img = syn.bg if what == "bg" else syn.image
            if img is None:
                raise OperationError("this generator does not return a background image")
            arr = ((img[0].clamp(-1, 1) + 1) / 2).permute(1, 2, 0).cpu().numpy()
            out.append(arr.astype(np.float32))
            if on_image is not None:
                on_image(len(out), len(seeds), out[-1])
    return out


# ---------------------------------------------------------------- operations
@dataclass
class CompositeParams:
    """Settings of the ``composite`` operation."""

    fit: str = param("cover", help="how the background fills the canvas", choices=FITS)
    scale: float = param(1.0, 0.01, 100.0, "extra background scale after fitting")
    offset_x: float = param(0.0, -1e5, 1e5, "background shift right, in output pixels")
    offset_y: float = param(0.0, -1e5, 1e5, "background shift down, in output pixels")
    defringe: float = param(0.0, 0.0, 1.0, "pull edge colours toward the subject's interior")
    defringe_radius: float = param(4.0, 0.5, 64.0, "defringe reach in pixels")
    linear_light: bool = param(True, help="blend in linear light (physically right edges)")
    fill_gray: float = param(1.0, 0.0, 1.0, "grey level where there is no background image")
    generate_background: int = param(
        0,
        0,
        64,
        "draw this many backgrounds with FurryGAN's background generator (new w_bg, the photo's "
        "w_fg and noise from its matte latent), one composite each; 0 = use the background image",
    )
    first_seed: int = param(0, 0, 2**31 - 1, "seed of the first generated background (then +1, ...)")
    truncation: float = param(0.7, 0.0, 1.5, "generated backgrounds: lower = more typical")


def composite_over(
    foreground: np.ndarray,
    alpha: np.ndarray | None,
    background: np.ndarray | None,
    params: CompositeParams,
) -> np.ndarray:
    """The composite image (sRGB, H x W x 3) for the given inputs and settings."""
    fg, a = split_foreground(foreground, alpha)
    out_shape = fg.shape[:2]
    canvas = np.full((*out_shape, 3), params.fill_gray, np.float32)
    if background is not None:
        bg, cover = fit_background(
            background, out_shape, params.fit, params.scale, (params.offset_x, params.offset_y)
        )
        canvas = bg + canvas * (1.0 - cover[..., None])
    if params.defringe > 0:
        fg = defringe(fg, a, params.defringe, params.defringe_radius)
    return blend(fg, a, canvas, params.linear_light)


@register
class Composite(Operation):
    """Foreground over a background image, or over backgrounds FurryGAN draws, in linear light."""

    name = "composite"
    title = "Composite over background"
    description = (
        "Place the matted subject over a new background image, or over several backgrounds "
        "drawn by FurryGAN's background generator for the photo's matte latent."
    )
    inputs = (
        Slot(
            "foreground", "rgba", role="foreground", help="the subject (RGBA straight alpha, or RGB + alpha)"
        ),
        Slot("alpha", "mask", role="alpha", optional=True, help="the matte, if the foreground has none"),
        Slot("background", "image", role="background", optional=True, help="any size; fitted to the subject"),
        Slot(
            "latent",
            "latent",
            optional=True,
            help="the photo's FurryGAN embedding (written by matte), for generated backgrounds",
        ),
    )
    outputs = (
        Slot("composite", "image", optional=True),
        Slot("composites", "image", optional=True, multiple=True, help="one per generated background"),
    )
    Params = CompositeParams
    #: only generated backgrounds need the model; a given latent input asks for it
    needs_generator = False

    def wants_generator(self, params: CompositeParams) -> bool:
        """The model is needed only to draw backgrounds."""
        return params.generate_background > 0

    def run(self, gen, inputs: dict, params: CompositeParams, progress: Progress) -> Result:
        """Blend over the background image (one step), or over each generated background."""
        self.check_inputs(inputs)
        if params.generate_background > 0:
            return self._over_generated(gen, inputs, params, progress)
        out = composite_over(inputs["foreground"], inputs.get("alpha"), inputs.get("background"), params)
        progress.step(1, 1, preview=out)
        return Result({"composite": out}, params=vars(params).copy())

    @staticmethod
    def _over_generated(gen, inputs: dict, params: CompositeParams, progress: Progress) -> Result:
        if inputs.get("background") is not None:
            raise OperationError("give either a background image or generate_background > 0, not both")
        if inputs.get("latent") is None:
            raise OperationError(
                "generated backgrounds need the photo's latent: pass the latent.npz that "
                "`matte` wrote (--latent), made with the same model (--model)"
            )
        if gen is None:
            raise OperationError("generated backgrounds need a FurryGAN model: load one first")
        fg, alpha = split_foreground(inputs["foreground"], inputs.get("alpha"))
        seeds = [params.first_seed + i for i in range(params.generate_background)]
        composites: list[np.ndarray] = []

        def over(i: int, n: int, background: np.ndarray) -> None:
            composites.append(composite_over(fg, alpha, background, params))
            progress.step(i, n, preview=composites[-1])

        generated_backgrounds(gen, inputs["latent"], seeds, params.truncation, "bg", on_image=over)
        return Result(
            {"composites": composites}, metrics={"seeds": float(len(seeds))}, params=vars(params).copy()
        )


@dataclass
class GenerateBackgroundParams:
    """Settings of the ``generate-background`` operation."""

    count: int = param(4, 1, 64, "how many backgrounds to offer")
    first_seed: int = param(0, 0, 2**31 - 1, "seed of the first background (then +1, +2, ...)")
    truncation: float = param(0.7, 0.0, 1.5, "lower = more typical backgrounds")
    what: str = param(
        "bg", help="background alone, or the generator's own composite", choices=("bg", "composite")
    )


@register
class GenerateBackground(Operation):
    """New FurryGAN backgrounds for an embedded photo (same subject rows and noise)."""

    name = "generate-background"
    title = "Generate backgrounds"
    description = "Draw new backgrounds with FurryGAN's background generator."
    inputs = (Slot("latent", "latent", help="the photo's FurryGAN embedding (from matte)"),)
    outputs = (Slot("backgrounds", "image", multiple=True),)
    Params = GenerateBackgroundParams
    archs = ("furrygan",)

    def run(self, gen, inputs: dict, params: GenerateBackgroundParams, progress: Progress) -> Result:
        """One synthesis per seed, one progress step each."""
        self.check_inputs(inputs)
        latent = inputs["latent"]
        seeds = [params.first_seed + i for i in range(params.count)]
        out = generated_backgrounds(
            gen,
            latent,
            seeds,
            params.truncation,
            params.what,
            on_image=lambda i, n, img: progress.step(i, n, preview=img),
        )
        return Result({"backgrounds": out}, params=vars(params).copy())

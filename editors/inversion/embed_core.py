"""Image2StyleGAN++ Algorithm 1: the generic masked embedding loss and its optimiser loop.

Loss (Eq. 1), per batch item::

    L = l_s * L_style(M_s, G(w, n), y)
      + l_mse1 / N * ||M_m * (G(w, n) - x)||^2
      + l_mse2 / N * ||(1 - M_m) * (G(w, n) - y)||^2
      + l_p * L_percept(M_p, G(w, n), x)

Pixel terms are taken on the 0..255 scale the paper's weights were set for (so
``l_mse = 1e-5`` means what it meant there); N is the number of pixel values. The
perceptual and style terms use :mod:`latent_atelier.models.perceptual` on images resized to at most
256 px. Variable masks ``w_mask`` (which W+ rows may change) and ``noise_mask`` (which
noise maps may change) select the free variables.

Speed: the loop runs the generator's search twin (:mod:`models.search_model`: bfloat16
weights where the compute policy of :mod:`models.devices` picks bf16, input-scaled
modulation, channels-last activations) and VGG in the same dtype; losses, latents and
the optimiser stay float32. Metrics are read back without stalling a GPU (one step late
there); on a CPU, where nothing runs ahead, every step reports its own.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

import torch
import torch.nn.functional as F

from latent_atelier.editors.operation import Progress
from latent_atelier.models.devices import loop_threads
from latent_atelier.models.generator import Generator, Latent

PIXEL_SCALE = 127.5  # [-1, 1] differences -> 0..255 differences
PERCEPT_MAX_SIZE = 256


@dataclass(frozen=True)
class LossWeights:
    """The lambdas of Eq. 1."""

    style: float = 0.0
    mse1: float = 1e-5
    mse2: float = 0.0
    percept: float = 1e-5


#: Sec. 6 building blocks
W_L_WEIGHTS = LossWeights(style=0.0, mse1=1e-5, mse2=0.0, percept=1e-5)
MK_N_WEIGHTS = LossWeights(style=0.0, mse1=1e-5, mse2=1e-5, percept=0.0)
M_ST_WEIGHTS = LossWeights(style=5e-7, mse1=0.0, mse2=0.0, percept=0.0)


@dataclass
class Targets:
    """Images and spatial masks of Eq. 1. Images ``(B,3,H,W)`` in [-1, 1]; masks ``(B,1,H,W)``.

    A mask left as ``None`` means "all ones". ``y`` defaults to ``x``.
    """

    x: torch.Tensor
    y: torch.Tensor | None = None
    m_s: torch.Tensor | None = None
    m_m: torch.Tensor | None = None
    m_p: torch.Tensor | None = None


def _masked_sq(diff: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Per-item ``||M * diff||^2 / N`` with diff on the 0..255 scale."""
    d = diff * PIXEL_SCALE
    if mask is not None:
        d = d * mask
    return d.pow(2).flatten(1).mean(1)


def _for_vgg(img: torch.Tensor) -> torch.Tensor:
    if img.shape[-1] > PERCEPT_MAX_SIZE:
        return F.interpolate(img, size=(PERCEPT_MAX_SIZE, PERCEPT_MAX_SIZE), mode="area")
    return img


def _apply(img: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Mask an image before VGG so pixels outside the mask cannot reach any feature."""
    return img if mask is None else img * mask


def _vgg_mask(mask: torch.Tensor | None) -> torch.Tensor | None:
    return None if mask is None else _for_vgg(mask)


#: VGG runs in bf16 only on images at least this large (smaller ones gain nothing)
VGG_BF16_MIN_SIZE = 128


def vgg_dtype(img: torch.Tensor) -> torch.dtype:
    """The dtype the perceptual/style VGG runs in for images like ``img`` (see the policy)."""
    from latent_atelier.models.devices import search_dtype

    if min(img.shape[-2:]) < VGG_BF16_MIN_SIZE:
        return torch.float32
    return search_dtype(img.device)


@contextlib.contextmanager
def reduced_precision(device: torch.device, dtype: torch.dtype) -> Iterator[None]:
    """``torch.autocast`` to ``dtype`` on ``device``; nothing for float32."""
    if dtype == torch.float32:
        yield
        return
    with torch.autocast(device_type=device.type, dtype=dtype):
        yield


def _vgg_features(vgg, img: torch.Tensor, dtype: torch.dtype, layers=None) -> dict[str, torch.Tensor]:
    """VGG features of ``img`` computed in ``dtype`` (channels-last there), returned as float32."""
    if dtype == torch.float32:
        return vgg(img) if layers is None else vgg(img, layers=layers)
    with reduced_precision(img.device, dtype):
        x = img.contiguous(memory_format=torch.channels_last)
        feats = vgg(x) if layers is None else vgg(x, layers=layers)
    return {k: v.float() for k, v in feats.items()}


class Loss(Protocol):
    """What :func:`optimise` minimises: a per-item loss ``(B,)`` of generated images, and
    the targets ``t`` whose ``x`` progress reports the PSNR against."""

    t: Targets

    def __call__(self, img: torch.Tensor) -> torch.Tensor: ...


class EmbeddingLoss:
    """Eq. 1 for fixed targets; caches the target's VGG features once."""

    def __init__(self, targets: Targets, weights: LossWeights) -> None:
        self.t = targets
        self.w = weights
        self._vgg = None
        self._x_feats: dict[str, torch.Tensor] = {}
        self._y_style: dict[str, torch.Tensor] = {}
        self._dtype = torch.float32
        if weights.percept or weights.style:
            from latent_atelier.models.perceptual import get_vgg

            self._vgg = get_vgg(targets.x.device)
            self._dtype = vgg_dtype(_for_vgg(targets.x))  # targets and steps alike
            with torch.no_grad():
                if weights.percept:
                    masked = _for_vgg(_apply(targets.x, targets.m_p))
                    self._x_feats = _vgg_features(self._vgg, masked, self._dtype)
                if weights.style:
                    y = targets.x if targets.y is None else targets.y
                    self._y_style = _vgg_features(self._vgg, _for_vgg(y), self._dtype, ("conv3_3",))

    def __call__(self, img: torch.Tensor) -> torch.Tensor:
        """Per-item loss ``(B,)`` of generated images ``img`` in [-1, 1]."""
        t, w = self.t, self.w
        y = t.x if t.y is None else t.y
        loss = img.new_zeros(img.shape[0])
        if w.mse1:
            loss = loss + w.mse1 * _masked_sq(img - t.x, t.m_m)
        if w.mse2 and t.m_m is not None:  # with M_m = 1 everywhere the term vanishes
            loss = loss + w.mse2 * _masked_sq(img - y, 1.0 - t.m_m)
        if w.percept or w.style:
            from latent_atelier.models.perceptual import gram_style_loss, perceptual_loss

            layers = ("conv1_1", "conv1_2", "conv2_2", "conv3_3")
            if w.percept:
                feats = _vgg_features(self._vgg, _for_vgg(_apply(img, t.m_p)), self._dtype, layers)
                loss = loss + w.percept * perceptual_loss(feats, self._x_feats, _vgg_mask(t.m_p))
            if w.style:
                feats = _vgg_features(self._vgg, _for_vgg(_apply(img, t.m_s)), self._dtype, ("conv3_3",))
                loss = loss + w.style * gram_style_loss(feats, self._y_style, _vgg_mask(t.m_s), None)
        return loss


def masked_psnr(img: torch.Tensor, ref: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Per-item PSNR (dB) of images in [-1, 1], over the mask where given."""
    d = ((img - ref) * 0.5).pow(2)
    if mask is None:
        mse = d.flatten(1).mean(1)
    else:
        m = mask.expand_as(d)
        mse = (d * m).flatten(1).sum(1) / m.flatten(1).sum(1).clamp_min(1e-8)
    return 10.0 * torch.log10(1.0 / mse.clamp_min(1e-12))


@dataclass
class VariableMasks:
    """Which variables may change: ``w`` rows per group (bool ``(n_latent,)``), noise maps."""

    w: Mapping[str, torch.Tensor] | None = None
    noise: Sequence[bool] | None = None


def rows_mask(n_latent: int, rows: Sequence[int]) -> torch.Tensor:
    """A W+ row mask with ``rows`` (may be negative, counted from the end) set."""
    m = torch.zeros(n_latent, dtype=torch.bool)
    for r in rows:
        m[r] = True
    return m


@dataclass(frozen=True)
class OptimiserSettings:
    """Adam (beta 0.9/0.999, eps 1e-8) or plain gradient descent, and its learning rate."""

    kind: str = "adam"
    lr: float = 0.01
    steps: int = 100


def generator_device(gen: Any) -> torch.device:
    """The device a generator's weights live on (the CPU for one without weights)."""
    try:
        return next(gen.parameters()).device
    except (AttributeError, StopIteration):
        return torch.device("cpu")


def search_synthesis(gen: Any) -> Callable[[Latent], torch.Tensor]:
    """``latent -> float32 image`` through the generator's search twin under the compute policy.

    ``gen`` may be a wrapper (e.g. segments' tied-rows view) that names its model in
    ``wrapped_generator`` and rebuilds itself around another one with ``around(model)``.
    """
    from latent_atelier.models.devices import search_dtype
    from latent_atelier.models.search_model import search_twin

    inner = gen if isinstance(gen, torch.nn.Module) else getattr(gen, "wrapped_generator", None)
    if not isinstance(inner, torch.nn.Module):
        return lambda lat: gen.synthesize(lat).image
    device = generator_device(inner)
    dtype = search_dtype(device, inner)
    if dtype == torch.float32:
        return lambda lat: gen.synthesize(lat).image
    twin = search_twin(inner, dtype)
    view = twin if inner is gen else gen.around(twin)

    def synthesize(lat: Latent) -> torch.Tensor:
        with reduced_precision(device, dtype):
            image = view.synthesize(lat).image
        return image.float()

    return synthesize


class StepMetrics:
    """Each step's loss and PSNR for the progress report, read without stalling the device.

    On a CPU the values are read at once (nothing runs ahead of Python there). On CUDA they
    are copied to the host asynchronously and reported one step late, so the GPU always has
    the next step queued; :meth:`flush` reads the last one.
    """

    def __init__(self, device: torch.device) -> None:
        self._async = device.type == "cuda"
        self._pending: tuple[torch.Tensor, object] | None = None

    def push(self, loss: torch.Tensor, psnr: torch.Tensor) -> dict[str, float] | None:
        """Queue this step's values; returns the values ready now (None: none yet)."""
        values = torch.stack([loss.detach().mean(), psnr.detach().mean()]).float()
        if not self._async:
            return self._read(values)
        host = torch.empty(2, pin_memory=True)
        host.copy_(values, non_blocking=True)
        event = torch.cuda.Event()
        event.record()
        ready = self.flush()
        self._pending = (host, event)
        return ready

    def flush(self) -> dict[str, float] | None:
        """The values still waiting (after the device has computed them), if any."""
        if self._pending is None:
            return None
        host, event = self._pending
        self._pending = None
        event.synchronize()  # type: ignore[attr-defined]
        return self._read(host)

    @staticmethod
    def _read(values: torch.Tensor) -> dict[str, float]:
        loss, psnr = values.tolist()
        return {"loss": loss, "psnr": psnr}


def optimise(
    gen: Generator,
    latent: Latent,
    loss_fn: Loss,
    *,
    settings: OptimiserSettings,
    variables: str,
    masks: VariableMasks | None = None,
    progress: Progress | None = None,
    psnr_mask: torch.Tensor | None = None,
    step_offset: int = 0,
    total_steps: int | None = None,
    extra_loss=None,
) -> Latent:
    """Algorithm 1: minimise ``loss_fn`` over ``variables`` ("w" or "noise"); returns a new Latent.

    ``latent`` is not modified. Progress is reported every step with loss and PSNR
    (against ``loss_fn``'s x, over ``psnr_mask`` where given); previews are throttled.
    ``extra_loss(latent) -> (B,)`` adds a regulariser (e.g. closeness to w*).
    """
    lat = latent.clone()
    masks = masks or VariableMasks()
    if variables == "w":
        params = list(lat.w.values())
        grad_masks = [
            None if masks.w is None or k not in masks.w else masks.w[k].to(v.device) for k, v in lat.w.items()
        ]
        grad_masks = [None if m is None else m.view(1, -1, 1).to(v.dtype) for m, v in zip(grad_masks, params)]
    elif variables == "noise":
        chosen = masks.noise
        params = [n for i, n in enumerate(lat.noise) if chosen is None or chosen[i]]
        grad_masks = [None] * len(params)
    else:
        raise ValueError(f"variables must be 'w' or 'noise', not {variables!r}")
    for p in params:
        p.requires_grad_(True)
    if not params or settings.steps <= 0:
        return lat.clone()
    if settings.kind == "adam":
        opt = torch.optim.Adam(params, lr=settings.lr, betas=(0.9, 0.999), eps=1e-8)
    elif settings.kind == "gd":
        opt = torch.optim.SGD(params, lr=settings.lr)
    else:
        raise ValueError(f"unknown optimiser {settings.kind!r}")
    total = total_steps if total_steps is not None else settings.steps
    x = loss_fn.t.x
    synthesize = search_synthesis(gen)
    metrics = StepMetrics(x.device)
    with loop_threads(x.device, gen, x.shape[0]):
        for i in range(settings.steps):
            opt.zero_grad(set_to_none=True)
            img = synthesize(lat)
            per_item = loss_fn(img)
            if extra_loss is not None:
                per_item = per_item + extra_loss(lat)
            per_item.sum().backward()
            for p, m in zip(params, grad_masks):
                if m is not None and p.grad is not None:
                    p.grad.mul_(m)
            opt.step()
            if progress is not None:
                with torch.no_grad():
                    ready = metrics.push(per_item, masked_psnr(img.detach(), x, psnr_mask))
                if i == settings.steps - 1:
                    ready = metrics.flush() or ready
                preview = None
                if progress.wants_preview():
                    preview = to_numpy_image(img[0].detach())
                progress.step(step_offset + i + 1, total, preview=preview, metrics=ready)
    return lat.clone()


def to_numpy_image(img: torch.Tensor):
    """``(3,H,W)`` or ``(1,3,H,W)`` in [-1, 1] -> ``H x W x 3`` float32 numpy in [0, 1]."""
    if img.ndim == 4:
        img = img[0]
    return ((img.detach().float().clamp(-1, 1) + 1) * 0.5).permute(1, 2, 0).cpu().numpy()


def from_numpy_image(img, device: torch.device | str = "cpu") -> torch.Tensor:
    """``H x W x 3`` float in [0, 1] -> ``(1,3,H,W)`` float32 tensor in [-1, 1]."""
    t = torch.as_tensor(img, dtype=torch.float32, device=device)
    if t.ndim == 2:
        t = t[..., None].expand(*t.shape, 3)
    return (t[..., :3].permute(2, 0, 1)[None] * 2.0 - 1.0).contiguous()


def from_numpy_mask(mask, device: torch.device | str = "cpu") -> torch.Tensor:
    """``H x W`` float in [0, 1] -> ``(1,1,H,W)`` float32 tensor."""
    return torch.as_tensor(mask, dtype=torch.float32, device=device)[None, None].contiguous()


def with_weights(base: LossWeights, **changes: float) -> LossWeights:
    """A copy of ``base`` with some lambdas changed."""
    return replace(base, **changes)

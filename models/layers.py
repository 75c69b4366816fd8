"""StyleGAN2 building blocks in pure PyTorch (no compiled extensions).

Parameter and buffer names follow rosinality's ``stylegan2-pytorch`` so its checkpoints
load with ``strict=True``: e.g. ``conv.weight``, ``conv.modulation.weight``,
``noise.weight``, ``activate.bias``, ``conv.blur.kernel``, ``upsample.kernel``.

Everything here runs on CPU, CUDA and MPS, is differentiable and supports double
backward (R1 regularisation). No layer draws random numbers in its forward pass:
noise maps are always passed in.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

BLUR_KERNEL = (1, 3, 3, 1)
LRELU_SLOPE = 0.2
LRELU_GAIN = math.sqrt(2.0)


# -- filtering ------------------------------------------------------------------------
def make_kernel(taps: Sequence[float]) -> torch.Tensor:
    """A normalised 2-D FIR kernel from 1-D taps (outer product, sums to 1)."""
    k = torch.as_tensor(taps, dtype=torch.float32)
    if k.ndim == 1:
        k = torch.outer(k, k)
    return k / k.sum()


def upfirdn2d(
    x: torch.Tensor,
    kernel: torch.Tensor,
    up: int = 1,
    down: int = 1,
    pad: tuple[int, int] = (0, 0),
) -> torch.Tensor:
    """Upsample by zero insertion, pad, filter with ``kernel``, then subsample.

    ``x`` is ``(B, C, H, W)``; ``pad`` = (before, after), applied to both spatial axes
    (negative values crop). The output matches the reference ``upfirdn2d`` op of
    StyleGAN2: size ``(H * up + pad0 + pad1 - kh + 1) // down`` (rounded up).
    """
    b, c, h, w = x.shape
    if up > 1:  # zero insertion: each pixel followed by up-1 zeros on both axes
        x = x.reshape(b, c, h, 1, w, 1)
        x = F.pad(x, (0, up - 1, 0, 0, 0, up - 1))
        x = x.reshape(b, c, h * up, w * up)
    p0, p1 = pad
    conv_pad = 0
    if p0 == p1 and p0 >= 0:  # symmetric: let the convolution pad (saves a copy)
        conv_pad = p0
    else:
        x = F.pad(x, (max(p0, 0), max(p1, 0), max(p0, 0), max(p1, 0)))
        if p0 < 0 or p1 < 0:
            hh, ww = x.shape[-2:]
            x = x[:, :, max(-p0, 0) : hh - max(-p1, 0), max(-p0, 0) : ww - max(-p1, 0)]
    kh, kw = kernel.shape
    weight = torch.flip(kernel, (0, 1)).to(dtype=x.dtype, device=x.device)
    weight = weight.view(1, 1, kh, kw).expand(c, 1, kh, kw)
    return F.conv2d(x, weight, stride=down, padding=conv_pad, groups=c)


class Blur(nn.Module):
    """FIR low-pass filter with padding (buffer ``kernel``)."""

    def __init__(self, kernel: Sequence[float], pad: tuple[int, int], upsample_factor: int = 1) -> None:
        super().__init__()
        k = make_kernel(kernel)
        if upsample_factor > 1:
            k = k * upsample_factor**2
        self.register_buffer("kernel", k)
        self.pad = pad

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return upfirdn2d(x, self.kernel, pad=self.pad)


class Upsample(nn.Module):
    """Upsample by ``factor`` with FIR interpolation (buffer ``kernel``)."""

    def __init__(self, kernel: Sequence[float] = BLUR_KERNEL, factor: int = 2) -> None:
        super().__init__()
        self.factor = factor
        k = make_kernel(kernel) * factor**2
        self.register_buffer("kernel", k)
        p = k.shape[0] - factor
        self.pad = ((p + 1) // 2 + factor - 1, p // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return upfirdn2d(x, self.kernel, up=self.factor, pad=self.pad)


class Downsample(nn.Module):
    """Downsample by ``factor`` after FIR anti-aliasing (buffer ``kernel``)."""

    def __init__(self, kernel: Sequence[float] = BLUR_KERNEL, factor: int = 2) -> None:
        super().__init__()
        self.factor = factor
        k = make_kernel(kernel)
        self.register_buffer("kernel", k)
        p = k.shape[0] - factor
        self.pad = ((p + 1) // 2, p // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return upfirdn2d(x, self.kernel, down=self.factor, pad=self.pad)


# -- activations ----------------------------------------------------------------------
def fused_leaky_relu(
    x: torch.Tensor,
    bias: torch.Tensor | None = None,
    negative_slope: float = LRELU_SLOPE,
    scale: float = LRELU_GAIN,
) -> torch.Tensor:
    """``leaky_relu(x + bias) * scale``, with ``bias`` broadcast over channel dim 1.

    Computed as ``leaky_relu(scale * x + scale * bias)`` (equal for ``scale > 0``): two
    passes over ``x`` instead of three.
    """
    if bias is None:
        return F.leaky_relu(x * scale, negative_slope)
    shape = (1, bias.shape[0]) + (1,) * (x.ndim - 2)
    scaled_bias = bias.view(shape).to(x.dtype) * scale
    if torch.compiler.is_compiling():
        # under torch.compile the add of a matmul's output with ``alpha`` is rewritten
        # into an addmm that drops ``alpha`` (pytorch/pytorch#167313: a wrong result, not an
        # error); the compiler fuses these passes into one anyway
        return F.leaky_relu(scaled_bias + x * scale, negative_slope)
    return F.leaky_relu(torch.add(scaled_bias, x, alpha=scale), negative_slope)


class FusedLeakyReLU(nn.Module):
    """Per-channel bias + leaky ReLU(0.2) + gain sqrt(2) (parameter ``bias``)."""

    def __init__(
        self,
        channel: int,
        bias: bool = True,
        negative_slope: float = LRELU_SLOPE,
        scale: float = LRELU_GAIN,
    ) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(channel)) if bias else None
        self.negative_slope = negative_slope
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return fused_leaky_relu(x, self.bias, self.negative_slope, self.scale)


class PixelNorm(nn.Module):
    """Normalise each vector to unit root-mean-square over dim 1."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(torch.mean(x * x, dim=1, keepdim=True) + 1e-8)


# -- equalised-learning-rate layers ---------------------------------------------------
class EqualLinear(nn.Module):
    """Linear layer with runtime weight scaling and a learning-rate multiplier.

    ``activation="fused_lrelu"`` (or any truthy value) applies :func:`fused_leaky_relu`
    with the layer's bias.
    """

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        bias: bool = True,
        bias_init: float = 0.0,
        lr_mul: float = 1.0,
        activation: str | None = None,
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_dim, in_dim).div_(lr_mul))
        self.bias = nn.Parameter(torch.full((out_dim,), float(bias_init))) if bias else None
        self.activation = activation
        self.scale = lr_mul / math.sqrt(in_dim)
        self.lr_mul = lr_mul

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bias = self.bias * self.lr_mul if self.bias is not None else None
        if self.activation:
            return fused_leaky_relu(F.linear(x, self.weight * self.scale), bias)
        return F.linear(x, self.weight * self.scale, bias)

    def extra_repr(self) -> str:
        return f"{self.weight.shape[1]}, {self.weight.shape[0]}, activation={self.activation}"


class EqualConv2d(nn.Module):
    """Conv2d with runtime weight scaling (He init at run time)."""

    def __init__(
        self,
        in_channel: int,
        out_channel: int,
        kernel_size: int,
        stride: int = 1,
        padding: int = 0,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channel, in_channel, kernel_size, kernel_size))
        self.scale = 1 / math.sqrt(in_channel * kernel_size**2)
        self.stride = stride
        self.padding = padding
        self.bias = nn.Parameter(torch.zeros(out_channel)) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.scale, self.bias, stride=self.stride, padding=self.padding)

    def extra_repr(self) -> str:
        o, i, k, _ = self.weight.shape
        return f"{i}, {o}, {k}, stride={self.stride}, padding={self.padding}"


# -- synthesis layers -----------------------------------------------------------------
class ModulatedConv2d(nn.Module):
    """Style-modulated (and optionally demodulated) convolution.

    ``fused=True`` folds the styles into per-sample weights and runs one grouped
    convolution over the batch; ``fused=False`` scales the input instead and runs a
    plain convolution (same result up to rounding; often faster for large batches).
    Upsampling is a stride-2 transposed convolution followed by a blur; downsampling
    blurs first, then convolves with stride 2.
    """

    def __init__(
        self,
        in_channel: int,
        out_channel: int,
        kernel_size: int,
        style_dim: int,
        demodulate: bool = True,
        upsample: bool = False,
        downsample: bool = False,
        blur_kernel: Sequence[float] = BLUR_KERNEL,
        fused: bool = True,
    ) -> None:
        super().__init__()
        self.eps = 1e-8
        self.kernel_size = kernel_size
        self.in_channel = in_channel
        self.out_channel = out_channel
        self.upsample = upsample
        self.downsample = downsample
        if upsample:
            factor = 2
            p = (len(blur_kernel) - factor) - (kernel_size - 1)
            self.blur = Blur(blur_kernel, pad=((p + 1) // 2 + factor - 1, p // 2 + 1), upsample_factor=factor)
        if downsample:
            p = (len(blur_kernel) - 2) + (kernel_size - 1)
            self.blur = Blur(blur_kernel, pad=((p + 1) // 2, p // 2))
        self.scale = 1 / math.sqrt(in_channel * kernel_size**2)
        self.padding = kernel_size // 2
        self.weight = nn.Parameter(torch.randn(1, out_channel, in_channel, kernel_size, kernel_size))
        self.modulation = EqualLinear(style_dim, in_channel, bias_init=1.0)
        self.demodulate = demodulate
        self.fused = fused

    def extra_repr(self) -> str:
        return (
            f"{self.in_channel}, {self.out_channel}, {self.kernel_size}, "
            f"upsample={self.upsample}, downsample={self.downsample}"
        )

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        if self.fused:
            return self._forward_grouped(x, style)
        return self._forward_input_scaled(x, style)

    def _conv(self, x: torch.Tensor, weight: torch.Tensor, groups: int) -> torch.Tensor:
        """Convolve ``x`` with ``weight`` (``(groups*out, in, k, k)``), handling up/down."""
        if self.upsample:
            k = self.kernel_size
            w = weight.view(groups, self.out_channel, self.in_channel, k, k)
            w = w.transpose(1, 2).reshape(groups * self.in_channel, self.out_channel, k, k)
            return self.blur(F.conv_transpose2d(x, w, stride=2, groups=groups))
        if self.downsample:
            return F.conv2d(self.blur(x), weight, stride=2, groups=groups)
        return F.conv2d(x, weight, padding=self.padding, groups=groups)

    def _forward_grouped(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        s = self.modulation(style).view(b, 1, c, 1, 1)
        weight = self.scale * self.weight * s
        if self.demodulate:
            demod = torch.rsqrt(weight.pow(2).sum((2, 3, 4)) + self.eps)
            weight = weight * demod.view(b, self.out_channel, 1, 1, 1)
        weight = weight.view(b * self.out_channel, c, self.kernel_size, self.kernel_size)
        out = self._conv(x.reshape(1, b * c, h, w), weight, groups=b)
        return out.view(b, self.out_channel, *out.shape[-2:])

    def _forward_input_scaled(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        b, c, _, _ = x.shape
        s = self.modulation(style)
        weight = self.scale * self.weight.squeeze(0)
        out = self._conv(x * s.view(b, c, 1, 1), weight, groups=1)
        if self.demodulate:
            w = weight.unsqueeze(0) * s.view(b, 1, c, 1, 1)
            dcoefs = torch.rsqrt(w.pow(2).sum((2, 3, 4)) + self.eps)
            out = out * dcoefs.view(b, self.out_channel, 1, 1)
        return out


class NoiseInjection(nn.Module):
    """Add per-pixel noise times a learned strength (parameter ``weight``).

    The noise map ``(B or 1, 1, H, W)`` is always given by the caller; nothing random
    happens here, so synthesis is a pure function of the latent.
    """

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor, noise: torch.Tensor | None) -> torch.Tensor:
        if noise is None:
            raise ValueError(
                "NoiseInjection needs an explicit noise map (take it from the Latent); "
                "pass zeros for no noise"
            )
        if tuple(noise.shape[-2:]) != tuple(x.shape[-2:]):
            raise ValueError(
                f"noise map is {tuple(noise.shape[-2:])}, the layer output is {tuple(x.shape[-2:])}"
            )
        return x + self.weight * noise.to(x.dtype)


class ConstantInput(nn.Module):
    """The learned 4x4 start tensor (parameter ``input``), repeated over the batch."""

    def __init__(self, channel: int, size: int = 4) -> None:
        super().__init__()
        self.input = nn.Parameter(torch.randn(1, channel, size, size))

    def forward(self, batch: int | torch.Tensor) -> torch.Tensor:
        """``batch`` is a count, or any tensor whose first dimension is the batch."""
        n = batch if isinstance(batch, int) else batch.shape[0]
        return self.input.repeat(n, 1, 1, 1)  # a copy: hooks may not alias the weights


class StyledConv(nn.Module):
    """Modulated conv -> noise -> bias + leaky ReLU (``conv.*``, ``noise.*``, ``activate.*``)."""

    def __init__(
        self,
        in_channel: int,
        out_channel: int,
        kernel_size: int,
        style_dim: int,
        upsample: bool = False,
        blur_kernel: Sequence[float] = BLUR_KERNEL,
        demodulate: bool = True,
    ) -> None:
        super().__init__()
        self.conv = ModulatedConv2d(
            in_channel,
            out_channel,
            kernel_size,
            style_dim,
            upsample=upsample,
            blur_kernel=blur_kernel,
            demodulate=demodulate,
        )
        self.noise = NoiseInjection()
        self.activate = FusedLeakyReLU(out_channel)

    def forward(self, x: torch.Tensor, style: torch.Tensor, noise: torch.Tensor | None) -> torch.Tensor:
        return self.activate(self.noise(self.conv(x, style), noise))


class ToRGB(nn.Module):
    """1x1 modulated conv to RGB plus bias; adds the upsampled previous RGB if given."""

    def __init__(
        self,
        in_channel: int,
        style_dim: int,
        upsample: bool = True,
        blur_kernel: Sequence[float] = BLUR_KERNEL,
        out_channel: int = 3,
    ) -> None:
        super().__init__()
        if upsample:
            self.upsample = Upsample(blur_kernel)
        self.conv = ModulatedConv2d(in_channel, out_channel, 1, style_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(1, out_channel, 1, 1))

    def forward(self, x: torch.Tensor, style: torch.Tensor, skip: torch.Tensor | None = None) -> torch.Tensor:
        out = self.conv(x, style) + self.bias
        if skip is not None:
            if hasattr(self, "upsample"):
                skip = self.upsample(skip)
            out = out + skip
        return out


# -- discriminator layers -------------------------------------------------------------
class ConvLayer(nn.Sequential):
    """[Blur] -> EqualConv2d -> [FusedLeakyReLU], indexed like rosinality's ConvLayer."""

    def __init__(
        self,
        in_channel: int,
        out_channel: int,
        kernel_size: int,
        downsample: bool = False,
        blur_kernel: Sequence[float] = BLUR_KERNEL,
        bias: bool = True,
        activate: bool = True,
    ) -> None:
        layers: list[nn.Module] = []
        if downsample:
            p = (len(blur_kernel) - 2) + (kernel_size - 1)
            layers.append(Blur(blur_kernel, pad=((p + 1) // 2, p // 2)))
            stride, padding = 2, 0
        else:
            stride, padding = 1, kernel_size // 2
        layers.append(
            EqualConv2d(
                in_channel,
                out_channel,
                kernel_size,
                stride=stride,
                padding=padding,
                bias=bias and not activate,
            )
        )
        if activate:
            layers.append(FusedLeakyReLU(out_channel, bias=bias))
        super().__init__(*layers)


class ResBlock(nn.Module):
    """Two 3x3 convs (the second downsamples) plus a 1x1 downsampling skip, / sqrt(2)."""

    def __init__(self, in_channel: int, out_channel: int, blur_kernel: Sequence[float] = BLUR_KERNEL) -> None:
        super().__init__()
        self.conv1 = ConvLayer(in_channel, in_channel, 3, blur_kernel=blur_kernel)
        self.conv2 = ConvLayer(in_channel, out_channel, 3, downsample=True, blur_kernel=blur_kernel)
        self.skip = ConvLayer(
            in_channel,
            out_channel,
            1,
            downsample=True,
            activate=False,
            bias=False,
            blur_kernel=blur_kernel,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.conv2(self.conv1(x)) + self.skip(x)) / math.sqrt(2.0)


def minmax_normalise(x: torch.Tensor, eps: float = 1e-10) -> torch.Tensor:
    """Scale each sample of ``(B, 1, H, W)`` to [0, 1] by its own min and max (the mask heads
    of the FurryGAN generator and of its discriminator)."""
    flat = x.flatten(1)
    lo = flat.min(dim=1).values.view(-1, 1, 1, 1)
    hi = flat.max(dim=1).values.view(-1, 1, 1, 1)
    return (x - lo) / (hi - lo + eps)

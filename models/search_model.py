"""The generator the optimisation loops run: a frozen twin in the search dtype.

Embedding and every edit built on it spend their time in generator forward/backward passes
that only need gradients for the latent, never for the weights. The twin made here is tuned
for exactly that, without changing the shared model that final images are drawn with:

* weights cast once to the search dtype (bfloat16 where the device has native bf16
  maths), instead of autocast re-casting every weight and style product at every step;
* modulation by scaling the input: the convolution weight is then a constant (cast once),
  so the backward pass skips the weight-gradient convolution the per-sample-weight form
  needs (a third of the generator's backward FLOPs), and the demodulation is
  ``rsqrt(s^2 @ sum_k w^2)``, an (in x out) product, instead of three passes over a
  per-sample copy of the weights (StyleGAN2's own identity; 24% less CPU time per step at
  256 px than ``ModulatedConv2d``'s input-scaled form);
* channels-last activations, the layout oneDNN's bf16 (AMX) convolutions are fast in.

The twin is cached per generator and rebuilt when any of its weights changes (their
version counters or storage), so a model being trained or reloaded is never stale.
"""

from __future__ import annotations

import copy
import threading
import types
import weakref
from typing import Any, cast

import torch
from torch import nn

from latent_atelier.models.layers import ModulatedConv2d

_TWINS: weakref.WeakKeyDictionary[nn.Module, tuple[tuple, nn.Module]] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def _channels_last_input(_module: nn.Module, args: tuple[Any, ...]) -> tuple[Any, ...] | None:
    x = args[0]
    if isinstance(x, torch.Tensor) and x.ndim == 4:
        return (x.contiguous(memory_format=torch.channels_last), *args[1:])
    return None


def _input_scaled_forward(self: ModulatedConv2d, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
    """``ModulatedConv2d`` with a constant weight: scale the input, convolve, demodulate."""
    b, c = x.shape[:2]
    s = self.modulation(style)
    weight = cast(torch.Tensor, self.twin_weight)  # a buffer set by the twin's builder
    out = self._conv(x * s.view(b, c, 1, 1).to(x.dtype), weight, groups=1)
    if self.demodulate:
        d = torch.rsqrt(s.float().square() @ self.twin_weight_sq + self.eps)
        out = out * d.view(b, self.out_channel, 1, 1).to(out.dtype)
    return out


def _make_input_scaled(module: ModulatedConv2d, dtype: torch.dtype) -> None:
    weight = module.scale * module.weight.detach().float().squeeze(0)  # (out, in, k, k)
    module.twin_weight = weight.to(dtype)  # type: ignore[assignment]
    module.twin_weight_sq = weight.square().sum((2, 3)).t().contiguous()  # type: ignore[assignment]
    module.fused = False
    module.forward = types.MethodType(_input_scaled_forward, module)  # type: ignore[method-assign]


def _fingerprint(gen: nn.Module, dtype: torch.dtype, channels_last: bool) -> tuple:
    tensors = [*gen.parameters(), *gen.buffers()]
    return (dtype, channels_last, tuple((t.device, t.data_ptr(), t._version) for t in tensors))


def make_search_twin(gen: nn.Module, dtype: torch.dtype, channels_last: bool = True) -> nn.Module:
    """A frozen copy of ``gen`` in ``dtype`` with input-scaled modulation (uncached)."""
    twin = copy.deepcopy(gen)
    twin.requires_grad_(False)
    for module in twin.modules():
        if isinstance(module, ModulatedConv2d):
            _make_input_scaled(module, dtype)  # from the float32 weights, before the cast
    twin.to(dtype=dtype)
    for module in twin.modules():
        if isinstance(module, ModulatedConv2d) and channels_last:
            module.register_forward_pre_hook(_channels_last_input)
    return twin.eval()


def search_twin(gen: Any, dtype: torch.dtype, channels_last: bool = True) -> Any:
    """The cached twin of ``gen`` (see the module doc); ``gen`` itself when it is no module."""
    if not isinstance(gen, nn.Module):
        return gen
    key = _fingerprint(gen, dtype, channels_last)
    with _LOCK:
        cached = _TWINS.get(gen)
        if cached is not None and cached[0] == key:
            return cached[1]
        twin = make_search_twin(gen, dtype, channels_last)
        _TWINS[gen] = (key, twin)
        return twin

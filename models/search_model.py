"""The generator the optimisation loops run: a frozen twin in the search dtype.

Embedding and every edit built on it spend their time in generator forward/backward passes
that only need gradients for the latent, never for the weights. The twin made here is tuned
for exactly that, without changing the shared model that final images are drawn with:

* weights cast once to the search dtype (bfloat16 where the device has native bf16
  maths), instead of autocast re-casting every weight and style product at every step;
* modulation by scaling the input (``ModulatedConv2d.fused = False``): the convolution
  weight is then a constant, so the backward pass skips the weight-gradient convolution
  the per-sample-weight form needs (a third of the generator's backward FLOPs);
* channels-last activations, the layout oneDNN's bf16 (AMX) convolutions are fast in.

The twin is cached per generator and rebuilt when any of its weights changes (their
version counters or storage), so a model being trained or reloaded is never stale.
"""

from __future__ import annotations

import copy
import threading
import weakref
from typing import Any

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


def _fingerprint(gen: nn.Module, dtype: torch.dtype, channels_last: bool) -> tuple:
    tensors = [*gen.parameters(), *gen.buffers()]
    return (dtype, channels_last, tuple((t.device, t.data_ptr(), t._version) for t in tensors))


def make_search_twin(gen: nn.Module, dtype: torch.dtype, channels_last: bool = True) -> nn.Module:
    """A frozen copy of ``gen`` in ``dtype`` with input-scaled modulation (uncached)."""
    twin = copy.deepcopy(gen)
    twin.requires_grad_(False)
    twin.to(dtype=dtype)
    for module in twin.modules():
        if isinstance(module, ModulatedConv2d):
            module.fused = False
            if channels_last:
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

"""Grow a trained generator into a wider one that draws the same images (function-preserving).

Every width of the wide generator must be at least the narrow one's; everything else (size,
style width, mapping depth, the fg/bg split) must match. Old weights go into the leading
block of each wider tensor. The new input columns of every modulated convolution start at
zero, so the new channels do not reach the old ones until training moves them. The new
output rows keep their fresh random init, so they are not dead. Demodulated convolutions
normalise over their inputs, so their zero columns change nothing. ToRGB does not
demodulate, so its old block is rescaled for the larger fan-in of the equalised learning
rate.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from latent_atelier.models.layers import ModulatedConv2d

SHAPE_FIELDS = ("arch", "size", "style_dim", "n_mlp", "lr_mlp", "ch_ratio")


def check_widenable(narrow: dict, wide: dict) -> None:
    """Raise ValueError saying what differs unless ``wide`` only widens ``narrow``."""
    differs = [k for k in SHAPE_FIELDS if narrow.get(k) != wide.get(k)]
    if differs:
        pairs = ", ".join(f"{k}: {narrow.get(k)} -> {wide.get(k)}" for k in differs)
        raise ValueError(f"only the widths may change when widening a generator; these differ too: {pairs}")


@torch.no_grad()
def widen_into(narrow: nn.Module, wide: nn.Module) -> None:
    """Copy ``narrow``'s weights into the freshly built, wider ``wide`` in place (its state
    dict shares the parameters' storage) so both draw the same images. The new entries keep
    ``wide``'s fresh init (biases 0, modulation biases 1). ValueError where a tensor of
    ``wide`` is smaller than ``narrow``'s."""
    old = narrow.state_dict()
    new = wide.state_dict()
    missing = sorted(set(new) ^ set(old))
    if missing:
        raise ValueError(f"the two generators do not have the same layers (e.g. {missing[:3]})")
    for name, target in new.items():
        source = old[name]
        if source.ndim != target.ndim or any(s > t for s, t in zip(source.shape, target.shape)):
            raise ValueError(
                f"{name}: {tuple(source.shape)} does not fit into {tuple(target.shape)}; "
                "every width of the new generator must be at least the old one's"
            )
        target[tuple(slice(0, s) for s in source.shape)] = source.to(target.device, target.dtype)
    for module_name, module in wide.named_modules():
        if isinstance(module, ModulatedConv2d):
            _open_new_inputs(module, old[f"{module_name}.weight"].shape[2], new[f"{module_name}.weight"])


def _open_new_inputs(conv: ModulatedConv2d, old_in: int, weight: torch.Tensor) -> None:
    """Zero the new input columns of ``weight`` (``conv``'s, in the state dict being built);
    without demodulation also undo the smaller equalised-lr scale of the larger fan-in."""
    weight[:, :, old_in:] = 0
    if not conv.demodulate and old_in != conv.in_channel:
        weight.mul_(math.sqrt(conv.in_channel / old_in))

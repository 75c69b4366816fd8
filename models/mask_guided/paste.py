"""Component centres, fixed-size crops around them, and pasting at the target's centres.

All in torch on ``N x C x H x W`` batches. A centre is ``(y, x)`` in pixels of the label
map; a component absent from a map has no centre (``present`` False), so nothing is cut
or pasted for it.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .classes import COMPONENT_CLASSES, LOCAL_COMPONENTS


def component_mask(labels: Tensor, component: str) -> Tensor:
    """``N x 1 x H x W`` float mask of one component's classes in ``N x H x W`` labels."""
    classes = COMPONENT_CLASSES[component]
    mask = torch.zeros_like(labels, dtype=torch.bool)
    for c in classes:
        mask |= labels == c
    return mask.unsqueeze(1).float()


def component_centres(labels: Tensor) -> tuple[Tensor, Tensor]:
    """Centres ``N x K x 2`` (y, x; float pixels) of the local components (left eye, right
    eye, mouth) and ``present`` ``N x K`` (bool)."""
    _n, h, w = labels.shape
    ys = torch.arange(h, dtype=torch.float32, device=labels.device).view(1, h, 1)
    xs = torch.arange(w, dtype=torch.float32, device=labels.device).view(1, 1, w)
    centres, present = [], []
    for comp in LOCAL_COMPONENTS:
        m = component_mask(labels, comp)[:, 0]
        area = m.sum(dim=(1, 2))
        cy = (m * ys).sum(dim=(1, 2)) / area.clamp_min(1.0)
        cx = (m * xs).sum(dim=(1, 2)) / area.clamp_min(1.0)
        centres.append(torch.stack([cy, cx], dim=1))
        present.append(area > 0)
    return torch.stack(centres, dim=1), torch.stack(present, dim=1)


def _top_left(centre: Tensor, size: tuple[int, int], bounds: tuple[int, int]) -> tuple[int, int]:
    """Integer top-left of a ``size`` box centred at ``centre``, shifted to stay inside."""
    (ch, cw), (bh, bw) = size, bounds
    y0 = int(torch.round(centre[0] - ch / 2.0).clamp(0, max(bh - ch, 0)))
    x0 = int(torch.round(centre[1] - cw / 2.0).clamp(0, max(bw - cw, 0)))
    return y0, x0


def crop_at(images: Tensor, centres: Tensor, present: Tensor, size: tuple[int, int]) -> Tensor:
    """``N x C x h x w`` crops of ``images`` around ``centres`` (``N x 2``); zeros where the
    component is absent. The box is moved (not cut) where it would leave the image."""
    n, c, hh, ww = images.shape
    out = images.new_zeros(n, c, *size)
    for i in range(n):
        if bool(present[i]):
            y0, x0 = _top_left(centres[i], size, (hh, ww))
            out[i] = images[i, :, y0 : y0 + size[0], x0 : x0 + size[1]]
    return out


def paste_at(patches: Tensor, centres: Tensor, present: Tensor, grid: tuple[int, int], stride: int) -> Tensor:
    """An all-zero ``N x C x gh x gw`` grid with each patch copied in at its centre.

    ``centres`` are in image pixels; the grid is the image downsampled by ``stride``.
    Patches of absent components are left out (their grid stays zero).
    """
    n, c, ph, pw = patches.shape
    rows = []
    for i in range(n):
        canvas = patches.new_zeros(c, *grid)
        if bool(present[i]):
            y0, x0 = _top_left(centres[i] / stride, (ph, pw), grid)
            pad = (x0, grid[1] - x0 - pw, y0, grid[0] - y0 - ph)
            canvas = torch.nn.functional.pad(patches[i], pad)
        rows.append(canvas)
    return torch.stack(rows)

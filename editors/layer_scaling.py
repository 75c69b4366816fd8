"""Map the paper's layer numbers (1-based, for an 18-row W+ of a 1024 px StyleGAN) onto a model.

Image2StyleGAN++ names layers of an 18-row W+: "layers 1 to 9, 17 and 18" for inpainting,
"the first 4 to 6 layers" for scribbles, "the 4th layer" for attribute transfer. A model
with ``n_latent`` rows keeps the same relative position: paper layer ``L`` becomes row
``round((L - 1) * (n_latent - 1) / 17)`` (0-based), so the first and last layers map onto
the first and last rows and a range keeps its share of the coarse-to-fine order.

Rows and feature layers: the convolution that reads W+ row ``r`` is ``conv1`` for ``r = 0``
and ``convs.{r-1}`` after it (FurryGAN: ``conv1_fg``/``conv1_bg`` and ``convs_fg.{r-1}``/
``convs_bg.{r-1}``), so a paper layer also names the feature maps to hook.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import torch

PAPER_ROWS = 18


def paper_row(layer: int, n_latent: int) -> int:
    """The 0-based row of a model with ``n_latent`` rows for the paper's 1-based ``layer``."""
    if not 1 <= int(layer) <= PAPER_ROWS:
        raise ValueError(f"paper layer {layer} is outside 1..{PAPER_ROWS}")
    if n_latent < 1:
        raise ValueError("n_latent must be positive")
    return round((int(layer) - 1) * (n_latent - 1) / (PAPER_ROWS - 1))


def paper_rows(layers: Iterable[int], n_latent: int) -> list[int]:
    """Sorted distinct rows for several paper layers (a range keeps every row it spans)."""
    layers = sorted(int(v) for v in layers)
    rows: set[int] = set()
    # contiguous runs of paper layers map to contiguous runs of rows
    run_start = prev = None
    for v in [*layers, None]:
        if v is not None and prev is not None and v == prev + 1:
            prev = v
            continue
        if run_start is not None:
            rows.update(range(paper_row(run_start, n_latent), paper_row(prev, n_latent) + 1))
        run_start = prev = v
    return sorted(rows)


def first_rows(count: int, n_latent: int) -> list[int]:
    """The rows standing for the paper's "first ``count`` layers"."""
    if count < 1:
        raise ValueError("count must be at least 1")
    return paper_rows(range(1, int(count) + 1), n_latent)


def row_mask(rows: Iterable[int], n_latent: int) -> torch.Tensor:
    """A bool ``(n_latent,)`` W+ row mask with ``rows`` set."""
    m = torch.zeros(n_latent, dtype=torch.bool)
    for r in rows:
        m[int(r)] = True
    return m


def feature_layers_for_row(layer_names: Iterable[str], row: int) -> list[str]:
    """The hookable convolution outputs that read W+ ``row`` (one per latent group)."""
    source = r"^conv1(_[a-z]+)?$" if row == 0 else rf"^convs(_[a-z]+)?\.{row - 1}$"
    pattern = re.compile(source)
    names = [n for n in layer_names if pattern.match(n)]
    if not names:
        raise ValueError(f"no convolution layer reads row {row}; layers: {list(layer_names)}")
    return names


def paper_feature_layers(layer_names: Iterable[str], n_latent: int, layer: int) -> list[str]:
    """The feature layers standing for the paper's ``layer`` (e.g. 4 -> an 8 x 8 conv).

    The last W+ row feeds only the RGB output, so the row is capped at ``n_latent - 2``.
    """
    names = list(layer_names)
    row = min(paper_row(layer, n_latent), max(n_latent - 2, 0))
    return feature_layers_for_row(names, row)

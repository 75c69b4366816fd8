"""Latent directions for edits: SeFa factorisation, ``.npy`` files, and latent differences.

A direction is a float32 tensor shaped ``(n_latent, dim)`` (one vector per W+ row) or
``(1, dim)`` (the same vector for every row) for one latent group. ``apply_direction``
moves a latent by ``alpha * D`` on chosen rows.

SeFa (Shen & Zhou 2021, "Closed-Form Factorization of Latent Semantics in GANs"): the
style modulation of every synthesis layer is an affine map ``s = A w + b``; the directions
``n`` that change the styles most, ``argmax ||A n||`` with ``||n|| = 1``, are the top
eigenvectors of ``A^T A``. ``A`` stacks the modulation weights of the chosen layers
(each output unit's weight row normalised to unit length, so that no layer dominates).

W+ row -> layers (which modulation reads which row):

* StyleGAN2: row 0 ``conv1``, row 1 ``to_rgb1``; for block ``k``: rows ``2k+1`` and
  ``2k+2`` ``convs.2k`` / ``convs.2k+1``, row ``2k+3`` ``to_rgbs.k``.
* FurryGAN (per group ``fg``/``bg``): row 0 ``conv1_<g>``, row ``i+1`` ``convs_<g>.i``,
  the last row ``to_<g>`` (and, for ``fg``, the mask heads ``pre_m``/``refine_m``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from latent_atelier.editors.operation import OperationError
from latent_atelier.models.generator import Generator, Latent


class DirectionError(OperationError):
    """A direction does not fit the model (shape, group, rows) or cannot be read."""


def default_group(gen: Generator, group: str | None = None) -> str:
    """``group`` checked against the model, or its first latent group (``w`` / ``fg``)."""
    groups = tuple(gen.latent_groups)
    if group is None:
        return groups[0]
    if group not in groups:
        raise DirectionError(f"latent group {group!r} is not in this model; it has {list(groups)}")
    return group


def _modulation(module: torch.nn.Module) -> torch.Tensor:
    """The effective modulation weight ``(out, dim)`` of a StyledConv or ToRGB."""
    lin = module.conv.modulation
    return (lin.weight * lin.scale).detach().float()


def modulation_layers(gen: Generator, group: str | None = None) -> list[tuple[int, str, torch.Tensor]]:
    """Every ``(W+ row, layer name, modulation weight (out, dim))`` of one latent group."""
    group = default_group(gen, group)
    n = gen.n_latent
    found: list[tuple[int, str, torch.Tensor]] = []
    if gen.arch == "stylegan2":
        found.append((0, "conv1", _modulation(gen.conv1)))
        found.append((1, "to_rgb1", _modulation(gen.to_rgb1)))
        for i, conv in enumerate(gen.convs):
            found.append((i + 1, f"convs.{i}", _modulation(conv)))
        for k, rgb in enumerate(gen.to_rgbs):
            found.append((2 * k + 3, f"to_rgbs.{k}", _modulation(rgb)))
    elif gen.arch == "furrygan":
        found.append((0, f"conv1_{group}", _modulation(getattr(gen, f"conv1_{group}"))))
        for i, conv in enumerate(getattr(gen, f"convs_{group}")):
            found.append((i + 1, f"convs_{group}.{i}", _modulation(conv)))
        found.append((n - 1, f"to_{group}", _modulation(getattr(gen, f"to_{group}"))))
        if group == "fg":
            found += [
                (n - 1, "pre_m", _modulation(gen.pre_m)),
                (n - 1, "refine_m", _modulation(gen.refine_m)),
            ]
    else:
        raise DirectionError(f"SeFa does not know the layers of a {gen.arch!r} generator")
    return found


def _check_rows(gen: Generator, rows: Sequence[int] | None) -> list[int]:
    n = gen.n_latent
    if rows is None:
        return list(range(n))
    out = sorted({int(r) % n if -n <= int(r) < n else -1 for r in rows})
    if not out or out[0] < 0:
        raise DirectionError(f"rows {list(rows)} must lie in 0..{n - 1} (negative: from the end)")
    return out


def sefa(
    gen: Generator, rows: Sequence[int] | None = None, group: str | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigenvalues ``(dim,)`` (descending) and unit eigenvectors ``(dim, dim)`` (one per row).

    ``rows``: the W+ rows whose layers are factorised (default: all).
    """
    chosen = set(_check_rows(gen, rows))
    weights = [w for row, _name, w in modulation_layers(gen, group) if row in chosen]
    if not weights:
        raise DirectionError(f"no modulated layer reads rows {sorted(chosen)}")
    a = torch.cat([w / w.norm(dim=1, keepdim=True).clamp_min(1e-12) for w in weights]).double()
    values, vectors = torch.linalg.eigh(a.T @ a)
    order = torch.argsort(values, descending=True)
    vecs = vectors[:, order].T.contiguous()
    vecs = vecs / vecs.norm(dim=1, keepdim=True)
    return values[order].float(), vecs.float()


def sefa_directions(
    gen: Generator, k: int = 5, rows: Sequence[int] | None = None, group: str | None = None
) -> torch.Tensor:
    """The top-``k`` SeFa directions ``(k, dim)``, orthonormal."""
    _values, vectors = sefa(gen, rows, group)
    if not 1 <= k <= vectors.shape[0]:
        raise DirectionError(f"k={k}: choose 1..{vectors.shape[0]} directions")
    return vectors[:k].clone()


def sefa_direction(
    gen: Generator, index: int, rows: Sequence[int] | None = None, group: str | None = None
) -> torch.Tensor:
    """SeFa direction number ``index`` (0 = strongest) as a ``(1, dim)`` direction."""
    return sefa_directions(gen, index + 1, rows, group)[index : index + 1]


def check_direction(
    gen: Generator, direction: torch.Tensor | np.ndarray, group: str | None = None, source: str = "direction"
) -> torch.Tensor:
    """``direction`` as float32 ``(n_latent, dim)`` or ``(1, dim)``; clear error otherwise."""
    group = default_group(gen, group)
    rows, dim = gen.latent_shapes()[group]
    d = torch.as_tensor(np.asarray(direction) if not torch.is_tensor(direction) else direction)
    if d.ndim == 1:
        d = d[None]
    if d.ndim != 2 or d.shape[1] != dim or d.shape[0] not in (1, rows):
        raise DirectionError(
            f"{source}: shape {tuple(d.shape)} does not fit the model; it needs "
            f"{rows} x {dim} (one vector per W+ row) or 1 x {dim} (group {group!r})"
        )
    if not torch.is_floating_point(d) or not bool(torch.isfinite(d).all()):
        raise DirectionError(f"{source}: a direction must hold finite floating-point numbers")
    return d.float().clone()


MAX_DIRECTION_BYTES = 16 << 20  # a direction is n_latent x dim floats: kilobytes


def load_direction(path: str | Path, gen: Generator, group: str | None = None) -> torch.Tensor:
    """Read a ``.npy`` direction (``n_latent x dim`` or ``1 x dim``) checked against ``gen``."""
    from latent_atelier.models.untrusted import load_npy

    path = Path(path)
    try:
        if path.stat().st_size > MAX_DIRECTION_BYTES:
            raise ValueError(f"{path.stat().st_size >> 20} MB is far more than a direction holds")
        arr = load_npy(path.read_bytes(), MAX_DIRECTION_BYTES, str(path))  # header checked first
    except (OSError, ValueError) as exc:
        raise DirectionError(
            f"{path}: not a readable .npy array ({exc}); save directions with numpy.save"
        ) from exc
    if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "fiu":
        raise DirectionError(f"{path}: expected a numeric .npy array, got {getattr(arr, 'dtype', arr)}")
    return check_direction(gen, arr.astype(np.float32), group, source=str(path))


def difference_direction(source: Latent, target: Latent, group: str | None = None) -> torch.Tensor:
    """``target - source`` W+ rows ``(n_latent, dim)`` of two embedded latents (item 0 of each).

    With ``alpha = 1`` the source moves onto the target; the vector is not normalised.
    """
    groups = list(source.w)
    group = groups[0] if group is None else group
    if group not in source.w or group not in target.w:
        raise DirectionError(f"both latents need group {group!r}")
    a, b = source.w[group][0], target.w[group][0]
    if a.shape != b.shape:
        raise DirectionError(f"the two latents differ in shape: {tuple(a.shape)} vs {tuple(b.shape)}")
    return (b - a).detach().float().cpu().clone()


def apply_direction(
    latent: Latent,
    direction: torch.Tensor,
    alpha: float | Sequence[float] | torch.Tensor,
    rows: Sequence[int] | None = None,
    group: str | None = None,
    items: Sequence[int] | None = None,
) -> Latent:
    """A new latent with ``alpha * direction`` added to ``rows`` of ``group``.

    ``direction``: ``(dim,)``, ``(1, dim)`` or ``(n_latent, dim)``. ``alpha``: one strength,
    or one per batch item. ``items``: the batch items to move (default: all). Noise maps
    and other groups are copied unchanged.
    """
    out = latent.clone()
    group = next(iter(out.w)) if group is None else group
    if group not in out.w:
        raise DirectionError(f"latent has no group {group!r}; it has {sorted(out.w)}")
    w = out.w[group]
    batch, n_rows, dim = w.shape
    d = direction.to(w.device, w.dtype)
    if d.ndim == 1:
        d = d[None]
    if d.shape[-1] != dim or d.shape[0] not in (1, n_rows):
        raise DirectionError(f"direction {tuple(d.shape)} does not fit W+ rows {n_rows} x {dim}")
    row_mask = torch.zeros(n_rows, 1, dtype=w.dtype, device=w.device)
    row_mask[_rows_in(rows, n_rows)] = 1.0
    strength = torch.as_tensor(alpha, dtype=w.dtype, device=w.device).reshape(-1)
    if strength.numel() == 1:
        strength = strength.expand(batch)
    if strength.numel() != batch:
        raise DirectionError(f"{strength.numel()} strengths for {batch} latents")
    if items is not None:
        keep = torch.zeros(batch, dtype=w.dtype, device=w.device)
        keep[list(items)] = 1.0
        strength = strength * keep
    out.w[group] = w + strength.view(batch, 1, 1) * (d * row_mask)[None]
    return out


def _rows_in(rows: Sequence[int] | None, n_rows: int) -> list[int]:
    if rows is None:
        return list(range(n_rows))
    bad = [r for r in rows if not -n_rows <= int(r) < n_rows]
    if bad:
        raise DirectionError(f"rows {bad} are outside 0..{n_rows - 1}")
    return sorted({int(r) % n_rows for r in rows})

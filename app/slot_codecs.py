"""One codec per slot kind: how the CLI reads and writes it, and how the GUI takes it from a
layer and gives it back as one. A new slot kind is one entry in :data:`CODECS` (no Qt here).

The CLI (``cli_io.read_input`` / ``write_output``), the GUI's layer pickers
(``layer_kinds``), its input gathering (``from_layer``) and its results (``result_layer``)
all look a kind up here instead of branching on it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from latent_atelier.app.document.layers import LayerKind

MAX_LATENT_FILE_BYTES = 256 << 20  # a latent .npz, packed and unpacked


class InputError(ValueError):
    """A file given on the command line cannot be used as the input it was given for."""


# -- reading files ----------------------------------------------------------------------
def read_photo(path: str | Path, keep_alpha: bool = False) -> np.ndarray:
    """An image file as float32 ``H x W x 3`` (or ``x 4``) in [0, 1], orientation applied."""
    from latent_atelier.app.document.image_read import read_image

    data = read_image(path)
    px = data.pixels
    if px.ndim == 2:
        px = np.repeat(px[..., None], 3, axis=2)
    if keep_alpha:
        if px.shape[2] == 3:
            px = np.concatenate([px, np.ones_like(px[..., :1])], axis=2)
        return px.astype(np.float32)
    return np.ascontiguousarray(px[..., :3], dtype=np.float32)


def read_mask(path: str | Path) -> np.ndarray:
    """A mask file as float32 ``H x W`` in [0, 1]: its alpha if it has one, else its luminance."""
    px = read_photo(path, keep_alpha=True)
    alpha = px[..., 3]
    if float(alpha.min()) < 1.0:
        return np.ascontiguousarray(alpha, dtype=np.float32)
    return np.ascontiguousarray(px[..., :3].mean(axis=2), dtype=np.float32)


def read_labels(path: str | Path) -> np.ndarray:
    """A label map: palette/gray PNG values are ids; an RGB map gets ids per colour (black = 0)."""
    from PIL import Image

    from latent_atelier.app.document.image_read import (
        ImageReadError,
        check_image_size,
        too_large_message,
    )

    try:
        with Image.open(path) as im:
            check_image_size(*im.size)
            im.load()
            if im.mode in ("P", "L", "I", "I;16", "I;16B", "I;16L"):
                return np.asarray(im).astype(np.int32)
            rgb = np.asarray(im.convert("RGB"))
    except ImageReadError as exc:
        raise InputError(f"{path}: {exc}") from exc
    except Image.DecompressionBombError as exc:
        raise InputError(f"{path}: {too_large_message(exc)}") from exc
    except OSError as exc:
        raise InputError(f"{path}: not a readable label image ({exc})") from exc
    flat = rgb.reshape(-1, 3).astype(np.int64)
    keys = flat[:, 0] << 16 | flat[:, 1] << 8 | flat[:, 2]
    uniq, inv = np.unique(keys, return_inverse=True)
    ids = np.arange(len(uniq)) + (0 if uniq[0] == 0 else 1)
    return ids[inv].reshape(rgb.shape[:2]).astype(np.int32)


def check_latent_file(path: str | Path) -> None:
    """Refuse a latent ``.npz`` whose arrays would unpack beyond the budget, before loading."""
    from latent_atelier.models.untrusted import BudgetError, check_npz

    p = Path(path)
    try:
        if p.stat().st_size > MAX_LATENT_FILE_BYTES:
            raise InputError(f"{p}: {p.stat().st_size >> 20} MB is too large for a latent file")
        check_npz(p.read_bytes(), MAX_LATENT_FILE_BYTES, str(p))
    except BudgetError as exc:
        raise InputError(f"{exc}: not a latent file this program wrote") from exc
    except OSError as exc:
        raise InputError(f"{p}: cannot be read ({exc.strerror or exc})") from exc


def _read_latent(path: str, gen: Any) -> Any:
    from latent_atelier.models.generator import Latent

    check_latent_file(path)
    return Latent.load(path, gen)


def _read_placement(path: str, _gen: Any) -> Any:
    from latent_atelier.editors.placement import Placement

    try:
        return Placement.from_dict(json.loads(Path(path).read_text()))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{path}: not a placement JSON file ({exc})") from exc


def _read_model(path: str, _gen: Any) -> str:
    if not str(path).startswith("random:") and not Path(path).is_file():
        raise InputError(f"{path}: no such model file (give a .safetensors, .pt or .pkl generator)")
    return path


# -- writing files ----------------------------------------------------------------------
def _write_image(value: Any, out_dir: Path, stem: str) -> Path:
    from latent_atelier.app.document.image_write import write_image

    path = out_dir / f"{stem}.png"
    write_image(path, np.asarray(value, np.float32))
    return path


def _write_mask(value: Any, out_dir: Path, stem: str) -> Path:
    from latent_atelier.app.document.image_write import write_matte

    path = out_dir / f"{stem}.png"
    write_matte(path, np.asarray(value, np.float32), bit_depth=16)
    return path


def _write_labels(value: Any, out_dir: Path, stem: str) -> Path:
    from PIL import Image

    from latent_atelier.models.atomic import atomic_open

    path = out_dir / f"{stem}.png"
    arr = np.asarray(value)
    mode_arr = arr.astype(np.uint8) if arr.max(initial=0) < 256 else arr.astype(np.uint16)
    with atomic_open(path) as fh:
        Image.fromarray(mode_arr).save(fh, format="PNG")
    return path


def _write_latent(value: Any, out_dir: Path, stem: str) -> Path:
    path = out_dir / f"{stem}.npz"
    value.save(path)
    return path


def _write_json(value: Any, out_dir: Path, stem: str) -> Path:
    from latent_atelier.models.atomic import atomic_write_bytes

    path = out_dir / f"{stem}.json"
    data = value.to_dict() if hasattr(value, "to_dict") else value
    atomic_write_bytes(path, json.dumps(data, indent=2, default=str).encode())
    return path


# -- layers (GUI) -----------------------------------------------------------------------
def _image_from_layer(px: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(px[..., :3], dtype=np.float32)


def _rgba_from_layer(px: np.ndarray) -> np.ndarray:
    if px.ndim == 3 and px.shape[2] == 4:
        return px.astype(np.float32, copy=False)
    alpha = np.ones((*px.shape[:2], 1), np.float32)
    return np.concatenate([px[..., :3].astype(np.float32), alpha], axis=2)


def _mask_from_layer(px: np.ndarray) -> np.ndarray:
    if px.ndim == 3:  # a colour layer used as a mask: its alpha
        return px[..., 3].astype(np.float32) if px.shape[2] == 4 else px.mean(axis=2)
    return px.astype(np.float32, copy=False)


def _labels_from_layer(px: np.ndarray) -> np.ndarray:
    return px.astype(np.int32, copy=False)


IMAGE_LAYERS = (LayerKind.PHOTO, LayerKind.RESULT, LayerKind.BACKGROUND, LayerKind.PAINT)


@dataclass(frozen=True)
class SlotCodec:
    """How one slot kind travels: files for the CLI, layers for the GUI.

    ``layer_kinds`` is empty for kinds that are not layers (latents, placements, files);
    their GUI pickers are special. ``result_layer(role)`` is the layer kind an output of
    this slot kind becomes (None: not added as a layer).
    """

    kind: str
    read: Callable[[str, Any], Any]
    write: Callable[[Any, Path, str], Path]
    layer_kinds: tuple[LayerKind, ...] = ()
    from_layer: Callable[[np.ndarray], Any] | None = None
    result_layer: Callable[[str], LayerKind | None] = lambda _role: None


CODECS: dict[str, SlotCodec] = {
    "image": SlotCodec(
        "image",
        lambda p, _g: read_photo(p),
        _write_image,
        IMAGE_LAYERS,
        _image_from_layer,
        lambda _role: LayerKind.RESULT,
    ),
    "rgba": SlotCodec(
        "rgba",
        lambda p, _g: read_photo(p, keep_alpha=True),
        _write_image,
        (LayerKind.RESULT, LayerKind.PAINT, LayerKind.PHOTO, LayerKind.BACKGROUND),
        _rgba_from_layer,
        lambda _role: LayerKind.RESULT,
    ),
    "mask": SlotCodec(
        "mask",
        lambda p, _g: read_mask(p),
        _write_mask,
        (LayerKind.MASK, LayerKind.MATTE),
        _mask_from_layer,
        lambda role: LayerKind.MATTE if role == "alpha" else LayerKind.MASK,
    ),
    "labels": SlotCodec(
        "labels",
        lambda p, _g: read_labels(p),
        _write_labels,
        (LayerKind.LABELS,),
        _labels_from_layer,
        lambda _role: LayerKind.LABELS,
    ),
    "latent": SlotCodec("latent", _read_latent, _write_latent),
    "placement": SlotCodec("placement", _read_placement, _write_json),
    "file": SlotCodec("file", lambda p, _g: p, _write_json),
    "model": SlotCodec("model", _read_model, _write_json),
}


def codec_for(kind: str) -> SlotCodec:
    """The codec of slot kind ``kind`` (KeyError names the known kinds)."""
    if kind not in CODECS:
        raise KeyError(f"no codec for slot kind {kind!r}; known: {sorted(CODECS)}")
    return CODECS[kind]


def layer_slot_kinds() -> dict[str, tuple[LayerKind, ...]]:
    """Slot kind -> the layer kinds a picker offers, for the kinds that are layers."""
    return {kind: c.layer_kinds for kind, c in CODECS.items() if c.layer_kinds}

"""Reading Operation inputs from files and writing their outputs, by slot kind (CLI side)."""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from latent_atelier.editors.operation import Slot


class InputError(ValueError):
    """A file given on the command line cannot be used as the input it was given for."""


def int_in(low: int, high: int):
    """An argparse type: an integer within ``low..high`` (a clear message otherwise)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is outside {low}..{high}")
        return value

    return parse


def finite_float(text: str) -> float:
    """An argparse type: a finite number (NaN and infinity are refused)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


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


def read_input(slot: Slot, path: str, gen: Any = None) -> Any:
    """Read the file for one input slot."""
    if slot.kind == "image":
        return read_photo(path)
    if slot.kind == "rgba":
        return read_photo(path, keep_alpha=True)
    if slot.kind == "mask":
        return read_mask(path)
    if slot.kind == "labels":
        return read_labels(path)
    if slot.kind == "latent":
        from latent_atelier.models.generator import Latent

        check_latent_file(path)
        return Latent.load(path, gen)
    if slot.kind == "placement":
        from latent_atelier.editors.placement import Placement

        try:
            return Placement.from_dict(json.loads(Path(path).read_text()))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InputError(f"{path}: not a placement JSON file ({exc})") from exc
    if slot.kind == "model" and not str(path).startswith("random:") and not Path(path).is_file():
        raise InputError(f"{path}: no such model file (give a .safetensors, .pt or .pkl generator)")
    return path


MAX_LATENT_FILE_BYTES = 256 << 20  # a latent .npz, packed and unpacked


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


def check_output_dir(path: str | Path, flag: str = "--out-dir") -> None:
    """Refuse, before any work is done, an output folder that cannot be written.

    Nothing is created: an existing folder must be writable, a missing one must have a
    writable folder above it (``mkdir`` happens only when the results are written).
    """
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise InputError(f"{flag} {target} is a file, not a folder: choose a folder")
    probe = target
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        raise InputError(f"{flag} {target}: {probe} is a file, not a folder: choose a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise InputError(f"{flag} {target}: {probe} is not writable: choose another folder")


def check_output_file(path: str | Path, flag: str = "--out") -> None:
    """Like :func:`check_output_dir`, for one output file."""
    target = Path(path)
    if target.is_dir():
        raise InputError(f"{flag} {target} is a folder: give a file name, e.g. {target / 'out.png'}")
    check_output_dir(target.parent if str(target.parent) else Path("."), flag)


def fallback_dir(name: str) -> Path:
    """A new folder for results that could not be written where asked (state dir, else temp)."""
    import tempfile

    stamp = time.strftime("%Y%m%d-%H%M%S")
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    try:
        folder = Path(state) / "latent-atelier" / "unsaved-results" / f"{name}-{stamp}"
        folder.mkdir(parents=True, exist_ok=False)
        return folder
    except OSError:
        return Path(tempfile.mkdtemp(prefix=f"latent-atelier-{name}-{stamp}-"))


def write_output(slot: Slot, value: Any, out_dir: Path, stem: str | None = None) -> list[Path]:
    """Write one output slot's value(s) into ``out_dir``; returns the files written."""
    if value is None:
        return []
    if slot.multiple and isinstance(value, (list, tuple)):
        written = []
        for i, v in enumerate(value):
            written += write_output(Slot(slot.name, slot.kind), v, out_dir, f"{stem or slot.name}_{i}")
        return written
    stem = stem or slot.name
    out_dir.mkdir(parents=True, exist_ok=True)
    from latent_atelier.app.document.image_write import write_image, write_matte

    kind = slot.kind
    if kind in ("image", "rgba"):
        path = out_dir / f"{stem}.png"
        write_image(path, np.asarray(value, np.float32))
    elif kind == "mask":
        path = out_dir / f"{stem}.png"
        write_matte(path, np.asarray(value, np.float32), bit_depth=16)
    elif kind == "labels":
        from PIL import Image

        from latent_atelier.models.atomic import atomic_open

        path = out_dir / f"{stem}.png"
        arr = np.asarray(value)
        mode_arr = arr.astype(np.uint8) if arr.max(initial=0) < 256 else arr.astype(np.uint16)
        with atomic_open(path) as fh:
            Image.fromarray(mode_arr).save(fh, format="PNG")
    elif kind == "latent":
        path = out_dir / f"{stem}.npz"
        value.save(path)
    elif kind == "placement":
        from latent_atelier.models.atomic import atomic_write_bytes

        path = out_dir / f"{stem}.json"
        atomic_write_bytes(path, json.dumps(value.to_dict(), indent=2).encode())
    else:
        from latent_atelier.models.atomic import atomic_write_bytes

        path = out_dir / f"{stem}.json"
        atomic_write_bytes(path, json.dumps(value, indent=2, default=str).encode())
    return [path]

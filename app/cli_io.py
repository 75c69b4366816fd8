"""Reading Operation inputs from files and writing their outputs, by slot kind (CLI side)."""

from __future__ import annotations

import argparse
import math
import os
import time
from pathlib import Path
from typing import Any

from latent_atelier.app.slot_codecs import (  # noqa: F401  (re-exported for the CLI's users)
    MAX_LATENT_FILE_BYTES,
    InputError,
    check_latent_file,
    codec_for,
    read_labels,
    read_mask,
    read_photo,
)
from latent_atelier.editors.operation import Slot


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


def read_input(slot: Slot, path: str, gen: Any = None) -> Any:
    """Read the file for one input slot (by its kind's codec)."""
    return codec_for(slot.kind).read(path, gen)


def write_output(slot: Slot, value: Any, out_dir: Path, stem: str | None = None) -> list[Path]:
    """Write one output slot's value(s) into ``out_dir``; returns the files written."""
    if value is None:
        return []
    if slot.multiple and isinstance(value, (list, tuple)):
        written = []
        for i, v in enumerate(value):
            written += write_output(Slot(slot.name, slot.kind), v, out_dir, f"{stem or slot.name}_{i}")
        return written
    out_dir.mkdir(parents=True, exist_ok=True)
    return [codec_for(slot.kind).write(value, out_dir, stem or slot.name)]

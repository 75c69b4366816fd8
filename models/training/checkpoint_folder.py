"""The checkpoint folder every trainer writes (``RUN_DIR/checkpoint``), atomically.

It holds one ``<name>.safetensors`` per network, ``optim.pt`` (optimiser and RNG states:
tensors and plain containers, read back with ``weights_only=True``) and ``state.json``
(step, settings, architecture). A save builds ``checkpoint.tmp`` and swaps it in with two
renames, so a kill at any point leaves one whole checkpoint: the new one, the previous one,
or the previous one as ``checkpoint.old``, which :func:`recover_checkpoint` puts back.
"""

from __future__ import annotations

import json
import pickle
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

CHECKPOINT_DIR = "checkpoint"


def write_checkpoint(
    out: Path, modules: Mapping[str, nn.Module], extra: dict[str, Any], state: dict[str, Any]
) -> Path:
    """Write ``modules``' weights, ``extra`` (``optim.pt``) and ``state`` (``state.json``) as
    ``out/checkpoint``, replacing the previous one only once the new one is complete."""
    from safetensors.torch import save_file

    final, tmp, old = (out / (CHECKPOINT_DIR + suffix) for suffix in ("", ".tmp", ".old"))
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name, module in modules.items():
        tensors = {k: v.detach().cpu().contiguous().clone() for k, v in module.state_dict().items()}
        save_file(tensors, str(tmp / f"{name}.safetensors"))
    torch.save(extra, tmp / "optim.pt")
    (tmp / "state.json").write_text(json.dumps(state, indent=1, sort_keys=True))
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    tmp.rename(final)
    shutil.rmtree(old, ignore_errors=True)
    return final


def recover_checkpoint(out: Path) -> bool:
    """After a kill between the two renames of :func:`write_checkpoint`, put the previous
    complete checkpoint (``checkpoint.old``) back; True if a checkpoint exists."""
    final, old = out / CHECKPOINT_DIR, out / (CHECKPOINT_DIR + ".old")
    if not (final / "state.json").is_file() and (old / "state.json").is_file():
        shutil.rmtree(final, ignore_errors=True)
        old.rename(final)
    return (final / "state.json").is_file()


def checkpoint_to_resume(out: Path, resume: bool, resume_hint: str = "--resume") -> bool:
    """True if ``out`` holds a checkpoint (recovered if need be) to resume from; raise
    FileExistsError when it does but ``resume`` is off, so no run is overwritten."""
    found = recover_checkpoint(out)
    if found and not resume:
        raise FileExistsError(f"{out} already holds a checkpoint; pass {resume_hint} or another --out")
    return found


def read_state(out: Path) -> dict[str, Any]:
    """``out/checkpoint/state.json``."""
    return json.loads((out / CHECKPOINT_DIR / "state.json").read_text())


def load_weights(out: Path, modules: Mapping[str, nn.Module], device: str | torch.device = "cpu") -> None:
    """Load each module's ``<name>.safetensors`` of ``out/checkpoint`` onto ``device``."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    folder = out / CHECKPOINT_DIR
    for name, module in modules.items():
        file = folder / f"{name}.safetensors"
        try:
            tensors = load_file(str(file), device=str(device))
        except (OSError, SafetensorError) as exc:
            raise _unreadable(file, exc) from exc
        try:
            module.load_state_dict(tensors)
        except RuntimeError as exc:  # missing, unexpected or differently shaped tensors
            raise _mismatched(file, name, exc) from exc


def load_extra(out: Path, map_location: str | torch.device | None = None) -> dict[str, Any]:
    """The optimiser and RNG states (``optim.pt``) of ``out/checkpoint``, tensors only."""
    file = out / CHECKPOINT_DIR / "optim.pt"
    try:
        return torch.load(file, map_location=map_location, weights_only=True)
    except (OSError, RuntimeError, EOFError, pickle.UnpicklingError) as exc:  # truncated zip, refused pickle
        raise _unreadable(file, exc) from exc


def load_optimizer_keeping_settings(opt: torch.optim.Optimizer, state: dict[str, Any]) -> None:
    """Restore ``opt``'s moments and step counts from ``state`` but keep the rate and betas it was
    built with, so a resume with changed settings (``--lr``, ``--pl-weight``) uses them."""
    built: list[dict[str, Any]] = [{k: g[k] for k in ("lr", "betas") if k in g} for g in opt.param_groups]
    opt.load_state_dict(state)
    for group, settings in zip(opt.param_groups, built, strict=True):
        group.update(settings)


def _unreadable(file: Path, exc: Exception) -> ValueError:
    """The error for a damaged checkpoint file: which one, and what to do."""
    return ValueError(
        f"{file} cannot be read ({type(exc).__name__}: {str(exc).splitlines()[0][:200]}); the checkpoint "
        "is damaged: restore the folder from a copy (e.g. training-state/) or train into another --out"
    )


def _mismatched(file: Path, name: str, exc: RuntimeError) -> ValueError:
    """The error for a checkpoint network this run's settings do not build: which one, what differs."""
    lines = [line.strip() for line in str(exc).splitlines()[1:] if line.strip()]
    detail = "; ".join(lines)[:300] or str(exc)[:300]
    return ValueError(
        f"{file} holds a '{name}' network of another shape than this run builds ({detail}); "
        "resume with the settings it was trained with (see its state.json) or train into another --out"
    )

"""Which device the generators run on, and the dtype policy for their forward pass.

Choice order: an explicit preference (a setting), else the ``LATENT_ATELIER_DEVICE``
environment variable, else CUDA, then Apple MPS, then CPU. Latents and optimiser state
always stay float32; only the generator forward may run under autocast on a GPU.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import torch

ENV_VAR = "LATENT_ATELIER_DEVICE"
PRECISIONS = ("float32", "bf16", "fp16")
LATENT_DTYPE = torch.float32
_AUTOCAST_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


class DeviceUnavailableError(RuntimeError):
    """The requested device does not exist on this machine (or is not a device at all)."""


def mps_available() -> bool:
    """True where Apple's Metal backend can run tensors."""
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def _auto() -> torch.device:
    if torch.cuda.is_available():
        return torch.device("cuda", torch.cuda.current_device())
    if mps_available():
        return torch.device("mps")
    return torch.device("cpu")


def pick_device(preference: str | torch.device | None = None) -> torch.device:
    """The device to compute on.

    ``preference`` ("cpu", "cuda", "cuda:1", "mps" or "auto") wins; None or "auto" falls
    back to ``$LATENT_ATELIER_DEVICE``, then CUDA > MPS > CPU. A device that is not
    available raises :class:`DeviceUnavailableError` saying what is.
    """
    choice = str(preference).strip().lower() if preference is not None else ""
    if choice in ("", "auto"):
        choice = os.environ.get(ENV_VAR, "").strip().lower()
        source = f"${ENV_VAR}"
    else:
        source = "the device setting"
    if choice in ("", "auto"):
        return _auto()
    available = ", ".join(dev for dev, _ in list_devices())
    try:
        device = torch.device(choice)
    except (RuntimeError, ValueError) as exc:
        raise DeviceUnavailableError(
            f"{source} asks for device '{choice}', which is not a device name; use one of: auto, {available}"
        ) from exc
    if device.type == "cpu":
        return torch.device("cpu")
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        index = device.index if device.index is not None else 0
        if index >= count:
            raise DeviceUnavailableError(
                f"{source} asks for '{choice}' but this machine has {count} usable CUDA "
                f"GPU(s); use one of: auto, {available}"
            )
        return torch.device("cuda", index)
    if device.type == "mps":
        if not mps_available():
            raise DeviceUnavailableError(
                f"{source} asks for 'mps' but Apple's Metal backend is not available here; "
                f"use one of: auto, {available}"
            )
        return torch.device("mps")
    raise DeviceUnavailableError(
        f"{source} asks for '{choice}', which is not supported; use one of: auto, {available}"
    )


def list_devices() -> list[tuple[str, str]]:
    """``(id, human name)`` for every usable device, CPU last."""
    found: list[tuple[str, str]] = []
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            found.append((f"cuda:{i}", f"{torch.cuda.get_device_name(i)} (CUDA {i})"))
    if mps_available():
        found.append(("mps", "Apple GPU (Metal)"))
    found.append(("cpu", f"CPU ({torch.get_num_threads()} threads)"))
    return found


def autocast_dtype(device: torch.device | str, precision: str = "float32") -> torch.dtype | None:
    """The dtype the generator forward runs in under ``precision`` on ``device``.

    None means no autocast (float32): always on CPU and for ``"float32"``.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got '{precision}'")
    kind = torch.device(device).type
    if precision == "float32" or kind not in ("cuda", "mps"):
        return None
    return _AUTOCAST_DTYPES[precision]


@contextlib.contextmanager
def generator_autocast(device: torch.device | str, precision: str = "float32") -> Iterator[None]:
    """Run the enclosed generator forward in reduced precision where the policy allows.

    A no-op on CPU and for ``"float32"``; ``torch.autocast`` on CUDA (and MPS). Wrap only
    the forward pass: latents, losses and optimisers stay float32.
    """
    dtype = autocast_dtype(device, precision)
    if dtype is None:
        yield
        return
    kind = torch.device(device).type
    if kind == "cuda" and dtype == torch.bfloat16 and not torch.cuda.is_bf16_supported():
        raise DeviceUnavailableError("this GPU has no bfloat16 support; choose fp16 or float32")
    with torch.autocast(device_type=kind, dtype=dtype):
        yield


def memory_in_use(device: torch.device | str) -> int | None:
    """Bytes of tensor memory allocated on ``device``; None where it cannot be told (CPU)."""
    dev = torch.device(device)
    if dev.type == "cuda" and torch.cuda.is_available():
        return int(torch.cuda.memory_allocated(dev))
    if dev.type == "mps" and mps_available():
        return int(torch.mps.current_allocated_memory())
    return None

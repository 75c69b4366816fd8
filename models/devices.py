"""Which device the generators run on, and the dtype policy for their forward pass.

Choice order: an explicit preference (a setting), else the ``LATENT_ATELIER_DEVICE``
environment variable, else CUDA, then Apple MPS, then CPU. Latents and optimiser state
always stay float32; only the generator forward may run under autocast on a GPU.

The compute policy (:func:`set_compute_policy`) says how many CPU threads torch uses (all
cores by default) and in which dtype the optimisation loops run the generator and VGG
(``"auto"``: bfloat16 where the CPU has bf16 instructions or the GPU supports it and the
model is large enough to gain from it, float32 elsewhere). Final images stay float32.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

import torch

from latent_atelier.models.cpu_threads import (  # noqa: F401  (re-exported)
    MAX_THREADS,
    THREADS_ENV_VAR,
    available_cores,
    check_threads,
    default_threads,
)

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


# --------------------------------------------------------------------------- compute policy
PRECISION_ENV_VAR = "LATENT_ATELIER_PRECISION"
#: what the optimisation loops may run in ("auto" picks per device and model)
SEARCH_PRECISIONS = ("auto", "float32", "bf16")
#: below this many generator parameters "auto" stays float32: tiny models gain nothing from
#: bf16 (the casts cost more than the arithmetic saves; measured in benchmarks/bench_speed.py)
AUTO_BF16_MIN_PARAMS = 5_000_000


def cpu_bf16_supported() -> bool:
    """True where this CPU runs bfloat16 matrix maths natively (AVX512-BF16 or AMX) via oneDNN."""
    if not torch.backends.mkldnn.is_available():
        return False
    cpu = torch.cpu
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(cpu, name, lambda: False)()) for name in checks)


def bf16_supported(device: torch.device | str) -> bool:
    """Whether ``device`` runs bfloat16 convolutions fast (natively, not emulated)."""
    kind = torch.device(device).type
    if kind == "cpu":
        return cpu_bf16_supported()
    if kind == "cuda":
        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    return False


def check_precision(precision: object, source: str = "precision") -> str:
    """``precision`` if it is one of :data:`SEARCH_PRECISIONS`, else a ValueError."""
    text = str(precision).strip().lower()
    if text not in SEARCH_PRECISIONS:
        raise ValueError(f"{source} must be one of {', '.join(SEARCH_PRECISIONS)}, not {precision!r}")
    return text


@dataclass(frozen=True)
class ComputePolicy:
    """CPU threads for torch and the precision of the optimisation loops."""

    threads: int
    precision: str = "auto"

    def describe(self, device: torch.device | str = "cpu", model: torch.nn.Module | None = None) -> str:
        """A short note for a status bar or a log, e.g. ``"2 threads, bf16 (auto)"``."""
        dtype = {torch.bfloat16: "bf16", torch.float32: "float32"}[search_dtype(device, model, self)]
        auto = " (auto)" if self.precision == "auto" else ""
        kind = torch.device(device).type
        where = f"{self.threads} thread{'s' if self.threads != 1 else ''}" if kind == "cpu" else kind
        return f"{where}, {dtype}{auto}"


_policy: ComputePolicy | None = None


def compute_policy() -> ComputePolicy:
    """The policy in force (torch's current thread count; precision from the last
    :func:`set_compute_policy`, else ``$LATENT_ATELIER_PRECISION``, else ``"auto"``)."""
    if _policy is not None:
        return ComputePolicy(torch.get_num_threads(), _policy.precision)
    env = os.environ.get(PRECISION_ENV_VAR, "").strip()
    precision = check_precision(env, f"${PRECISION_ENV_VAR}") if env else "auto"
    return ComputePolicy(torch.get_num_threads(), precision)


def set_compute_policy(threads: int | None = None, precision: str | None = None) -> ComputePolicy:
    """Set torch's CPU threads (None: :func:`default_threads`) and the search precision
    (None: keep the current one); returns the policy now in force."""
    global _policy
    n = default_threads() if threads is None else check_threads(threads)
    current = compute_policy().precision
    chosen = current if precision is None else check_precision(precision)
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    _policy = ComputePolicy(n, chosen)
    return _policy


#: an optimisation loop on the CPU whose work per step (generator parameters x batch x
#: (resolution / 64)^2) is below this runs on one thread: with passive OpenMP waiting (see
#: models/__init__.py), waking a second thread for each small op costs more than it saves.
#: Measured with the 64 px demo model (416 k parameters), 50 W+ steps: batch 1, 3.4 s on one
#: thread against 4.1 s on two; batch 8, 22.7 s against 15.9 s.
SMALL_LOOP_WORK = 1_000_000


def loop_work(model: object, batch: int) -> float:
    """The work-per-step proxy of :data:`SMALL_LOOP_WORK` for ``model`` at ``batch``."""
    parameters = getattr(model, "parameters", None)
    params = sum(p.numel() for p in parameters()) if callable(parameters) else 0
    resolution = float(getattr(model, "resolution", 64) or 64)
    return params * batch * (resolution / 64.0) ** 2


@contextlib.contextmanager
def loop_threads(device: torch.device | str, model: object, batch: int) -> Iterator[int]:
    """Run a CPU optimisation loop of small work (:data:`SMALL_LOOP_WORK`) on one thread,
    then give torch its thread count back; yields the threads the loop runs on."""
    before = torch.get_num_threads()
    small = torch.device(device).type == "cpu" and loop_work(model, batch) < SMALL_LOOP_WORK
    if not small or before == 1:
        yield before
        return
    torch.set_num_threads(1)
    try:
        yield 1
    finally:
        torch.set_num_threads(before)


def search_dtype(
    device: torch.device | str, model: torch.nn.Module | None = None, policy: ComputePolicy | None = None
) -> torch.dtype:
    """The dtype the optimisation loops run ``model`` (and VGG) in on ``device``.

    ``"float32"`` always gives float32; ``"bf16"`` gives bfloat16 where the device supports
    it (else a :class:`DeviceUnavailableError`); ``"auto"`` gives bfloat16 where supported and
    the model has at least :data:`AUTO_BF16_MIN_PARAMS` parameters (None: assume large).
    """
    precision = (policy or compute_policy()).precision
    if precision == "float32":
        return torch.float32
    supported = bf16_supported(device)
    if precision == "bf16":
        if not supported:
            raise DeviceUnavailableError(
                f"bf16 was asked for, but {torch.device(device).type} here has no native bfloat16 "
                "support; choose precision auto or float32"
            )
        return torch.bfloat16
    if not supported:
        return torch.float32
    if model is not None and hasattr(model, "parameters"):
        count = sum(p.numel() for p in model.parameters())
        if count < AUTO_BF16_MIN_PARAMS:
            return torch.float32
    return torch.bfloat16

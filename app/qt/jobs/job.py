"""One queued run of an Operation: what to run, on what, and where its report goes."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from latent_atelier.editors.operation import Operation

_ids = itertools.count(1)

#: what a job needs to get its generator (called on the worker thread; may load a model)
GeneratorSource = Callable[[], Any]


@dataclass
class Job:
    """An operation with copied inputs and params; ``context`` is the caller's own data."""

    operation: Operation
    inputs: dict[str, Any]
    params: Any
    generator: GeneratorSource | None = None
    #: runs the job elsewhere instead (``remote(job, progress) -> Result``, see remote_target)
    remote: Callable[[Job, Any], Any] | None = None
    context: dict[str, Any] = field(default_factory=dict)
    id: int = field(default_factory=lambda: next(_ids))
    queued_at: float = field(default_factory=time.monotonic)

    @property
    def title(self) -> str:
        """The operation's title, for the queue list and messages."""
        return self.operation.title or self.operation.name


def eta_seconds(step: int, total: int, elapsed: float) -> float | None:
    """Seconds left at the average rate so far (None until a step has been timed)."""
    if step <= 0 or total <= 0 or elapsed <= 0 or step > total:
        return None
    return elapsed / step * (total - step)


def format_eta(seconds: float | None) -> str:
    """'ETA 1:05' style text ('' when unknown)."""
    if seconds is None:
        return ""
    s = round(seconds)
    if s >= 3600:
        return f"ETA {s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
    return f"ETA {s // 60}:{s % 60:02d}"


def format_metrics(metrics: dict[str, float]) -> str:
    """'psnr 24.1  loss 0.0123' with short, readable numbers."""
    parts = []
    for key, value in metrics.items():
        try:
            v = float(value)
        except (TypeError, ValueError):
            continue
        parts.append(f"{key} {v:.4g}" if abs(v) < 1000 else f"{key} {v:.0f}")
    return "  ".join(parts)


def is_out_of_memory(exc: BaseException) -> bool:
    """True for a CUDA/MPS out-of-memory error (checked without importing torch)."""
    name = type(exc).__name__
    return name == "OutOfMemoryError" or "out of memory" in str(exc).lower()


OOM_ADVICE = (
    "The device ran out of memory. Try a smaller placement (fewer model pixels), fewer "
    "results at once, closing other GPU programs, or choose the CPU in the status bar."
)

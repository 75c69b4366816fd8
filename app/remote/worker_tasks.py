"""What runs inside a worker process: the model cache and one Operation run per task.

Models are cached per worker process, keyed by the checkpoint's SHA-256 (or the ``random:``
spec, or the bundled demo model) and the device, so a model loads once and stays loaded
between jobs. A worker only loads what a user sent: checkpoint bytes that arrived with the job
(checked against their hash), a ``random:`` spec or the demo model that ships with the
package -- never a path on the worker's own disk.

Progress goes back through a Dask ``Queue`` (steps at most every ``STEP_INTERVAL_S``, previews
as 8-bit RGB at most every ``PREVIEW_INTERVAL_S``), put there by a sender thread so the job never
waits for the network; cancel is a Dask ``Event`` watched by a helper thread, and the next
``progress.step`` raises ``Cancelled``.
"""

from __future__ import annotations

import hashlib
import os
import socket
import tempfile
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

STEP_INTERVAL_S = 0.05
PREVIEW_INTERVAL_S = 0.25
MODEL_CACHE_SIZE = 2

_models: OrderedDict[tuple[str, str], Any] = OrderedDict()
_models_lock = threading.Lock()


@dataclass(frozen=True)
class ModelRef:
    """Which model a job needs: ``kind`` is "bytes" (``key`` = SHA-256 of the file, ``name``
    its file name), "random" (``key`` = the spec) or "demo"."""

    kind: str
    key: str = ""
    name: str = ""
    device: str | None = None


def progress_queue_name(job_id: str) -> str:
    """The Dask Queue a job's progress messages go through."""
    return f"latent-atelier-progress-{job_id}"


def cancel_event_name(job_id: str) -> str:
    """The Dask Event that asks a job to stop."""
    return f"latent-atelier-cancel-{job_id}"


def _load(ref: ModelRef, checkpoint: bytes | None, device: Any) -> Any:
    from latent_atelier.models.zoo import load_model

    if ref.kind == "random":
        if not ref.key.startswith("random:"):
            raise ValueError(f"not a random model spec: {ref.key!r}")
        return load_model(ref.key, device)
    if ref.kind == "demo":
        return load_model(None, device)
    if ref.kind != "bytes" or checkpoint is None:
        raise ValueError("the job carries no checkpoint: the worker loads only what it is sent")
    if hashlib.sha256(checkpoint).hexdigest() != ref.key:
        raise ValueError("the checkpoint's bytes do not match their hash: transfer damaged")
    suffix = "".join(Path(ref.name).suffixes[-1:]) or ".pt"
    folder = Path(tempfile.gettempdir()) / f"latent-atelier-worker-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    path = folder / f"{ref.key}{suffix}"
    if not path.exists():
        tmp = path.with_suffix(path.suffix + ".part")
        tmp.write_bytes(checkpoint)
        os.replace(tmp, path)
    return load_model(path, device)


def cached_model(ref: ModelRef, checkpoint: bytes | None) -> tuple[Any, str]:
    """The generator for ``ref`` (loaded once per worker and device) and its device name."""
    from latent_atelier.models.devices import pick_device

    device = pick_device(ref.device)
    key = (f"{ref.kind}:{ref.key}", str(device))
    with _models_lock:
        if key in _models:
            _models.move_to_end(key)
            return _models[key], str(device)
        gen = _load(ref, checkpoint, device)
        _models[key] = gen
        while len(_models) > MODEL_CACHE_SIZE:
            _models.popitem(last=False)
        return gen, str(device)


def model_info(ref: ModelRef, checkpoint: bytes | None) -> dict[str, Any]:
    """Load (or find) the model; its arch, resolution, device and this worker's host name."""
    gen, device = cached_model(ref, checkpoint)
    return {
        "arch": getattr(gen, "arch", "?"),
        "resolution": int(gen.resolution),
        "device": device,
        "host": socket.gethostname(),
        "pid": os.getpid(),
    }


class _Relay:
    """Progress callback that sends throttled steps and previews to the job's queue.

    Messages go out from a sender thread, so the computing thread never waits for the
    network; a preview that a newer one overtakes before it is sent is dropped (its step
    still goes). :meth:`close` sends what is left (the last step) before the job returns.
    """

    def __init__(self, job_id: str, progress: Any) -> None:
        from distributed import Event, Queue

        self.queue = Queue(progress_queue_name(job_id))
        self.event = Event(cancel_event_name(job_id))
        self.progress = progress
        self.cancelled = threading.Event()
        self.done = threading.Event()
        self.last_step = -1e9
        self.last_preview = -1e9
        self.last_stage: str | None = None
        self._outbox: deque[dict[str, Any]] = deque()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self.watcher = threading.Thread(target=self._watch, daemon=True)
        self.sender = threading.Thread(target=self._send_loop, daemon=True)
        self.watcher.start()
        self.sender.start()

    def _watch(self) -> None:
        while not self.done.is_set():
            try:
                if self.event.wait(timeout=0.2):
                    self.cancelled.set()
                    self.progress.cancel()
                    return
            except Exception:  # the scheduler went away: the job ends by itself
                return

    def send(self, message: dict[str, Any]) -> None:
        """Queue ``message`` for the sender thread (returns at once)."""
        with self._lock:
            if "preview" in message:
                for older in self._outbox:
                    older.pop("preview", None)
                    older.pop("shape", None)
            self._outbox.append(message)
        self._wake.set()

    def _send_loop(self) -> None:
        while True:
            self._wake.wait(0.2)
            self._wake.clear()
            finished = self.done.is_set()  # read first: every send came before close()
            while True:
                with self._lock:
                    if not self._outbox:
                        break
                    message = self._outbox.popleft()
                try:
                    self.queue.put(message)
                except Exception:  # the scheduler went away: the job ends by itself
                    return
            if finished:
                return

    def close(self) -> None:
        """Stop watching for cancel and send the messages still waiting."""
        self.done.set()
        self._wake.set()
        self.sender.join(timeout=10)

    def __call__(self, step: int, total: int, preview: Any, metrics: dict[str, float]) -> None:
        from latent_atelier.editors.operation import Cancelled

        if self.cancelled.is_set():
            raise Cancelled()
        now = time.monotonic()
        message: dict[str, Any] = {}
        if preview is not None and now - self.last_preview >= PREVIEW_INTERVAL_S:
            self.last_preview = now
            pixels = np.clip(np.asarray(preview, np.float32)[..., :3], 0, 1)
            pixels = (pixels * 255 + 0.5).astype(np.uint8)
            message["preview"] = pixels.tobytes()
            message["shape"] = list(pixels.shape)
        new_stage = self.progress.stage != self.last_stage
        if message or new_stage or now - self.last_step >= STEP_INTERVAL_S or step >= total:
            self.last_stage = self.progress.stage
            self.last_step = now
            message.update(
                kind="step",
                step=int(step),
                total=int(total),
                stage=str(self.progress.stage),
                stage_steps=(
                    self.progress.in_stage(step, total)[1] if self.progress.stage_length_known else None
                ),
                metrics={str(k): float(v) for k, v in metrics.items()},
            )
            self.send(message)


def _to_cpu(value: Any) -> Any:
    """Outputs with tensors (latents) come back on the CPU."""
    if hasattr(value, "to") and hasattr(value, "w"):
        return value.to("cpu")
    if isinstance(value, list):
        return [_to_cpu(v) for v in value]
    return value


def run_operation(
    job_id: str,
    op_name: str,
    inputs: dict[str, Any],
    params: dict[str, Any],
    ref: ModelRef | None,
    checkpoint: bytes | None,
) -> Any:
    """Run Operation ``op_name`` here; returns its Result (tensors moved to the CPU)."""
    from latent_atelier.editors.operation import Progress, Result
    from latent_atelier.editors.registry import get_operation

    op = get_operation(op_name)
    progress = Progress(lambda *args: relay(*args), preview_interval_s=PREVIEW_INTERVAL_S)
    relay = _Relay(job_id, progress)
    try:
        gen, device = (None, "cpu") if ref is None else cached_model(ref, checkpoint)
        relay.send({"kind": "started", "device": device, "host": socket.gethostname()})
        if gen is not None:  # latents come from the app's CPU memory
            inputs = {
                k: v.to(device) if hasattr(v, "w") and hasattr(v, "to") else v for k, v in inputs.items()
            }
        result = op.run(gen, inputs, op.Params(**params), progress)
        return Result(
            outputs={k: _to_cpu(v) for k, v in result.outputs.items()},
            metrics=dict(result.metrics),
            params=dict(result.params),
        )
    finally:
        relay.close()

"""The app's side of remote work: a Dask client that runs Operations on workers.

A :class:`RemoteSession` connects to a worker address (see :mod:`.addresses` for what is
allowed) or starts its own loopback cluster (:meth:`RemoteSession.local`). Photos and other
large arrays, and the checkpoint's bytes, are scattered to the workers once and reused by
every later job (cached by content hash, on both sides). :meth:`RemoteSession.run` sends one
Operation run, relays its progress and previews into a local ``Progress`` (so the GUI's job
thread and the CLI's bar see a remote job like a local one), passes a local cancel on, and
turns a lost worker into :class:`RemoteWorkerLost` with advice.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import logging
import threading
import time
import uuid
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from latent_atelier.app.remote.addresses import RemoteSetupError, check_secure, parse_address
from latent_atelier.app.remote.worker_tasks import (
    ModelRef,
    cancel_event_name,
    model_info,
    progress_queue_name,
    run_operation,
)
from latent_atelier.editors.operation import Cancelled, Progress

SCATTER_MIN_BYTES = 64 * 1024  # smaller inputs simply travel with the job
SCATTER_CACHE = 16  # photos/latents kept on the workers for later jobs
CONNECT_TIMEOUT_S = 10.0
LOST_AFTER_S = 10.0  # no scheduler connection or no worker for this long: the job failed
CANCEL_GRACE_S = 30.0  # how long a cancelled job may take to reach its next step
LOCAL_HTTP = "127.0.0.1:0"  # the scheduler's status pages: this machine only, any free port
POLL_S = 0.05  # progress is read this often while a job runs
HEALTH_EVERY_S = 1.0


class RemoteWorkerLost(RuntimeError):
    """The worker (or its machine) went away during a job; the message says what to do."""


def import_distributed() -> Any:
    """The ``distributed`` module, or a RemoteSetupError saying which extra to install."""
    try:
        import distributed
    except ImportError:
        raise RemoteSetupError(
            "remote workers and batches need the 'remote' extra: pip install 'latent-atelier[remote]'"
        ) from None
    return distributed


def dask_settings() -> dict[str, Any]:
    """Dask settings for our clusters: a job on a dying worker fails at once (no retry), and
    the workers do less housekeeping."""
    return {
        "distributed.scheduler.allowed-failures": 0,
        # the workers' housekeeping competes with a job's Python for the GIL: sampling
        # profiler off, event-loop ticks and monitors less often (a 2-step embed ran ~30 %
        # faster on a worker with these)
        "distributed.worker.profile.enabled": False,
        "distributed.admin.tick.interval": "1s",
        "distributed.admin.system-monitor.gil.enabled": False,
        "distributed.admin.system-monitor.interval": "2s",
        "distributed.worker.memory.monitor-interval": "1s",
        "distributed.admin.tick.limit": "60s",
    }


def params_dict(params: Any) -> dict[str, Any]:
    """An Operation's Params (a dataclass instance) or a mapping, as a plain dict."""
    if dataclasses.is_dataclass(params) and not isinstance(params, type):
        return dataclasses.asdict(params)
    return dict(params)


class RemoteSession:
    """A connection to Dask workers that run Operations (see the module docstring)."""

    def __init__(self, client: Any, cluster: Any = None, label: str = "") -> None:
        self.client = client
        self.cluster = cluster
        self.label = label or str(client.scheduler.address)
        self._scattered: OrderedDict[str, Any] = OrderedDict()
        self._checkpoints: dict[tuple[str, int, int], tuple[str, str]] = {}
        self.where = ""  # "cpu on host" of the last job, once its worker said so

    # ------------------------------------------------------------------ set-up
    @classmethod
    def connect(
        cls, address: str, tls_dir: str | Path | None = None, timeout_s: float = CONNECT_TIMEOUT_S
    ) -> RemoteSession:
        """Connect to a running worker (``latent-atelier-worker --listen ...``)."""
        parsed = parse_address(address)
        folder = check_secure(parsed, tls_dir)
        distributed = import_distributed()
        import dask

        from latent_atelier.app.remote.certificates import dask_security

        with dask.config.set(dask_settings()):
            try:
                client = distributed.Client(
                    parsed.url,
                    security=dask_security(folder, "client"),
                    timeout=timeout_s,
                    set_as_default=False,
                )
            except (OSError, TimeoutError) as exc:
                raise RemoteSetupError(
                    f"no worker answers at {parsed.url} ({exc}). Start one there with "
                    f"`latent-atelier-worker --listen {parsed.url}`"
                ) from None
        return cls(client, label=parsed.url)

    @classmethod
    def local(cls, n_workers: int = 1, threads_per_worker: int = 1) -> RemoteSession:
        """Start a loopback cluster of ``n_workers`` processes owned by this session."""
        distributed = import_distributed()
        import dask

        with dask.config.set(dask_settings()):
            cluster = distributed.LocalCluster(
                n_workers=n_workers,
                threads_per_worker=threads_per_worker,
                processes=True,
                host="127.0.0.1",
                scheduler_port=0,
                dashboard_address=LOCAL_HTTP,
                silence_logs=logging.ERROR,
            )
            client = distributed.Client(cluster, set_as_default=False)
        return cls(client, cluster, label=f"{n_workers} local worker(s)")

    def close(self) -> None:
        """Disconnect (and stop the cluster this session started)."""
        self._scattered.clear()
        try:
            self.client.close()
        finally:
            if self.cluster is not None:
                self.cluster.close()

    def __enter__(self) -> RemoteSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def n_workers(self) -> int:
        """Workers connected right now."""
        return len(self.client.scheduler_info(n_workers=-1).get("workers", {}))

    # ------------------------------------------------------------------ data
    def _scatter(self, key: str, value: Any) -> Any:
        if key in self._scattered:
            self._scattered.move_to_end(key)
            return self._scattered[key]
        future = self.client.scatter(value, hash=False)
        self._scattered[key] = future
        while len(self._scattered) > SCATTER_CACHE:
            self._scattered.popitem(last=False)
        return future

    def _prepare_inputs(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """Large arrays become scattered futures, each sent once per content."""
        out = {}
        for name, value in inputs.items():
            if isinstance(value, np.ndarray) and value.nbytes >= SCATTER_MIN_BYTES:
                arr = np.ascontiguousarray(value)
                digest = hashlib.sha256(arr.tobytes()).hexdigest()
                key = f"array-{digest}-{arr.dtype.str}-{'x'.join(map(str, arr.shape))}"
                out[name] = self._scatter(key, arr)
            else:
                out[name] = value
        return out

    def model_ref(self, spec: str | Path | None, device: str | None = None) -> tuple[ModelRef, Any]:
        """What a job needs to name its model, and the checkpoint's scattered bytes (or None)."""
        if spec is None:
            return ModelRef("demo", device=device), None
        text = str(spec)
        if text.startswith("random:"):
            return ModelRef("random", text, device=device), None
        path = Path(text).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"model file {path} not found")
        stat = path.stat()
        ident = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
        if ident not in self._checkpoints:
            data = path.read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            self._checkpoints[ident] = (digest, path.name)
            self._scatter(f"checkpoint-{digest}", data)
        digest, name = self._checkpoints[ident]
        future = self._scattered.get(f"checkpoint-{digest}")
        if future is None:  # pushed out of the cache: send it again
            future = self._scatter(f"checkpoint-{digest}", path.read_bytes())
        return ModelRef("bytes", digest, name, device), future

    # ------------------------------------------------------------------ jobs
    def model_info(self, spec: str | Path | None, device: str | None = None) -> dict[str, Any]:
        """Load the model on a worker (kept there); its arch, resolution, device and host."""
        ref, data = self.model_ref(spec, device)
        future = self.client.submit(model_info, ref, data, pure=False)
        return self._result(future)

    def run(
        self,
        op_name: str,
        inputs: dict[str, Any],
        params: Any,
        progress: Progress,
        spec: str | Path | None = None,
        device: str | None = None,
        needs_model: bool = True,
    ) -> Any:
        """Run Operation ``op_name`` on a worker; returns its ``Result``.

        ``params``: the Operation's Params (a dataclass) or a dict. ``progress`` receives the
        steps and previews and is checked for cancel. Raises ``Cancelled``,
        ``OperationError`` (as the worker raised it) or :class:`RemoteWorkerLost`.
        """
        distributed = import_distributed()
        params = params_dict(params)
        ref, data = self.model_ref(spec, device) if needs_model else (None, None)
        job_id = uuid.uuid4().hex
        queue = distributed.Queue(progress_queue_name(job_id), client=self.client)
        event = distributed.Event(cancel_event_name(job_id), client=self.client)
        future = self.client.submit(
            run_operation,
            job_id,
            op_name,
            self._prepare_inputs(inputs),
            dict(params),
            ref,
            data,
            pure=False,
            key=f"{op_name}-{job_id}",
        )
        try:
            return self._follow(future, queue, event, progress)
        finally:
            future.release()
            try:  # free the scheduler's state for this job
                queue.close()
                event.clear()
            except Exception:  # the scheduler may already be gone
                pass

    def _follow(self, future: Any, queue: Any, event: Any, progress: Progress) -> Any:
        """Relay progress until the job ends; one queue read per ``POLL_S``, health checks
        once a second (both are calls to the scheduler)."""
        finished = threading.Event()
        future.add_done_callback(lambda _f: finished.set())
        cancel_sent = None
        lost_since = None
        checked = time.monotonic()
        self.where = ""
        shown: dict[str, Any] = {"stage": None}  # this job's phase as last passed on
        while True:
            done = finished.wait(POLL_S) or future.done()
            for message in self._drain(queue):
                if not (done and progress.cancelled):
                    self._relay(message, progress, shown)
            if done:
                return self._result(future)
            now = time.monotonic()
            if progress.cancelled and cancel_sent is None:
                event.set()
                cancel_sent = now
            if cancel_sent is not None and now - cancel_sent > CANCEL_GRACE_S:
                future.cancel()
                raise Cancelled()
            if now - checked >= HEALTH_EVERY_S:
                checked = now
                healthy = self.client.status == "running" and self._has_workers()
                lost_since = None if healthy else (lost_since or now)
                if lost_since is not None and now - lost_since > LOST_AFTER_S:
                    raise RemoteWorkerLost(self._lost_message("the connection to it was lost"))

    def _has_workers(self) -> bool:
        try:
            return bool(self.client.scheduler_info(n_workers=-1).get("workers"))
        except Exception:
            return False

    @staticmethod
    def _drain(queue: Any) -> list[dict[str, Any]]:
        try:
            return list(queue.get(batch=True))
        except Exception:  # a closed connection: the loop's health check reports it
            return []

    def _relay(self, message: dict[str, Any], progress: Progress, shown: dict[str, Any]) -> None:
        if message.get("kind") == "started":
            self.where = f"{message.get('device', '?')} on {message.get('host', '?')}"
            return
        preview = None
        if "preview" in message:
            shape = tuple(message["shape"])
            raw = np.frombuffer(message["preview"], np.uint8).reshape(shape)
            preview = raw.astype(np.float32) / 255.0
        stage = (message.get("stage", ""), message.get("stage_steps"))
        if stage != shown["stage"]:  # a new phase (its length, when the worker's job gave one)
            shown["stage"] = stage
            progress.set_stage(*stage)
        with contextlib.suppress(Cancelled):  # the loop sends the cancel, waits for the worker
            progress.step(message["step"], message["total"], preview, message.get("metrics"))

    def _result(self, future: Any) -> Any:
        distributed = import_distributed()
        try:
            return future.result()
        except distributed.KilledWorker as exc:
            raise RemoteWorkerLost(self._lost_message(f"its process died ({exc})")) from None
        except distributed.comm.CommClosedError as exc:
            raise RemoteWorkerLost(self._lost_message(f"the connection closed ({exc})")) from None
        except distributed.client.FutureCancelledError as exc:
            raise RemoteWorkerLost(self._lost_message(f"the job was dropped ({exc})")) from None

    def _lost_message(self, what: str) -> str:
        return (
            f"the worker at {self.label} stopped during the job: {what}. Nothing was "
            "changed here; check the worker's machine (memory, GPU), restart "
            "`latent-atelier-worker` there if needed, and run the job again."
        )

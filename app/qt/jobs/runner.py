"""The job runner: a visible queue, one job at a time on a worker thread.

The worker thread runs ``operation.run`` with a :class:`latent_atelier.editors.operation.Progress` whose
callback forwards steps and previews to the GUI thread as queued signals, throttled so a
fast operation cannot flood the event loop (progress ~25/s, previews ~10/s). Cancel sets
the Progress flag; the operation raises ``Cancelled`` at its next step. The document is
never touched here: the caller copies inputs in and decides what to do with the Result.
"""

from __future__ import annotations

import time
import traceback
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from latent_atelier.app.qt.jobs.job import OOM_ADVICE, Job, eta_seconds, is_out_of_memory
from latent_atelier.app.qt.worker_thread import WorkerThread

PROGRESS_INTERVAL_S = 0.04
PREVIEW_INTERVAL_S = 0.1


class JobThread(WorkerThread):
    """Runs one job; its progress signals are emitted on the worker and delivered on the GUI
    thread. ``work`` returns ``("done", Result)``, ``("cancelled",)`` or
    ``("failed", message, details)``: every failure becomes a message, never a crash."""

    progressed = Signal(int, int, str, object, object)  # step, total, stage, metrics, eta
    stage_progressed = Signal(str, int, int, bool)  # stage, step and total in it, known length
    preview_ready = Signal(object)  # HxWx3 float32 (model resolution)

    def __init__(
        self,
        job: Job,
        on_outcome: Callable[[tuple], None],
        on_finished: Callable[[], None],
        owner: QObject | None = None,
    ) -> None:
        from latent_atelier.editors.operation import Progress

        super().__init__(self._execute, "job", on_result=on_outcome, on_finished=on_finished, owner=owner)
        self.job = job
        self.progress = Progress(self._on_step, preview_interval_s=PREVIEW_INTERVAL_S)
        self._started = 0.0
        self._last_progress = -1e9
        self._last_preview = -1e9

    def cancel(self) -> None:
        """Ask the operation to stop at its next step (safe from any thread)."""
        self.progress.cancel()

    def _execute(self) -> tuple:
        from latent_atelier.editors.operation import Cancelled, OperationError

        job = self.job
        self._started = time.monotonic()
        try:
            if job.remote is not None:  # a worker elsewhere loads the model and runs it
                result = job.remote(job, self.progress)
            else:
                gen = job.generator() if job.generator is not None else None
                if self.progress.cancelled:
                    raise Cancelled()
                result = job.operation.run(gen, job.inputs, job.params, self.progress)
        except Cancelled:
            return ("cancelled",)
        except OperationError as exc:
            return ("failed", str(exc), "")
        except Exception as exc:
            details = "".join(traceback.format_exception(exc))
            if is_out_of_memory(exc):
                return ("failed", OOM_ADVICE, details)
            return ("failed", f"{type(exc).__name__}: {exc}", details)
        return ("done", result)

    def _on_step(self, step: int, total: int, preview: Any, metrics: dict[str, float]) -> None:
        now = time.monotonic()
        if preview is not None and now - self._last_preview >= PREVIEW_INTERVAL_S:
            self._last_preview = now
            self.preview_ready.emit(np.array(preview, dtype=np.float32, copy=True))
        if now - self._last_progress >= PROGRESS_INTERVAL_S or step >= total:
            self._last_progress = now
            eta = eta_seconds(step, total, now - self._started)
            stage = self.progress.stage
            in_stage, of_stage = self.progress.in_stage(step, total)
            self.stage_progressed.emit(stage, int(in_stage), int(of_stage), self.progress.stage_length_known)
            self.progressed.emit(int(step), int(total), self.progress.stage, dict(metrics), eta)


class JobRunner(QObject):
    """A queue of jobs for one device, run one at a time off the GUI thread."""

    queue_changed = Signal()
    started = Signal(object)  # Job
    progressed = Signal(object, int, int, str, object, object)  # job, step, total, stage, metrics, eta
    #: job, stage, step and total within the stage, whether the stage said its length
    stage_progressed = Signal(object, str, int, int, bool)
    preview = Signal(object, object)  # job, image
    finished = Signal(object, object)  # job, Result
    cancelled = Signal(object)  # job
    failed = Signal(object, str, str)  # job, message, details
    idle = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._queue: deque[Job] = deque()
        self._thread: JobThread | None = None

    # ------------------------------------------------------------------ queries
    @property
    def current(self) -> Job | None:
        """The running job, if any."""
        return self._thread.job if self._thread is not None else None

    @property
    def queued(self) -> list[Job]:
        """Jobs waiting their turn, first to run first."""
        return list(self._queue)

    @property
    def busy(self) -> bool:
        """True while a job runs or waits."""
        return self._thread is not None or bool(self._queue)

    # ------------------------------------------------------------------ control
    def submit(self, job: Job) -> Job:
        """Queue ``job``; it starts at once when nothing else runs."""
        self._queue.append(job)
        self.queue_changed.emit()
        self._start_next()
        return job

    def cancel(self, job: Job | None = None) -> None:
        """Cancel ``job`` (default: the running one); a queued job is simply dropped."""
        if job is not None and job in self._queue:
            self._queue.remove(job)
            self.queue_changed.emit()
            self.cancelled.emit(job)
            return
        if self._thread is not None and (job is None or job is self._thread.job):
            self._thread.cancel()

    def cancel_all(self) -> None:
        """Drop the queue and cancel the running job."""
        while self._queue:
            self.cancelled.emit(self._queue.popleft())
        self.queue_changed.emit()
        self.cancel()

    def wait(self, timeout_ms: int = 30000) -> bool:
        """Block until the running job's thread ends (shutdown and tests only)."""
        return self._thread.wait(timeout_ms) if self._thread is not None else True

    # ------------------------------------------------------------------ internals
    def _start_next(self) -> None:
        if self._thread is not None or not self._queue:
            return
        job = self._queue.popleft()
        thread = JobThread(job, self._relay_outcome, self._on_thread_finished, owner=self)
        # bound methods of this GUI-thread object: Qt queues the worker's emits onto it
        thread.progressed.connect(self._relay_progress)
        thread.stage_progressed.connect(self._relay_stage_progress)
        thread.preview_ready.connect(self._relay_preview)
        self._thread = thread
        self.queue_changed.emit()
        self.started.emit(job)
        thread.start()

    def _relay_progress(self, step: int, total: int, stage: str, metrics: object, eta: object) -> None:
        if self.current is not None:
            self.progressed.emit(self.current, step, total, stage, metrics, eta)

    def _relay_stage_progress(self, stage: str, step: int, total: int, known: bool) -> None:
        if self.current is not None:
            self.stage_progressed.emit(self.current, stage, step, total, known)

    def _relay_preview(self, image: object) -> None:
        if self.current is not None:
            self.preview.emit(self.current, image)

    def _relay_outcome(self, outcome: tuple) -> None:
        job = self.current
        if job is None:
            return
        kind, *rest = outcome
        if kind == "done":
            self.finished.emit(job, rest[0])
        elif kind == "cancelled":
            self.cancelled.emit(job)
        else:
            self.failed.emit(job, *rest)

    def _on_thread_finished(self) -> None:
        thread = self._thread
        self._thread = None
        if thread is not None:
            thread.wait()
        self.queue_changed.emit()
        if self._queue:
            self._start_next()
        else:
            self.idle.emit()

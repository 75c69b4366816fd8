"""Glue between the main window, the operations dock, the job runner and the model manager.

Run: copy the inputs out of the document (GUI thread), queue a Job whose generator is
loaded and whose placement is resolved on the worker thread, show throttled previews on
the canvas overlay, and turn the Result into pending layers (Accept = one undo step).
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox

from latent_atelier.app.qt.compositing.controller import CompositingController
from latent_atelier.app.qt.jobs.job import Job, format_metrics
from latent_atelier.app.qt.jobs.remote_target import remote_target_for
from latent_atelier.app.qt.jobs.runner import JobRunner
from latent_atelier.app.qt.models.device_widget import ModelStatusWidget
from latent_atelier.app.qt.models.model_manager import (
    MODEL_FILTER,
    ModelInfo,
    ModelManager,
    demo_model_path,
)
from latent_atelier.app.qt.operations.inputs import gather_inputs, resolve_placements
from latent_atelier.app.qt.operations.operations_panel import OperationsPanel
from latent_atelier.app.qt.operations.pending import PendingResults
from latent_atelier.app.qt.operations.results import result_layers
from latent_atelier.app.qt.operations.speed_book import SpeedBook
from latent_atelier.app.qt.placement.canvas_overlay import CanvasOverlay
from latent_atelier.app.qt.placement.geometry import SquareBox
from latent_atelier.app.qt.worker_thread import WorkerThread
from latent_atelier.app.quality_presets import default_preset, total_steps
from latent_atelier.editors.operation import OperationError

DISCOVERY_DELAY_MS = 300  # after the window is up: finding operations imports torch

if TYPE_CHECKING:
    from latent_atelier.app.document.document import Document
    from latent_atelier.app.qt.document_signals import DocumentSignals
    from latent_atelier.app.qt.main_window import MainWindow
    from latent_atelier.editors.operation import Operation, Result


def _find_operations() -> dict:
    """Import every editors module (and with it torch); run off the GUI thread."""
    from latent_atelier.editors.registry import all_operations

    return all_operations()


class OperationsController(QObject):
    """Owns the runner, the model manager, pending results and the canvas overlay."""

    operations_ready = Signal()

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.manager = ModelManager(window.settings.qsettings, self)
        self.manager.follow_preferences(window.preferences)  # CPU threads, precision
        self.runner = JobRunner(self)
        self.pending = PendingResults(self)
        self.overlay = CanvasOverlay(window.canvas)
        self.panel = OperationsPanel(self.runner, self.pending)
        self.status_widget = ModelStatusWidget(self.manager)
        self.speeds = SpeedBook(window.settings.qsettings)
        self.compositing = CompositingController(self)
        self.document: Document | None = None
        self.signals: DocumentSignals | None = None
        #: the operations found by discovery, by name (empty until then)
        self.available: dict[str, type[Operation]] = {}
        self.last_error: tuple[str, str] | None = None
        self._discovery: WorkerThread | None = None
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(0)
        self._refresh_timer.timeout.connect(self.refresh_pickers)

        p = self.panel
        p.run_button.clicked.connect(self.run_current)
        p.load_model_button.clicked.connect(self.load_model_dialog)
        p.place_button.toggled.connect(self.overlay.set_editing)
        p.align_button.clicked.connect(self.align_face)
        p.reset_box_button.clicked.connect(self.reset_box)
        p.op_combo.currentIndexChanged.connect(lambda _i: self.refresh_pickers())
        self.overlay.box_edited.connect(self._use_box)
        self.runner.preview.connect(self._on_preview)
        self.runner.finished.connect(self._on_finished)
        self.runner.progressed.connect(self._note_first_step)
        self.runner.cancelled.connect(self._on_cancelled)
        self.runner.failed.connect(self._on_failed)
        self.manager.loaded.connect(self._on_model_loaded)
        self.manager.failed.connect(lambda msg: self._show_error("Model not loaded", msg, ""))
        self._hid_photo_for_pending = False
        self.pending.changed.connect(self._on_pending_changed)
        self._update_model_label()

    # ------------------------------------------------------------------ setup
    def fill_model_menu(self, menu: QMenu) -> None:
        """The Model menu: load, recent, demo, stop a load, Run and Cancel."""
        load = menu.addAction("&Load model…")
        load.triggered.connect(self.load_model_dialog)
        self.recent_menu = menu.addMenu("Recent models")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        demo = menu.addAction("Use the &demo model")
        demo.triggered.connect(self.use_demo_model)
        stop = menu.addAction("&Stop loading the model")  # a slow or stuck model file
        stop.setObjectName("stop_model_load")
        stop.setEnabled(False)
        stop.triggered.connect(self.manager.cancel_load)
        self.manager.loading.connect(lambda _name: stop.setEnabled(True))
        self.manager.loaded.connect(lambda _info: stop.setEnabled(self.manager.is_loading))
        self.manager.failed.connect(lambda _msg: stop.setEnabled(self.manager.is_loading))
        menu.addSeparator()
        run = menu.addAction("&Run operation")
        run.setShortcut(QKeySequence("Ctrl+Return"))
        run.triggered.connect(self.run_current)
        cancel = menu.addAction("&Cancel job")
        cancel.triggered.connect(lambda: self.runner.cancel())
        self.window.addAction(run)  # Ctrl+Return works with the menu bar hidden

    def start_discovery(self, delay_ms: int = DISCOVERY_DELAY_MS) -> None:
        """Find the operations on a thread shortly after the event loop starts."""
        timer = QTimer(self)  # dies with the controller, unlike a bare singleShot
        timer.setSingleShot(True)
        timer.timeout.connect(self.discover_async)
        timer.start(delay_ms)

    def discover_async(self) -> None:
        """Find the operations on a thread (imports torch); fills the dock when done."""
        if self.available or self._discovery is not None:
            return
        self._discovery = WorkerThread(
            _find_operations, "discovery", on_result=self._on_operations, owner=self
        )
        self._discovery.start()

    def discover_now(self) -> None:
        """Find the operations on this thread (tests, scripts)."""
        if not self.available:
            self._on_operations(_find_operations())

    def _on_operations(self, operations: dict) -> None:
        self._discovery = None
        if self.available:
            return
        self.available = dict(operations)
        self.panel.set_operations(self.available)
        for page in self.panel.pages.values():
            page.set_arch(self.manager.arch)
        self.panel.align_button.setEnabled("align" in self.available)
        preset = default_preset(self._runs_on_cpu())
        for page in self.panel.pages.values():
            page.quality.apply(preset)  # a draft on the CPU: minutes, not an hour
        self._refresh_estimates()
        self.refresh_pickers()
        self.operations_ready.emit()

    # ------------------------------------------------------------------ document
    def set_document(self, document: Document | None, signals: DocumentSignals | None) -> None:
        """Follow the window's document (pending results of the old one are dropped)."""
        if self.pending.active:
            self.pending.discard()
        if self.signals is not None:
            for sig in self._watched(self.signals):
                with contextlib.suppress(RuntimeError, TypeError):
                    sig.disconnect(self._schedule_refresh)
        self.document, self.signals = document, signals
        if signals is not None:
            for sig in self._watched(signals):
                sig.connect(self._schedule_refresh)
        self.overlay.clear_preview()
        if document is not None:
            self.pending.settle_loaded(document)
            self.overlay.reset_box(document.width, document.height)
        for page in self.panel.pages.values():
            page.pickers.forget_choices()
        self.refresh_pickers()

    @staticmethod
    def _watched(signals: DocumentSignals) -> list:
        return [signals.layers_changed, signals.props_changed, signals.active_changed]

    def _schedule_refresh(self, *_args: Any) -> None:
        self._refresh_timer.start()

    def refresh_pickers(self) -> None:
        """Re-list layers in the current operation's pickers."""
        page = self.panel.current_page
        if page is not None:
            page.pickers.refill(self.document)
        self.window.canvas.update()

    # ------------------------------------------------------------------ model
    def load_model_dialog(self) -> None:
        """Model > Load model…"""
        path, _ = QFileDialog.getOpenFileName(self.window, "Load model", "", MODEL_FILTER)
        if path:
            self.manager.load_async(path)

    def use_demo_model(self) -> None:
        """Model > Use the demo model."""
        path = demo_model_path()
        if not path.exists():
            self._show_error("No demo model", f"{path} is missing: use Load model… instead.", "")
            return
        self.manager.load_async(str(path))

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        recent = self.manager.recent_models()
        for path in recent:
            action = self.recent_menu.addAction(Path(path).name)
            action.setToolTip(path)
            action.triggered.connect(lambda _c=False, p=path: self.manager.load_async(p))
        if not recent:
            self.recent_menu.addAction("(none)").setEnabled(False)

    def _on_model_loaded(self, info: ModelInfo) -> None:
        self._update_model_label()
        self._refresh_estimates()
        for page in self.panel.pages.values():
            page.set_arch(info.arch)
        self.window.status.showMessage(f"Model ready: {info.name} — {info.summary}", 5000)

    def _update_model_label(self) -> None:
        self.panel.model_label.setText(self.manager.status_text())
        self.panel.domain_note.setVisible(self.uses_demo_model())
        furry = self.manager.arch == "furrygan" or (
            self.manager.arch is None and self.manager.demo_available()
        )
        self.panel.generate_bg_button.setEnabled(furry)

    def uses_demo_model(self) -> bool:
        """Whether runs use the bundled demo model (loaded, or to be loaded at first use)."""
        info = self.manager.info
        if info is not None:
            return info.name == demo_model_path().name
        return self.manager.status_text().startswith("Model: demo")

    # ------------------------------------------------------------------ estimates
    def _runs_on_cpu(self) -> bool:
        device = self.manager.device
        if device != "auto":
            return device == "cpu"
        try:
            from latent_atelier.models.devices import pick_device  # torch is loaded by now

            return pick_device(None).type == "cpu"
        except Exception:  # no usable accelerator, or torch missing: the CPU
            return True

    def _model_key(self) -> tuple[str | None, int | None]:
        info = self.manager.info
        if info is not None:
            return info.name, info.resolution
        if self.uses_demo_model():
            return demo_model_path().name, None
        return None, None

    def _refresh_estimates(self) -> None:
        """Tell every page's Quality row what its estimate rests on."""
        model, resolution = self._model_key()
        on_cpu = self._runs_on_cpu() if self.available else True
        for name, page in self.panel.pages.items():
            rate = self.speeds.rate(name, model, self.manager.device)
            page.quality.set_speed(rate, resolution, on_cpu)

    def _note_first_step(self, job: Job, step: int, *_rest: Any) -> None:
        if step >= 1 and "first_step_at" not in job.context:
            job.context["first_step_at"] = time.monotonic()  # after the model has loaded

    def _record_speed(self, job: Job) -> None:
        """Seconds per step of a finished run, for the next estimates."""
        started = job.context.get("first_step_at")
        model, _resolution = self._model_key()
        page = self.panel.pages.get(job.operation.name)
        if started is None or model is None or page is None or not page.quality.applies:
            return
        steps = total_steps(page.form.specs, dataclasses.asdict(job.params))
        self.speeds.record(job.operation.name, model, self.manager.device, time.monotonic() - started, steps)
        self._refresh_estimates()

    # ------------------------------------------------------------------ running
    def run_current(self) -> Job | None:
        """Run the operation shown in the dock; returns the queued job (None on bad input)."""
        page = self.panel.current_page
        if page is None or self.document is None:
            return None
        return self.run(page.op_cls.name)

    def run(self, name: str, purpose: str = "result", extra: dict | None = None) -> Job | None:
        """Queue operation ``name`` with the inputs and settings its page shows.

        The dock stays on the page the user is looking at (a button such as Align face or
        Generate runs its own operation without switching pages).
        """
        doc = self.document
        if doc is None or name not in self.panel.pages:
            return None
        page = self.panel.pages[name]
        page.pickers.refill(doc)
        op = page.op_cls()
        try:
            params = page.form.params()
            choices = page.pickers.choices()
            if extra:
                choices.update(extra)
            notes: list[str] = []
            inputs = gather_inputs(doc, op, choices, self.overlay.current_placement_source(), notes)
            notes += op.advice(params)
        except (OperationError, KeyError, ValueError) as exc:
            self._show_error(f"Cannot run {op.title or op.name}", str(exc), "")
            return None
        note = "; ".join(notes) + ". " if notes else ""
        note = note[:1].upper() + note[1:]  # not str.capitalize: it lowercases layer names
        if note:
            self.window.status.showMessage(note, 8000)
        self.panel.show_note(note)  # in full: the status bar cuts a long one off
        job = Job(
            op,
            inputs,
            params,
            context={
                "doc": doc,
                "source_id": page.pickers.photo_layer_id(),
                "purpose": purpose,
                "note": note,
            },
        )
        job.generator = self._generator_source(job)
        job.remote = remote_target_for(getattr(self.window, "preferences", None), self.manager)
        self.runner.submit(job)
        return job

    def _generator_source(self, job: Job):  # type: ignore[no-untyped-def]
        op, inputs, manager = job.operation, job.inputs, self.manager

        def source() -> Any:
            if not op.wants_generator(job.params):
                _drop_requests(inputs)
                return None
            gen = manager.generator_for_job()
            arch = manager.arch
            if op.archs and arch not in op.archs:
                raise OperationError(
                    f"{op.title or op.name} needs a {' or '.join(op.archs)} model; the loaded "
                    f"model is {arch}: load one with Model > Load model…"
                )
            resolve_placements(inputs, int(gen.resolution))
            return gen

        return source

    def _use_box(self) -> None:
        """The user moved, aligned or reset the box: every operation works in it from now on."""
        for page in self.panel.pages.values():
            page.pickers.use_box()

    def align_face(self) -> None:
        """Run the `align` operation on the photo; its placement becomes the box."""
        if "align" not in self.available:
            self.window.status.showMessage("Face alignment is not available", 4000)
            return
        self.run("align", purpose="align")

    def reset_box(self) -> None:
        """The largest centred square again."""
        if self.document is not None:
            self.overlay.reset_box(self.document.width, self.document.height)
            self._use_box()

    # ------------------------------------------------------------------ job events
    def _on_preview(self, job: Job, image: np.ndarray) -> None:
        doc = self.document
        if doc is None or job.context.get("doc") is not doc:
            return
        corners = _preview_corners(doc, job, image)
        self.overlay.show_preview(image, corners)

    def _on_finished(self, job: Job, result: Result) -> None:
        self.overlay.clear_preview()
        self._record_speed(job)
        doc = job.context.get("doc")
        if doc is None or doc is not self.document:
            return
        if job.context.get("purpose") == "align":
            placement = result.outputs.get("placement")
            if placement is not None:
                self.overlay.set_aligned(placement)
                self._use_box()
                self.window.status.showMessage("Face aligned: the box follows the face", 5000)
            return
        proposal = result_layers(
            doc, job.operation, job.params, result, job.context.get("source_id"), job.inputs.get("placement")
        )
        metrics = format_metrics(result.metrics)
        if not proposal.layers and not proposal.variants:
            self.window.status.showMessage(f"{job.title}: nothing to add. {metrics}", 6000)
            return
        kept = self._keep_other_pending(job)
        self.pending.show(doc, proposal)
        note = job.context.get("note", "")
        done = "; ".join(result.notes)
        done = f" {done[:1].upper()}{done[1:]}." if done else ""
        where = f" on {job.context['where']}" if job.context.get("where") else ""  # a remote worker
        self.window.status.showMessage(f"{kept}{note}{job.title} done{where}.{done} {metrics}", 8000)

    def _keep_other_pending(self, job: Job) -> str:
        """A pending result of another operation is accepted (one undo step), not lost.

        A pending result of the same operation is replaced: running it again is how one
        tries other settings. Returns a note for the status bar.
        """
        proposal = self.pending.proposal
        if proposal is None or proposal.title == job.title:
            return ""
        self.pending.accept()
        return f"Kept the waiting {proposal.title} result (Undo removes it). "

    def _on_cancelled(self, job: Job) -> None:
        self.overlay.clear_preview()
        self.window.status.showMessage(f"{job.title} cancelled; nothing changed", 5000)

    def _on_failed(self, job: Job, message: str, details: str) -> None:
        self.overlay.clear_preview()
        self._show_error(f"{job.title} failed", message, details)

    def _on_pending_changed(self) -> None:
        proposal = self.pending.proposal
        self._show_cutout_alone(proposal is not None and proposal.is_cutout)
        self.window.canvas.invalidate_all()
        self.panel.run_button.setEnabled(bool(self.panel.pages))

    def _show_cutout_alone(self, on: bool) -> None:
        """While a cut-out waits, hide the photo under it so the matte can be judged."""
        action = self.window.actions_.hide_photo
        if on and not action.isChecked():
            self._hid_photo_for_pending = True
            action.setChecked(True)
            self.window.canvas.set_hide_photo(True)
        elif not on and self._hid_photo_for_pending:
            self._hid_photo_for_pending = False
            action.setChecked(False)
            self.window.canvas.set_hide_photo(False)

    def _show_error(self, title: str, message: str, details: str) -> None:
        """A non-modal message with the details folded away (the GUI keeps running)."""
        self.last_error = (message, details)
        box = QMessageBox(
            QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, self.window
        )
        if details:
            box.setDetailedText(details)
        box.setModal(False)
        box.setObjectName("operation_error")
        box.finished.connect(box.deleteLater)
        box.show()
        self.window.status.showMessage(f"{title}: {message}", 8000)

    def confirm_close(self) -> bool:
        """Before the window closes: may a running job be stopped? (True when none runs.)"""
        if not self.runner.busy:
            return True
        job = self.runner.current
        title = job.title if job is not None else "A job"
        answer = QMessageBox.question(
            self.window,
            "A job is running",
            f"{title} is still running. Stop it and close? Its result will be lost.",
            QMessageBox.StandardButton.Close | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Close

    def shutdown(self) -> None:
        """Cancel everything and wait for the worker (window closing)."""
        self.runner.cancel_all()
        self.runner.wait(10000)
        self.manager.shutdown()  # a stuck load is cancelled, not waited for
        if self._discovery is not None:
            self._discovery.wait(30000)


def _drop_requests(inputs: dict[str, Any]) -> None:
    """Placements for an operation without a generator (no model size to resolve at): a
    stored or aligned placement, or a box the user moved, is kept at the box's own scale (the
    operation rescales it); the untouched default box becomes None, the operation's default
    (``mask-edit`` then frames the face from its label map)."""
    from latent_atelier.app.qt.placement.geometry import PlacementRequest, SquareBox

    for key, value in list(inputs.items()):
        if not isinstance(value, PlacementRequest):
            continue
        h, w = value.photo_shape
        box = value.box
        if value.placement is not None:
            inputs[key] = value.placement
        elif box is not None and box != SquareBox.centred(w, h):
            inputs[key] = box.to_placement(max(round(box.side), 1), value.photo_shape)
        else:
            inputs[key] = None


def _preview_corners(doc: Document, job: Job, image: np.ndarray) -> np.ndarray:
    """TL, TR, BL document points where a preview of ``image``'s size belongs."""
    h, w = image.shape[:2]
    if (h, w) == (doc.height, doc.width):
        return np.array([[0, 0], [w, 0], [0, h]], np.float64)
    placement = job.inputs.get("placement")
    if placement is not None and hasattr(placement, "outline") and placement.size == w:
        c = placement.outline()
        return np.array([c[0], c[1], c[3]], np.float64)
    box = SquareBox.centred(doc.width, doc.height)
    c = box.corners()
    return np.array([c[0], c[1], c[3]], np.float64)

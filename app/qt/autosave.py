"""Autosave: snapshot on the GUI thread (cheap), write the recovery file on a worker thread.

Between autosaves every finished stroke goes to the recovery store's journal at once
(:class:`JournalRecorder`), so a crash loses at most the stroke in progress; a change the
journal cannot hold (a layer removed, properties, an operation's result) starts an
autosave right away instead. A copy of each document is written when it is opened: the
base the journal replays onto (offered back only once something changed).
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal

from latent_atelier.app.document.stroke_journal import JournalRecorder

if TYPE_CHECKING:
    from latent_atelier.app.document.document import Document
    from latent_atelier.app.document.recovery import RecoveryStore


class AutosaveController(QObject):
    """Every ``interval_s`` seconds, if the document changed, write a recovery copy.

    Painting is never blocked: ``RecoveryStore.snapshot`` copies what it needs on the GUI
    thread, and ``RecoveryStore.write`` (PNG encoding, zip, fsync) runs on one worker thread.
    A tick is skipped while the previous write is still running.
    """

    written = Signal(str)  # path of the recovery file
    failed = Signal(str)
    _write_done = Signal()  # from the worker thread: queued to the GUI thread

    def __init__(self, store: RecoveryStore, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.document: Document | None = None
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="autosave")
        self._pending: Future | None = None
        self._last_saved_state: Any = None
        self._recorder: JournalRecorder | None = None
        self._soon = False  # an autosave is requested for when the GUI thread is free
        self._closed = False
        self.source_path: Any = None  # the file the document was opened from (set by the window)
        self._opened_layers: list[str] = []
        self._write_done.connect(self._after_write)

    def set_interval(self, seconds: float) -> None:
        """Autosave period; 0 turns autosave off."""
        self._timer.stop()
        if seconds > 0:
            self._timer.start(int(seconds * 1000))

    @property
    def interval_s(self) -> float:
        """The current period in seconds (0 when off)."""
        return self._timer.interval() / 1000.0 if self._timer.isActive() else 0.0

    def set_document(self, document: Document | None) -> None:
        """Watch another document."""
        if self._recorder is not None:
            self._recorder.detach()
            self._recorder = None
        self.document = document
        self._last_saved_state = None
        self.source_path = document.path if document is not None else None
        self._opened_layers = [lay.id for lay in document.layers] if document is not None else []
        if document is not None:
            self._recorder = JournalRecorder(
                document, self._journal, self._request_autosave, self._journal_layer
            )
            self._request_autosave()  # the base copy, even before any change

    def _journal_layer(self, layer: Any, index: int) -> None:
        if self.interval_s <= 0:
            return
        try:
            self.store.record_layer(layer, index)
            if self._last_saved_state is None:
                self.store.note_source(self.source_path, self._opened_layers)
        except OSError as exc:
            self.failed.emit(f"Stroke journal failed: {exc}")

    def _journal(self, layer_id: str, tiles: list) -> None:
        if self.interval_s <= 0:
            return  # autosave off: no recovery file to replay a journal onto
        try:
            self.store.record(layer_id, tiles)
            if self._last_saved_state is None:  # no autosave yet: the opened file is the base
                self.store.note_source(self.source_path, self._opened_layers)
        except OSError as exc:
            self.failed.emit(f"Stroke journal failed: {exc}")
        if self._last_saved_state is None:  # nothing autosaved yet: a base file first
            self._request_autosave()

    def _request_autosave(self) -> None:
        """Autosave as soon as the current event is handled (coalesced)."""
        if self.interval_s <= 0 or self._soon or self._closed:
            return
        self._soon = True
        QTimer.singleShot(0, self._autosave_soon)

    def _autosave_soon(self) -> None:
        if self._closed:
            return
        if self._pending is not None and not self._pending.done():
            return  # _after_write comes back here when the write in flight ends
        self._soon = False
        self.autosave_now(base=self._last_saved_state is None)

    def _after_write(self) -> None:
        if self._soon:
            self._autosave_soon()

    def _tick(self) -> None:
        if self._pending is None or self._pending.done():
            self.autosave_now()

    def _state_key(self) -> Any:
        doc = self.document
        assert doc is not None
        return (doc.history.top, doc.history.index, len(doc.history.steps))

    def autosave_now(self, base: bool = False) -> bool:
        """Start a background write if the document has unsaved, not yet autosaved changes
        (after the write in flight, if any, has finished). ``base``: write even an
        unchanged document (the copy the stroke journal replays onto)."""
        doc = self.document
        if doc is None or not (doc.dirty or base):
            return False
        if self._pending is not None and not self._pending.done():
            self.wait()
        key = self._state_key()
        if key == self._last_saved_state:
            return False
        snapshot = self.store.snapshot(doc)
        self._last_saved_state = key
        self._pending = self._executor.submit(self.store.write, snapshot, doc.dirty)
        self._pending.add_done_callback(self._report)
        return True

    def _report(self, future: Future) -> None:
        exc = future.exception()
        if exc is not None:
            self._last_saved_state = None
            self.failed.emit(f"Autosave failed: {exc}")
        else:
            self.written.emit(str(future.result()))
        self._write_done.emit()

    def wait(self, timeout: float | None = 30.0) -> None:
        """Block until the write in flight (if any) finishes (closing, tests)."""
        if self._pending is not None:
            self._pending.exception(timeout=timeout)

    def discard(self) -> None:
        """Delete the recovery files (after a clean save or close)."""
        self.wait()
        self._last_saved_state = None
        self.store.discard()
        self._request_autosave()  # a new base copy for the journal

    def shutdown(self) -> None:
        """Stop the timer and the worker thread."""
        self._closed = True
        self._timer.stop()
        if self._recorder is not None:
            self._recorder.detach()
            self._recorder = None
        self._executor.shutdown(wait=True)

"""Autosave: snapshot on the GUI thread (cheap), write the recovery file on a worker thread."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal

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

    def __init__(self, store: RecoveryStore, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.document: Document | None = None
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.autosave_now)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="autosave")
        self._pending: Future | None = None
        self._last_saved_state: Any = None

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
        self.document = document
        self._last_saved_state = None

    def _state_key(self) -> Any:
        doc = self.document
        assert doc is not None
        return (doc.history.top, doc.history.index, len(doc.history.steps))

    def autosave_now(self) -> bool:
        """Start a background write if the document has unsaved, not yet autosaved changes."""
        doc = self.document
        if doc is None or not doc.dirty:
            return False
        if self._pending is not None and not self._pending.done():
            return False
        key = self._state_key()
        if key == self._last_saved_state:
            return False
        snapshot = self.store.snapshot(doc)
        self._last_saved_state = key
        self._pending = self._executor.submit(self.store.write, snapshot)
        self._pending.add_done_callback(self._report)
        return True

    def _report(self, future: Future) -> None:
        exc = future.exception()
        if exc is not None:
            self._last_saved_state = None
            self.failed.emit(f"Autosave failed: {exc}")
        else:
            self.written.emit(str(future.result()))

    def wait(self, timeout: float | None = 30.0) -> None:
        """Block until the write in flight (if any) finishes (closing, tests)."""
        if self._pending is not None:
            self._pending.exception(timeout=timeout)

    def discard(self) -> None:
        """Delete the recovery files (after a clean save or close)."""
        self.wait()
        self._last_saved_state = None
        self.store.discard()

    def shutdown(self) -> None:
        """Stop the timer and the worker thread."""
        self._timer.stop()
        self._executor.shutdown(wait=True)

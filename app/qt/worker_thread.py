"""One way to run work off the GUI thread: a daemon thread whose outcome arrives on the GUI thread.

The job runner, the operations discovery and the model loader all use :class:`WorkerThread`.

Why not ``superqt.utils.create_worker``: superqt's workers are QRunnables on
``QThreadPool.globalInstance()``, and the application waits for that pool when it quits, so a
stuck model load (a slow network file) would keep the window from closing. Why not a
``QThread``: one destroyed while it still runs aborts the process. A daemon thread does
neither; whoever must wait for it (closing, tests) calls :meth:`WorkerThread.wait` with a
timeout.

The callbacks run on the thread that created the worker (the GUI thread), after ``work``
returned or raised, and only while their ``owner`` (when given) still exists: a window closed
while the work ran is not called back. The worker keeps itself referenced until they have run, so callers
need not hold on to it (nor free it inside its own signal).
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable
from typing import Any, ClassVar

import shiboken6
from PySide6.QtCore import QObject, QTimer, Signal


class WorkerThread(QObject):
    """Runs ``work()`` once on a daemon thread; ``on_result``/``on_error`` then ``on_finished``
    are called on the GUI thread. Subclasses may add signals and emit them from ``work``:
    their GUI-thread receivers get them queued, in order, before the outcome."""

    _outcome = Signal(bool, object)  # succeeded, value or exception
    _alive: ClassVar[set[WorkerThread]] = set()

    def __init__(
        self,
        work: Callable[[], Any],
        name: str,
        on_result: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        on_finished: Callable[[], None] | None = None,
        owner: QObject | None = None,
    ) -> None:
        super().__init__()  # no Qt parent: kept alive by _alive until its callbacks ran
        self._owner = owner  # the callbacks' object: once Qt deleted it, they are skipped
        self._work = work
        self._on_result = on_result
        self._on_error = on_error
        self._on_finished = on_finished
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._outcome.connect(self._deliver)  # a GUI-thread slot: queued from the worker

    def start(self) -> None:
        """Start ``work`` on its thread."""
        WorkerThread._alive.add(self)
        self._thread.start()

    @property
    def running(self) -> bool:
        """True while ``work`` runs."""
        return self._thread.is_alive()

    def wait(self, timeout_ms: int | None = None) -> bool:
        """Block until ``work`` has ended (closing and tests); False on a timeout."""
        if self._thread.ident is None:
            return True  # never started
        self._thread.join(None if timeout_ms is None else timeout_ms / 1000)
        return not self._thread.is_alive()

    def _run(self) -> None:
        try:
            value = self._work()
        except Exception as exc:  # delivered to on_error, never lost in the thread
            outcome: tuple[bool, object] = (False, exc)
        else:
            outcome = (True, value)
        with contextlib.suppress(RuntimeError):  # the application is gone (quitting)
            self._outcome.emit(*outcome)

    def _deliver(self, succeeded: bool, value: object) -> None:
        try:
            if self._owner is not None and not shiboken6.isValid(self._owner):
                return  # its window closed while the work ran: nobody to tell
            if succeeded and self._on_result is not None:
                self._on_result(value)
            elif not succeeded and self._on_error is not None:
                self._on_error(value)  # type: ignore[arg-type]
            elif not succeeded:  # nobody asked: reported like any uncaught error
                exc: BaseException = value  # type: ignore[assignment]
                sys.excepthook(type(exc), exc, exc.__traceback__)
            if self._on_finished is not None:
                self._on_finished()
        finally:  # dropped after this signal, never inside it
            QTimer.singleShot(0, lambda: WorkerThread._alive.discard(self))

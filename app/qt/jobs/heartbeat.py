"""A GUI-thread heartbeat: how long the event loop goes without running a timer.

Used by the responsiveness test and benchmark: while a job runs on the worker thread, a
timer ticks every few milliseconds on the GUI thread; the gaps between ticks are how long
the GUI could not react.
"""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer


class Heartbeat(QObject):
    """Records the time between ticks of a precise timer on the calling (GUI) thread."""

    def __init__(self, interval_ms: int = 5, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.interval_ms = interval_ms
        self.ticks: list[float] = []
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(lambda: self.ticks.append(time.perf_counter()))

    def start(self) -> None:
        """Begin (clears earlier ticks)."""
        self.ticks = [time.perf_counter()]
        self._timer.start()

    def stop(self) -> None:
        """Stop ticking."""
        self._timer.stop()

    def gaps_ms(self) -> np.ndarray:
        """Milliseconds between consecutive ticks."""
        return np.diff(np.asarray(self.ticks)) * 1000.0

    def summary(self) -> dict[str, float]:
        """Tick count and the gap distribution (median, p90, p99, max) in ms."""
        gaps = self.gaps_ms()
        if gaps.size == 0:
            return {"ticks": 0}
        return {
            "ticks": int(gaps.size),
            "interval_ms": float(self.interval_ms),
            "median_ms": float(np.median(gaps)),
            "p90_ms": float(np.percentile(gaps, 90)),
            "p99_ms": float(np.percentile(gaps, 99)),
            "max_ms": float(gaps.max()),
            "over_50ms": int((gaps > 50).sum()),
        }

"""A progress bar that only ever schedules repaints.

``QProgressBar.setValue`` repaints synchronously, and a synchronous repaint flushes every
pending update of the window (the canvas included) right there, inside the caller. This
bar draws the same native control but changes only call ``update()``, so progress
reports never stall the GUI thread with someone else's painting.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QSizePolicy, QStyle, QStyleOptionProgressBar, QStylePainter, QWidget


class LightProgressBar(QWidget):
    """Range, value and a format with %v / %m / %p, painted by the style."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._min, self._max, self._value = 0, 1, 0
        self._format = "%p%"
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def setRange(self, low: int, high: int) -> None:
        self._min, self._max = int(low), int(max(low, high))
        self._value = min(max(self._value, self._min), self._max)
        self.update()

    def setValue(self, value: int) -> None:
        self._value = min(max(int(value), self._min), self._max)
        self.update()

    def setFormat(self, text: str) -> None:
        self._format = text
        self.update()

    def value(self) -> int:
        return self._value

    def maximum(self) -> int:
        return self._max

    def text(self) -> str:
        """The label as drawn."""
        span = max(1, self._max - self._min)
        percent = round(100 * (self._value - self._min) / span)
        return (
            self._format.replace("%v", str(self._value))
            .replace("%m", str(self._max))
            .replace("%p", str(percent))
        )

    def _option(self) -> QStyleOptionProgressBar:
        opt = QStyleOptionProgressBar()
        opt.initFrom(self)
        opt.minimum, opt.maximum, opt.progress = self._min, self._max, self._value
        opt.text = self.text()
        opt.textVisible = True
        opt.textAlignment = Qt.AlignmentFlag.AlignCenter
        return opt

    def sizeHint(self) -> QSize:
        opt = self._option()
        height = self.fontMetrics().height() + 8
        return self.style().sizeFromContents(
            QStyle.ContentsType.CT_ProgressBar, opt, QSize(120, height), self
        )

    def minimumSizeHint(self) -> QSize:
        return QSize(60, self.sizeHint().height())

    def paintEvent(self, _event: object) -> None:
        painter = QStylePainter(self)
        painter.drawControl(QStyle.ControlElement.CE_ProgressBar, self._option())

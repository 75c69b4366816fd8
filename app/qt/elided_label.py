"""A one-line label that shows as much of its text as its width allows, all of it as tooltip.

Not ``superqt.QElidingLabel``: its size hint is the width of the text already elided, so in
a status bar that starts narrow it never asks for more room again. This one asks for its
whole text (up to its maximum width) and gives way down to a few characters.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QWidget

MIN_CHARS = "Model: de…"  # the narrowest it gets: still says what it is about


class ElidedLabel(QLabel):
    """``set_full_text`` sets the text; the label shows it cut with "…" when it lacks room."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""

    def full_text(self) -> str:
        """The text before eliding."""
        return self._full

    def set_full_text(self, text: str) -> None:
        """Show ``text`` (elided to the width), with all of it in the tooltip."""
        self._full = text
        self.setToolTip(text)
        self._elide()
        self.updateGeometry()

    def sizeHint(self) -> QSize:
        margins = self.contentsMargins()
        width = self.fontMetrics().horizontalAdvance(self._full) + margins.left() + margins.right() + 2
        return QSize(min(width, self.maximumWidth()), super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:
        width = min(self.fontMetrics().horizontalAdvance(MIN_CHARS), self.sizeHint().width())
        return QSize(width, super().minimumSizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        width = self.contentsRect().width()
        self.setText(self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, width))

"""The wheel scrolls the dock, not the value under the pointer.

A combo box or number field that the wheel passes over while the user scrolls the dock
would otherwise change (another operation, another input layer, another step count). Until
such a field has the keyboard focus (a click or Tab), its wheel events go to the dock's
scroll area instead.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QComboBox, QScrollArea, QWidget


class WheelGuard(QObject):
    """Event filter: wheel events of unfocused value widgets scroll ``scroll`` instead."""

    def __init__(self, scroll: QScrollArea) -> None:
        super().__init__(scroll)
        self.scroll = scroll

    def guard(self, root: QWidget) -> None:
        """Guard every combo box and spin box under ``root`` (and ``root`` itself)."""
        widgets = [root, *root.findChildren(QWidget)]
        for widget in widgets:
            if isinstance(widget, (QComboBox, QAbstractSpinBox)):
                widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # the wheel gives no focus
                widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Wheel and isinstance(watched, QWidget) and not watched.hasFocus():
            QApplication.sendEvent(self.scroll.verticalScrollBar(), event)
            return True
        return False

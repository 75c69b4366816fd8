"""The Operations dock: a placeholder until the operations panel is plugged in."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QLabel, QVBoxLayout, QWidget


class OperationsDock(QDockWidget):
    """Docked on the right; ``set_content(widget)`` swaps the placeholder for the real panel."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Operations", parent)
        self.setObjectName("operations_dock")
        placeholder = QWidget()
        layout = QVBoxLayout(placeholder)
        note = QLabel(
            "Generator operations (embed, edit segments, inpaint, matting...) will appear here."
        )
        note.setWordWrap(True)
        note.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        note.setEnabled(False)
        layout.addWidget(note)
        layout.addStretch(1)
        self.setWidget(placeholder)

    def set_content(self, widget: QWidget) -> QWidget | None:
        """Replace the dock's content; returns the old widget (now unparented)."""
        old = self.widget()
        self.setWidget(widget)
        if old is not None:
            old.setParent(None)
        return old

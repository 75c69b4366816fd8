"""The Operations dock: holds the operations panel (forms, Run, progress, results)."""

from __future__ import annotations

from PySide6.QtWidgets import QDockWidget, QWidget


class OperationsDock(QDockWidget):
    """Docked on the left under the tool options; shows ``content`` (the operations panel)."""

    def __init__(self, content: QWidget, parent: QWidget | None = None) -> None:
        super().__init__("Operations", parent)
        self.setObjectName("operations_dock")
        self.setWidget(content)

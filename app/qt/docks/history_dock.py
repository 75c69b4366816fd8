"""History: the list of undo steps; clicking a step jumps there."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QDockWidget, QListWidget, QListWidgetItem, QWidget

if TYPE_CHECKING:
    from latent_atelier.app.document.document import Document
    from latent_atelier.app.qt.document_signals import DocumentSignals

START_LABEL = "Opened"


class HistoryDock(QDockWidget):
    """Row 0 is the document as opened; row i is the state after step i."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("History", parent)
        self.setObjectName("history_dock")
        self.list = QListWidget()
        self.list.setObjectName("history_list")
        self.setWidget(self.list)
        self.document: Document | None = None
        self._signals: DocumentSignals | None = None
        self.list.itemClicked.connect(self._on_clicked)

    def set_document(self, document: Document | None, signals: DocumentSignals | None) -> None:
        """Follow another document's history."""
        if self._signals is not None:
            self._signals.history_changed.disconnect(self.refresh)
        self.document, self._signals = document, signals
        if signals is not None:
            signals.history_changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        """Sync the rows with the document's history (in place: rows are reused)."""
        history = self.document.history if self.document is not None else None
        labels: list[str] = []
        if history is not None:
            start = START_LABEL if not history.evicted else f"{START_LABEL} (older dropped)"
            labels = [start, *history.labels()]
        while self.list.count() > len(labels):
            self.list.takeItem(self.list.count() - 1)
        while self.list.count() < len(labels):
            self.list.addItem(QListWidgetItem())
        for row, label in enumerate(labels):
            item = self.list.item(row)
            item.setText(label)
            undone = history is not None and row > history.index  # greyed, click to redo
            item.setForeground(QBrush(QColor(140, 140, 140) if undone else QColor(220, 220, 220)))
        if history is not None:
            self.list.setCurrentRow(history.index)

    def _on_clicked(self, item: QListWidgetItem) -> None:
        if self.document is None:
            return
        row = self.list.row(item)
        if row != self.document.history.index:
            self.document.history.jump_to(row, self.document)

"""The pending-result box: thumbnails of the variants, Accept and Discard."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.qt.image_convert import qimage_from_rgba_float
from app.qt.operations.pending import PendingResults

THUMB = 72


def _thumbnail(pixels) -> QIcon:  # type: ignore[no-untyped-def]
    import numpy as np

    h, w = pixels.shape[:2]
    step = max(1, int(max(h, w) / (THUMB * 2)))
    small = np.ascontiguousarray(pixels[::step, ::step])
    image = qimage_from_rgba_float(small)
    return QIcon(QPixmap.fromImage(image).scaled(QSize(THUMB, THUMB)))


class PendingStrip(QGroupBox):
    """Visible while a result waits; a click on a thumbnail shows that variant."""

    def __init__(self, pending: PendingResults, parent: QWidget | None = None) -> None:
        super().__init__("Result", parent)
        self.setObjectName("pending_results")
        self.pending = pending
        self._shown_for: object = None
        self.label = QLabel("")
        self.label.setWordWrap(True)
        self.strip = QListWidget()
        self.strip.setObjectName("variant_strip")
        self.strip.setViewMode(QListView.ViewMode.IconMode)
        self.strip.setFlow(QListView.Flow.LeftToRight)
        self.strip.setWrapping(False)
        self.strip.setIconSize(QSize(THUMB, THUMB))
        self.strip.setFixedHeight(THUMB + 28)
        self.strip.currentRowChanged.connect(self._on_row)
        self.accept_button = QPushButton("Accept")
        self.accept_button.setObjectName("accept_result")
        self.discard_button = QPushButton("Discard")
        self.discard_button.setObjectName("discard_result")
        self.accept_button.clicked.connect(pending.accept)
        self.discard_button.clicked.connect(pending.discard)
        buttons = QHBoxLayout()
        buttons.addWidget(self.accept_button)
        buttons.addWidget(self.discard_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
        layout.addWidget(self.strip)
        layout.addLayout(buttons)
        pending.changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        """Follow the pending proposal."""
        proposal = self.pending.proposal
        self.setVisible(proposal is not None)
        if proposal is None:
            return
        names = ", ".join(lay.name.split(": ", 1)[-1] for lay in proposal.layers)
        text = f"{proposal.title}: {names or 'choose a variant'}"
        if proposal.notes:
            text += "\n(" + "; ".join(proposal.notes) + ")"
        self.label.setText(text)
        self.strip.blockSignals(True)
        if self._shown_for is not proposal:
            self._shown_for = proposal
            self.strip.clear()
            for i, layer in enumerate(proposal.variants):
                item = QListWidgetItem(_thumbnail(layer.pixels), str(i + 1))
                item.setToolTip(layer.name)
                self.strip.addItem(item)
        self.strip.setCurrentRow(self.pending.chosen if proposal.variants else -1)
        self.strip.setVisible(bool(proposal.variants))
        self.strip.blockSignals(False)

    def _on_row(self, row: int) -> None:
        if row >= 0:
            self.pending.choose(row)

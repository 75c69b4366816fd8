"""The pending-result box: thumbnails of the variants, Accept and Discard."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt
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

from latent_atelier.app.qt.image_convert import qimage_from_rgba_float
from latent_atelier.app.qt.operations.pending import PendingResults

THUMB = 72


def differing_region(
    variants: list[np.ndarray], pad: float = 0.25, threshold: float = 2.0 / 255.0
) -> tuple[slice, slice] | None:
    """The square-ish window (rows, columns) around every pixel where the variants differ
    from each other, grown by ``pad`` of its side; None when they do not differ or cover
    most of the image anyway. Thumbnails of a small hole's fills show that window."""
    if len(variants) < 2 or any(v.shape != variants[0].shape for v in variants):
        return None
    first = variants[0]
    differs = np.zeros(first.shape[:2], bool)
    for other in variants[1:]:
        differs |= np.abs(other - first).reshape(*first.shape[:2], -1).max(axis=2) > threshold
    if not differs.any():
        return None
    h, w = differs.shape
    rows, cols = np.flatnonzero(differs.any(axis=1)), np.flatnonzero(differs.any(axis=0))
    cy, cx = (rows[0] + rows[-1] + 1) / 2, (cols[0] + cols[-1] + 1) / 2
    side = max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1) * (1 + 2 * pad)
    if side >= 0.75 * max(h, w):
        return None
    half = side / 2
    y0, x0 = int(max(0, cy - half)), int(max(0, cx - half))
    y1, x1 = int(min(h, np.ceil(cy + half))), int(min(w, np.ceil(cx + half)))
    return slice(y0, y1), slice(x0, x1)


def _thumbnail(pixels: np.ndarray, window: tuple[slice, slice] | None = None) -> QIcon:
    if window is not None:
        pixels = pixels[window]
    h, w = pixels.shape[:2]
    step = max(1, int(max(h, w) / (THUMB * 2)))
    small = np.ascontiguousarray(pixels[::step, ::step])
    image = qimage_from_rgba_float(small)
    return QIcon(
        QPixmap.fromImage(image).scaled(
            QSize(THUMB, THUMB),
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
    )


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
            window = differing_region([lay.pixels for lay in proposal.variants])
            for i, layer in enumerate(proposal.variants):
                item = QListWidgetItem(_thumbnail(layer.pixels, window), str(i + 1))
                item.setToolTip(layer.name + ("" if window is None else " (where the variants differ)"))
                self.strip.addItem(item)
        self.strip.setCurrentRow(self.pending.chosen if proposal.variants else -1)
        self.strip.setVisible(bool(proposal.variants))
        self.strip.blockSignals(False)

    def _on_row(self, row: int) -> None:
        if row >= 0:
            self.pending.choose(row)

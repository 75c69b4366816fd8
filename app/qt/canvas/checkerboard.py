"""The transparency checkerboard brush drawn under the document."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPixmap


def checkerboard_brush(cell: int = 8) -> QBrush:
    """A two-tone grey checker brush (screen-space, independent of zoom)."""
    pixmap = QPixmap(cell * 2, cell * 2)
    pixmap.fill(QColor(204, 204, 204))
    painter = QPainter(pixmap)
    painter.fillRect(0, 0, cell, cell, QColor(153, 153, 153))
    painter.fillRect(cell, cell, cell, cell, QColor(153, 153, 153))
    painter.end()
    brush = QBrush(pixmap)
    brush.setStyle(Qt.BrushStyle.TexturePattern)
    return brush

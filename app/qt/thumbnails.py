"""Small previews of layers for the Layers panel (strided, so cheap on big layers)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPixmap

from latent_atelier.app.qt.canvas.checkerboard import checkerboard_brush
from latent_atelier.app.qt.image_convert import qimage_from_rgba_float

if TYPE_CHECKING:
    from latent_atelier.app.document.layers import Layer

THUMB_SIZE = 48


def layer_thumbnail(layer: Layer, size: int = THUMB_SIZE) -> QIcon:
    """An icon showing the layer over a checkerboard, at most ``size`` pixels a side."""
    from latent_atelier.app.document.layers import to_rgba

    h, w = layer.pixels.shape[:2]
    step = max(1, int(np.ceil(max(h, w) / (size * 2))))
    rgba = to_rgba(layer.pixels[::step, ::step], layer.kind, layer.palette, layer.tint)
    image = qimage_from_rgba_float(rgba).scaled(
        size,
        size,
        Qt.AspectRatioMode.KeepAspectRatio,
        Qt.TransformationMode.SmoothTransformation,
    )
    return QIcon(_on_checker(image, size))


def _on_checker(image: QImage, size: int) -> QPixmap:
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(0, 0, 0, 0))
    painter = QPainter(pixmap)
    x, y = (size - image.width()) // 2, (size - image.height()) // 2
    painter.fillRect(x, y, image.width(), image.height(), checkerboard_brush(4))
    painter.drawImage(x, y, image)
    painter.end()
    return pixmap


def color_swatch(rgb: tuple[int, int, int], size: int = 16) -> QIcon:
    """A flat square of one colour (segment palettes)."""
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(*rgb))
    return QIcon(pixmap)

"""Status bar fields: zoom, cursor position and the pixel value under the cursor."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QStatusBar, QWidget


class CanvasStatusBar(QStatusBar):
    """Permanent widgets on the right; transient messages on the left."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.zoom_label = QLabel("—")
        self.position_label = QLabel("")
        self.pixel_label = QLabel("")
        for label, width in (
            (self.position_label, 110),
            (self.pixel_label, 170),
            (self.zoom_label, 64),
        ):
            label.setMinimumWidth(width)
            self.addPermanentWidget(label)

    def show_zoom(self, zoom: float) -> None:
        """Zoom as a percentage (100% = one document pixel per device pixel)."""
        self.zoom_label.setText(f"{zoom * 100:.0f}%")

    def show_cursor(self, position: object, pixel: object) -> None:
        """Document position and premultiplied RGBA (shown straight, 0..255), or blank."""
        if position is None or pixel is None:
            self.position_label.setText("")
            self.pixel_label.setText("")
            return
        x, y = position  # type: ignore[misc]
        r, g, b, a = pixel  # type: ignore[misc]
        if a:
            r, g, b = (round(c * 255 / a) for c in (r, g, b))
        self.position_label.setText(f"x {x}  y {y}")
        self.pixel_label.setText(f"RGBA {r} {g} {b} {a}")

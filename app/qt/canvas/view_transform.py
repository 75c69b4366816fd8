"""Zoom and pan as a pure value: document pixels <-> widget (logical) coordinates."""

from __future__ import annotations

from dataclasses import dataclass

MIN_SCALE = 1.0 / 64.0
MAX_SCALE = 64.0
ZOOM_STEP = 1.25


@dataclass
class ViewTransform:
    """``widget = doc * scale + (dx, dy)``; ``scale`` is in logical pixels per document pixel.

    ``device_pixel_ratio`` lets "100%" mean one document pixel per *device* pixel,
    which is what keeps the canvas crisp on HiDPI screens.
    """

    scale: float = 1.0
    dx: float = 0.0
    dy: float = 0.0
    device_pixel_ratio: float = 1.0

    @property
    def zoom(self) -> float:
        """Document pixels per device pixel (1.0 == 100%)."""
        return self.scale * self.device_pixel_ratio

    def to_doc(self, x: float, y: float) -> tuple[float, float]:
        """Widget point -> document point."""
        return (x - self.dx) / self.scale, (y - self.dy) / self.scale

    def to_widget(self, x: float, y: float) -> tuple[float, float]:
        """Document point -> widget point."""
        return x * self.scale + self.dx, y * self.scale + self.dy

    def zoom_about(self, factor: float, wx: float, wy: float) -> None:
        """Multiply the scale by ``factor`` keeping the document point under (wx, wy) fixed."""
        doc_x, doc_y = self.to_doc(wx, wy)
        self.scale = min(MAX_SCALE, max(MIN_SCALE, self.scale * factor))
        self.dx = wx - doc_x * self.scale
        self.dy = wy - doc_y * self.scale

    def set_zoom(self, zoom: float, wx: float, wy: float) -> None:
        """Set the zoom (device pixels per document pixel) about a widget point."""
        target = zoom / self.device_pixel_ratio
        self.zoom_about(target / self.scale, wx, wy)

    def fit(self, doc_w: int, doc_h: int, view_w: int, view_h: int, margin: int = 16) -> None:
        """Scale and centre the whole document inside the view."""
        avail_w, avail_h = max(1, view_w - 2 * margin), max(1, view_h - 2 * margin)
        self.scale = min(MAX_SCALE, max(MIN_SCALE, min(avail_w / doc_w, avail_h / doc_h)))
        self.center(doc_w, doc_h, view_w, view_h)

    def center(self, doc_w: int, doc_h: int, view_w: int, view_h: int) -> None:
        """Centre the document in the view at the current scale."""
        self.dx = (view_w - doc_w * self.scale) / 2.0
        self.dy = (view_h - doc_h * self.scale) / 2.0

    def pan(self, ddx: float, ddy: float) -> None:
        """Move the document by a widget-space delta."""
        self.dx += ddx
        self.dy += ddy

    def doc_rect_to_widget(self, rect: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
        """A document rect (x, y, w, h) -> the enclosing widget rect, padded by one pixel."""
        x, y, w, h = rect
        x0, y0 = self.to_widget(x, y)
        x1, y1 = self.to_widget(x + w, y + h)
        left, top = int(x0) - 1, int(y0) - 1
        return left, top, int(x1) + 2 - left, int(y1) + 2 - top

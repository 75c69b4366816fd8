"""Move and scale the background layer with handles on the canvas.

Dragging inside the background's rectangle moves it (one undo step on release: an
offset change); dragging a corner scales it about the opposite corner (one undo step on
release: the source image resampled at the new scale).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen

from latent_atelier.app.qt.canvas.drag_overlay import FrameDragOverlay

if TYPE_CHECKING:
    from latent_atelier.app.qt.canvas.canvas_widget import CanvasWidget

HANDLE_PX = 10.0


class BackgroundHandles(FrameDragOverlay):
    """Draws the frame of the background being edited; filters the canvas's mouse."""

    # (x, y, width, height) in document pixels, released
    rect_chosen = Signal(float, float, float, float)
    handle_px = HANDLE_PX

    def __init__(self, canvas: CanvasWidget) -> None:
        super().__init__(canvas, "background_handles")
        self.rect_doc: QRectF | None = None
        self.hide()

    def edit(self, rect: tuple[float, float, float, float] | None) -> None:
        """Show handles for a document rectangle (None: stop editing)."""
        self.rect_doc = None if rect is None else QRectF(*rect)
        self.setVisible(rect is not None)
        self.update()

    def _widget_rect(self) -> QRectF:
        assert self.rect_doc is not None
        view = self.canvas.view
        x0, y0 = view.to_widget(self.rect_doc.left(), self.rect_doc.top())
        x1, y1 = view.to_widget(self.rect_doc.right(), self.rect_doc.bottom())
        return QRectF(x0, y0, x1 - x0, y1 - y0)

    def paintEvent(self, _event: Any) -> None:
        if self.rect_doc is None:
            return
        painter = QPainter(self)
        r = self._widget_rect()
        painter.setPen(QPen(QColor(0, 0, 0, 170), 3))
        painter.drawRect(r)
        painter.setPen(QPen(QColor(255, 140, 60), 1.5, Qt.PenStyle.DashLine))
        painter.drawRect(r)
        painter.setPen(QPen(QColor(0, 0, 0), 1))
        painter.setBrush(QColor(255, 140, 60))
        for p in (r.topLeft(), r.topRight(), r.bottomRight(), r.bottomLeft()):
            painter.drawRect(QRectF(p.x() - HANDLE_PX / 2, p.y() - HANDLE_PX / 2, HANDLE_PX, HANDLE_PX))
        painter.end()

    def accepts_drags(self) -> bool:
        return self.rect_doc is not None

    def _frame_corners(self) -> list[QPointF]:
        r = self._widget_rect()
        return [r.topLeft(), r.topRight(), r.bottomRight(), r.bottomLeft()]

    def _frame_contains(self, pos: QPointF) -> bool:
        return self._widget_rect().contains(pos)

    def _frame_copy(self) -> QRectF:
        assert self.rect_doc is not None
        return QRectF(self.rect_doc)

    def _drag_to(self, mode: str, dx: float, dy: float, start: QRectF) -> None:
        if mode == "move":
            self.rect_doc = start.translated(dx, dy)
            return
        # keep the aspect ratio, the opposite corner fixed
        sx = 1 if "r" in mode else -1
        sy = 1 if "b" in mode else -1
        grow = max(sx * dx / start.width(), sy * dy / start.height())
        f = max(0.05, 1.0 + grow)
        w, h = start.width() * f, start.height() * f
        x = start.left() if sx > 0 else start.right() - w
        y = start.top() if sy > 0 else start.bottom() - h
        self.rect_doc = QRectF(x, y, w, h)

    def _released(self) -> None:
        r = self.rect_doc
        assert r is not None
        self.rect_chosen.emit(r.x(), r.y(), r.width(), r.height())

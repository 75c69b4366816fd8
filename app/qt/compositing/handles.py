"""Move and scale the background layer with handles on the canvas.

Dragging inside the background's rectangle moves it (one undo step on release: an
offset change); dragging a corner scales it about the opposite corner (one undo step on
release: the source image resampled at the new scale).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QWidget

if TYPE_CHECKING:
    from latent_atelier.app.qt.canvas.canvas_widget import CanvasWidget

HANDLE_PX = 10.0


class BackgroundHandles(QWidget):
    """Draws the frame of the background being edited; filters the canvas's mouse."""

    # (x, y, width, height) in document pixels, released
    rect_chosen = Signal(float, float, float, float)

    def __init__(self, canvas: CanvasWidget) -> None:
        super().__init__(canvas)
        self.setObjectName("background_handles")
        self.canvas = canvas
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
        self.setGeometry(canvas.rect())
        self.rect_doc: QRectF | None = None
        self._drag: tuple[str, QPointF, QRectF] | None = None
        canvas.installEventFilter(self)
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

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.Resize:
            self.setGeometry(self.canvas.rect())
            return False
        if self.rect_doc is None:
            return False
        if kind == QEvent.Type.MouseButtonPress and event.button() == Qt.MouseButton.LeftButton:
            return self._press(event.position())
        if kind == QEvent.Type.MouseMove and self._drag is not None:
            self._move(event.position())
            return True
        if kind == QEvent.Type.MouseButtonRelease and self._drag is not None:
            self._drag = None
            r = self.rect_doc
            self.rect_chosen.emit(r.x(), r.y(), r.width(), r.height())
            return True
        return False

    def _press(self, pos: QPointF) -> bool:
        assert self.rect_doc is not None
        r = self._widget_rect()
        corners = {"tl": r.topLeft(), "tr": r.topRight(), "br": r.bottomRight(), "bl": r.bottomLeft()}
        for name, p in corners.items():
            if abs(p.x() - pos.x()) <= HANDLE_PX and abs(p.y() - pos.y()) <= HANDLE_PX:
                self._drag = (name, pos, QRectF(self.rect_doc))
                return True
        if r.contains(pos):
            self._drag = ("move", pos, QRectF(self.rect_doc))
            return True
        return False

    def _move(self, pos: QPointF) -> None:
        assert self._drag is not None
        mode, start, orig = self._drag
        scale = self.canvas.view.scale
        dx, dy = (pos.x() - start.x()) / scale, (pos.y() - start.y()) / scale
        if mode == "move":
            self.rect_doc = orig.translated(dx, dy)
        else:  # keep the aspect ratio, the opposite corner fixed
            sx = 1 if "r" in mode else -1
            sy = 1 if "b" in mode else -1
            grow = max(sx * dx / orig.width(), sy * dy / orig.height())
            f = max(0.05, 1.0 + grow)
            w, h = orig.width() * f, orig.height() * f
            x = orig.left() if sx > 0 else orig.right() - w
            y = orig.top() if sy > 0 else orig.bottom() - h
            self.rect_doc = QRectF(x, y, w, h)
        self.update()

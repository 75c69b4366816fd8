"""A transparent layer over the canvas: the placement box and the live job preview.

The overlay is a child widget of the canvas that ignores the mouse; box editing works
through an event filter on the canvas that only takes presses on the box while the
"Place" mode is on, so painting is untouched otherwise. Dragging inside the box moves
it; dragging a corner resizes it (square, the opposite corner fixed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QPointF, QRect, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPolygonF, QTransform

from latent_atelier.app.qt.canvas.drag_overlay import FrameDragOverlay
from latent_atelier.app.qt.image_convert import qimage_from_rgba_float
from latent_atelier.app.qt.placement.geometry import SquareBox

if TYPE_CHECKING:
    from latent_atelier.app.qt.canvas.canvas_widget import CanvasWidget

HANDLE_PX = 9.0
MIN_SIDE = 8.0


class CanvasOverlay(FrameDragOverlay):
    """Draws on top of the canvas; owns the placement box state."""

    box_edited = Signal()  # the user dragged the box (not a reset or a new document)
    handle_px = HANDLE_PX

    def __init__(self, canvas: CanvasWidget) -> None:
        super().__init__(canvas, "canvas_overlay")
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground, True)
        self.box: SquareBox | None = None
        self.aligned: Any = None  # an editors Placement from face alignment (may be rotated)
        self.editing = False
        self._preview: QImage | None = None
        self._preview_corners: np.ndarray | None = None  # TL, TR, BL in document pixels
        self.show()

    # ------------------------------------------------------------------ state
    def reset_box(self, width: int, height: int) -> None:
        """The default box: the largest centred square of the document."""
        self.box = SquareBox.centred(width, height)
        self.aligned = None
        self.update()

    def set_aligned(self, placement: Any) -> None:
        """Use a (possibly rotated) placement from face alignment."""
        self.aligned = placement
        corners = placement.outline()
        side = float(np.linalg.norm(corners[1] - corners[0]))
        centre = corners.mean(axis=0)
        self.box = SquareBox(centre[0] - side / 2, centre[1] - side / 2, side)
        self.update()

    def current_placement_source(self) -> Any:
        """What the operations use: the aligned Placement, else the SquareBox."""
        return self.aligned if self.aligned is not None else self.box

    def set_editing(self, on: bool) -> None:
        """Turn the box's mouse handling on or off."""
        self.editing = on
        self.update()

    def show_preview(self, image: np.ndarray, corners: np.ndarray) -> None:
        """Draw ``image`` (HxWx3/4 float) with its TL, TR, BL corners at document points."""
        old = self._preview_rect()
        self._preview = qimage_from_rgba_float(image)
        self._preview_corners = corners
        self._update_rect(old, self._preview_rect())

    def clear_preview(self) -> None:
        """Stop drawing the preview."""
        old = self._preview_rect()
        self._preview = None
        self._preview_corners = None
        self._update_rect(old, None)

    def _preview_rect(self) -> QRect | None:
        """The widget area the preview covers (repainting only it keeps the GUI light)."""
        if self._preview_corners is None:
            return None
        tl, tr, bl = self._widget_points(self._preview_corners)
        br = QPointF(tr.x() + bl.x() - tl.x(), tr.y() + bl.y() - tl.y())
        return QPolygonF([tl, tr, br, bl]).boundingRect().toAlignedRect().adjusted(-3, -3, 3, 3)

    def _update_rect(self, a: QRect | None, b: QRect | None) -> None:
        if a is None and b is None:
            return
        rect = a if b is None else (b if a is None else a.united(b))
        self.update(rect)

    @property
    def has_preview(self) -> bool:
        """True while a preview is drawn."""
        return self._preview is not None

    # ------------------------------------------------------------------ painting
    def paintEvent(self, _event: Any) -> None:
        if self.canvas.document is None:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if self._preview is not None and self._preview_corners is not None:
            self._draw_preview(painter)
        if self.box is not None and (self.editing or self.aligned is not None):
            self._draw_box(painter)
        painter.end()

    def _widget_points(self, pts: np.ndarray) -> list[QPointF]:
        view = self.canvas.view
        return [QPointF(*view.to_widget(float(x), float(y))) for x, y in pts]

    def _draw_preview(self, painter: QPainter) -> None:
        assert self._preview is not None and self._preview_corners is not None
        w, h = self._preview.width(), self._preview.height()
        tl, tr, bl = self._widget_points(self._preview_corners)
        # image (0,0)->tl, (w,0)->tr, (0,h)->bl
        t = QTransform(
            (tr.x() - tl.x()) / w,
            (tr.y() - tl.y()) / w,
            (bl.x() - tl.x()) / h,
            (bl.y() - tl.y()) / h,
            tl.x(),
            tl.y(),
        )
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        painter.setTransform(t)
        painter.drawImage(0, 0, self._preview)
        painter.restore()
        painter.setPen(QPen(QColor(255, 200, 40, 220), 2))
        corner4 = [tl, tr, QPointF(tr.x() + bl.x() - tl.x(), tr.y() + bl.y() - tl.y()), bl]
        painter.drawPolygon(QPolygonF(corner4))

    def _draw_box(self, painter: QPainter) -> None:
        assert self.box is not None
        corners = self.aligned.outline() if self.aligned is not None else self.box.corners()
        poly = QPolygonF(self._widget_points(corners))
        for color, width, style in (
            (QColor(0, 0, 0, 170), 3, Qt.PenStyle.SolidLine),
            (QColor(80, 200, 255), 1.5, Qt.PenStyle.DashLine),
        ):
            painter.setPen(QPen(color, width, style))
            painter.drawPolygon(poly)
        if self.editing:
            painter.setPen(QPen(QColor(0, 0, 0), 1))
            painter.setBrush(QColor(80, 200, 255))
            for p in self._widget_points(self.box.corners()):
                painter.drawRect(
                    int(p.x() - HANDLE_PX / 2), int(p.y() - HANDLE_PX / 2), int(HANDLE_PX), int(HANDLE_PX)
                )

    # ------------------------------------------------------------------ mouse
    def accepts_drags(self) -> bool:
        return self.editing and self.box is not None

    def _frame_corners(self) -> list[QPointF]:
        assert self.box is not None
        return self._widget_points(self.box.corners())

    def _frame_contains(self, pos: QPointF) -> bool:
        assert self.box is not None
        x, y = self.canvas.widget_to_doc(pos)
        b = self.box
        return b.x <= x <= b.x + b.side and b.y <= y <= b.y + b.side

    def _frame_copy(self) -> SquareBox:
        assert self.box is not None
        return SquareBox(self.box.x, self.box.y, self.box.side)

    def _drag_to(self, mode: str, dx: float, dy: float, start: SquareBox) -> None:
        self.aligned = None  # a hand-placed box replaces an aligned one
        if mode == "move":
            self.box = SquareBox(start.x + dx, start.y + dy, start.side)
            return
        sx = 1 if "r" in mode else -1
        sy = 1 if "b" in mode else -1
        grow = max(sx * dx, sy * dy)
        side = max(MIN_SIDE, start.side + grow)
        x = start.x if sx > 0 else start.x + start.side - side
        y = start.y if sy > 0 else start.y + start.side - side
        self.box = SquareBox(x, y, side)

    def _released(self) -> None:
        self.box_edited.emit()

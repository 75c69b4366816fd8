"""A transparent child of the canvas that edits a frame by dragging it or its corners.

The background handles (compositing) and the placement box both work this way: the widget
ignores the mouse itself and filters the canvas's events instead, so a press is taken only
when it lands on the frame and painting is untouched otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, QPointF, Qt
from PySide6.QtWidgets import QWidget

if TYPE_CHECKING:
    from latent_atelier.app.qt.canvas.canvas_widget import CanvasWidget

CORNERS = ("tl", "tr", "br", "bl")


class FrameDragOverlay(QWidget):
    """Follows the canvas's size; while :meth:`accepts_drags`, a left-button press on a
    corner (within ``handle_px``) or inside the frame starts a drag, moves go to
    :meth:`_drag_to` in document units, and the release calls :meth:`_released`."""

    handle_px = 10.0

    def __init__(self, canvas: CanvasWidget, name: str) -> None:
        super().__init__(canvas)
        self.setObjectName(name)
        self.canvas = canvas
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
        self.setGeometry(canvas.rect())
        self._drag: tuple[str, QPointF, Any] | None = None  # mode, press point, frame then
        canvas.installEventFilter(self)

    # ------------------------------------------------------------------ subclasses
    def accepts_drags(self) -> bool:
        """Whether a frame is shown for editing now."""
        raise NotImplementedError

    def _frame_corners(self) -> list[QPointF]:
        """The frame's corners in widget pixels, in the order of CORNERS."""
        raise NotImplementedError

    def _frame_contains(self, pos: QPointF) -> bool:
        """Whether the widget point ``pos`` is inside the frame."""
        raise NotImplementedError

    def _frame_copy(self) -> Any:
        """The frame as it is when a drag starts (given back to :meth:`_drag_to`)."""
        raise NotImplementedError

    def _drag_to(self, mode: str, dx: float, dy: float, start: Any) -> None:
        """Move (``mode`` "move") or scale from a corner (``mode`` in CORNERS) the frame
        ``start`` by ``dx``, ``dy`` document pixels."""
        raise NotImplementedError

    def _released(self) -> None:
        """The drag ended."""
        raise NotImplementedError

    # ------------------------------------------------------------------ mouse
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.Resize:
            self.setGeometry(self.canvas.rect())
            return False
        if not self.accepts_drags():
            return False
        if kind == QEvent.Type.MouseButtonPress and event.button() == Qt.MouseButton.LeftButton:
            return self._press(event.position())
        if kind == QEvent.Type.MouseMove and self._drag is not None:
            mode, start, frame = self._drag
            scale = self.canvas.view.scale
            pos = event.position()
            self._drag_to(mode, (pos.x() - start.x()) / scale, (pos.y() - start.y()) / scale, frame)
            self.update()
            return True
        if kind == QEvent.Type.MouseButtonRelease and self._drag is not None:
            self._drag = None
            self._released()
            return True
        return False

    def _press(self, pos: QPointF) -> bool:
        for name, p in zip(CORNERS, self._frame_corners(), strict=True):
            if abs(p.x() - pos.x()) <= self.handle_px and abs(p.y() - pos.y()) <= self.handle_px:
                self._drag = (name, pos, self._frame_copy())
                return True
        if self._frame_contains(pos):
            self._drag = ("move", pos, self._frame_copy())
            return True
        return False

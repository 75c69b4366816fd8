"""The canvas: a plain QWidget with a custom paintEvent.

Why not QGraphicsView: the canvas shows exactly one image (the composite) plus a
cursor and a lasso outline. A QWidget that draws the visible part of one cached
QImage through a ViewTransform is simpler, makes dirty-rect repaints exact
(document rect -> widget rect -> ``update(rect)``), and gives full control of the
sampling filter (smooth when zoomed out, nearest-neighbour when zoomed in) and of
what "100%" means on HiDPI screens (one document pixel per device pixel).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QTabletEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QWidget

from latent_atelier.app.qt.canvas.checkerboard import checkerboard_brush
from latent_atelier.app.qt.canvas.composite_cache import CompositeCache
from latent_atelier.app.qt.canvas.tools import Tool, ToolContext, ToolKind, make_tool
from latent_atelier.app.qt.canvas.view_transform import ZOOM_STEP, ViewTransform
from latent_atelier.app.qt.document_signals import follow_signals

if TYPE_CHECKING:
    from latent_atelier.app.document.brush import BrushSettings
    from latent_atelier.app.document.document import Document
    from latent_atelier.app.document.layers import Layer
    from latent_atelier.app.qt.document_signals import DocumentSignals

BEFORE_AFTER_KEYS = (Qt.Key.Key_Backslash, Qt.Key.Key_QuoteLeft)
BACKGROUND = QColor(58, 58, 62)
SCROLL_STEP_PX = 60.0  # widget pixels one wheel notch scrolls


class _ViewFlag:
    """A display switch of the canvas (the document is unchanged): setting it to a new value
    recomposites the view."""

    def __init__(self, doc: str) -> None:
        self.__doc__ = doc
        self._attr = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self._attr = f"_{name}"

    def __get__(self, canvas: CanvasWidget | None, owner: type | None = None) -> Any:
        return self if canvas is None else getattr(canvas, self._attr)

    def __set__(self, canvas: CanvasWidget, on: bool) -> None:
        if on != getattr(canvas, self._attr):
            setattr(canvas, self._attr, on)
            canvas.invalidate_all()


class CanvasWidget(QWidget):
    """Shows the document composite and routes pointer input to the current tool."""

    cursor_moved = Signal(object, object)  # (x, y) document ints | None, displayed RGBA | None
    zoom_changed = Signal(float)  # 1.0 == 100% (one document pixel per device pixel)
    message = Signal(str)  # short notes for the status bar (errors from tools)
    color_picked = Signal(tuple)
    label_picked = Signal(int)

    def __init__(self, settings: BrushSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("canvas")
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAcceptDrops(False)  # the main window handles drops
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setMinimumSize(200, 200)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.settings = settings
        self.view = ViewTransform()
        self.document: Document | None = None
        self.cache: CompositeCache | None = None
        self._signals: DocumentSignals | None = None
        self._checker = checkerboard_brush()
        self._tool_kind = ToolKind.BRUSH
        self._tool: Tool | None = None
        self._show_masks = True
        self._photo_only = False
        self._hide_photo = False
        self._space_held = False
        self._panning_from: QPointF | None = None
        self._drawing = False
        self._needs_fit = True
        self._cursor_pos: QPointF | None = None

    # ----------------------------------------------------------------- document
    def set_document(self, document: Document | None, signals: DocumentSignals | None) -> None:
        """Show a document (or nothing); connects to its signals."""
        follow_signals(self._signals, signals, self._connections)
        self._cancel_tool()
        self.document, self._signals = document, signals
        self.cache = CompositeCache(document, self._include_ids) if document else None
        self._tool = make_tool(self._tool_kind, self._tool_context()) if document else None
        self._needs_fit = True
        if self.isVisible() and document is not None:
            self.fit()
        self.update()

    def _connections(self, s: DocumentSignals) -> list:
        return [
            (s.pixels_changed, self._on_pixels),
            (s.layers_changed, self._on_pixels),
            (s.props_changed, self._on_pixels),
        ]

    def _tool_context(self) -> ToolContext:
        assert self.document is not None
        return ToolContext(
            document=self.document,
            settings=self.settings,
            on_error=self.message.emit,
            on_color_picked=self.color_picked.emit,
            on_label_picked=self.label_picked.emit,
            request_overlay_update=self.update,
        )

    def _include_ids(self, document: Document) -> list[str] | None:
        """Which layers the composite shows: all visible, minus masks and/or photos, or the photo."""
        from latent_atelier.app.document.layers import LayerKind

        if self._photo_only:
            return [layer.id for layer in document.layers if layer.kind == LayerKind.PHOTO]
        hidden = () if self._show_masks else (LayerKind.MASK, LayerKind.MATTE)
        if hidden or self._hide_photo:
            return [
                lay.id
                for lay in document.layers
                if lay.visible
                and lay.kind not in hidden
                and not (self._hide_photo and _is_opaque_picture(lay))
            ]
        return None

    def _on_pixels(self, _layer_id: object, rect: object) -> None:
        if self.cache is None:
            return
        if rect is None:
            self.invalidate_all()
            return
        self.cache.invalidate(rect)  # type: ignore[arg-type]
        self.update(QRect(*self.view.doc_rect_to_widget(rect)))  # type: ignore[arg-type]

    def invalidate_all(self) -> None:
        """Recompute the whole composite at the next paint."""
        if self.cache is not None:
            self.cache.invalidate(None)
        self.update()

    # ------------------------------------------------------------- view state
    show_masks = _ViewFlag("Whether mask and matte layers are drawn (Alt+M).")
    hide_photo = _ViewFlag(
        "Whether the photo and opaque results are left out of the view, so a cut-out shows "
        "over the checkerboard or a dropped background (display only)."
    )
    photo_only = _ViewFlag("Whether only the photo is drawn (the 'before' view, key held).")

    def set_show_masks(self, on: bool) -> None:  # slots for the View menu's toggles
        self.show_masks = on

    def set_hide_photo(self, on: bool) -> None:
        self.hide_photo = on

    def set_photo_only(self, on: bool) -> None:
        self.photo_only = on

    @property
    def tool_kind(self) -> ToolKind:
        """The current tool."""
        return self._tool_kind

    def set_tool(self, kind: ToolKind) -> None:
        """Switch tools (finishing any action in progress)."""
        self._cancel_tool()
        self._tool_kind = kind
        self._tool = make_tool(kind, self._tool_context()) if self.document else None
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.update()

    def fit(self) -> None:
        """Fit the whole document in view (Ctrl+0)."""
        if self.document is None:
            return
        self._sync_dpr()
        self.view.fit(self.document.width, self.document.height, self.width(), self.height())
        self._needs_fit = False
        self._view_changed()

    def actual_pixels(self) -> None:
        """100%: one document pixel per device pixel, about the view centre (Ctrl+1)."""
        self._sync_dpr()
        self.view.set_zoom(1.0, self.width() / 2, self.height() / 2)
        self._view_changed()

    def zoom_by(self, factor: float, at: QPointF | None = None) -> None:
        """Zoom about a widget point (default: the centre)."""
        p = at if at is not None else QPointF(self.width() / 2, self.height() / 2)
        self.view.zoom_about(factor, p.x(), p.y())
        self._view_changed()

    def zoom_in(self) -> None:
        """One zoom step in."""
        self.zoom_by(ZOOM_STEP)

    def zoom_out(self) -> None:
        """One zoom step out."""
        self.zoom_by(1 / ZOOM_STEP)

    def _view_changed(self) -> None:
        self.zoom_changed.emit(self.view.zoom)
        self.update()

    def _sync_dpr(self) -> None:
        self.view.device_pixel_ratio = float(self.devicePixelRatioF())

    def widget_to_doc(self, pos: QPointF) -> tuple[float, float]:
        """Widget position -> document coordinates (floats)."""
        return self.view.to_doc(pos.x(), pos.y())

    def doc_to_widget(self, x: float, y: float) -> QPointF:
        """Document coordinates -> widget position."""
        return QPointF(*self.view.to_widget(x, y))

    # --------------------------------------------------------------- painting
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        exposed = event.rect()
        painter.fillRect(exposed, BACKGROUND)
        if self.document is None or self.cache is None:
            painter.setPen(QColor(200, 200, 200))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "Drop a photo here")
            return
        self.cache.flush()
        self._draw_image(painter, exposed)
        if self._tool is not None:
            self._tool.paint_overlay(painter, self.view)
        self._draw_brush_cursor(painter)
        painter.end()

    def _draw_image(self, painter: QPainter, exposed: QRect) -> None:
        assert self.document is not None and self.cache is not None
        doc_w, doc_h = self.document.width, self.document.height
        x0, y0 = self.view.to_doc(exposed.left(), exposed.top())
        x1, y1 = self.view.to_doc(exposed.right() + 1, exposed.bottom() + 1)
        sx0, sy0 = max(0, math.floor(x0)), max(0, math.floor(y0))
        sx1, sy1 = min(doc_w, math.ceil(x1)), min(doc_h, math.ceil(y1))
        if sx1 <= sx0 or sy1 <= sy0:
            return
        tx0, ty0 = self.view.to_widget(sx0, sy0)
        tx1, ty1 = self.view.to_widget(sx1, sy1)
        target = QRectF(tx0, ty0, tx1 - tx0, ty1 - ty0)
        painter.fillRect(target, self._checker)
        smooth = self.view.zoom < 1.0
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, smooth)
        source = QRectF(sx0, sy0, sx1 - sx0, sy1 - sy0)
        painter.drawImage(target, self.cache.image, source)

    def _draw_brush_cursor(self, painter: QPainter) -> None:
        if self._cursor_pos is None or self._tool_kind not in (ToolKind.BRUSH, ToolKind.ERASER):
            return
        radius = max(1.0, self.settings.size * self.view.scale / 2)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for color, width in ((QColor(0, 0, 0, 160), 3), (QColor(255, 255, 255, 220), 1)):
            painter.setPen(QPen(color, width))
            painter.drawEllipse(self._cursor_pos, radius, radius)

    def _cursor_rect(self, pos: QPointF | None) -> QRect:
        if pos is None:
            return QRect()
        r = int(self.settings.size * self.view.scale / 2) + 4
        return QRect(int(pos.x()) - r, int(pos.y()) - r, 2 * r, 2 * r)

    # ------------------------------------------------------------------ input
    def resizeEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        super().resizeEvent(event)
        if self._needs_fit and self.document is not None:
            self.fit()

    def showEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        super().showEvent(event)
        if self._needs_fit and self.document is not None:
            self.fit()

    def wheelEvent(self, event: QWheelEvent) -> None:
        """As in Krita, GIMP and Photoshop: the wheel scrolls (Shift+wheel sideways), a
        touchpad pans, Ctrl+wheel zooms about the cursor."""
        mods = event.modifiers()
        if mods & Qt.KeyboardModifier.ControlModifier:
            steps = event.angleDelta().y() / 120.0
            if steps:
                self.zoom_by(ZOOM_STEP**steps, event.position())
            event.accept()
            return
        pixels = event.pixelDelta()
        if not pixels.isNull():  # a touchpad: move with the fingers
            dx, dy = float(pixels.x()), float(pixels.y())
        else:
            angle = event.angleDelta()
            dx, dy = angle.x() / 120.0 * SCROLL_STEP_PX, angle.y() / 120.0 * SCROLL_STEP_PX
        if mods & Qt.KeyboardModifier.ShiftModifier and not dx:
            dx, dy = dy, 0.0
        if dx or dy:
            self.view.pan(dx, dy)
            self.update()
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        button = event.button()
        if button == Qt.MouseButton.MiddleButton or (
            button == Qt.MouseButton.LeftButton and self._space_held
        ):
            self._panning_from = event.position()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
        elif button == Qt.MouseButton.LeftButton:
            self._begin_tool(event.position(), 1.0)
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        if self._panning_from is not None:
            delta = pos - self._panning_from
            self._panning_from = pos
            self.view.pan(delta.x(), delta.y())
            self.update()
        elif self._drawing:
            self._move_tool(pos, 1.0)
        self._track_cursor(pos)
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._panning_from is not None and event.button() in (
            Qt.MouseButton.MiddleButton,
            Qt.MouseButton.LeftButton,
        ):
            self._panning_from = None
            self.setCursor(Qt.CursorShape.OpenHandCursor if self._space_held else Qt.CursorShape.CrossCursor)
        elif event.button() == Qt.MouseButton.LeftButton:
            self._end_tool()
        event.accept()

    def tabletEvent(self, event: QTabletEvent) -> None:
        """Pen input with pressure; accepted so Qt does not also send mouse events."""
        kind = event.type()
        pos, pressure = event.position(), float(event.pressure())
        if kind == QEvent.Type.TabletPress and not self._space_held:
            self._begin_tool(pos, pressure)
        elif kind == QEvent.Type.TabletMove:
            if self._drawing:
                self._move_tool(pos, pressure)
            self._track_cursor(pos)
        elif kind == QEvent.Type.TabletRelease:
            self._end_tool()
        event.accept()

    def leaveEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        old = self._cursor_rect(self._cursor_pos)
        self._cursor_pos = None
        self.update(old)
        self.cursor_moved.emit(None, None)
        super().leaveEvent(event)

    def enterEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        super().enterEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if not self._held_key(event, down=True):
            super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if not self._held_key(event, down=False):
            super().keyReleaseEvent(event)

    def _held_key(self, event: QKeyEvent, down: bool) -> bool:
        """Space (pan) and the before/after key act while held; True when ``event`` was theirs
        (auto-repeats included)."""
        if event.isAutoRepeat():
            event.accept()
            return True
        if event.key() == Qt.Key.Key_Space:
            self._space_held = down
            if not down:
                self._panning_from = None
            self.setCursor(Qt.CursorShape.OpenHandCursor if down else Qt.CursorShape.CrossCursor)
            return True
        if event.key() in BEFORE_AFTER_KEYS:
            self.photo_only = down
            return True
        return False

    def focusOutEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        self._space_held = False
        self.set_photo_only(False)
        super().focusOutEvent(event)

    # ------------------------------------------------------------ tool driving
    def _begin_tool(self, pos: QPointF, pressure: float) -> None:
        if self._tool is None:
            return
        self._drawing = True
        x, y = self.widget_to_doc(pos)
        self._tool.press(x, y, pressure)

    def _move_tool(self, pos: QPointF, pressure: float) -> None:
        if self._tool is not None:
            x, y = self.widget_to_doc(pos)
            self._tool.move(x, y, pressure)

    def _end_tool(self) -> None:
        if self._drawing and self._tool is not None:
            self._drawing = False
            self._tool.release()

    def _cancel_tool(self) -> None:
        if self._drawing and self._tool is not None:
            self._tool.cancel()
        self._drawing = False

    def _track_cursor(self, pos: QPointF) -> None:
        old = self._cursor_rect(self._cursor_pos)
        self._cursor_pos = pos
        self.update(old.united(self._cursor_rect(pos)))
        if self.cache is None:
            return
        x, y = self.widget_to_doc(pos)
        ix, iy = math.floor(x), math.floor(y)
        pixel = self.cache.pixel(ix, iy)
        self.cursor_moved.emit((ix, iy) if pixel is not None else None, pixel)


def _is_opaque_picture(layer: Layer) -> bool:
    """The photo, or an operation's result without alpha (an edited copy of the photo)."""
    from latent_atelier.app.document.layers import LayerKind

    return layer.kind == LayerKind.PHOTO or (layer.kind == LayerKind.RESULT and not layer.is_cutout)

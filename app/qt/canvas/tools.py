"""Canvas tools: brush, eraser, fill bucket, lasso fill and colour picker.

Each tool turns press/move/release in document coordinates into calls on
``latent_atelier.app.document.brush``; the document then emits "pixels" events that refresh the canvas.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QPainter, QPen, QPolygonF

if TYPE_CHECKING:
    from latent_atelier.app.document.brush import BrushSettings
    from latent_atelier.app.document.document import Document
    from latent_atelier.app.qt.canvas.view_transform import ViewTransform


class ToolKind(str, Enum):
    """The tools, with their Krita/Photoshop-style shortcut keys."""

    BRUSH = "brush"
    ERASER = "eraser"
    FILL = "fill"
    LASSO = "lasso"
    PICKER = "picker"


TOOL_SHORTCUTS = {
    ToolKind.BRUSH: "B",
    ToolKind.ERASER: "E",
    ToolKind.FILL: "G",
    ToolKind.LASSO: "L",
    ToolKind.PICKER: "I",
}


@dataclass
class ToolContext:
    """What every tool needs: the document, the brush settings and ways to report back."""

    document: Document
    settings: BrushSettings
    on_error: Callable[[str], None] = print
    on_color_picked: Callable[[tuple[float, float, float]], None] = lambda _c: None
    on_label_picked: Callable[[int], None] = lambda _l: None
    request_overlay_update: Callable[[], None] = lambda: None


def fill_value_for(document: Document, layer_id: str, settings: BrushSettings) -> Any:
    """What a fill writes into a layer of this kind: a label id, a mask value or a colour."""
    from latent_atelier.app.document.layers import LayerKind

    kind = document.layer(layer_id).kind
    if kind == LayerKind.LABELS:
        return 0 if settings.eraser else int(settings.label)
    if kind in (LayerKind.MASK, LayerKind.MATTE):
        return 0.0 if settings.eraser else 1.0
    return tuple(float(c) for c in settings.color)


class Tool:
    """Base tool: override what you need. Coordinates are document pixels (floats)."""

    kind: ToolKind

    def __init__(self, ctx: ToolContext) -> None:
        self.ctx = ctx

    def press(self, x: float, y: float, pressure: float = 1.0) -> None:
        """Button pressed at a document point."""

    def move(self, x: float, y: float, pressure: float = 1.0) -> None:
        """Pointer dragged with the button down."""

    def release(self) -> None:
        """Button released: finish the action (one history step)."""

    def cancel(self) -> None:
        """Abandon the action in progress (e.g. the layer went away)."""

    def paint_overlay(self, painter: QPainter, view: ViewTransform) -> None:
        """Draw feedback (lasso outline) on top of the canvas."""

    def _active_layer_id(self) -> str | None:
        layer = self.ctx.document.active_layer
        if layer is None:
            self.ctx.on_error("No layer selected: pick a layer in the Layers panel first.")
            return None
        return layer.id

    def _guarded(self, fn: Callable[[], Any]) -> Any:
        """Run a document call, turning its errors into a status message."""
        try:
            return fn()
        except Exception as exc:  # the document raises LayerLocked, ValueError...
            self.ctx.on_error(str(exc))
            return None


class StrokeTool(Tool):
    """Brush (or eraser): one press-drag-release is one history step."""

    def __init__(self, ctx: ToolContext, eraser: bool) -> None:
        super().__init__(ctx)
        self.kind = ToolKind.ERASER if eraser else ToolKind.BRUSH
        self.eraser = eraser
        self._painter: Any = None

    def press(self, x: float, y: float, pressure: float = 1.0) -> None:
        from latent_atelier.app.document.brush import StrokePainter

        layer_id = self._active_layer_id()
        if layer_id is None:
            return
        settings = copy.copy(self.ctx.settings)
        settings.eraser = self.eraser
        try:
            self._painter = StrokePainter(self.ctx.document, layer_id, settings)
            self._painter.press(x, y, pressure)
        except Exception as exc:
            self._painter = None
            self.ctx.on_error(str(exc))

    def move(self, x: float, y: float, pressure: float = 1.0) -> None:
        if self._painter is not None:
            self._painter.move_to(x, y, pressure)

    def release(self) -> None:
        painter, self._painter = self._painter, None
        if painter is not None:
            painter.release()

    def cancel(self) -> None:
        painter, self._painter = self._painter, None
        if painter is not None and hasattr(painter, "cancel"):
            painter.cancel()


class FillTool(Tool):
    """Fill bucket: flood the connected region under the click."""

    kind = ToolKind.FILL

    def press(self, x: float, y: float, pressure: float = 1.0) -> None:
        from latent_atelier.app.document.brush import flood_fill

        layer_id = self._active_layer_id()
        if layer_id is None:
            return
        value = fill_value_for(self.ctx.document, layer_id, self.ctx.settings)
        self._guarded(lambda: flood_fill(self.ctx.document, layer_id, int(x), int(y), value))


class LassoTool(Tool):
    """Lasso fill: drag an outline; on release the enclosed polygon is filled."""

    kind = ToolKind.LASSO

    def __init__(self, ctx: ToolContext) -> None:
        super().__init__(ctx)
        self.points: list[tuple[float, float]] = []

    def press(self, x: float, y: float, pressure: float = 1.0) -> None:
        self.points = [(x, y)]
        self.ctx.request_overlay_update()

    def move(self, x: float, y: float, pressure: float = 1.0) -> None:
        if self.points:
            self.points.append((x, y))
            self.ctx.request_overlay_update()

    def release(self) -> None:
        from latent_atelier.app.document.brush import lasso_fill

        points, self.points = self.points, []
        self.ctx.request_overlay_update()
        if len(points) < 3:
            return
        layer_id = self._active_layer_id()
        if layer_id is None:
            return
        value = fill_value_for(self.ctx.document, layer_id, self.ctx.settings)
        self._guarded(lambda: lasso_fill(self.ctx.document, layer_id, points, value))

    def cancel(self) -> None:
        self.points = []
        self.ctx.request_overlay_update()

    def paint_overlay(self, painter: QPainter, view: ViewTransform) -> None:
        if len(self.points) < 2:
            return
        poly = QPolygonF([QPointF(*view.to_widget(x, y)) for x, y in self.points])
        for color, dash in ((QColor(0, 0, 0), False), (QColor(255, 255, 255), True)):
            pen = QPen(color, 1)
            if dash:
                pen.setDashPattern([4, 4])
            painter.setPen(pen)
            painter.drawPolygon(poly)


class PickerTool(Tool):
    """Colour picker: on paint layers take the composite colour; on label layers the segment."""

    kind = ToolKind.PICKER

    def press(self, x: float, y: float, pressure: float = 1.0) -> None:
        self._pick(x, y)

    def move(self, x: float, y: float, pressure: float = 1.0) -> None:
        self._pick(x, y)

    def _pick(self, x: float, y: float) -> None:
        from latent_atelier.app.document.brush import pick_color
        from latent_atelier.app.document.layers import LayerKind

        doc = self.ctx.document
        ix, iy = int(x), int(y)
        if not (0 <= ix < doc.width and 0 <= iy < doc.height):
            return
        layer = doc.active_layer
        if layer is not None and layer.kind == LayerKind.LABELS:
            lx, ly = ix - layer.offset[0], iy - layer.offset[1]
            if 0 <= ly < layer.pixels.shape[0] and 0 <= lx < layer.pixels.shape[1]:
                label = int(layer.pixels[ly, lx])
                if label:
                    self.ctx.on_label_picked(label)
            return
        color = self._guarded(lambda: pick_color(doc, ix, iy))
        if color is not None:
            self.ctx.on_color_picked(tuple(float(c) for c in color[:3]))


def make_tool(kind: ToolKind, ctx: ToolContext) -> Tool:
    """Build the tool for a kind."""
    if kind in (ToolKind.BRUSH, ToolKind.ERASER):
        return StrokeTool(ctx, eraser=kind == ToolKind.ERASER)
    if kind == ToolKind.FILL:
        return FillTool(ctx)
    if kind == ToolKind.LASSO:
        return LassoTool(ctx)
    return PickerTool(ctx)

"""Tool options: brush size, hardness, opacity, spacing and colour."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QColorDialog,
    QDockWidget,
    QFormLayout,
    QPushButton,
    QWidget,
)
from superqt import QLabeledDoubleSlider

if TYPE_CHECKING:
    from latent_atelier.app.document.brush import BrushSettings

MAX_BRUSH_SIZE = 500.0
MIN_BRUSH_SIZE = 1.0


def _slider(lo: float, hi: float, decimals: int) -> QLabeledDoubleSlider:
    s = QLabeledDoubleSlider(Qt.Orientation.Horizontal)
    s.setRange(lo, hi)
    s.setDecimals(decimals)
    return s


class ToolOptionsDock(QDockWidget):
    """Edits a shared BrushSettings in place; the canvas reads it on each stroke."""

    settings_changed = Signal()

    def __init__(self, settings: BrushSettings, parent: QWidget | None = None) -> None:
        super().__init__("Tool options", parent)
        self.setObjectName("tool_options_dock")
        self.settings = settings
        body = QWidget()
        form = QFormLayout(body)
        self.size_slider = _slider(MIN_BRUSH_SIZE, MAX_BRUSH_SIZE, 0)
        self.hardness_slider = _slider(0.0, 1.0, 2)
        self.opacity_slider = _slider(0.0, 1.0, 2)
        self.spacing_slider = _slider(0.02, 1.0, 2)
        self.color_button = QPushButton()
        self.color_button.setObjectName("brush_color")
        self.color_button.setToolTip("Brush colour (click to choose)")
        form.addRow("Size", self.size_slider)
        form.addRow("Hardness", self.hardness_slider)
        form.addRow("Opacity", self.opacity_slider)
        form.addRow("Spacing", self.spacing_slider)
        form.addRow("Colour", self.color_button)
        self.setWidget(body)
        self.refresh()
        self.size_slider.valueChanged.connect(lambda v: self._set("size", float(v)))
        self.hardness_slider.valueChanged.connect(lambda v: self._set("hardness", float(v)))
        self.opacity_slider.valueChanged.connect(lambda v: self._set("opacity", float(v)))
        self.spacing_slider.valueChanged.connect(lambda v: self._set("spacing", float(v)))
        self.color_button.clicked.connect(self._choose_color)

    def _set(self, name: str, value: float) -> None:
        if getattr(self.settings, name) != value:
            setattr(self.settings, name, value)
            self.settings_changed.emit()

    def refresh(self) -> None:
        """Show the current settings (after a shortcut or the picker changed them)."""
        s = self.settings
        for slider, value in (
            (self.size_slider, s.size),
            (self.hardness_slider, s.hardness),
            (self.opacity_slider, s.opacity),
            (self.spacing_slider, s.spacing),
        ):
            slider.blockSignals(True)
            slider.setValue(value)
            slider.blockSignals(False)
        r, g, b = (round(c * 255) for c in s.color[:3])
        self.color_button.setStyleSheet(
            f"background-color: rgb({r},{g},{b}); min-height: 20px; border: 1px solid #888;"
        )

    def set_color(self, color: tuple[float, float, float]) -> None:
        """Set the brush colour (floats 0..1)."""
        self.settings.color = tuple(float(c) for c in color[:3])
        self.refresh()
        self.settings_changed.emit()

    def scale_size(self, factor: float) -> None:
        """Grow or shrink the brush (the ``[`` and ``]`` keys)."""
        size = min(MAX_BRUSH_SIZE, max(MIN_BRUSH_SIZE, round(self.settings.size * factor)))
        if size == self.settings.size:
            size = min(MAX_BRUSH_SIZE, max(MIN_BRUSH_SIZE, size + (1 if factor > 1 else -1)))
        self.settings.size = float(size)
        self.refresh()
        self.settings_changed.emit()

    def _choose_color(self) -> None:
        r, g, b = (round(c * 255) for c in self.settings.color[:3])
        chosen = QColorDialog.getColor(QColor(r, g, b), self, "Brush colour")
        if chosen.isValid():
            self.set_color((chosen.redF(), chosen.greenF(), chosen.blueF()))

"""A form built from an Operation's Params dataclass: one editor per field, reset to defaults."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from PySide6.QtCore import Signal, SignalInstance
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from latent_atelier.app.qt.operations.labels import field_label
from latent_atelier.editors.operation import ParamSpec, param_specs

INT_LIMIT = 2**31 - 1
EDITOR_MIN_PX = 70


class CompactDoubleSpinBox(QDoubleSpinBox):
    """A float field that shows 0.01, 5 or 5e-07 rather than a fixed number of decimals."""

    def __init__(self) -> None:
        super().__init__()
        self.setDecimals(12)  # precision kept; the text is shortened below

    def textFromValue(self, value: float) -> str:
        return f"{value:.6g}"

    def valueFromText(self, text: str) -> float:
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int) -> object:
        try:
            value = float(text)
        except ValueError:
            return QValidator.State.Intermediate, text, pos
        ok = self.minimum() <= value <= self.maximum()
        return (QValidator.State.Acceptable if ok else QValidator.State.Intermediate), text, pos


class ParamForm(QWidget):
    """Editors for each field of ``params_cls``; ``params()`` builds an instance."""

    #: any value changed (by the user or by set_values)
    changed = Signal()

    def __init__(self, params_cls: type, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.params_cls = params_cls
        self.specs = param_specs(params_cls) if dataclasses.is_dataclass(params_cls) else []
        self.editors: dict[str, QWidget] = {}
        layout = QFormLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for spec in self.specs:
            editor = self._make_editor(spec)
            editor.setObjectName(f"param_{spec.name}")
            editor.setToolTip(spec.help or spec.name)
            editor.setMinimumWidth(EDITOR_MIN_PX)  # a 2**31 range must not widen the dock
            self.editors[spec.name] = editor
            layout.addRow(field_label(spec.name), editor)
            _changed_signal(editor).connect(lambda *_: self.changed.emit())
        self.reset_button = QPushButton("Reset to defaults")
        self.reset_button.setObjectName("reset_params")
        self.reset_button.clicked.connect(self.reset)
        if self.specs:
            layout.addRow(self.reset_button)
        self.reset()

    # ------------------------------------------------------------------ building
    @staticmethod
    def _make_editor(spec: ParamSpec) -> QWidget:
        if spec.choices is not None:
            box = QComboBox()
            for choice in spec.choices:
                box.addItem(str(choice), choice)
            return box
        if spec.type is bool:
            return QCheckBox()
        if spec.type is int:
            spin = QSpinBox()
            low = -INT_LIMIT if spec.low is None else max(-INT_LIMIT, int(spec.low))
            high = INT_LIMIT if spec.high is None else min(INT_LIMIT, int(spec.high))
            spin.setRange(low, high)
            spin.setAccelerated(True)
            if high - low >= 100:
                spin.setSingleStep(max(1, 10 ** int(math.log10(max(1, abs(spec.default) or 1)))))
            return spin
        if spec.type is float:
            spin = CompactDoubleSpinBox()
            spin.setRange(
                -1e12 if spec.low is None else float(spec.low),
                1e12 if spec.high is None else float(spec.high),
            )
            default = abs(float(spec.default)) or 0.1
            spin.setSingleStep(10 ** math.floor(math.log10(default)) if default > 0 else 0.1)
            spin.setAccelerated(True)
            return spin
        return QLineEdit()

    # ------------------------------------------------------------------ values
    def values(self) -> dict[str, Any]:
        """Field name -> current value."""
        out: dict[str, Any] = {}
        for spec in self.specs:
            editor = self.editors[spec.name]
            if isinstance(editor, QComboBox):
                out[spec.name] = editor.currentData()
            elif isinstance(editor, QCheckBox):
                out[spec.name] = editor.isChecked()
            elif isinstance(editor, QSpinBox):
                out[spec.name] = int(editor.value())
            elif isinstance(editor, QDoubleSpinBox):
                out[spec.name] = float(editor.value())
            elif isinstance(editor, QLineEdit):
                out[spec.name] = editor.text()
        return out

    def set_values(self, values: dict[str, Any]) -> None:
        """Show ``values`` (unknown names are ignored)."""
        for spec in self.specs:
            if spec.name not in values:
                continue
            value, editor = values[spec.name], self.editors[spec.name]
            if isinstance(editor, QComboBox):
                editor.setCurrentIndex(max(0, editor.findData(value)))
            elif isinstance(editor, QCheckBox):
                editor.setChecked(bool(value))
            elif isinstance(editor, (QSpinBox, QDoubleSpinBox)):
                editor.setValue(value)
            elif isinstance(editor, QLineEdit):
                editor.setText(str(value))

    def reset(self) -> None:
        """Every field back to its default."""
        self.set_values({spec.name: spec.default for spec in self.specs})

    def params(self) -> Any:
        """A validated Params instance (OperationError when a value is out of range)."""
        from latent_atelier.editors.operation import validate_params

        params = self.params_cls(**self.values())
        validate_params(params)
        return params


def _changed_signal(editor: QWidget) -> SignalInstance:
    """The signal an editor emits when its value changes."""
    if isinstance(editor, QComboBox):
        return editor.currentIndexChanged
    if isinstance(editor, QCheckBox):
        return editor.toggled
    if isinstance(editor, (QSpinBox, QDoubleSpinBox)):
        return editor.valueChanged
    return editor.textChanged  # type: ignore[attr-defined]

"""The Quality row of an operation page: Draft / Standard / Best, and the estimated time.

Choosing a preset sets the form's step counts; editing a step count by hand shows
"Custom". The estimate follows every change of the form, so the time is known before Run.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QFormLayout, QGroupBox, QLabel, QWidget

from latent_atelier.app.qt.operations.param_form import ParamForm
from latent_atelier.app.quality_presets import (
    CUSTOM,
    PRESET_HELP,
    PRESET_TITLES,
    PRESETS,
    estimate,
    preset_of,
    preset_values,
    step_fields,
    total_steps,
)


class QualityRow(QGroupBox):
    """Preset box and estimate label for the step counts of ``form``."""

    def __init__(self, form: ParamForm, parent: QWidget | None = None) -> None:
        super().__init__("Quality", parent)
        self.form = form
        self.applies = bool(step_fields(form.specs))
        self.combo = QComboBox()
        self.combo.setObjectName("quality_preset")
        for preset in PRESETS:
            self.combo.addItem(PRESET_TITLES[preset], preset)
            self.combo.setItemData(self.combo.count() - 1, PRESET_HELP[preset], Qt.ItemDataRole.ToolTipRole)
        self.combo.addItem(PRESET_TITLES[CUSTOM], CUSTOM)
        self.estimate_label = QLabel("")
        self.estimate_label.setObjectName("time_estimate")
        self.estimate_label.setWordWrap(True)
        layout = QFormLayout(self)
        layout.addRow("Preset", self.combo)
        layout.addRow(self.estimate_label)
        self._rate: float | None = None
        self._resolution: int | None = None
        self._on_cpu = True
        self.combo.activated.connect(lambda i: self.apply(self.combo.itemData(i)))
        form.changed.connect(self.refresh)
        self.refresh()

    @property
    def preset(self) -> str:
        """The preset the form's step counts match now (or 'custom')."""
        return preset_of(self.form.specs, self.form.values())

    def apply(self, preset: str) -> None:
        """Set the step counts of ``preset`` (Custom changes nothing)."""
        if preset != CUSTOM:
            self.form.set_values(preset_values(self.form.specs, preset))
        self.refresh()

    def set_speed(self, seconds_per_step: float | None, resolution: int | None, on_cpu: bool) -> None:
        """What the estimate is based on: a measured rate, or the model's size and device."""
        self._rate, self._resolution, self._on_cpu = seconds_per_step, resolution, on_cpu
        self.refresh()

    def steps(self) -> int:
        """Every step a run with the form's values may take."""
        return total_steps(self.form.specs, self.form.values())

    def refresh(self) -> None:
        """Show the matching preset and the estimated time."""
        if not self.applies:
            return
        self.combo.setCurrentIndex(max(0, self.combo.findData(self.preset)))
        guess = estimate(self.steps(), self._rate, self._resolution, self._on_cpu)
        device = "the CPU" if self._on_cpu else "the GPU"
        self.estimate_label.setText(f"{self.steps()} steps on {device}: {guess.text()}")

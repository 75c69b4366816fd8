"""One operation's page in the dock: description, input pickers, parameter form."""

from __future__ import annotations

from PySide6.QtWidgets import QGroupBox, QLabel, QVBoxLayout, QWidget

from latent_atelier.app.qt.operations.param_form import ParamForm
from latent_atelier.app.qt.operations.quality_row import QualityRow
from latent_atelier.app.qt.operations.slot_pickers import SlotPickers
from latent_atelier.editors.operation import Operation


class OperationPage(QWidget):
    """Pickers and settings for one Operation class."""

    def __init__(self, op_cls: type[Operation], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.op_cls = op_cls
        self.description = QLabel(op_cls.description or op_cls.__doc__ or "")
        self.description.setWordWrap(True)
        self.note = QLabel("")
        self.note.setObjectName("operation_note")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #d08030;")
        self.note.setVisible(False)
        self.pickers = SlotPickers(op_cls.inputs)
        self.form = ParamForm(op_cls.Params)
        self.quality = QualityRow(self.form)
        inputs_box = QGroupBox("Inputs")
        QVBoxLayout(inputs_box).addWidget(self.pickers)
        settings_box = QGroupBox("Settings")
        QVBoxLayout(settings_box).addWidget(self.form)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.description)
        layout.addWidget(self.note)
        layout.addWidget(inputs_box)
        if self.quality.applies:
            layout.addWidget(self.quality)
        layout.addWidget(settings_box)
        layout.addStretch(1)

    def set_arch(self, arch: str | None) -> bool:
        """Show whether the loaded model can run this operation; returns True if it can."""
        needs = self.op_cls.archs
        ok = not (needs and arch is not None and arch not in needs)
        self.note.setText("" if ok else f"Needs a {' or '.join(needs)} model (the loaded one is {arch}).")
        self.note.setVisible(not ok)
        return ok

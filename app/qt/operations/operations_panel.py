"""The Operations dock's content: pick an operation, its inputs and settings, Run/Cancel,
the job's progress, the pending result, placement and compositing tools."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItem
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from latent_atelier.app.qt.jobs.job_panel import JobPanel
from latent_atelier.app.qt.jobs.runner import JobRunner
from latent_atelier.app.qt.operations.grouping import grouped
from latent_atelier.app.qt.operations.operation_page import OperationPage
from latent_atelier.app.qt.operations.pending import PendingResults
from latent_atelier.app.qt.operations.pending_strip import PendingStrip
from latent_atelier.app.qt.operations.wheel_guard import WheelGuard
from latent_atelier.editors.operation import Operation

DEMO_MODEL_NOTE = (
    "The demo model draws 64 px cartoon portraits: on photos its results are rough. For "
    "photos, load a real checkpoint (Model > Load model…)."
)


class OperationsPanel(QWidget):
    """Everything the dock shows; the controller wires the buttons."""

    def __init__(self, runner: JobRunner, pending: PendingResults, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("operations_panel")
        self.pages: dict[str, OperationPage] = {}
        self.op_combo = QComboBox()
        self.op_combo.setObjectName("operation_combo")
        self.op_combo.setPlaceholderText("Finding operations…")
        self.op_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.stack = QStackedWidget()
        self.op_combo.currentIndexChanged.connect(self._on_op_index)

        self.model_label = QLabel("")
        self.model_label.setObjectName("panel_model_label")
        self.model_label.setWordWrap(True)
        self.domain_note = QLabel(DEMO_MODEL_NOTE)  # shown while the demo model is in use
        self.domain_note.setObjectName("model_domain_note")
        self.domain_note.setToolTip(
            "Model > Load model… reads our .safetensors, a rosinality or "
            "FurryGAN .pt, or an NVIDIA stylegan2-ada .pkl"
        )
        self.domain_note.setWordWrap(True)
        self.domain_note.setStyleSheet("color: #d08030;")
        self.domain_note.setVisible(False)
        self.load_model_button = QPushButton("Load model…")
        self.load_model_button.setObjectName("load_model")
        model_row = QHBoxLayout()
        model_row.addStretch(1)
        model_row.addWidget(self.load_model_button)

        self.place_button = QPushButton("Place box")
        self.place_button.setObjectName("place_box")
        self.place_button.setCheckable(True)
        self.place_button.setToolTip("Drag or resize the square the model sees")
        self.align_button = QPushButton("Align face")
        self.align_button.setObjectName("align_face")
        self.reset_box_button = QPushButton("Centre")
        self.reset_box_button.setToolTip("The largest centred square")
        place_row = QHBoxLayout()
        for b in (self.place_button, self.align_button, self.reset_box_button):
            place_row.addWidget(b)

        self.run_button = QPushButton("Run")
        self.run_button.setObjectName("run_operation")
        self.run_button.setEnabled(False)
        self.note_label = QLabel("")  # notes on the last run's inputs and settings, in full
        self.note_label.setObjectName("run_note")
        self.note_label.setWordWrap(True)
        self.note_label.setVisible(False)
        self.job_panel = JobPanel(runner)
        self.pending_strip = PendingStrip(pending)

        self.generate_bg_button = QPushButton("Generate")
        self.generate_bg_button.setToolTip("New FurryGAN backgrounds for this photo")
        self.generate_bg_button.setObjectName("generate_background")
        self.move_bg_button = QPushButton("Move / scale")
        self.move_bg_button.setToolTip("Handles to move and scale the background")
        self.move_bg_button.setObjectName("move_background")
        self.move_bg_button.setCheckable(True)
        self.export_button = QPushButton("Export composite…")
        self.export_button.setObjectName("export_composite")
        self.export_button.setToolTip(
            "Writes the composite, the foreground with alpha and the matte into a folder"
        )
        composite_box = QGroupBox("Compositing")
        comp = QVBoxLayout(composite_box)
        hint = QLabel("Drop an image on the canvas to put it behind the cut-out.")
        hint.setWordWrap(True)
        comp.addWidget(hint)
        row = QHBoxLayout()
        row.addWidget(self.generate_bg_button)
        row.addWidget(self.move_bg_button)
        comp.addLayout(row)
        comp.addWidget(self.export_button)
        self.composite_box = composite_box

        body = QWidget()  # scrolls: the operation's inputs and settings
        layout = QVBoxLayout(body)
        layout.addWidget(self.model_label)
        layout.addWidget(self.domain_note)
        layout.addLayout(model_row)
        layout.addLayout(place_row)
        layout.addWidget(self.op_combo)
        layout.addWidget(self.stack)
        layout.addWidget(composite_box)
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(body)
        self.wheel_guard = WheelGuard(scroll)
        self.wheel_guard.guard(self.op_combo)
        footer = QWidget()  # always visible: Run, progress, the pending result
        bottom = QVBoxLayout(footer)
        bottom.setContentsMargins(6, 0, 6, 6)
        bottom.addWidget(self.run_button)
        bottom.addWidget(self.note_label)
        bottom.addWidget(self.job_panel)
        bottom.addWidget(self.pending_strip)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll, 1)
        outer.addWidget(footer)

    def show_note(self, text: str) -> None:
        """Show what the controller noted about a run (empty: hide the note)."""
        self.note_label.setText(text.strip())
        self.note_label.setVisible(bool(text.strip()))

    def set_operations(self, operations: dict[str, type[Operation]]) -> None:
        """One page per operation; the list is grouped as the README's table (group titles
        are headings that cannot be chosen)."""
        self.op_combo.blockSignals(True)
        model = self.op_combo.model()
        for title, names in grouped(operations):
            header = QStandardItem(title)
            header.setFlags(Qt.ItemFlag.NoItemFlags)  # a heading: not selectable
            font = header.font()
            font.setBold(True)
            header.setFont(font)
            model.appendRow(header)
            for name in names:
                if name in self.pages:
                    continue
                cls = operations[name]
                page = OperationPage(cls)
                self.pages[name] = page
                self.stack.addWidget(page)
                self.wheel_guard.guard(page)
                self.op_combo.addItem(cls.title or name, name)
        self.op_combo.blockSignals(False)
        if self.op_combo.currentData() is None and self.pages:
            first = self.op_combo.findData("embed")
            self.op_combo.setCurrentIndex(
                first if first >= 0 else self.op_combo.findData(next(iter(self.pages)))
            )
        self._on_op_index(self.op_combo.currentIndex())
        self.run_button.setEnabled(bool(self.pages))

    def select(self, name: str) -> OperationPage:
        """Show the page of operation ``name``."""
        index = self.op_combo.findData(name)
        if index < 0:
            raise KeyError(f"no operation {name!r} in the dock")
        self.op_combo.setCurrentIndex(index)
        return self.pages[name]

    @property
    def current_page(self) -> OperationPage | None:
        """The page shown now."""
        name = self.op_combo.currentData()
        return self.pages.get(name) if name else None

    def _on_op_index(self, index: int) -> None:
        name = self.op_combo.itemData(index)
        if name in self.pages:
            self.stack.setCurrentWidget(self.pages[name])

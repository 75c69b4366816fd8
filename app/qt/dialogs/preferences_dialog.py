"""Preferences: compute device, CPU threads and precision, default model, autosave interval,
undo memory budget, and the remote worker that runs jobs instead of this machine."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from latent_atelier.models.cpu_threads import available_cores

if TYPE_CHECKING:
    from latent_atelier.app.document.preferences import Preferences

# Listed without importing torch (startup must stay light); "auto" picks at run time.
DEVICE_CHOICES = ("auto", "cuda", "mps", "cpu")
MIN_AUTOSAVE_S, MAX_AUTOSAVE_S = 10, 3600  # 0 = off (Preferences.validate's range)
MIN_UNDO_MB, MAX_UNDO_MB = 64, 65536
MAX_THREADS = 1024  # Preferences.validate's range; 0 = every core
PRECISION_CHOICES = ("auto", "float32", "bf16")
MODEL_FILTER = "Generator checkpoints (*.pt *.pkl *.safetensors);;All files (*)"


class PreferencesDialog(QDialog):
    """Edits a Preferences value; ``apply()`` copies the fields back into it."""

    def __init__(self, prefs: Preferences, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self.prefs = prefs
        form = QFormLayout(self)
        self.device = QComboBox()
        self.device.addItems(DEVICE_CHOICES)
        current = prefs.device or "auto"
        if current not in DEVICE_CHOICES:
            self.device.addItem(current)
        self.device.setCurrentText(current)
        self.threads = QSpinBox()
        self.threads.setObjectName("threads")
        self.threads.setRange(0, MAX_THREADS)
        self.threads.setSpecialValueText(f"every core ({available_cores()})")
        self.threads.setValue(int(prefs.threads))
        self.threads.setToolTip("CPU threads for the generator jobs (the next job uses the new value)")
        self.precision = QComboBox()
        self.precision.setObjectName("precision")
        self.precision.addItems(PRECISION_CHOICES)
        self.precision.setCurrentText(prefs.precision if prefs.precision in PRECISION_CHOICES else "auto")
        self.precision.setToolTip(
            "auto: bfloat16 where the CPU or GPU runs it natively and the model "
            "is large enough to gain; final images are always float32"
        )
        self.model_path = QLineEdit(str(prefs.default_model or ""))
        self.model_path.setPlaceholderText("bundled demo model")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse_model)
        model_row = QHBoxLayout()
        model_row.addWidget(self.model_path, 1)
        model_row.addWidget(browse)
        self.autosave = QSpinBox()
        self.autosave.setRange(0, MAX_AUTOSAVE_S)
        self.autosave.setSingleStep(10)
        self.autosave.setSuffix(" s")
        self.autosave.setSpecialValueText("off")
        self.autosave.setValue(int(prefs.autosave_seconds))
        self.undo_budget = QSpinBox()
        self.undo_budget.setRange(MIN_UNDO_MB, MAX_UNDO_MB)
        self.undo_budget.setSingleStep(128)
        self.undo_budget.setSuffix(" MB")
        self.undo_budget.setValue(int(prefs.undo_budget_mb))
        form.addRow("Compute device", self.device)
        form.addRow("CPU threads", self.threads)
        form.addRow("Precision", self.precision)
        form.addRow("Default model", model_row)
        form.addRow("Autosave every", self.autosave)
        form.addRow("Undo memory", self.undo_budget)
        self.worker_address = QLineEdit(prefs.worker_address)
        self.worker_address.setObjectName("worker_address")
        self.worker_address.setPlaceholderText("this machine (or tcp://127.0.0.1:8786, tls://gpu-box:8786)")
        self.worker_address.setToolTip(
            "Run jobs on a `latent-atelier-worker`; any address but this "
            "machine's needs tls:// and a certificate folder"
        )
        self.worker_tls_dir = QLineEdit(prefs.worker_tls_dir)
        self.worker_tls_dir.setObjectName("worker_tls_dir")
        self.worker_tls_dir.setPlaceholderText("folder with ca.pem, client.pem, client-key.pem")
        form.addRow("Run jobs on", self.worker_address)
        form.addRow("Worker certificates", self.worker_tls_dir)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _browse_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Default model", "", MODEL_FILTER)
        if path:
            self.model_path.setText(path)

    def apply(self) -> None:
        """Write the edited values into the Preferences object."""
        self.prefs.device = self.device.currentText()
        self.prefs.threads = int(self.threads.value())
        self.prefs.precision = self.precision.currentText()
        self.prefs.default_model = self.model_path.text().strip() or None
        seconds = int(self.autosave.value())
        self.prefs.autosave_seconds = 0 if seconds == 0 else max(MIN_AUTOSAVE_S, seconds)
        self.prefs.undo_budget_mb = int(self.undo_budget.value())
        self.prefs.worker_address = self.worker_address.text().strip()
        self.prefs.worker_tls_dir = self.worker_tls_dir.text().strip()

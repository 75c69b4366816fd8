"""Status-bar widgets: the model in use, the device chooser and its memory use.

The device list needs torch, so it is filled when the user opens the chooser or once a
model has loaded (torch is imported by then), never at startup.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

from latent_atelier.app.qt.elided_label import ElidedLabel
from latent_atelier.app.qt.models.model_manager import ModelInfo, ModelManager

MEMORY_REFRESH_MS = 2000
LABEL_MAX_PX = 480  # a model file name and its summary; less when the window is narrow


class DeviceCombo(QComboBox):
    """'auto' until opened; then every device latent_atelier.models.devices.list_devices() reports."""

    def __init__(self, manager: ModelManager, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("device_combo")
        self.manager = manager
        self.setToolTip("Device the generator runs on")
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(5)
        self.addItem("auto", "auto")
        self._filled = False
        self.currentIndexChanged.connect(self._on_index)

    def fill(self) -> None:
        """Ask torch for the devices (imports torch)."""
        if self._filled:
            return
        from latent_atelier.models.devices import list_devices

        self.blockSignals(True)
        for dev_id, name in list_devices():
            self.addItem(name, dev_id)
        self.setCurrentIndex(max(0, self.findData(self.manager.device)))
        self.blockSignals(False)
        self._filled = True

    def showPopup(self) -> None:
        self.fill()
        super().showPopup()

    def _on_index(self, index: int) -> None:
        dev = self.itemData(index)
        if dev:
            self.manager.set_device(str(dev))


class ModelStatusWidget(QWidget):
    """Model name, device chooser and memory in use, for the status bar."""

    def __init__(self, manager: ModelManager, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.manager = manager
        self.model_label = ElidedLabel()
        self.model_label.setObjectName("model_label")
        self.model_label.setMaximumWidth(LABEL_MAX_PX)  # never widen the window
        self.device_combo = DeviceCombo(manager)
        self.memory_label = QLabel("")
        self.memory_label.setObjectName("memory_label")
        threads = manager.compute_threads  # known without torch; the dtype once a job starts
        self.compute_label = QLabel(f"{threads} thread{'s' if threads != 1 else ''}")
        self.compute_label.setObjectName("compute_label")
        self.compute_label.setToolTip(
            "CPU threads and the precision of the optimisation loops (Edit > Preferences)"
        )
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.model_label)
        layout.addWidget(self.device_combo)
        layout.addWidget(self.compute_label)
        layout.addWidget(self.memory_label)
        manager.compute_changed.connect(self.compute_label.setText)
        manager.loading.connect(lambda name: self._set_text(f"Loading {name}…"))
        manager.loaded.connect(self._on_loaded)
        manager.failed.connect(lambda _msg: self._set_text(manager.status_text()))
        self._set_text(manager.status_text())
        self._timer = QTimer(self)
        self._timer.setInterval(MEMORY_REFRESH_MS)
        self._timer.timeout.connect(self.refresh_memory)
        self._timer.start()

    def _set_text(self, text: str) -> None:
        self.model_label.set_full_text(text)

    def _on_loaded(self, info: ModelInfo) -> None:
        self._set_text(f"{info.name} · {info.summary}")
        self.device_combo.fill()
        self.refresh_memory()

    def refresh_memory(self) -> None:
        """Memory the device holds now ('' on the CPU, where torch cannot tell)."""
        if "torch" not in sys.modules or self.manager.generator is None:
            return
        from latent_atelier.models.devices import memory_in_use, pick_device

        dev = self.manager.device
        try:
            used = memory_in_use(pick_device(None if dev == "auto" else dev))
        except Exception:
            used = None
        self.memory_label.setText("" if used is None else f"{used / 2**20:.0f} MiB in use")

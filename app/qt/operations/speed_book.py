"""Seconds per step measured on this machine, per operation, model and device (kept in the
window's settings), for the time estimates shown before Run."""

from __future__ import annotations

from PySide6.QtCore import QSettings

KEY = "speed"


class SpeedBook:
    """Measured rates; the newest run of an operation with a model on a device wins."""

    def __init__(self, settings: QSettings | None = None) -> None:
        self.settings = settings
        self._rates: dict[str, float] = {}

    @staticmethod
    def _key(operation: str, model: str, device: str) -> str:
        return "|".join(part.replace("|", "_").replace("/", "_") for part in (operation, model, device))

    def rate(self, operation: str, model: str | None, device: str) -> float | None:
        """Seconds per step of the last such run, or None when never measured."""
        if model is None:
            return None
        key = self._key(operation, model, device)
        if key in self._rates:
            return self._rates[key]
        if self.settings is not None:
            value = self.settings.value(f"{KEY}/{key}")
            try:
                rate = float(value) if value is not None else None
            except (TypeError, ValueError):
                rate = None
            if rate is not None and rate > 0:
                self._rates[key] = rate
                return rate
        return None

    def record(self, operation: str, model: str, device: str, seconds: float, steps: int) -> None:
        """A run of ``steps`` steps took ``seconds`` (from its first step to its end)."""
        if steps <= 0 or seconds <= 0:
            return
        key = self._key(operation, model, device)
        self._rates[key] = seconds / steps
        if self.settings is not None:
            self.settings.setValue(f"{KEY}/{key}", self._rates[key])

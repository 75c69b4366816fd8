"""QSettings-backed window state and the recent-files list."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

ORGANIZATION = "LatentAtelier"
APPLICATION = "Latent Atelier"
MAX_RECENT = 10


def default_settings() -> QSettings:
    """The user's settings store (INI under the XDG config dir on Linux)."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION)


class WindowSettings:
    """Typed access to the few things the window keeps between sessions."""

    def __init__(self, settings: QSettings) -> None:
        self.qsettings = settings

    def recent_files(self) -> list[str]:
        """Most recent first; files that no longer exist are dropped."""
        value = self.qsettings.value("recent_files", [])
        items = [value] if isinstance(value, str) else list(value or [])
        return [p for p in items if p and Path(p).exists()]

    def add_recent(self, path: str | Path) -> list[str]:
        """Put ``path`` at the top of the recent list; returns the new list."""
        p = str(Path(path).resolve())
        items = [p] + [q for q in self.recent_files() if q != p]
        items = items[:MAX_RECENT]
        self.qsettings.setValue("recent_files", items)
        return items

    def clear_recent(self) -> None:
        """Forget the recent files."""
        self.qsettings.setValue("recent_files", [])

    def save_window(self, geometry: QByteArray, state: QByteArray) -> None:
        """Remember the window geometry and dock layout."""
        self.qsettings.setValue("window/geometry", geometry)
        self.qsettings.setValue("window/state", state)
        self.qsettings.sync()

    def window_geometry(self) -> QByteArray | None:
        """The saved geometry, if any."""
        value = self.qsettings.value("window/geometry")
        return value if isinstance(value, QByteArray) else None

    def window_state(self) -> QByteArray | None:
        """The saved dock/toolbar layout, if any."""
        value = self.qsettings.value("window/state")
        return value if isinstance(value, QByteArray) else None

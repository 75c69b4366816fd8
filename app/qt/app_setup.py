"""QApplication creation: high-DPI policy, names for QSettings, a dark Fusion theme, icon."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPalette
from PySide6.QtWidgets import QApplication

from latent_atelier.app.qt.resources_path import app_icon_path
from latent_atelier.app.qt.window_settings import APPLICATION, ORGANIZATION


def dark_palette() -> QPalette:
    """A neutral dark palette (painting apps keep the UI grey so colours read true)."""
    p = QPalette()
    base, window, text = QColor(42, 42, 46), QColor(52, 52, 56), QColor(220, 220, 220)
    for role, color in (
        (QPalette.ColorRole.Window, window),
        (QPalette.ColorRole.WindowText, text),
        (QPalette.ColorRole.Base, base),
        (QPalette.ColorRole.AlternateBase, window),
        (QPalette.ColorRole.ToolTipBase, window),
        (QPalette.ColorRole.ToolTipText, text),
        (QPalette.ColorRole.Text, text),
        (QPalette.ColorRole.Button, window),
        (QPalette.ColorRole.ButtonText, text),
        (QPalette.ColorRole.Highlight, QColor(64, 118, 190)),
        (QPalette.ColorRole.HighlightedText, QColor(255, 255, 255)),
        (QPalette.ColorRole.Link, QColor(110, 160, 230)),
    ):
        p.setColor(role, color)
    for role in (
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
        QPalette.ColorRole.WindowText,
    ):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(128, 128, 128))
    return p


def create_application(argv: list[str]) -> QApplication:
    """The QApplication (or the existing one), configured once."""
    existing = QApplication.instance()
    if existing is not None:
        return existing  # type: ignore[return-value]
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    app = QApplication(argv)
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setDesktopFileName("latent-atelier")
    apply_theme(app)
    icon_path = app_icon_path()
    if icon_path.exists():
        app.setWindowIcon(QIcon(str(icon_path)))
    return app


def apply_theme(app: QApplication) -> None:
    """Fusion style with the dark palette."""
    app.setStyle("Fusion")
    app.setPalette(dark_palette())

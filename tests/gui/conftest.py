"""GUI test fixtures: windows with isolated settings, preferences and recovery folder, and
the operations controller with a tiny random model (each job takes a second or two)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtTest import QTest

from latent_atelier.app.qt.main_window import MainWindow
from latent_atelier.app.qt.resources_path import sample_photo

SAMPLE = sample_photo()
#: channel widths of the tiny 32 px models the operations tests load
TINY_CHANNELS = {4: 32, 8: 32, 16: 32, 32: 32}


def tiny_generator(arch: str = "stylegan2"):
    """A random 32 px model with 32 channels and a 32-d style."""
    from latent_atelier.models.zoo import random_generator

    return random_generator(arch, 32, 0, style_dim=32, n_mlp=2, channels=TINY_CHANNELS)


def install_tiny_operations(window: MainWindow, arch: str = "stylegan2"):
    """The window's operations controller, operations discovered, a tiny model loaded."""
    controller = window.operations
    controller.discover_now()
    controller.manager.set_generator(tiny_generator(arch), "tiny" if arch == "stylegan2" else f"tiny-{arch}")
    return controller


def run_embed(qtbot, ops, steps_w: int = 2, steps_noise: int = 2):
    """Run ``embed`` from the dock with few steps; returns its Result."""
    page = ops.panel.select("embed")
    page.form.set_values({"steps_w": steps_w, "steps_noise": steps_noise})
    with qtbot.waitSignal(ops.runner.finished, timeout=120_000) as blocker:
        job = ops.run_current()
        assert job is not None
    return blocker.args[1]


@pytest.fixture(autouse=True)
def _no_modal_prompts(monkeypatch) -> list[tuple[str, str]]:
    """Unsaved-changes and recovery questions answer "Discard"/"No"; errors are recorded."""
    from PySide6.QtWidgets import QMessageBox

    errors: list[tuple[str, str]] = []

    def question(_parent, _title, _text, buttons=None, default=None):
        if buttons is not None and buttons & QMessageBox.StandardButton.Discard:
            return QMessageBox.StandardButton.Discard
        if buttons is not None and buttons & QMessageBox.StandardButton.Close:
            return QMessageBox.StandardButton.Close  # "a job is running: stop it and close?"
        return QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
    monkeypatch.setattr(
        QMessageBox,
        "critical",
        staticmethod(lambda _p, title, text, *a: errors.append((title, text))),
    )
    return errors


@pytest.fixture
def errors(_no_modal_prompts) -> list[tuple[str, str]]:
    """(title, text) of every error box shown during the test."""
    return _no_modal_prompts


@pytest.fixture
def make_window(qtbot, tmp_path: Path) -> Callable[..., MainWindow]:
    """Build shown main windows that write only under ``tmp_path``."""
    from latent_atelier.app.document.preferences import Preferences
    from latent_atelier.app.document.recovery import RecoveryStore

    def build(autosave_seconds: int = 0, recovery_dir: Path | None = None) -> MainWindow:
        settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
        prefs = Preferences()
        prefs.autosave_seconds = autosave_seconds
        store = RecoveryStore(recovery_dir or tmp_path / "recovery")
        window = MainWindow(prefs, store, settings=settings)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        return window

    return build


@pytest.fixture
def window(make_window) -> MainWindow:
    """A window showing the sample photo."""
    w = make_window()
    assert w.open_path(SAMPLE)
    return w


def widget_point(window: MainWindow, x: float, y: float) -> QPoint:
    """The canvas widget position of document point (x, y)."""
    p = window.canvas.doc_to_widget(x + 0.5, y + 0.5)
    return QPoint(round(p.x()), round(p.y()))


def drag(window: MainWindow, points: Sequence[tuple[float, float]]) -> None:
    """Press at the first document point, move through the rest, release at the last."""
    canvas = window.canvas
    left, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    QTest.mousePress(canvas, left, none, widget_point(window, *points[0]))
    for x, y in points[1:]:
        QTest.mouseMove(canvas, widget_point(window, x, y))
    QTest.mouseRelease(canvas, left, none, widget_point(window, *points[-1]))


def line(x0: float, y0: float, x1: float, y1: float, n: int = 12) -> list[tuple[float, float]]:
    """``n`` evenly spaced points from (x0, y0) to (x1, y1)."""
    return [(x0 + (x1 - x0) * i / (n - 1), y0 + (y1 - y0) * i / (n - 1)) for i in range(n)]


@pytest.fixture
def ops(window):
    """The sample-photo window's operations controller with a tiny StyleGAN2 loaded."""
    return install_tiny_operations(window)

"""The status bar's model label: the whole name when the window has room, cut with "…" when
it has not, and all of it in the tooltip either way."""

from __future__ import annotations

from tests.gui.conftest import tiny_generator

NAME = "ffhq-stylegan2-config-f.safetensors"
LONG_NAME = "portraits-furrygan-campaign-2-iteration-8625-continued-after-the-drift.safetensors"


def _label(window):
    return window.operations.status_widget.model_label


def test_a_wide_window_shows_the_whole_model_name(qtbot, window) -> None:
    window.resize(1600, 900)
    window.operations.manager.set_generator(tiny_generator(), NAME)
    label = _label(window)
    qtbot.waitUntil(lambda: label.text() == label.toolTip(), timeout=5_000)
    assert label.text().startswith(NAME) and "stylegan2 32 px" in label.text()
    assert label.width() >= label.fontMetrics().horizontalAdvance(label.text())


def test_a_narrow_window_cuts_the_name_and_the_tooltip_has_it_all(qtbot, window) -> None:
    window.operations.manager.set_generator(tiny_generator(), LONG_NAME)
    window.resize(640, 480)
    label = _label(window)
    qtbot.waitUntil(lambda: label.text().endswith("…"), timeout=5_000)
    assert label.toolTip().startswith(LONG_NAME) and "stylegan2 32 px" in label.toolTip()
    assert label.toolTip().startswith(label.text()[:-1])
    assert label.fontMetrics().horizontalAdvance(label.text()) <= label.contentsRect().width()
    assert len(label.text()) > 8  # still readable, not just "M…"

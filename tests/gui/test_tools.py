"""Every tool, switched the ways a person does (its key, its toolbar button, the Tools menu),
then used on the canvas with the mouse; the pixels show the tool's effect."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMenu, QToolBar, QToolButton

from latent_atelier.app.qt.canvas.tools import TOOL_SHORTCUTS, ToolKind
from tests.gui.conftest import drag, line

KEYS = {kind: getattr(Qt.Key, f"Key_{key}") for kind, key in TOOL_SHORTCUTS.items()}
ROUTES = ("key", "button", "menu")


def press_key(window, key: Qt.Key) -> None:
    """The key as typed over the canvas (the window's shortcuts take it)."""
    window.activateWindow()
    window.canvas.setFocus()
    QTest.keyClick(window.canvas, key)


def click_tool_button(window, kind: ToolKind) -> None:
    """A click on the tool's button in the Tools toolbar."""
    bar = window.findChild(QToolBar, "tools_toolbar")
    button = bar.widgetForAction(window.actions_.tool_actions[kind])
    assert isinstance(button, QToolButton) and button.isVisible()
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)


def menu_named(window, title: str) -> QMenu:
    """The menu bar's menu whose title (without '&') is ``title``."""
    for action in window.menuBar().actions():
        if action.text().replace("&", "") == title:
            return action.menu()
    raise AssertionError(f"no {title} menu; menus: {[a.text() for a in window.menuBar().actions()]}")


def pick_from_menu(window, title: str, entry) -> None:  # type: ignore[no-untyped-def]
    """Open menu ``title`` and click ``entry`` (a QAction) in it."""
    menu = menu_named(window, title)
    assert entry in menu.actions()
    menu.popup(window.mapToGlobal(QPoint(20, 20)))
    QTest.qWaitForWindowExposed(menu)
    rect = menu.actionGeometry(entry)
    QTest.mouseClick(menu, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, rect.center())
    assert not menu.isVisible()


def switch_tool(window, kind: ToolKind, route: str) -> None:
    """Switch to ``kind`` by its key, its toolbar button or its Tools menu entry."""
    if route == "key":
        press_key(window, KEYS[kind])
    elif route == "button":
        click_tool_button(window, kind)
    else:
        pick_from_menu(window, "Tools", window.actions_.tool_actions[kind])
    assert window.canvas.tool_kind == kind
    assert window.actions_.tool_actions[kind].isChecked()


def other_tool(kind: ToolKind) -> ToolKind:
    return ToolKind.PICKER if kind != ToolKind.PICKER else ToolKind.BRUSH


@pytest.fixture
def paint_window(window):
    """The sample photo with an empty paint layer on top, a red 20 px brush."""
    window.add_layer("paint")
    window.brush_settings.color = (1.0, 0.0, 0.0)
    window.brush_settings.size = 20.0
    window.brush_settings.hardness = 1.0
    window.brush_settings.opacity = 1.0
    return window


@pytest.mark.parametrize("route", ROUTES)
def test_brush_paints_after_switching_to_it(paint_window, errors, route) -> None:
    w = paint_window
    switch_tool(w, other_tool(ToolKind.BRUSH), route)
    switch_tool(w, ToolKind.BRUSH, route)
    drag(w, line(100, 150, 400, 150))
    px = w.document.active_layer.pixels
    assert px[150, 250, 3] > 0.9 and px[150, 250, 0] > 0.9 and px[150, 250, 1] < 0.1
    assert px[300, 250, 3] == 0
    assert not errors


@pytest.mark.parametrize("route", ROUTES)
def test_eraser_erases_what_the_brush_painted(paint_window, errors, route) -> None:
    w = paint_window
    drag(w, line(100, 150, 400, 150))
    layer = w.document.active_layer
    assert layer.pixels[150, 250, 3] > 0.9
    switch_tool(w, ToolKind.ERASER, route)
    drag(w, line(200, 150, 300, 150))
    assert layer.pixels[150, 250, 3] < 0.05  # erased under the eraser stroke
    assert layer.pixels[150, 120, 3] > 0.9  # the rest of the stroke stays
    assert not errors


@pytest.mark.parametrize("route", ROUTES)
def test_fill_bucket_floods_the_region_under_the_click(paint_window, errors, route) -> None:
    w = paint_window
    w.brush_settings.color = (0.0, 0.0, 1.0)
    drag(w, line(-30, 256, 540, 256, n=40))  # a wall across the whole layer
    switch_tool(w, ToolKind.FILL, route)
    w.brush_settings.color = (0.0, 1.0, 0.0)
    drag(w, [(100, 100)])  # one click above the wall
    px = w.document.active_layer.pixels
    assert px[100, 100, 1] > 0.99 and px[100, 100, 3] > 0.99  # filled green
    assert px[20, 400, 1] > 0.99  # the whole region above the wall
    assert px[400, 300, 3] == 0  # below the wall: untouched
    assert not errors


@pytest.mark.parametrize("route", ROUTES)
def test_lasso_fills_the_outline_it_draws(paint_window, errors, route) -> None:
    w = paint_window
    switch_tool(w, ToolKind.LASSO, route)
    square = [
        *line(100, 100, 300, 100),
        *line(300, 100, 300, 300),
        *line(300, 300, 100, 300),
        *line(100, 300, 100, 110),
    ]
    drag(w, square)
    px = w.document.active_layer.pixels
    assert px[200, 200, 3] > 0.99 and px[200, 200, 0] > 0.99  # inside: red
    assert px[50, 50, 3] == 0 and px[400, 400, 3] == 0  # outside: untouched
    assert not errors


@pytest.mark.parametrize("route", ROUTES)
def test_picker_takes_the_colour_under_the_click(paint_window, errors, route) -> None:
    w = paint_window
    photo = w.document.layers[0].pixels
    switch_tool(w, ToolKind.PICKER, route)
    before = w.document.active_layer.pixels.copy()
    drag(w, [(260, 140)])
    want = photo[140, 260, :3]
    np.testing.assert_allclose(w.brush_settings.color, want, atol=1.5 / 255)
    np.testing.assert_array_equal(w.document.active_layer.pixels, before)  # paints nothing
    swatch = w.tool_options.color_button.styleSheet()
    r, g, b = (round(float(c) * 255) for c in want)
    assert f"rgb({r},{g},{b})" in swatch
    assert not errors


def test_every_tool_has_a_key_a_button_and_a_menu_entry(window) -> None:
    tools_menu = menu_named(window, "Tools")
    bar = window.findChild(QToolBar, "tools_toolbar")
    for kind, action in window.actions_.tool_actions.items():
        assert action in tools_menu.actions() and bar.widgetForAction(action) is not None
        assert action.shortcut().toString() == TOOL_SHORTCUTS[kind]

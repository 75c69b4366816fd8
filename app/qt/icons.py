"""Toolbar and menu icons from qtawesome (Material Design Icons), loaded lazily."""

from __future__ import annotations

from PySide6.QtGui import QIcon

ICON_NAMES = {
    "open": "mdi6.folder-open-outline",
    "save": "mdi6.content-save-outline",
    "undo": "mdi6.undo",
    "redo": "mdi6.redo",
    "brush": "mdi6.brush",
    "eraser": "mdi6.eraser",
    "fill": "mdi6.format-color-fill",
    "lasso": "mdi6.lasso",
    "picker": "mdi6.eyedropper",
    "fit": "mdi6.fit-to-screen-outline",
    "zoom_in": "mdi6.magnify-plus-outline",
    "zoom_out": "mdi6.magnify-minus-outline",
    "actual": "mdi6.numeric-1-box-outline",
    "mask": "mdi6.drama-masks",
    "add_paint": "mdi6.layers-plus",
    "add_mask": "mdi6.checkbox-blank-circle-outline",
    "add_labels": "mdi6.palette-outline",
    "duplicate": "mdi6.content-copy",
    "delete": "mdi6.delete-outline",
    "lock": "mdi6.lock-outline",
    "up": "mdi6.arrow-up",
    "down": "mdi6.arrow-down",
    "add": "mdi6.plus",
    "rename": "mdi6.rename-box",
    "recolor": "mdi6.palette-swatch-outline",
}

ICON_COLOR = "#d0d0d0"


def icon(key: str) -> QIcon:
    """The icon for ``key`` (an empty icon if qtawesome lacks it, never an exception)."""
    import qtawesome

    try:
        return qtawesome.icon(ICON_NAMES[key], color=ICON_COLOR)
    except Exception:
        return QIcon()

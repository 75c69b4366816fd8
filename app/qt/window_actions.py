"""Every QAction of the main window, its menus and its toolbars (Krita/Photoshop keys)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenu, QMessageBox, QToolBar

from latent_atelier.app.qt.canvas.tools import TOOL_SHORTCUTS, ToolKind
from latent_atelier.app.qt.icons import icon

if TYPE_CHECKING:
    from latent_atelier.app.document.document import Document
    from latent_atelier.app.qt.main_window import MainWindow

Shortcut = str | QKeySequence.StandardKey | list[str] | None
TOOL_TITLES = {
    ToolKind.BRUSH: "Brush",
    ToolKind.ERASER: "Eraser",
    ToolKind.FILL: "Fill bucket",
    ToolKind.LASSO: "Lasso fill",
    ToolKind.PICKER: "Colour picker",
}
TOOL_ICONS = {
    ToolKind.BRUSH: "brush",
    ToolKind.ERASER: "eraser",
    ToolKind.FILL: "fill",
    ToolKind.LASSO: "lasso",
    ToolKind.PICKER: "picker",
}
ABOUT_TEXT = (
    "<b>Latent Atelier</b><br>A portrait editor built on StyleGAN2 and FurryGAN generators: "
    "paint scribbles and segments, then let the generator reconstruct, edit, fill and matte."
)


class WindowActions:
    """Creates the actions once; the window and its docks share them."""

    def __init__(self, window: MainWindow) -> None:
        self.w = window
        self._all: list[QAction] = []
        w = window
        self.new_from_image = self._make("&New from image…", w.open_dialog_images, "Ctrl+N")
        self.open = self._make("&Open…", w.open_dialog, QKeySequence.StandardKey.Open, "open")
        self.save = self._make("&Save", w.save, QKeySequence.StandardKey.Save, "save")
        self.save_as = self._make("Save &As (.ora)…", w.save_as, "Ctrl+Shift+S")
        self.export_flat = self._make(
            "Export &flattened (PNG/JPEG/TIFF)…", w.export_flattened_dialog, "Ctrl+E"
        )
        self.export_psd = self._make("Export layers as &PSD…", w.export_psd_dialog)
        self.export_layer = self._make("Export &layer…", w.export_layer_dialog)
        self.quit = self._make("&Quit", w.close, "Ctrl+Q")  # the standard key is empty on some platforms
        self.undo = self._make("&Undo", w.undo, "Ctrl+Z", "undo")
        self.redo = self._make("&Redo", w.redo, ["Ctrl+Shift+Z", "Ctrl+Y"], "redo")
        self.preferences = self._make("&Preferences…", w.open_preferences, "Ctrl+,")
        canvas = w.canvas
        self.fit = self._make("&Fit in window", canvas.fit, "Ctrl+0", "fit")
        self.actual = self._make("&100%", canvas.actual_pixels, "Ctrl+1", "actual")
        self.zoom_in = self._make("Zoom &in", canvas.zoom_in, ["Ctrl++", "Ctrl+="], "zoom_in")
        self.zoom_out = self._make("Zoom &out", canvas.zoom_out, "Ctrl+-", "zoom_out")
        self.mask_overlay = self._make_toggle("Show &mask overlay", canvas.set_show_masks, "Alt+M", "mask")
        self.mask_overlay.setChecked(True)
        self.hide_photo = self._make_toggle("&Hide the photo (see cut-outs)", canvas.set_hide_photo, "Alt+H")
        self.add_paint = self._make(
            "Add &paint layer", partial(w.add_layer, "paint"), "Ctrl+Shift+N", "add_paint"
        )
        self.add_mask = self._make("Add &mask layer", partial(w.add_layer, "mask"), None, "add_mask")
        self.add_labels = self._make("Add &label layer", partial(w.add_layer, "labels"), None, "add_labels")
        self.duplicate = self._make("&Duplicate layer", w.duplicate_layer, "Ctrl+J", "duplicate")
        self.delete = self._make("De&lete layer", w.delete_layer, "Shift+Del", "delete")
        self.shortcuts = self._make("&Keyboard shortcuts", self.show_shortcuts, "F1")
        self.about = self._make("&About Latent Atelier", self.show_about)
        self.size_down = self._make("Smaller brush", partial(w.change_brush_size, False), "[")
        self.size_up = self._make("Bigger brush", partial(w.change_brush_size, True), "]")
        self.tool_group = QActionGroup(window)
        self.tool_actions: dict[ToolKind, QAction] = {}
        for kind in ToolKind:
            action = self._make(
                TOOL_TITLES[kind], partial(w.set_tool, kind), TOOL_SHORTCUTS[kind], TOOL_ICONS[kind]
            )
            action.setCheckable(True)
            self.tool_group.addAction(action)
            self.tool_actions[kind] = action
        self.tool_actions[ToolKind.BRUSH].setChecked(True)
        self.recent_menu: QMenu | None = None

    def _make(
        self, text: str, slot: Callable[[], object], shortcut: Shortcut = None, icon_key: str | None = None
    ) -> QAction:
        """An action that calls ``slot()`` (a checkable one in a group included: tools)."""
        action = self._new_action(text, shortcut, icon_key)
        action.triggered.connect(lambda _checked=False: slot())
        return action

    def _make_toggle(
        self,
        text: str,
        slot: Callable[[bool], object],
        shortcut: Shortcut = None,
        icon_key: str | None = None,
    ) -> QAction:
        """A checkable on/off action that calls ``slot(checked)``."""
        action = self._new_action(text, shortcut, icon_key)
        action.setCheckable(True)
        action.triggered.connect(lambda checked=False: slot(bool(checked)))
        return action

    def _new_action(self, text: str, shortcut: Shortcut, icon_key: str | None) -> QAction:
        action = QAction(text, self.w)
        if shortcut is not None:
            keys = shortcut if isinstance(shortcut, list) else [shortcut]
            action.setShortcuts([QKeySequence(k) for k in keys])
        if icon_key:
            action.setIcon(icon(icon_key))
        if action.shortcuts():
            action.setToolTip(f"{text.replace('&', '').rstrip('…')} ({action.shortcut().toString()})")
        self.w.addAction(action)  # shortcuts work even when the menu bar is hidden
        self._all.append(action)
        return action

    def all(self) -> list[QAction]:
        """Every action created here."""
        return list(self._all)

    def layer_panel_actions(self) -> list[QAction]:
        """Buttons under the layer list."""
        return [self.add_paint, self.add_mask, self.add_labels, self.duplicate, self.delete]

    def layer_row_actions(self) -> list[QAction]:
        """Entries of a layer row's context menu that act on the active layer."""
        return [self.duplicate, self.delete, self.export_layer]

    def build_menus_and_toolbars(self, fill_model_menu: Callable[[QMenu], None]) -> None:
        """Menu bar and toolbars of the window; ``fill_model_menu`` fills the Model menu."""
        bar = self.w.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addActions([self.new_from_image, self.open])
        self.recent_menu = file_menu.addMenu("Open &Recent")
        file_menu.addSeparator()
        file_menu.addActions([self.save, self.save_as])
        file_menu.addSeparator()
        file_menu.addActions([self.export_flat, self.export_psd, self.export_layer])
        file_menu.addSeparator()
        file_menu.addAction(self.quit)
        edit_menu = bar.addMenu("&Edit")
        edit_menu.addActions([self.undo, self.redo])
        edit_menu.addSeparator()
        edit_menu.addAction(self.preferences)
        view_menu = bar.addMenu("&View")
        view_menu.addActions([self.fit, self.actual, self.zoom_in, self.zoom_out])
        view_menu.addSeparator()
        view_menu.addAction(self.mask_overlay)
        view_menu.addAction(self.hide_photo)
        hint = view_menu.addAction("Hold \\ to see the photo alone")
        hint.setEnabled(False)
        layer_menu = bar.addMenu("&Layer")
        layer_menu.addActions([self.add_paint, self.add_mask, self.add_labels])
        layer_menu.addSeparator()
        layer_menu.addActions([self.duplicate, self.delete])
        tools_menu = bar.addMenu("&Tools")
        tools_menu.addActions(list(self.tool_actions.values()))
        tools_menu.addSeparator()
        tools_menu.addActions([self.size_down, self.size_up])
        fill_model_menu(bar.addMenu("M&odel"))  # Alt+M is the mask overlay
        help_menu = bar.addMenu("Hel&p")  # last, as everywhere; Alt+H hides the photo
        help_menu.addActions([self.shortcuts, self.about])
        self.refresh_recent()

        main_bar = QToolBar("Main")
        main_bar.setObjectName("main_toolbar")
        main_bar.addActions([self.open, self.save])
        main_bar.addSeparator()
        main_bar.addActions([self.undo, self.redo])
        main_bar.addSeparator()
        main_bar.addActions([self.fit, self.actual, self.zoom_in, self.zoom_out, self.mask_overlay])
        self.w.addToolBar(main_bar)
        tools_bar = QToolBar("Tools")
        tools_bar.setObjectName("tools_toolbar")
        tools_bar.addActions(list(self.tool_actions.values()))
        from PySide6.QtCore import Qt

        self.w.addToolBar(Qt.ToolBarArea.LeftToolBarArea, tools_bar)

    def refresh_recent(self) -> None:
        """Rebuild File > Open Recent from the settings."""
        menu = self.recent_menu
        if menu is None:
            return
        menu.clear()
        recent = self.w.settings.recent_files()
        for path in recent:
            action = menu.addAction(Path(path).name)
            action.setToolTip(path)
            action.triggered.connect(partial(self.w.open_path, path))
        if not recent:
            menu.addAction("(none)").setEnabled(False)
        else:
            menu.addSeparator()
            menu.addAction("Clear list", self._clear_recent)

    def _clear_recent(self) -> None:
        self.w.settings.clear_recent()
        self.refresh_recent()

    def update_enabled(self, doc: Document | None) -> None:
        """Grey out what needs a document, a layer, or something to undo/redo."""
        has_doc = doc is not None
        has_layer = has_doc and doc.active_layer is not None
        for a in (self.save, self.save_as, self.export_flat, self.export_psd):
            a.setEnabled(has_doc)
        for a in (self.add_paint, self.add_mask, self.add_labels):
            a.setEnabled(has_doc)
        for a in (self.duplicate, self.delete, self.export_layer):
            a.setEnabled(bool(has_layer))
        self.undo.setEnabled(bool(has_doc and doc.can_undo))
        self.redo.setEnabled(bool(has_doc and doc.can_redo))

    def show_shortcuts(self) -> None:
        """Help > Keyboard shortcuts."""
        from latent_atelier.app.qt.dialogs.shortcuts_dialog import ShortcutsDialog

        ShortcutsDialog(self.all(), self.w).exec()

    def show_about(self) -> None:
        """Help > About."""
        QMessageBox.about(self.w, "About Latent Atelier", ABOUT_TEXT)

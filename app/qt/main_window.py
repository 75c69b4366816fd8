"""The main window: canvas in the middle, docks around it, menus, toolbars, status bar.

It owns one document at a time and the glue between widgets: opening, saving, exporting,
drag and drop, autosave and the unsaved-changes prompt.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox, QWidget

from latent_atelier.app.qt.autosave import AutosaveController
from latent_atelier.app.qt.canvas.canvas_widget import CanvasWidget
from latent_atelier.app.qt.canvas.tools import ToolKind
from latent_atelier.app.qt.docks.history_dock import HistoryDock
from latent_atelier.app.qt.docks.layers_dock import LayersDock
from latent_atelier.app.qt.docks.operations_dock import OperationsDock
from latent_atelier.app.qt.docks.tool_options_dock import ToolOptionsDock
from latent_atelier.app.qt.document_io import (
    FLAT_EXPORT_FILTER,
    IMAGE_FILTER,
    OPEN_FILTER,
    PROJECT_FILTER,
    PSD_FILTER,
    background_layer_from,
    export_flattened,
    export_layer,
    export_psd,
    is_openable,
    open_document,
)
from latent_atelier.app.qt.document_signals import DocumentSignals
from latent_atelier.app.qt.file_names import file_stem
from latent_atelier.app.qt.operations.controller import OperationsController
from latent_atelier.app.qt.operations.matte_view import install_matte_view
from latent_atelier.app.qt.status_bar import CanvasStatusBar
from latent_atelier.app.qt.window_actions import WindowActions
from latent_atelier.app.qt.window_settings import WindowSettings, default_settings

if TYPE_CHECKING:
    from latent_atelier.app.document.document import Document
    from latent_atelier.app.document.preferences import Preferences
    from latent_atelier.app.document.recovery import RecoveryStore

APP_TITLE = "Latent Atelier"
SIZE_STEP = 1.25  # the [ and ] keys


class MainWindow(QMainWindow):
    """One window, one document. Dependencies are passed in so tests can isolate them."""

    #: emitted once a close has been confirmed, before the window goes away
    closing = Signal()

    def __init__(
        self,
        preferences: Preferences,
        recovery_store: RecoveryStore,
        settings: QSettings | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        from latent_atelier.app.document.brush import BrushSettings

        self.setObjectName("main_window")
        self.preferences = preferences
        self.settings = WindowSettings(settings or default_settings())
        self.document: Document | None = None
        self.signals: DocumentSignals | None = None
        self.brush_settings = BrushSettings()
        self.setAcceptDrops(True)
        self.resize(1280, 820)

        self.canvas = CanvasWidget(self.brush_settings)
        self.setCentralWidget(self.canvas)
        self.status = CanvasStatusBar()
        self.setStatusBar(self.status)
        self.actions_ = WindowActions(self)
        self.tool_options = ToolOptionsDock(self.brush_settings)
        self.layers_dock = LayersDock(self.actions_.layer_panel_actions(), self.actions_.layer_row_actions())
        self.history_dock = HistoryDock()
        #: the generator operations: dock content, Model menu, jobs, results, compositing
        self.operations = OperationsController(self)
        self.matte_view = install_matte_view(self.operations)  # the cut-out's notes, trimap
        self.operations_dock = OperationsDock(self.operations.panel)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.tool_options)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.layers_dock)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.history_dock)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.operations_dock)
        horizontal, vertical = Qt.Orientation.Horizontal, Qt.Orientation.Vertical
        self.resizeDocks([self.tool_options, self.layers_dock], [380, 290], horizontal)
        self.resizeDocks([self.tool_options, self.operations_dock], [190, 600], vertical)
        self.resizeDocks([self.layers_dock, self.history_dock], [520, 200], vertical)
        self.actions_.build_menus_and_toolbars(self.operations.fill_model_menu)
        self.status.addPermanentWidget(self.operations.status_widget)
        self.operations.start_discovery()  # on a thread: it imports torch

        self.autosave = AutosaveController(recovery_store, self)
        self.autosave.set_interval(preferences.autosave_seconds)
        self.autosave.failed.connect(lambda msg: self.status.showMessage(msg, 8000))

        self.canvas.zoom_changed.connect(self.status.show_zoom)
        self.canvas.cursor_moved.connect(self.status.show_cursor)
        self.canvas.message.connect(lambda msg: self.status.showMessage(msg, 5000))
        self.canvas.color_picked.connect(self.tool_options.set_color)
        self.canvas.label_picked.connect(self.layers_dock.palette.select_segment)
        self.layers_dock.label_selected.connect(self._set_brush_label)
        self.tool_options.settings_changed.connect(self.canvas.update)
        self._restore_window_state()
        self._update_title()
        self._update_enabled()

    # ------------------------------------------------------------ documents
    def set_document(self, document: Document | None) -> None:
        """Show ``document`` in every widget (the old one is dropped without asking)."""
        if self.signals is not None:
            self.signals.detach()
            self.signals.deleteLater()
        self.document = document
        self.signals = DocumentSignals(document, self) if document is not None else None
        if self.signals is not None:
            self.signals.history_changed.connect(self._on_history)
            self.signals.saved.connect(self._update_title)
            self.signals.active_changed.connect(lambda _id: self._update_enabled())
        self.canvas.set_document(document, self.signals)
        self.layers_dock.set_document(document, self.signals)
        self.history_dock.set_document(document, self.signals)
        self.operations.set_document(document, self.signals)
        self.autosave.set_document(document)
        self._update_title()
        self._update_enabled()

    def open_path(self, path: str | Path) -> bool:
        """Open an image or .ora as the window's document; on failure keep the current one."""
        path = Path(path)
        try:
            doc = open_document(path, self.preferences.undo_budget_bytes)
        except Exception as exc:
            self.show_error("Could not open file", f"{path.name} could not be opened.\n\n{exc}")
            return False
        if not self.maybe_save_changes():
            return False
        self.autosave.discard()
        self.set_document(doc)
        self.autosave.source_path = path  # an image too: the stroke journal's first base
        self.settings.add_recent(path)
        self.actions_.refresh_recent()
        self.status.showMessage(f"Opened {path.name}", 4000)
        return True

    def save(self) -> bool:
        """Save to the document's .ora path (asks for one the first time)."""
        if self.document is None:
            return False
        path = self.document.path
        if path is None or Path(path).suffix.lower() != ".ora":
            return self.save_as()
        return self.save_to(path)

    def save_as(self) -> bool:
        """Ask for an .ora path and save there."""
        if self.document is None:
            return False
        start = str(self._suggested_path(".ora"))
        path, _ = QFileDialog.getSaveFileName(self, "Save project", start, PROJECT_FILTER)
        if not path:
            return False
        if not path.lower().endswith(".ora"):
            path += ".ora"
        return self.save_to(path)

    def save_to(self, path: str | Path) -> bool:
        """Write the document as OpenRaster at ``path``; errors are shown, not raised."""
        from latent_atelier.app.document.ora import save_ora

        if self.document is None:
            return False
        try:
            save_ora(self.document, path)
        except Exception as exc:
            self.show_error("Could not save", f"Saving {Path(path).name} failed.\n\n{exc}")
            return False
        self.document.mark_saved(path)
        self.autosave.discard()
        self.settings.add_recent(path)
        self.actions_.refresh_recent()
        self.status.showMessage(f"Saved {Path(path).name}", 4000)
        return True

    def maybe_save_changes(self) -> bool:
        """Ask about unsaved changes; False means the user cancelled."""
        if self.document is None or not self.document.dirty:
            return True
        answer = QMessageBox.question(
            self,
            "Unsaved changes",
            "The document has unsaved changes. Save them first?",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save,
        )
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    def show_error(self, title: str, text: str) -> None:
        """A modal error message."""
        QMessageBox.critical(self, title, text)

    def _suggested_path(self, suffix: str) -> Path:
        doc = self.document
        if doc is not None and doc.path is not None:
            return Path(doc.path).with_suffix(suffix)
        name = doc.layers[0].name if doc is not None and doc.layers else "untitled"
        return Path.home() / f"{file_stem(name)}{suffix}"

    # --------------------------------------------------------- menu actions
    def open_dialog(self, images_only: bool = False) -> None:
        """File > Open (or New from image)."""
        flt = IMAGE_FILTER if images_only else OPEN_FILTER
        path, _ = QFileDialog.getOpenFileName(self, "Open", "", flt)
        if path:
            self.open_path(path)

    def open_dialog_images(self) -> None:
        """File > New from image."""
        self.open_dialog(images_only=True)

    def export_flattened_dialog(self) -> None:
        """File > Export flattened image."""
        self._export_document_dialog("Export flattened", ".png", FLAT_EXPORT_FILTER, export_flattened)

    def export_psd_dialog(self) -> None:
        """File > Export layers as PSD."""
        self._export_document_dialog("Export PSD", ".psd", PSD_FILTER, export_psd)

    def _export_document_dialog(self, title: str, suffix: str, file_filter: str, writer: Callable) -> None:
        """Ask where to export the document (a name next to its own) and write it there."""
        doc = self.document
        if doc is None:
            return
        start = str(self._suggested_path(suffix))
        path, _ = QFileDialog.getSaveFileName(self, title, start, file_filter)
        if path:
            self._run_export(lambda: writer(doc, path), path)

    def export_layer_dialog(self) -> None:
        """File > Export layer (the active one)."""
        layer = self.document.active_layer if self.document else None
        if layer is None:
            return
        start = str(self._suggested_path(".png").with_name(f"{file_stem(layer.name, 'layer')}.png"))
        path, _ = QFileDialog.getSaveFileName(self, "Export layer", start, FLAT_EXPORT_FILTER)
        if path:
            self._run_export(lambda: export_layer(self.document, layer.id, path), path)

    def _run_export(self, fn, path: str) -> None:  # type: ignore[no-untyped-def]
        try:
            fn()
        except Exception as exc:
            self.show_error("Export failed", f"{Path(path).name} could not be written.\n\n{exc}")
            return
        self.status.showMessage(f"Exported {Path(path).name}", 4000)

    def add_layer(self, kind: str) -> None:
        """Layer > Add paint/mask/label layer (above the active one).

        A new mask layer gets the first overlay tint no other mask or matte uses, so two
        stroke layers (a matte's foreground and background marks) never look alike.
        """
        from latent_atelier.app.document.layers import LayerKind, Palette, new_layer, next_mask_tint

        doc = self.document
        if doc is None:
            return
        kind_enum = LayerKind(kind)
        names = {LayerKind.PAINT: "Paint", LayerKind.MASK: "Mask", LayerKind.LABELS: "Segments"}
        count = sum(1 for lay in doc.layers if lay.kind == kind_enum) + 1
        props = {}
        if kind_enum == LayerKind.LABELS:  # start with one segment so the brush can paint
            palette = Palette()
            palette.add("Segment 1")
            props["palette"] = palette
        if kind_enum == LayerKind.MASK:
            props["tint"] = next_mask_tint(doc.layers)
        layer = new_layer(kind_enum, f"{names.get(kind_enum, kind)} {count}", size=doc.size, **props)
        active = doc.active_layer
        index = doc.index_of(active.id) + 1 if active is not None else None
        doc.add_layer(layer, index)

    def duplicate_layer(self) -> None:
        """Layer > Duplicate."""
        if self.document and self.document.active_layer:
            self.document.duplicate_layer(self.document.active_layer.id)

    def delete_layer(self) -> None:
        """Layer > Delete."""
        if self.document and self.document.active_layer:
            self.document.remove_layer(self.document.active_layer.id)

    def undo(self) -> None:
        """Edit > Undo."""
        if self.document is not None and self.document.can_undo:
            self.document.undo()

    def redo(self) -> None:
        """Edit > Redo."""
        if self.document is not None and self.document.can_redo:
            self.document.redo()

    def set_tool(self, kind: ToolKind) -> None:
        """Switch the canvas tool and check its action."""
        self.canvas.set_tool(kind)
        self.actions_.tool_actions[kind].setChecked(True)

    def change_brush_size(self, grow: bool) -> None:
        """The [ and ] keys."""
        self.tool_options.scale_size(SIZE_STEP if grow else 1 / SIZE_STEP)

    def _set_brush_label(self, label: int) -> None:
        self.brush_settings.label = int(label)

    def open_preferences(self) -> None:
        """Edit > Preferences; saved to the preferences file on OK."""
        from latent_atelier.app.qt.dialogs.preferences_dialog import PreferencesDialog

        dialog = PreferencesDialog(self.preferences, self)
        if dialog.exec():
            dialog.apply()
            self.apply_preferences()
            try:
                self.preferences.save()
            except Exception as exc:
                self.show_error("Preferences not saved", str(exc))

    def apply_preferences(self) -> None:
        """Push preference values into the running window (autosave, undo budget)."""
        self.autosave.set_interval(self.preferences.autosave_seconds)
        if self.document is not None:
            self.document.history.set_budget(self.preferences.undo_budget_bytes)

    # ------------------------------------------------------ recovery/close
    def offer_recovery(self) -> bool:
        """If an earlier session died with autosaved work, offer it back; True when restored.

        The recovery files stay on disk until this session saves or closes cleanly, so a
        second crash right after restoring still loses nothing.
        """
        store = self.autosave.store
        crashed = store.crashed()
        if not crashed:
            return False
        entry = crashed[0]  # newest first
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.saved_at))
        answer = QMessageBox.question(
            self,
            "Recover unsaved work?",
            f"Latent Atelier did not close normally. Restore the work on “{entry.title}” "
            f"autosaved at {when}?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.Yes,
        )
        if answer != QMessageBox.StandardButton.Yes:
            for old in crashed:
                store.discard(old)
            return False
        try:
            doc = store.load(entry)
        except Exception as exc:
            self.show_error("Recovery failed", f"The recovery file could not be read.\n\n{exc}")
            return False
        doc.history.set_budget(self.preferences.undo_budget_bytes)
        self.set_document(doc)
        self.status.showMessage("Recovered autosaved work; save it to keep it.", 8000)
        return True

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.operations.confirm_close() or not self.maybe_save_changes():
            event.ignore()
            return
        self.closing.emit()
        self.operations.shutdown()  # cancel jobs and wait for the workers
        self.settings.save_window(self.saveGeometry(), self.saveState())
        self.autosave.shutdown()
        self.autosave.store.discard()
        event.accept()

    def _restore_window_state(self) -> None:
        geometry, state = self.settings.window_geometry(), self.settings.window_state()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)

    # -------------------------------------------------------- drag and drop
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        if any(u.isLocalFile() and is_openable(u.toLocalFile()) for u in urls):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        paths = [p for p in paths if is_openable(p)]
        if not paths:
            return
        event.acceptProposedAction()
        self.drop_files(paths)

    def drop_files(self, paths: list[str]) -> None:
        """No document: open the first file. After a matte, images go under the cut-out;
        otherwise each image becomes a background layer at the bottom."""
        if self.operations.compositing.take_drop(paths):
            return
        if self.document is None:
            self.open_path(paths[0])
            return
        for path in paths:
            if Path(path).suffix.lower() == ".ora":
                self.show_error("Cannot add a project", "Drop images to add them as layers.")
                continue
            try:
                layer = background_layer_from(path, self.document.size)
            except Exception as exc:
                self.show_error("Could not add image", f"{Path(path).name}: {exc}")
                continue
            self.document.add_layer(layer, 0, f"Add background {layer.name}")

    # ---------------------------------------------------------------- state
    def _on_history(self) -> None:
        self._update_title()
        self._update_enabled()

    def _update_title(self) -> None:
        doc = self.document
        if doc is None:
            self.setWindowTitle(APP_TITLE)
            return
        name = Path(doc.path).name if doc.path else (doc.layers[0].name if doc.layers else "Untitled")
        self.setWindowTitle(f"{name}{' *' if doc.dirty else ''} — {APP_TITLE}")

    def _update_enabled(self) -> None:
        self.actions_.update_enabled(self.document)

    def all_actions(self) -> list[QAction]:
        """Every action with a shortcut (for the Help table)."""
        return self.actions_.all()

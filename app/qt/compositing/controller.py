"""Compositing by drag and drop, background handles, generated backgrounds, export.

After a matte (a MATTE layer or a cut-out RGBA result exists), an image dropped on the
window (``MainWindow.drop_files`` asks :meth:`CompositingController.take_drop` first)
becomes a BACKGROUND layer right under the foreground (one undo step), instead of the
main window's default of a bottom layer.
"Move background" shows handles to move and scale it; "Generate background" runs
FurryGAN's background generator; "Export composite…" writes the composite, the
foreground with alpha and the matte in one go.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog

from latent_atelier.app.qt.compositing.handles import BackgroundHandles
from latent_atelier.app.qt.compositing.layers import (
    background_from_image,
    background_layer,
    fitted_background,
    foreground_layer,
    has_cutout,
    matte_layer,
    under_foreground_index,
)
from latent_atelier.app.qt.file_names import file_stem

if TYPE_CHECKING:
    from latent_atelier.app.document.layers import Layer
    from latent_atelier.app.qt.operations.controller import OperationsController

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp"}


class CompositingController(QObject):
    """The compositing part of the operations dock."""

    def __init__(self, ops: OperationsController) -> None:
        super().__init__(ops)
        self.ops = ops
        self.window = ops.window
        self.handles = BackgroundHandles(self.window.canvas)
        self._sources: dict[str, np.ndarray] = {}  # background id -> the dropped image
        panel = ops.panel
        panel.generate_bg_button.clicked.connect(self.generate_background)
        panel.move_bg_button.toggled.connect(self.set_moving)
        panel.export_button.clicked.connect(self.export_dialog)
        self.handles.rect_chosen.connect(self._apply_rect)

    # ------------------------------------------------------------------ drops
    def take_drop(self, paths: list[str]) -> bool:
        """After a matte, dropped images go under the cut-out (True when taken here);
        otherwise the window decides what a drop does."""
        images = [p for p in paths if Path(p).suffix.lower() in IMAGE_SUFFIXES]
        if not images or len(images) != len(paths) or not has_cutout(self.window.document):
            return False
        for path in images:
            self.drop_background(path)
        return True

    def drop_background(self, path: str | Path) -> Layer | None:
        """Put the image at ``path`` under the foreground as a BACKGROUND layer (one step)."""
        from latent_atelier.app.document.image_read import read_image

        doc = self.window.document
        if doc is None:
            return None
        try:
            image = read_image(path).pixels[..., :3].astype(np.float32)
        except Exception as exc:
            self.ops._show_error("Could not add background", f"{Path(path).name}: {exc}", "")
            return None
        layer = background_from_image(image, Path(path).stem, doc.width, doc.height)
        self._sources[layer.id] = image
        doc.add_layer(layer, under_foreground_index(doc), f"Background {layer.name}")
        self.window.status.showMessage(
            f"{Path(path).name} is the background; 'Move / scale' to place it", 5000
        )
        return layer

    # ------------------------------------------------------------------ handles
    def set_moving(self, on: bool) -> None:
        """Show handles on the background under the foreground."""
        doc = self.window.document
        layer = background_layer(doc) if (doc is not None and on) else None
        if on and layer is None:
            self.window.status.showMessage("No background to move: drop an image first", 4000)
            self.ops.panel.move_bg_button.setChecked(False)
            return
        self.handles.edit(None if layer is None else layer.rect)

    def _apply_rect(self, x: float, y: float, w: float, h: float) -> None:
        doc = self.window.document
        layer = background_layer(doc) if doc is not None else None
        if layer is None:
            return
        new_w, new_h = max(1, round(w)), max(1, round(h))
        offset = (round(x), round(y))
        if (new_w, new_h) == (layer.width, layer.height):
            doc.set_layer_props(layer.id, offset=offset)
        else:
            source = self._sources.get(layer.id, layer.pixels[..., :3])
            scale = max(new_w / max(1, layer.width), new_h / max(1, layer.height))
            cover = max(doc.width / source.shape[1], doc.height / source.shape[0])
            total = (layer.width / source.shape[1]) * scale / cover
            pixels, _ = fitted_background(source, doc.width, doc.height, total)
            doc.replace_pixels(layer.id, pixels, "Scale background", offset=offset)
        self.handles.edit(layer.rect)

    # ------------------------------------------------------------------ generate / export
    def generate_background(self) -> None:
        """Run `generate-background` on the photo's FurryGAN latent."""
        if "generate-background" not in self.ops.available:
            self.window.status.showMessage("Backgrounds need the FurryGAN operations", 4000)
            return
        self.ops.run("generate-background")

    def export_dialog(self) -> None:
        """Ask for a folder and export the composite set there."""
        folder = QFileDialog.getExistingDirectory(self.window, "Export composite into")
        if folder:
            self.export_to(folder)

    def export_to(self, folder: str | Path) -> list[Path]:
        """Write composite, foreground (RGBA) and matte into ``folder``; returns the paths."""
        from latent_atelier.app.document.image_write import export_matte_set

        doc = self.window.document
        if doc is None:
            return []
        fg, matte = foreground_layer(doc), matte_layer(doc)
        if fg is None and matte is None:
            self.ops._show_error("Nothing to export", "Cut out the subject first.", "")
            return []
        from latent_atelier.app.qt.operations.inputs import document_sized

        photo = doc.layers[0]
        if fg is not None:
            fg_px = document_sized(doc, fg)
            alpha = document_sized(doc, matte) if matte is not None else fg_px[..., 3]
        else:
            assert matte is not None
            alpha = document_sized(doc, matte)
            fg_px = document_sized(doc, photo)[..., :3]
        composite = doc.composite()
        rgb = composite[..., :3] * composite[..., 3:4] + (1.0 - composite[..., 3:4])
        stem = Path(doc.path).stem if doc.path else file_stem(photo.name)
        try:
            paths = export_matte_set(folder, alpha=alpha, foreground=fg_px, composite=rgb, stem=stem)
        except Exception as exc:
            self.ops._show_error("Export failed", str(exc), "")
            return []
        self.window.status.showMessage(f"Exported {len(paths)} files to {folder}", 6000)
        return paths

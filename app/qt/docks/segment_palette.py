"""The segment palette of a label layer: pick, add, rename, recolour, delete, show and hide
segments, and load the face classes that ``mask-edit`` and ``auto-segments`` use."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QColorDialog,
    QHBoxLayout,
    QInputDialog,
    QListWidget,
    QListWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from latent_atelier.app.qt.icons import icon
from latent_atelier.app.qt.thumbnails import color_swatch

if TYPE_CHECKING:
    from latent_atelier.app.document.document import Document
    from latent_atelier.app.document.layers import Layer

SEGMENT_ROLE = Qt.ItemDataRole.UserRole


class SegmentPaletteWidget(QWidget):
    """Edits one label layer's palette through undoable ``set_layer_props(palette=...)``."""

    segment_selected = Signal(int)  # segment id to paint with

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document: Document | None = None
        self.layer_id: str | None = None
        self.list = QListWidget()
        self.list.setObjectName("segment_list")
        self.list.setMaximumHeight(140)
        buttons = QHBoxLayout()
        self.add_button = self._button("add", "Add a segment", self.add_segment)
        self.rename_button = self._button("rename", "Rename the segment", self._rename_selected)
        self.recolor_button = self._button("recolor", "Recolour the segment", self._recolor)
        self.delete_button = self._button("delete", "Delete the segment and its pixels", self._delete)
        self.face_button = QToolButton()
        self.face_button.setText("Face classes")
        self.face_button.setToolTip(
            "Name the segments by the face classes of mask-edit and "
            "auto-segments (skin, hair, eyes, brows, nose, mouth, neck/body)"
        )
        self.face_button.clicked.connect(self.use_face_classes)
        for b in (
            self.add_button,
            self.rename_button,
            self.recolor_button,
            self.delete_button,
            self.face_button,
        ):
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list)
        layout.addLayout(buttons)
        self.list.currentItemChanged.connect(self._on_current)
        self.list.itemDoubleClicked.connect(lambda _item: self._rename_selected())
        self.list.itemChanged.connect(self._on_item_changed)

    def _button(self, key: str, tip: str, slot) -> QToolButton:  # type: ignore[no-untyped-def]
        b = QToolButton()
        b.setIcon(icon(key))
        b.setToolTip(tip)
        b.clicked.connect(slot)
        return b

    @property
    def layer(self) -> Layer | None:
        """The label layer shown, if any."""
        if self.document is None or self.layer_id is None:
            return None
        try:
            return self.document.layer(self.layer_id)
        except KeyError:
            return None

    def show_layer(self, document: Document | None, layer_id: str | None) -> None:
        """Show the palette of this label layer (or nothing)."""
        self.document, self.layer_id = document, layer_id
        self.refresh()

    def selected_id(self) -> int | None:
        """The id of the highlighted segment."""
        item = self.list.currentItem()
        return None if item is None else int(item.data(SEGMENT_ROLE))

    def refresh(self) -> None:
        """Rebuild the list from the layer's palette, keeping the selection."""
        keep = self.selected_id()
        self.list.blockSignals(True)
        self.list.clear()
        layer = self.layer
        if layer is not None and layer.palette is not None:
            for seg in layer.palette.segments:
                item = QListWidgetItem(color_swatch(seg.color), f"{seg.name}  (#{seg.id})")
                item.setData(SEGMENT_ROLE, seg.id)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Checked if seg.visible else Qt.CheckState.Unchecked)
                item.setToolTip("Untick to hide this segment on the canvas (its pixels stay)")
                self.list.addItem(item)
                if seg.id == keep:
                    self.list.setCurrentItem(item)
        self.list.blockSignals(False)
        if self.list.currentItem() is None and self.list.count():
            self.list.setCurrentRow(0)

    def select_segment(self, segment_id: int) -> None:
        """Highlight a segment (e.g. picked from the canvas)."""
        for row in range(self.list.count()):
            if int(self.list.item(row).data(SEGMENT_ROLE)) == segment_id:
                self.list.setCurrentRow(row)
                return

    def _on_current(self, item: QListWidgetItem | None, _prev: object) -> None:
        if item is not None:
            self.segment_selected.emit(int(item.data(SEGMENT_ROLE)))

    def _update_palette(self, edit) -> object:  # type: ignore[no-untyped-def]
        layer = self.layer
        if layer is None or self.document is None or layer.palette is None:
            return None
        palette = layer.palette.copy()
        result = edit(palette)
        self.document.set_layer_props(layer.id, palette=palette)
        self.refresh()
        return result

    def add_segment(self, name: str | None = None) -> int | None:
        """Add a segment (asks for a name when none is given); returns its id."""
        if self.layer is None:
            return None
        if not name:
            default = f"Segment {len(self.layer.palette.segments) + 1}" if self.layer.palette else ""
            name, ok = QInputDialog.getText(self, "New segment", "Name:", text=default)
            if not ok or not name.strip():
                return None
        seg = self._update_palette(lambda p: p.add(name.strip()))
        if seg is None:
            return None
        self.select_segment(seg.id)
        return seg.id

    def rename_segment(self, segment_id: int, name: str) -> None:
        """Give a segment a new name (undoable)."""
        self._update_palette(lambda p: p.rename(segment_id, name))

    def recolor_segment(self, segment_id: int, color: tuple[int, int, int]) -> None:
        """Give a segment a new colour (undoable)."""
        self._update_palette(lambda p: p.recolor(segment_id, color))

    def set_segment_visible(self, segment_id: int, visible: bool) -> None:
        """Show or hide one segment on the canvas (undoable; the pixels stay)."""
        layer = self.layer
        if layer is None or layer.palette is None or layer.palette.get(segment_id).visible == visible:
            return

        def edit(palette) -> None:  # type: ignore[no-untyped-def]
            palette.get(segment_id).visible = visible

        self._update_palette(edit)

    def use_face_classes(self) -> None:
        """Give the layer the face classes' ids, names and colours (one undo step); segments
        with other ids are kept."""
        from latent_atelier.app.document.layers import Segment
        from latent_atelier.models.mask_guided.classes import CLASS_COLOURS, CLASS_NAMES

        def edit(palette) -> None:  # type: ignore[no-untyped-def]
            face = [Segment(i, CLASS_NAMES[i], CLASS_COLOURS[i]) for i in range(1, len(CLASS_NAMES))]
            others = [s for s in palette.segments if s.id >= len(CLASS_NAMES)]
            palette.segments[:] = face + others

        self._update_palette(edit)

    def _on_item_changed(self, item: QListWidgetItem) -> None:
        self.set_segment_visible(int(item.data(SEGMENT_ROLE)), item.checkState() == Qt.CheckState.Checked)

    def delete_segment(self, segment_id: int) -> None:
        """Remove a segment and clear its pixels (two undo steps: pixels, then palette)."""
        layer = self.layer
        if layer is None or self.document is None:
            return
        if np.any(layer.pixels == segment_id):
            cleared = np.where(layer.pixels == segment_id, 0, layer.pixels)
            seg_name = layer.palette.get(segment_id).name if layer.palette else str(segment_id)
            self.document.replace_pixels(layer.id, cleared, f"Clear segment {seg_name}")
        self._update_palette(lambda p: p.remove(segment_id))

    def _rename_selected(self) -> None:
        sid, layer = self.selected_id(), self.layer
        if sid is None or layer is None or layer.palette is None:
            return
        old = layer.palette.get(sid).name
        name, ok = QInputDialog.getText(self, "Rename segment", "Name:", text=old)
        if ok and name.strip() and name.strip() != old:
            self.rename_segment(sid, name.strip())

    def _recolor(self) -> None:
        sid, layer = self.selected_id(), self.layer
        if sid is None or layer is None or layer.palette is None:
            return
        chosen = QColorDialog.getColor(QColor(*layer.palette.get(sid).color), self, "Segment colour")
        if chosen.isValid():
            self.recolor_segment(sid, (chosen.red(), chosen.green(), chosen.blue()))

    def _delete(self) -> None:
        sid = self.selected_id()
        if sid is not None:
            self.delete_segment(sid)

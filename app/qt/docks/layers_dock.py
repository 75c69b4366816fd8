"""Layers panel: the stack (top first) with thumbnails, visibility, rename, drag to reorder,
opacity, blend mode and lock for the active layer, the segment palette of label layers, the
overlay colour of mask and matte layers (a swatch on the thumbnail), and a context menu on
every row (rename, show, lock, blend mode, duplicate, delete, export, overlay colour)."""

from __future__ import annotations

import contextlib
import itertools
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QBrush, QColor, QFont, QIcon, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QColorDialog,
    QComboBox,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from superqt import QLabeledSlider

from latent_atelier.app.document.blend import BLEND_MODES, BLEND_TITLES
from latent_atelier.app.qt.docks.segment_palette import SegmentPaletteWidget
from latent_atelier.app.qt.document_signals import follow_signals
from latent_atelier.app.qt.icons import icon
from latent_atelier.app.qt.thumbnails import THUMB_SIZE, layer_thumbnail

if TYPE_CHECKING:
    from latent_atelier.app.document.document import Document
    from latent_atelier.app.document.layers import Layer
    from latent_atelier.app.qt.document_signals import DocumentSignals

LAYER_ID_ROLE = Qt.ItemDataRole.UserRole
THUMB_DELAY_MS = 250
OPACITY_MERGE_GAP_S = 1.0  # slider moves closer than this merge into one undo step
TINT_SWATCH_SIZE = 14  # the overlay-colour square in a mask row's thumbnail corner
OVERLAY_COLOUR_TEXT = "Overlay colour…"


def tint_colour(layer: Layer) -> QColor:
    """The overlay colour a mask or matte layer is drawn in."""
    from latent_atelier.app.document.layers import MASK_TINT

    r, g, b = (round(c * 255) for c in (layer.tint or MASK_TINT))
    return QColor(r, g, b)


def layer_row_icon(layer: Layer) -> QIcon:
    """The row icon: the layer's thumbnail, with a swatch of the overlay tint on masks/mattes."""
    icon_ = layer_thumbnail(layer)
    if not layer.kind.is_scalar:
        return icon_
    pixmap = icon_.pixmap(THUMB_SIZE, THUMB_SIZE)
    painter = QPainter(pixmap)
    x = y = THUMB_SIZE - TINT_SWATCH_SIZE - 1
    painter.setPen(QPen(QColor(30, 30, 30), 1))
    painter.setBrush(tint_colour(layer))
    painter.drawRect(x, y, TINT_SWATCH_SIZE, TINT_SWATCH_SIZE)
    painter.end()
    return QIcon(pixmap)


def single_move(current: Sequence[str], desired: Sequence[str]) -> tuple[str, int] | None:
    """The one (id, new index) that turns ``current`` into ``desired``, if one move does."""
    if list(current) == list(desired) or sorted(current) != sorted(desired):
        return None
    for moved in current:
        if [i for i in current if i != moved] == [i for i in desired if i != moved]:
            return moved, list(desired).index(moved)
    return None


class LayerList(QListWidget):
    """The stack, top layer first; reordering by internal drag and drop."""

    order_dropped = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("layer_list")
        self.setIconSize(QSize(THUMB_SIZE, THUMB_SIZE))
        self.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked)

    def dropEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        super().dropEvent(event)
        self.order_dropped.emit()

    def ids_top_first(self) -> list[str]:
        """Layer ids in display order."""
        return [self.item(r).data(LAYER_ID_ROLE) for r in range(self.count())]


class LayersDock(QDockWidget):
    """Shows and edits the layer stack of the current document."""

    label_selected = Signal(int)

    def __init__(
        self, actions: Sequence[QAction], row_actions: Sequence[QAction] = (), parent: QWidget | None = None
    ) -> None:
        """``actions``: the buttons under the list; ``row_actions``: entries of every row's
        context menu that act on the active layer (duplicate, delete, export)."""
        super().__init__("Layers", parent)
        self.setObjectName("layers_dock")
        self.document: Document | None = None
        self._signals: DocumentSignals | None = None
        self._rebuilding = False
        self._opacity_keys = itertools.count()
        self._opacity_key: tuple[str, int] = ("opacity", -1)
        self._last_opacity_change = 0.0
        self.row_actions = list(row_actions)
        self.list = LayerList()
        self.blend = QComboBox()
        self.blend.setObjectName("blend_combo")
        self.blend.setToolTip("Blend mode: how the layer mixes with the layers below")
        for mode in BLEND_MODES:
            self.blend.addItem(BLEND_TITLES[mode], mode)
        self.opacity = QLabeledSlider(Qt.Orientation.Horizontal)
        self.opacity.setObjectName("opacity_slider")
        self.opacity.setRange(0, 100)
        self.lock_button = QToolButton()
        self.lock_button.setObjectName("lock_button")
        self.lock_button.setIcon(icon("lock"))
        self.lock_button.setCheckable(True)
        self.lock_button.setToolTip("Lock the layer against painting")
        self.palette = SegmentPaletteWidget()
        self.palette_title = QLabel("Segments")
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        props = QHBoxLayout()
        props.addWidget(QLabel("Opacity"))
        props.addWidget(self.opacity, 1)
        props.addWidget(self.lock_button)
        layout.addLayout(props)
        blend_row = QHBoxLayout()
        blend_row.addWidget(QLabel("Blend"))
        blend_row.addWidget(self.blend, 1)
        layout.addLayout(blend_row)
        layout.addWidget(self.list, 1)
        buttons = QHBoxLayout()
        for action in actions:
            b = QToolButton()
            b.setDefaultAction(action)
            b.setAutoRaise(True)
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        layout.addWidget(self.palette_title)
        layout.addWidget(self.palette)
        self.setWidget(body)
        self._thumb_timer = QTimer(self, singleShot=True, interval=THUMB_DELAY_MS)
        self._thumb_timer.timeout.connect(self._refresh_thumbnails)
        self._stale_thumbs: set[str] = set()
        self.list.currentItemChanged.connect(self._on_current_item)
        self.list.itemChanged.connect(self._on_item_changed)
        self.list.order_dropped.connect(self._apply_dropped_order)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._show_context_menu)
        self.opacity.valueChanged.connect(self._on_opacity)
        self.blend.activated.connect(lambda i: self.set_blend_of_active(self.blend.itemData(i)))
        self.lock_button.toggled.connect(self._on_lock)
        self.palette.segment_selected.connect(self.label_selected)
        self.refresh()

    # ------------------------------------------------------------- document
    def set_document(self, document: Document | None, signals: DocumentSignals | None) -> None:
        """Show another document's layers."""
        follow_signals(self._signals, signals, self._connections)
        self.document, self._signals = document, signals
        self.refresh()

    def _connections(self, s: DocumentSignals) -> list:
        return [
            (s.layers_changed, self._on_layers),
            (s.props_changed, self._on_props),
            (s.active_changed, self._on_active),
            (s.pixels_changed, self._on_pixels),
        ]

    def _on_layers(self, *_args: object) -> None:
        self.refresh()

    def _on_props(self, layer_id: object, _rect: object) -> None:
        self._stale_thumbs.add(str(layer_id))
        self._thumb_timer.start()
        self.refresh()

    def _on_active(self, *_args: object) -> None:
        self.refresh()

    def _on_pixels(self, layer_id: object, _rect: object) -> None:
        if layer_id is not None:
            self._stale_thumbs.add(str(layer_id))
            self._thumb_timer.start()

    # --------------------------------------------------------------- display
    def refresh(self) -> None:
        """Sync rows and the active layer's controls with the document.

        Rows are updated in place when the stack order is unchanged (so an item whose own
        signal caused the change stays alive); they are rebuilt only when layers were added,
        removed or moved.
        """
        self._rebuilding = True
        doc = self.document
        layers = list(reversed(doc.layers)) if doc is not None else []
        if self.list.ids_top_first() != [lay.id for lay in layers]:
            self.list.clear()
            for layer in layers:
                item = QListWidgetItem(layer_row_icon(layer), layer.name)
                item.setData(LAYER_ID_ROLE, layer.id)
                item.setFlags(
                    item.flags()
                    | Qt.ItemFlag.ItemIsEditable
                    | Qt.ItemFlag.ItemIsUserCheckable
                    | Qt.ItemFlag.ItemIsDragEnabled
                )
                self.list.addItem(item)
        for row, layer in enumerate(layers):
            self._sync_item(self.list.item(row), layer)
            if doc is not None and layer.id == doc.active_id:
                self.list.setCurrentRow(row)
        self._rebuilding = False
        self._refresh_active_controls()

    @staticmethod
    def _sync_item(item: QListWidgetItem, layer) -> None:  # type: ignore[no-untyped-def]
        if item.text() != layer.name:
            item.setText(layer.name)
        check = Qt.CheckState.Checked if layer.visible else Qt.CheckState.Unchecked
        if item.checkState() != check:
            item.setCheckState(check)
        item.setToolTip(f"{layer.kind.value} layer{' (locked)' if layer.locked else ''}")
        font = QFont(item.font())
        font.setItalic(layer.locked)
        item.setFont(font)
        item.setForeground(QBrush(QColor(150, 150, 150) if layer.locked else QColor(220, 220, 220)))

    def _refresh_active_controls(self) -> None:
        from latent_atelier.app.document.layers import LayerKind

        layer = self.document.active_layer if self.document else None
        for w in (self.opacity, self.lock_button, self.blend):
            w.setEnabled(layer is not None)
            w.blockSignals(True)
        self.opacity.setValue(round((layer.opacity if layer else 1.0) * 100))
        self.lock_button.setChecked(bool(layer and layer.locked))
        self.blend.setCurrentIndex(max(0, self.blend.findData(layer.blend if layer else "normal")))
        for w in (self.opacity, self.lock_button, self.blend):
            w.blockSignals(False)
        is_labels = layer is not None and layer.kind == LayerKind.LABELS
        self.palette.setVisible(is_labels)
        self.palette_title.setVisible(is_labels)
        self.palette.show_layer(self.document, layer.id if is_labels and layer else None)

    def _refresh_thumbnails(self) -> None:
        if self.document is None:
            return
        stale, self._stale_thumbs = self._stale_thumbs, set()
        for row in range(self.list.count()):
            item = self.list.item(row)
            layer_id = item.data(LAYER_ID_ROLE)
            if layer_id in stale:
                with contextlib.suppress(KeyError):
                    item.setIcon(layer_row_icon(self.document.layer(layer_id)))

    # ---------------------------------------------------------------- edits
    def _on_current_item(self, item: QListWidgetItem | None, _prev: object) -> None:
        if self._rebuilding or item is None or self.document is None:
            return
        self.document.set_active(item.data(LAYER_ID_ROLE))

    def _on_item_changed(self, item: QListWidgetItem) -> None:
        if self._rebuilding or self.document is None:
            return
        layer_id = item.data(LAYER_ID_ROLE)
        try:
            layer = self.document.layer(layer_id)
        except KeyError:
            return
        visible = item.checkState() == Qt.CheckState.Checked
        if visible != layer.visible:
            self.document.set_layer_props(layer_id, visible=visible)
        name = item.text().strip()
        if name and name != layer.name:
            self.document.set_layer_props(layer_id, name=name)

    def _apply_dropped_order(self) -> None:
        if self.document is None:
            return
        desired = list(reversed(self.list.ids_top_first()))
        move = single_move([lay.id for lay in self.document.layers], desired)
        if move is not None:
            self.document.move_layer(*move)
        else:
            self.refresh()

    def _on_opacity(self, value: int) -> None:
        layer = self.document.active_layer if self.document else None
        if layer is None or self.document is None:
            return
        now = time.monotonic()
        if now - self._last_opacity_change > OPACITY_MERGE_GAP_S:
            self._opacity_key = ("opacity", next(self._opacity_keys))
        self._last_opacity_change = now
        self.document.set_layer_props(layer.id, merge_key=self._opacity_key, opacity=value / 100.0)

    def _on_lock(self, locked: bool) -> None:
        layer = self.document.active_layer if self.document else None
        if layer is not None and self.document is not None:
            self.document.set_layer_props(layer.id, locked=locked)

    def set_blend_of_active(self, mode: str) -> None:
        """Give the active layer blend ``mode`` (one undo step)."""
        layer = self.document.active_layer if self.document else None
        if layer is not None and self.document is not None:
            self.document.set_layer_props(layer.id, blend=mode)

    # ------------------------------------------------------- row context menu
    def context_menu(self, layer_id: str) -> QMenu | None:
        """The row menu of layer ``layer_id`` (any kind): rename, show/hide, lock, blend
        mode, the row actions (duplicate, delete, export), and "Overlay colour…" for masks
        and mattes. The row actions work on the active layer: right-clicking a row makes
        it active first, as in Krita and GIMP."""
        if self.document is None:
            return None
        try:
            layer = self.document.layer(layer_id)
        except KeyError:
            return None
        doc = self.document
        menu = QMenu(self)
        menu.setObjectName("layer_context_menu")
        rename = menu.addAction("Rename…")
        rename.triggered.connect(lambda: self._edit_name(layer_id))
        shown = menu.addAction("Visible")
        shown.setCheckable(True)
        shown.setChecked(layer.visible)
        shown.triggered.connect(lambda on: doc.set_layer_props(layer_id, visible=bool(on)))
        locked = menu.addAction("Locked")
        locked.setCheckable(True)
        locked.setChecked(layer.locked)
        locked.triggered.connect(lambda on: doc.set_layer_props(layer_id, locked=bool(on)))
        blend_menu = menu.addMenu("Blend mode")
        for mode in BLEND_MODES:
            action = blend_menu.addAction(BLEND_TITLES[mode])
            action.setCheckable(True)
            action.setChecked(layer.blend == mode)
            action.triggered.connect(lambda _on=False, m=mode: doc.set_layer_props(layer_id, blend=m))
        if layer.kind.is_scalar:
            action = menu.addAction(OVERLAY_COLOUR_TEXT)
            action.setObjectName("overlay_colour_action")
            action.triggered.connect(lambda: self.choose_overlay_colour(layer_id))
        if self.row_actions:
            menu.addSeparator()
            menu.addActions(self.row_actions)
        return menu

    def _edit_name(self, layer_id: str) -> None:
        for row in range(self.list.count()):
            item = self.list.item(row)
            if item.data(LAYER_ID_ROLE) == layer_id:
                self.list.editItem(item)
                return

    def _show_context_menu(self, pos: QPoint) -> None:
        item = self.list.itemAt(pos)
        if item is None or self.document is None:
            return
        layer_id = item.data(LAYER_ID_ROLE)
        self.document.set_active(layer_id)  # the row actions act on the clicked layer
        menu = self.context_menu(layer_id)
        if menu is not None:
            menu.exec(self.list.viewport().mapToGlobal(pos))
            menu.deleteLater()

    def choose_overlay_colour(self, layer_id: str) -> None:
        """Ask for a mask/matte layer's overlay colour; the change is one undo step."""
        if self.document is None:
            return
        try:
            layer = self.document.layer(layer_id)
        except KeyError:
            return
        color = QColorDialog.getColor(tint_colour(layer), self, f"Overlay colour of {layer.name}")
        if not color.isValid():  # cancelled
            return
        tint = (color.red() / 255.0, color.green() / 255.0, color.blue() / 255.0)
        self.document.set_layer_props(layer_id, tint=tint)

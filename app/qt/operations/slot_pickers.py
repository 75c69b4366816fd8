"""Input pickers built from an Operation's Slots: which layer (or latent, placement, file).

Defaults follow what the user most likely means: the active photo for the first image, a
different photo for a second image (crossover), the active mask or label layer, the
photo's stored latent and placement.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QWidget,
)

from latent_atelier.app.document.layers import LayerKind
from latent_atelier.app.qt.operations.labels import field_label
from latent_atelier.app.slot_codecs import layer_slot_kinds
from latent_atelier.editors.operation import Slot

if TYPE_CHECKING:
    from latent_atelier.app.document.document import Document
    from latent_atelier.app.document.layers import Layer

NONE = "__none__"
BOX = "__box__"  # the placement box drawn on the canvas

#: slot kind -> the layer kinds its picker offers (from the codec table)
KINDS_FOR_SLOT: dict[str, tuple[LayerKind, ...]] = layer_slot_kinds()


#: words in the name of a mask the user made that say which mask slot it is meant for
MASK_NAME_HINTS: dict[str, tuple[str, ...]] = {  # by the slot's role
    "fg_strokes": ("fg", "foreground"),
    "bg_strokes": ("bg", "background"),
    "unknown": ("unknown", "unsure"),
    "hole": ("hole",),
}


def _named_for(layer: Layer, role: str) -> bool:
    """Whether ``layer`` is a user's mask whose name says it is for a slot of ``role``."""
    if layer.operation is not None:  # an operation's output ("Cut out subject: trimap")
        return False
    words = set(re.split(r"[^a-z0-9]+", layer.name.lower()))
    return bool(words & set(MASK_NAME_HINTS.get(role, ())))


def _mask_default(slot: Slot, candidates: list[Layer], active: Layer | None, taken: list[str]) -> str | None:
    """A layer named for the slot's role ("fg strokes" for fg_strokes), else the active mask unless
    its name is meant for another slot, else (required slots) the first free mask."""
    named = [lay for lay in candidates if _named_for(lay, slot.role) and lay.id not in taken]
    if named:
        return named[0].id
    if slot.role == "alpha":
        mattes = [lay for lay in candidates if lay.kind == LayerKind.MATTE]
        if mattes:
            return mattes[0].id
    meant_elsewhere = active is not None and any(
        _named_for(active, other) for other in MASK_NAME_HINTS if other != slot.role
    )
    if active is not None and active in candidates and active.id not in taken and not meant_elsewhere:
        return active.id
    if slot.optional:
        return None
    free = [lay for lay in candidates if lay.id not in taken]
    return free[0].id if free else None


def default_layer(doc: Document, slot: Slot, taken: list[str]) -> str | None:
    """The layer id a picker for ``slot`` starts on (None: leave it empty)."""
    kinds = KINDS_FOR_SLOT[slot.kind]
    active = doc.active_layer
    top_first = list(reversed(doc.layers))
    candidates = [lay for lay in top_first if lay.kind in kinds and not lay.pending]
    if slot.kind == "image":
        photos = [lay for lay in candidates if lay.kind == LayerKind.PHOTO]
        if slot.role == "background":
            bgs = [lay for lay in candidates if lay.kind == LayerKind.BACKGROUND]
            return bgs[0].id if bgs else None
        if (
            active is not None
            and active.kind in (LayerKind.PHOTO, LayerKind.RESULT)
            and active.id not in taken
            and not active.pending
        ):
            return active.id
        free = [lay for lay in photos + candidates if lay.id not in taken]
        return free[0].id if free else None
    if slot.kind == "rgba":
        cutouts = [lay for lay in candidates if lay.is_cutout]
        paints = [lay for lay in candidates if lay.kind == LayerKind.PAINT]
        if active is not None and (active in cutouts or active in paints):
            return active.id
        first, second = (cutouts, paints) if slot.role == "foreground" else (paints, cutouts)
        found = first or second
        return found[0].id if found else None  # or the user's choice
    if slot.kind == "mask":
        return _mask_default(slot, candidates, active, taken)
    if slot.kind == "labels":  # the active one, else (two label slots) the next one free
        if active is not None and active.kind == LayerKind.LABELS and active.id not in taken:
            return active.id
        free = [lay for lay in candidates if lay.id not in taken]
        return None if slot.optional or not free else free[0].id
    return None


class _SlotCombo(QComboBox):
    """A chooser for one slot that keeps the user's pick over refills while it exists."""

    def __init__(self, slot: Slot, tooltip: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.slot = slot
        self.chosen: str | None = None  # what the user picked (NONE included)
        self.setObjectName(f"slot_{slot.name}")
        self.setToolTip(tooltip)
        self.activated.connect(lambda index: self.choose(self.itemData(index)))

    def choose(self, data: str | None) -> None:
        """The user's pick (a layer id, BOX or NONE): kept over refills while it exists."""
        self.chosen = data
        index = self.findData(data)
        if index >= 0:
            self.setCurrentIndex(index)


class LayerPicker(_SlotCombo):
    """A layer chooser for one image/rgba/mask/labels slot.

    It starts on :func:`default_layer` and then keeps its value: selecting a layer in the
    Layers panel, or adding one, never changes it. It moves only when the user picks in
    it, when its layer goes away, when a required slot is empty and a layer for it
    appears, or when a new or renamed layer's name says it is meant for this slot
    ("fg strokes" for the foreground mask).
    """

    def __init__(self, slot: Slot, parent: QWidget | None = None) -> None:
        super().__init__(slot, slot.help or slot.name, parent)
        self._names: dict[str, str] | None = None  # layer id -> name at the last fill

    def forget(self) -> None:
        """Back to the default at the next fill (another document)."""
        self.chosen, self._names = None, None

    def refill(self, doc: Document | None, taken: list[str]) -> None:
        """List the compatible layers (top first); see the class docstring for the value."""
        keep = self.currentData()
        self.blockSignals(True)
        self.clear()
        self.addItem("(none)" if self.slot.optional else "(choose a layer)", NONE)
        names: dict[str, str] = {}
        if doc is not None:
            for layer in reversed(doc.layers):
                if layer.kind in KINDS_FOR_SLOT[self.slot.kind] and not layer.pending:
                    self.addItem(layer.name, layer.id)
                    names[layer.id] = layer.name
        self.setCurrentIndex(max(0, self._pick_index(doc, taken, keep, names)))
        self._names = names if doc is not None else None
        self.blockSignals(False)

    def _pick_index(self, doc: Document | None, taken: list[str], keep: object, names: dict[str, str]) -> int:
        if doc is None:
            return 0
        if self.chosen is not None and self.findData(self.chosen) >= 0:
            return self.findData(self.chosen)
        if self._names is None:  # the first fill for this document
            return self.findData(default_layer(doc, self.slot, taken))
        named = [
            lid
            for lid, name in names.items()
            if self._names.get(lid) != name
            and _named_for(doc.layer(lid), self.slot.role)
            and lid not in taken
        ]
        if named:  # a layer was just made (or renamed) for this slot
            return self.findData(named[0])
        index = self.findData(keep) if keep not in (None, NONE) else -1
        if index >= 0:
            return index
        if self.slot.optional:  # left empty, or its layer went away: stays empty
            return 0
        return self.findData(default_layer(doc, self.slot, taken))  # a required slot

    def layer_id(self) -> str | None:
        """The chosen layer id (None for '(none)' or an empty list)."""
        data = self.currentData()
        return None if data in (None, NONE) else str(data)


class StoredValuePicker(_SlotCombo):
    """A latent or placement slot: '(none)' / the canvas box, or a layer's stored value."""

    def __init__(self, slot: Slot, parent: QWidget | None = None) -> None:
        super().__init__(slot, slot.help or f"a {slot.kind} stored on a layer", parent)

    def refill(self, doc: Document | None, photo_id: str | None) -> None:
        """Offer every layer holding a value; default to the photo's own."""
        attr = self.slot.kind
        self.blockSignals(True)
        self.clear()
        if attr == "placement":
            self.addItem("Box on canvas", BOX)
        elif self.slot.optional:
            self.addItem("(none)", NONE)
        holders = (
            []
            if doc is None
            else [
                lay
                for lay in reversed(doc.layers)
                if getattr(lay, attr, None) is not None and not lay.pending
            ]
        )
        for layer in holders:
            self.addItem(f"{attr} of {layer.name}", layer.id)
        default = -1
        same_kind = [lay for lay in holders if (lay.operation or {}).get("latent_slot") == self.slot.name]
        if attr == "latent" and self.slot.name != "latent" and same_kind:
            default = self.findData(same_kind[0].id)  # e.g. "latents" from segments
        if self.slot.role == "reference":  # e.g. source_latent, latent2: only when asked for
            default = max(default, 0)
        if default < 0 and photo_id is not None:
            default = self.findData(photo_id)
        if default < 0 and holders and attr == "latent":
            default = self.findData(_latent_default(holders, photo_id))
        if self.chosen is not None and self.findData(self.chosen) >= 0:
            default = self.findData(self.chosen)
        self.setCurrentIndex(max(0, default))
        self.blockSignals(False)

    def value_source(self) -> str | None:
        """A layer id, BOX, or None."""
        data = self.currentData()
        return None if data in (None, NONE) else str(data)


def _latent_default(holders: list[Layer], photo_id: str | None) -> str:
    for layer in holders:  # a result computed from this photo
        if photo_id and (layer.operation or {}).get("source") == photo_id:
            return layer.id
    return holders[0].id


class FilePicker(QWidget):
    """A path field with a browse button (for 'file' slots)."""

    def __init__(self, slot: Slot, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.slot = slot
        self.edit = QLineEdit()
        self.edit.setObjectName(f"slot_{slot.name}")
        browse = QPushButton("…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit, 1)
        row.addWidget(browse)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.slot.help or self.slot.name)
        if path:
            self.edit.setText(path)


class SlotPickers(QWidget):
    """One picker per input slot of an operation."""

    def __init__(self, slots: tuple[Slot, ...], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.slots = slots
        self.pickers: dict[str, Any] = {}
        layout = QFormLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for slot in slots:
            if slot.kind in KINDS_FOR_SLOT:
                picker: QWidget = LayerPicker(slot)
            elif slot.kind in ("latent", "placement"):
                picker = StoredValuePicker(slot)
            else:
                picker = FilePicker(slot)
            if isinstance(picker, QComboBox):  # long layer names must not widen the dock
                picker.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
                picker.setMinimumContentsLength(8)
            self.pickers[slot.name] = picker
            label = field_label(slot.name) + ("" if slot.optional else " *")
            layout.addRow(label, picker)

    def refill(self, doc: Document | None) -> None:
        """Refresh every picker from the document's layers."""
        taken: list[str] = []
        for picker in self.pickers.values():
            if isinstance(picker, LayerPicker):
                picker.refill(doc, taken)
                if picker.layer_id():
                    taken.append(picker.layer_id())  # type: ignore[arg-type]
        photo_id = self.photo_layer_id()
        for picker in self.pickers.values():
            if isinstance(picker, StoredValuePicker):
                picker.refill(doc, photo_id)

    def forget_choices(self) -> None:
        """Back to the defaults (another document)."""
        for picker in self.pickers.values():
            if isinstance(picker, StoredValuePicker):
                picker.chosen = None
            elif isinstance(picker, LayerPicker):
                picker.forget()

    def use_box(self) -> None:
        """Make every placement picker use the canvas box (the user just moved it)."""
        for slot in self.slots:
            picker = self.pickers[slot.name]
            if isinstance(picker, StoredValuePicker) and slot.kind == "placement":
                picker.choose(BOX)

    def photo_layer_id(self) -> str | None:
        """The layer of the first image/rgba slot: where results go and latents belong."""
        for slot in self.slots:
            picker = self.pickers[slot.name]
            if isinstance(picker, LayerPicker) and slot.kind in ("image", "rgba"):
                return picker.layer_id()
        return None

    def choices(self) -> dict[str, Any]:
        """Slot name -> layer id / BOX / path / None."""
        out: dict[str, Any] = {}
        for name, picker in self.pickers.items():
            if isinstance(picker, LayerPicker):
                out[name] = picker.layer_id()
            elif isinstance(picker, StoredValuePicker):
                out[name] = picker.value_source()
            else:
                out[name] = picker.edit.text() or None
        return out

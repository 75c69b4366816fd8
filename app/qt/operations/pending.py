"""Pending results: shown in the document, but not in its history until accepted.

Pending layers are inserted and removed with the document's raw (history-free) calls, so
Discard leaves layers, pixels and history exactly as before. Accept turns everything the
job proposed (layers, and the latent/placement stored on the source photo) into ONE undo
step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from latent_atelier.app.document.history import STEP_OVERHEAD_BYTES, Step
from latent_atelier.app.document.layers import Layer, LayerKind
from latent_atelier.app.qt.operations.results import ResultLayers

if TYPE_CHECKING:
    from latent_atelier.app.document.document import Document


@dataclass
class AcceptResultStep(Step):
    """Layers added by an operation plus the source layer's new latent/placement."""

    inserts: list[tuple[Layer, int]]
    source_id: str | None = None
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)
    label: str = "Operation result"
    applied: bool = True

    @property
    def nbytes(self) -> int:
        held = 0 if self.applied else sum(layer.nbytes for layer, _ in self.inserts)
        return STEP_OVERHEAD_BYTES + held

    def undo(self, doc: Document) -> None:
        for layer, _index in reversed(self.inserts):
            doc._remove_layer(layer.id)
        if self.source_id is not None and self.before:
            doc._apply_props(self.source_id, self.before)
        self.applied = False

    def redo(self, doc: Document) -> None:
        for layer, index in self.inserts:
            doc._insert_layer(layer, index)
        if self.source_id is not None and self.after:
            doc._apply_props(self.source_id, self.after)
        self.applied = True


def _insert_index(doc: Document, layer: Layer) -> int:
    """Backgrounds go under the cut-out foreground; everything else on top, to be seen."""
    if layer.kind == LayerKind.BACKGROUND:
        for i in range(len(doc.layers) - 1, -1, -1):
            lay = doc.layers[i]
            if lay.is_cutout and not lay.pending:
                return i
    return len(doc.layers)


class PendingResults(QObject):
    """The one proposal waiting for Accept or Discard."""

    changed = Signal()
    accepted = Signal(object)  # ResultLayers

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document: Document | None = None
        self.proposal: ResultLayers | None = None
        self.chosen = 0
        self._active_before: str | None = None

    @property
    def active(self) -> bool:
        """True while a proposal waits."""
        return self.proposal is not None

    @staticmethod
    def settle_loaded(doc: Document) -> int:
        """Layers saved while pending (a project or autosave) become ordinary layers."""
        stale = [lay for lay in doc.layers if lay.pending]
        for layer in stale:
            doc._apply_props(layer.id, {"pending": False, "locked": False})
        return len(stale)

    def show(self, doc: Document, proposal: ResultLayers) -> None:
        """Put the proposal's layers (and the first variant) into ``doc`` as pending."""
        if self.proposal is not None:
            self.discard()
        self.document, self.proposal, self.chosen = doc, proposal, 0
        self._active_before = doc.active_id
        for layer in proposal.layers + proposal.variants:
            layer.pending = True
            layer.locked = True
        # masks and label maps lowest, the colour result on top of them, in slot order
        shown = sorted(self._shown_layers(), key=lambda lay: lay.kind.is_color)
        position: int | None = None
        for layer in shown:
            if layer.kind == LayerKind.BACKGROUND:
                doc._insert_layer(layer, _insert_index(doc, layer))
                continue
            if position is None:
                position = _insert_index(doc, layer)
            doc._insert_layer(layer, position)
            position += 1
        self.changed.emit()

    def _shown_layers(self) -> list[Layer]:
        assert self.proposal is not None
        variant = self.proposal.variants[self.chosen : self.chosen + 1]
        return [*self.proposal.layers, *variant]

    def choose(self, index: int) -> None:
        """Show variant ``index`` instead of the current one."""
        doc, proposal = self.document, self.proposal
        if doc is None or proposal is None or not 0 <= index < len(proposal.variants):
            return
        if index == self.chosen:
            return
        old = proposal.variants[self.chosen]
        position = doc.index_of(old.id)
        doc._remove_layer(old.id)
        self.chosen = index
        doc._insert_layer(proposal.variants[index], position)
        self._restore_active()
        self.changed.emit()

    def discard(self) -> None:
        """Take the pending layers out; the document is exactly as before the job."""
        doc, proposal = self.document, self.proposal
        if doc is None or proposal is None:
            return
        for layer in reversed(self._shown_layers()):
            if any(lay is layer for lay in doc.layers):
                doc._remove_layer(layer.id)
        self._restore_active()
        self.proposal = None
        self.changed.emit()

    def accept(self) -> Layer | None:
        """Keep the shown layers as one undo step; returns the main result layer."""
        doc, proposal = self.document, self.proposal
        if doc is None or proposal is None:
            return None
        shown = [lay for lay in self._shown_layers() if any(x is lay for x in doc.layers)]
        for layer in shown:
            doc._apply_props(layer.id, {"pending": False, "locked": False})
        inserts = sorted(((lay, doc.index_of(lay.id)) for lay in shown), key=lambda t: t[1])
        source_id = proposal.source_id
        before: dict[str, Any] = {}
        after = dict(proposal.source_props)
        if source_id is not None and after and any(x.id == source_id for x in doc.layers):
            source = doc.layer(source_id)
            before = {k: getattr(source, k) for k in after}
            doc._apply_props(source_id, after)
        else:
            source_id, after = None, {}
        doc.history.push(AcceptResultStep(inserts, source_id, before, after, proposal.title))
        primary = proposal.primary
        if primary is not None and primary not in shown and shown:
            primary = next((lay for lay in shown if lay in proposal.variants), shown[0])
        if primary is not None:
            doc.set_active(primary.id)
        self.proposal = None
        self.changed.emit()
        self.accepted.emit(proposal)
        return primary

    def _restore_active(self) -> None:
        doc = self.document
        if doc is None:
            return
        ids = {lay.id for lay in doc.layers}
        if self._active_before in ids and doc.active_id != self._active_before:
            doc.set_active(self._active_before)

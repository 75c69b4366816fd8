"""Turn the plain-python document observer into Qt signals (queued on the GUI thread)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

if TYPE_CHECKING:
    from latent_atelier.app.document.document import DocEvent, Document


class DocumentSignals(QObject):
    """One instance per open document; widgets connect to these instead of the document."""

    # (layer_id | None, document rect (x, y, w, h) | None meaning "everything")
    layers_changed = Signal(object, object)
    pixels_changed = Signal(object, object)
    props_changed = Signal(object, object)
    active_changed = Signal(object)  # layer_id | None
    history_changed = Signal()
    saved = Signal()

    def __init__(self, document: Document, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        document.add_listener(self._on_event)

    def detach(self) -> None:
        """Stop listening (call when the document is closed or replaced)."""
        self.document.remove_listener(self._on_event)

    def _on_event(self, event: DocEvent) -> None:
        kind = event.kind
        if kind == "pixels":
            self.pixels_changed.emit(event.layer_id, event.rect)
        elif kind == "layers":
            self.layers_changed.emit(event.layer_id, event.rect)
        elif kind == "props":
            self.props_changed.emit(event.layer_id, event.rect)
        elif kind == "active":
            self.active_changed.emit(event.layer_id)
        elif kind == "history":
            self.history_changed.emit()
        elif kind == "saved":
            self.saved.emit()


def follow_signals(
    old: DocumentSignals | None,
    new: DocumentSignals | None,
    connections: Callable[[DocumentSignals], list[tuple[Any, Callable]]],
) -> None:
    """Move a widget's slots from ``old``'s signals to ``new``'s (either may be None);
    ``connections(signals)`` lists the (signal, slot) pairs."""
    if old is not None:
        for signal, slot in connections(old):
            signal.disconnect(slot)
    if new is not None:
        for signal, slot in connections(new):
            signal.connect(slot)

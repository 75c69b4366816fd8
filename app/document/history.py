"""Undo history bounded by memory, not by a step count.

A step refers to layers by id, never by index, so the history survives reordering; a
step that deletes a layer keeps the Layer object, so undoing it brings the very same
layer (and with it every older pixel step) back. Pixel steps hold only the changed
bounding box, old and new.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

if TYPE_CHECKING:
    from latent_atelier.app.document.document import Document
    from latent_atelier.app.document.layers import Layer

DEFAULT_BUDGET_BYTES = 1 << 30
STEP_OVERHEAD_BYTES = 256  # bookkeeping per step, so tiny steps still count


class Step:
    """One undoable change. Subclasses implement ``undo``/``redo`` on a Document."""

    label: str = ""
    merge_key: Any = None

    @property
    def nbytes(self) -> int:
        """Memory this step keeps alive (pixels it alone holds plus overhead)."""
        return STEP_OVERHEAD_BYTES

    def undo(self, doc: Document) -> None:
        """Revert the change on ``doc``."""
        raise NotImplementedError

    def redo(self, doc: Document) -> None:
        """Re-apply the change on ``doc``."""
        raise NotImplementedError

    def merge(self, newer: Step) -> bool:
        """Absorb ``newer`` (same ``merge_key``) into this step; False when impossible."""
        return False


@dataclass
class PixelStep(Step):
    """A rectangle of one layer (layer coordinates), old and new pixels."""

    layer_id: str
    x: int
    y: int
    old: np.ndarray
    new: np.ndarray
    label: str = "Paint"

    @property
    def nbytes(self) -> int:
        return int(self.old.nbytes + self.new.nbytes) + STEP_OVERHEAD_BYTES

    def undo(self, doc: Document) -> None:
        doc._write_pixels(self.layer_id, self.x, self.y, self.old)

    def redo(self, doc: Document) -> None:
        doc._write_pixels(self.layer_id, self.x, self.y, self.new)


@dataclass
class ReplaceStep(Step):
    """A whole-layer change that altered the layer's size (old and new arrays kept)."""

    layer_id: str
    old: np.ndarray
    new: np.ndarray
    old_offset: tuple[int, int]
    new_offset: tuple[int, int]
    label: str = "Replace pixels"

    @property
    def nbytes(self) -> int:
        return int(self.old.nbytes + self.new.nbytes) + STEP_OVERHEAD_BYTES

    def undo(self, doc: Document) -> None:
        doc._set_pixels(self.layer_id, self.old.copy(), self.old_offset)

    def redo(self, doc: Document) -> None:
        doc._set_pixels(self.layer_id, self.new.copy(), self.new_offset)


@dataclass
class _LayerInOutStep(Step):
    """A layer that one direction puts at ``index`` and the other takes out; the step keeps
    the Layer object, so both directions move the very same layer."""

    layer: Layer
    index: int
    label: str = ""
    applied: bool = True
    #: whether applying the step adds the layer (Add) or takes it out (Delete)
    adds: ClassVar[bool] = True

    @property
    def nbytes(self) -> int:  # only while the layer is out does the history alone hold it
        out = self.applied != self.adds
        return STEP_OVERHEAD_BYTES + (self.layer.nbytes if out else 0)

    def undo(self, doc: Document) -> None:
        self._place(doc, present=not self.adds)
        self.applied = False

    def redo(self, doc: Document) -> None:
        self._place(doc, present=self.adds)
        self.applied = True

    def _place(self, doc: Document, present: bool) -> None:
        if present:
            doc._insert_layer(self.layer, self.index)
        else:
            doc._remove_layer(self.layer.id)


@dataclass
class InsertLayerStep(_LayerInOutStep):
    """A layer added at ``index``; undo takes the same Layer object out again."""

    label: str = "Add layer"


@dataclass
class RemoveLayerStep(_LayerInOutStep):
    """A layer deleted from ``index``; undo puts the same Layer object back."""

    label: str = "Delete layer"
    adds: ClassVar[bool] = False


@dataclass
class MoveLayerStep(Step):
    """A layer moved in the stack (by id, between two indices)."""

    layer_id: str
    old_index: int
    new_index: int
    label: str = "Move layer"

    def undo(self, doc: Document) -> None:
        doc._move_layer(self.layer_id, self.old_index)

    def redo(self, doc: Document) -> None:
        doc._move_layer(self.layer_id, self.new_index)


@dataclass
class PropsStep(Step):
    """Layer properties (name, visibility, opacity, lock, offset, palette, ...) changed."""

    layer_id: str
    before: dict[str, Any]
    after: dict[str, Any]
    label: str = "Layer properties"
    merge_key: Any = None

    def undo(self, doc: Document) -> None:
        doc._apply_props(self.layer_id, self.before)

    def redo(self, doc: Document) -> None:
        doc._apply_props(self.layer_id, self.after)

    def merge(self, newer: Step) -> bool:
        if not isinstance(newer, PropsStep) or newer.layer_id != self.layer_id:
            return False
        for k, v in newer.before.items():
            self.before.setdefault(k, v)
        self.after.update(newer.after)
        return True


@dataclass
class History:
    """Ordered steps; ``index`` of them are applied. Oldest steps go when over budget."""

    budget_bytes: int = DEFAULT_BUDGET_BYTES
    steps: list[Step] = field(default_factory=list)
    index: int = 0
    evicted: int = 0  # how many old steps were dropped to stay inside the budget
    _doc_ref: Any = field(default=None, repr=False)

    def bind(self, doc: Document) -> None:
        """Attach the document that ``undo``/``redo``/``jump_to`` act on by default."""
        self._doc_ref = weakref.ref(doc)

    def _doc(self, doc: Document | None) -> Document:
        if doc is None and self._doc_ref is not None:
            doc = self._doc_ref()
        if doc is None:
            raise RuntimeError("this history is not bound to a document")
        return doc

    # -- queries -------------------------------------------------------------------------
    @property
    def can_undo(self) -> bool:
        """True when a step can be undone."""
        return self.index > 0

    @property
    def can_redo(self) -> bool:
        """True when an undone step can be redone."""
        return self.index < len(self.steps)

    @property
    def total_bytes(self) -> int:
        """Memory the history holds now."""
        return sum(s.nbytes for s in self.steps)

    def labels(self) -> list[str]:
        """The step labels, oldest first."""
        return [s.label for s in self.steps]

    @property
    def top(self) -> Step | None:
        """The most recently applied step (None at the start of history)."""
        return self.steps[self.index - 1] if self.index else None

    # -- changes -------------------------------------------------------------------------
    def push(self, step: Step) -> None:
        """Record an applied step: drops the redo tail, merges or appends, then evicts."""
        del self.steps[self.index :]
        last = self.steps[-1] if self.steps else None
        if (
            step.merge_key is not None
            and last is not None
            and last.merge_key == step.merge_key
            and last.merge(step)
        ):
            pass
        else:
            self.steps.append(step)
        self.index = len(self.steps)
        self.evict()
        self._notify()

    def evict(self) -> int:
        """Drop the oldest steps while over budget (the newest step is always kept)."""
        total = self.total_bytes
        dropped = 0
        while total > self.budget_bytes and len(self.steps) > 1 and self.index > 1:
            total -= self.steps.pop(0).nbytes
            self.index -= 1
            dropped += 1
        self.evicted += dropped
        return dropped

    def set_budget(self, budget_bytes: int) -> None:
        """Change the budget (a preference) and evict at once if needed."""
        if budget_bytes <= 0:
            raise ValueError("the undo memory budget must be positive")
        self.budget_bytes = int(budget_bytes)
        self.evict()
        self._notify()

    def undo(self, doc: Document | None = None) -> Step | None:
        """Revert the last applied step; returns it (None when nothing to undo)."""
        if not self.can_undo:
            return None
        step = self.steps[self.index - 1]
        step.undo(self._doc(doc))
        self.index -= 1
        self._notify(doc)
        return step

    def redo(self, doc: Document | None = None) -> Step | None:
        """Re-apply the next undone step; returns it (None when nothing to redo)."""
        if not self.can_redo:
            return None
        step = self.steps[self.index]
        step.redo(self._doc(doc))
        self.index += 1
        self._notify(doc)
        return step

    def jump_to(self, index: int, doc: Document | None = None) -> None:
        """Undo or redo until ``index`` steps are applied (0 = the start of history)."""
        if not 0 <= index <= len(self.steps):
            raise IndexError(f"history index {index} outside 0..{len(self.steps)}")
        target = self._doc(doc)
        while self.index > index:
            self.steps[self.index - 1].undo(target)
            self.index -= 1
        while self.index < index:
            self.steps[self.index].redo(target)
            self.index += 1
        self._notify(doc)

    def clear(self) -> None:
        """Forget every step."""
        self.steps.clear()
        self.index = 0
        self._notify()

    def _notify(self, doc: Document | None = None) -> None:
        try:
            target = self._doc(doc)
        except RuntimeError:
            return
        target._history_changed()

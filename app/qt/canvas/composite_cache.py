"""The document composite as a display QImage, recomputed only inside dirty rectangles."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QRect
from PySide6.QtGui import QImage, QRegion

from latent_atelier.app.qt.image_convert import qimage_from_premultiplied, rgba_float_to_premultiplied_u8

if TYPE_CHECKING:
    from latent_atelier.app.document.document import Document

IncludeFn = Callable[["Document"], "Collection[str] | None"]


class CompositeCache:
    """Keeps a premultiplied uint8 copy of ``document.composite()`` for painting.

    ``invalidate(rect)`` only records the rect; ``flush()`` (called from paintEvent)
    recomputes the union of pending rects once per frame, so many dabs between two
    frames cost one composite of their bounding boxes.
    """

    def __init__(self, document: Document, include: IncludeFn | None = None) -> None:
        self.document = document
        self._include = include
        self._buffer = np.zeros((document.height, document.width, 4), dtype=np.uint8)
        self.image: QImage = qimage_from_premultiplied(self._buffer)
        self._pending = QRegion(self.bounds())
        self.recomputed_pixels = 0  # for tests/benchmarks: how much work flush() did

    def bounds(self) -> QRect:
        """The whole document rectangle."""
        return QRect(0, 0, self.document.width, self.document.height)

    def invalidate(self, rect: tuple[int, int, int, int] | None = None) -> None:
        """Mark a document rect (or everything) for recomputation."""
        region = self.bounds() if rect is None else QRect(*rect).intersected(self.bounds())
        if not region.isEmpty():
            self._pending = self._pending.united(region)

    @property
    def has_pending(self) -> bool:
        """Whether a flush would recompute anything."""
        return not self._pending.isEmpty()

    def flush(self) -> None:
        """Recompute the pending rects from the document."""
        if self._pending.isEmpty():
            return
        include = self._include(self.document) if self._include is not None else None
        for r in self._pending:
            rect = (r.x(), r.y(), r.width(), r.height())
            rgba = self.document.composite(rect=rect, include=include)
            self._buffer[r.y() : r.y() + r.height(), r.x() : r.x() + r.width()] = (
                rgba_float_to_premultiplied_u8(rgba)
            )
            self.recomputed_pixels += r.width() * r.height()
        self._pending = QRegion()

    def pixel(self, x: int, y: int) -> tuple[int, int, int, int] | None:
        """The displayed premultiplied RGBA at a document pixel, or None outside."""
        if 0 <= x < self.document.width and 0 <= y < self.document.height:
            r, g, b, a = self._buffer[y, x]
            return int(r), int(g), int(b), int(a)
        return None

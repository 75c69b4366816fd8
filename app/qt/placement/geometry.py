"""Placement arithmetic the GUI needs: a square box, rescaling to a model's resolution."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from latent_atelier.editors.placement import Placement


@dataclass
class SquareBox:
    """An axis-aligned square in document pixels (top-left ``x``, ``y`` and ``side``)."""

    x: float
    y: float
    side: float

    @staticmethod
    def centred(width: int, height: int) -> SquareBox:
        """The largest centred square of a ``width`` x ``height`` photo."""
        side = float(min(width, height))
        return SquareBox((width - side) / 2, (height - side) / 2, side)

    def to_placement(self, size: int, photo_shape: tuple[int, int]) -> Placement:
        """The Placement mapping this box onto a ``size`` x ``size`` model crop."""
        return Placement.from_box(self.x, self.y, self.side, size, photo_shape)

    def corners(self) -> np.ndarray:
        """TL, TR, BR, BL (4 x 2) in document pixels."""
        x0, y0, x1, y1 = self.x, self.y, self.x + self.side, self.y + self.side
        return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float64)


def same_region(a: Placement, b: Placement, tolerance: float = 0.01) -> bool:
    """Whether two placements crop the same photo region (corners within ``tolerance`` of
    the crop's side, at any model size)."""
    if tuple(a.photo_shape) != tuple(b.photo_shape):
        return False
    ca, cb = a.corners(), b.at_size(a.size).corners()
    side = float(np.linalg.norm(ca[1] - ca[0]))
    return bool(np.abs(ca - cb).max() <= tolerance * max(side, 1.0))


@dataclass
class PlacementRequest:
    """A placement chosen in the GUI, resolved on the worker once the model size is known."""

    box: SquareBox | None = None
    placement: Placement | None = None
    photo_shape: tuple[int, int] = (0, 0)

    def resolve(self, size: int) -> Placement:
        """A Placement for a ``size`` px model."""
        if self.placement is not None:
            return self.placement.at_size(size)
        box = self.box or SquareBox.centred(self.photo_shape[1], self.photo_shape[0])
        return box.to_placement(size, self.photo_shape)

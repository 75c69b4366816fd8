"""A run's phases: each phase counts its own steps, the run's step and total come out right."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from latent_atelier.editors.operation import Progress


class StagePlan:
    """A run's phases and their lengths; each phase's offset and the total are counted here.

    ``plan = StagePlan(progress, ("W+", 300), ("noise", 200))``, then
    ``W_l(..., progress=plan.enter("W+"))``: the phase is named on ``progress`` with its
    length (the job panel reads "W+: 12 / 300"), and its step ``i`` of 300 is reported as
    step ``offset + i`` of the whole run, with no step arithmetic in the operation.
    A name may appear twice; ``enter`` takes the next phase of that name.
    """

    def __init__(self, progress: Progress | None, *phases: tuple[str, int]) -> None:
        self.progress = progress or Progress()
        self.phases = [(name, max(0, int(steps))) for name, steps in phases]
        self.total = sum(steps for _, steps in self.phases)
        self._entered: set[int] = set()

    def enter(self, name: str) -> Progress:
        """The Progress for the next phase called ``name`` (a KeyError if there is none)."""
        offset = 0
        for index, (phase, steps) in enumerate(self.phases):
            if phase == name and index not in self._entered:
                self._entered.add(index)
                self.progress.set_stage(name, steps)
                return _PhaseProgress(self.progress, offset, self.total)
            offset += steps
        raise KeyError(f"no phase {name!r} left in {[p for p, _ in self.phases]}")


class _PhaseProgress(Progress):
    """Forwards one phase's steps to ``outer``, shifted by ``offset`` within ``total``."""

    def __init__(self, outer: Progress, offset: int, total: int) -> None:
        super().__init__()
        self._outer, self._offset, self._total = outer, offset, total

    @property
    def cancelled(self) -> bool:
        return self._outer.cancelled

    def cancel(self) -> None:
        self._outer.cancel()

    def wants_preview(self) -> bool:
        return self._outer.wants_preview()

    def step(
        self, i: int, n: int, preview: np.ndarray | None = None, metrics: Mapping[str, float] | None = None
    ) -> None:
        self._outer.step(self._offset + i, self._total, preview, metrics)

    def set_stage(self, name: str, steps: int | None = None) -> None:
        self._outer.set_stage(name, steps)

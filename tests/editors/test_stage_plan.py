"""StagePlan: phases count their own steps; the run's step and total come out right."""

from __future__ import annotations

import numpy as np
import pytest

from latent_atelier.editors.i2s.scribble import ScribbleParams, scribble_edit
from latent_atelier.editors.operation import Cancelled, Progress
from latent_atelier.editors.stages import StagePlan


def _recording():
    seen: list[tuple[str, int, int, tuple[int, int]]] = []
    progress = Progress(lambda i, n, _p, _m: seen.append((progress.stage, i, n, progress.in_stage(i, n))))
    return progress, seen


def test_each_phase_is_placed_after_the_previous_ones():
    progress, seen = _recording()
    plan = StagePlan(progress, ("a", 2), ("b", 3), ("a", 1))
    assert plan.total == 6
    for name, steps in (("a", 2), ("b", 3), ("a", 1)):
        phase = plan.enter(name)
        for i in range(1, steps + 1):
            phase.step(i, steps)
    assert [(s, i, n) for s, i, n, _ in seen] == [
        ("a", 1, 6),
        ("a", 2, 6),
        ("b", 3, 6),
        ("b", 4, 6),
        ("b", 5, 6),
        ("a", 6, 6),
    ]
    assert [within for *_, within in seen] == [(1, 2), (2, 2), (1, 3), (2, 3), (3, 3), (1, 1)]
    with pytest.raises(KeyError, match="no phase 'a' left"):
        plan.enter("a")


def test_a_phase_sees_the_runs_cancel():
    progress = Progress()
    phase = StagePlan(progress, ("a", 5)).enter("a")
    progress.cancel()
    assert phase.cancelled
    with pytest.raises(Cancelled):
        phase.step(1, 5)


def test_a_three_phase_operation_reports_one_run(tiny_gen):
    progress, seen = _recording()
    size = tiny_gen.resolution
    photo = np.full((size, size, 3), 0.5, np.float32)
    mask = np.zeros((size, size), np.float32)
    mask[8:16, 8:16] = 1
    scribbled = photo.copy()
    scribbled[8:16, 8:16] = (1.0, 0.0, 0.0)
    scribble_edit(
        tiny_gen,
        photo,
        scribbled,
        mask,
        ScribbleParams(steps_embed=2, steps_w=3, steps_noise=2),
        progress=progress,
    )
    assert [i for _, i, _, _ in seen] == list(range(1, 8))
    assert {n for _, _, n, _ in seen} == {7}
    assert [s for s, *_ in seen] == ["embed photo"] * 2 + ["W+ towards the scribble"] * 3 + ["noise"] * 2

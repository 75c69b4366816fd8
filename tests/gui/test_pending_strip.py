"""The variant strip's thumbnails zoom to where the variants differ."""

from __future__ import annotations

import numpy as np

from latent_atelier.app.qt.operations.pending_strip import differing_region


def _variants(n: int = 3, shape=(200, 300, 3)) -> list[np.ndarray]:
    base = np.random.default_rng(0).random(shape, dtype=np.float32)
    out = []
    for i in range(n):
        v = base.copy()
        v[80:100, 150:170] = i / n  # only this 20 x 20 hole differs
        out.append(v)
    return out


def test_window_covers_the_differing_pixels_and_is_small():
    rows, cols = differing_region(_variants())
    assert rows.start <= 80 and rows.stop >= 100 and cols.start <= 150 and cols.stop >= 170
    assert (rows.stop - rows.start) <= 30 and (cols.stop - cols.start) <= 30  # 20 px + 25% a side


def test_no_window_when_nothing_differs_or_the_change_is_everywhere():
    same = [np.zeros((50, 50, 3), np.float32)] * 3
    assert differing_region(same) is None
    assert differing_region(_variants(1)) is None
    rng = np.random.default_rng(1)
    assert differing_region([rng.random((50, 50, 3), dtype=np.float32) for _ in range(2)]) is None


def test_window_stays_inside_the_image_at_an_edge():
    base = np.random.default_rng(2).random((200, 300, 3), dtype=np.float32)
    variants = [base.copy() for _ in range(3)]
    for i, v in enumerate(variants):
        v[0:10, 0:10] = i / 3  # a hole in the corner
    rows, cols = differing_region(variants)
    assert rows.start == 0 and cols.start == 0 and rows.stop <= 200 and cols.stop <= 300

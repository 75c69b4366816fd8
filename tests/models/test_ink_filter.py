"""The fixed ink-sketch filter that defines the dual-domain benchmark's second domain."""

from __future__ import annotations

import numpy as np
import pytest

from latent_atelier.models.training.synthetic.ink import INK, ink_sketch, ink_sketch_batch


def test_flat_image_is_bare_paper_and_edges_are_inked():
    flat = np.full((64, 64, 3), 0.5, np.float32)
    out = ink_sketch(flat)
    assert out.shape == (64, 64, 3) and out.dtype == np.float32
    assert out.min() > 0.7  # no strokes on a flat image
    step = flat.copy()
    step[:, 32:] = 0.0
    drawn = ink_sketch(step)
    assert drawn[:, 30:35].min() < 0.3  # a dark stroke along the edge
    assert drawn[:, :20].min() > 0.7


def test_output_is_between_ink_and_paper_and_deterministic():
    rng = np.random.default_rng(0)
    img = rng.random((32, 32, 3)).astype(np.float32)
    a, b = ink_sketch(img), ink_sketch(img)
    assert np.array_equal(a, b)
    ink, paper = np.array(INK.ink), np.array(INK.paper)
    t = (a - ink) / (paper - ink)  # one coverage value shared by the three channels
    assert np.allclose(t[..., 0], t[..., 1], atol=1e-5) and np.allclose(t[..., 0], t[..., 2], atol=1e-5)
    assert t.min() >= -1e-6 and t.max() <= 1 + 1e-6


def test_batch_accepts_uint8_and_refuses_bad_shapes():
    imgs = np.zeros((2, 16, 16, 3), np.uint8)
    assert ink_sketch_batch(imgs).shape == (2, 16, 16, 3)
    with pytest.raises(ValueError, match="H x W x 3"):
        ink_sketch(np.zeros((16, 16), np.float32))

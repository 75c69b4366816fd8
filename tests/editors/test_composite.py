"""Compositing: linear-light blending by hand, fit geometry, defringe, the Operation."""

from __future__ import annotations

import numpy as np
import pytest

from latent_atelier.editors.matting.composite import (
    Composite,
    CompositeParams,
    background_matrix,
    blend,
    defringe,
    fit_background,
    linear_to_srgb,
    srgb_to_linear,
)
from latent_atelier.editors.operation import OperationError, Progress
from latent_atelier.editors.registry import get_operation


def _srgb_decode(c: float) -> float:
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def _srgb_encode(c: float) -> float:
    return 12.92 * c if c <= 0.0031308 else 1.055 * c ** (1 / 2.4) - 0.055


def test_transfer_functions_round_trip_and_match_the_standard():
    x = np.linspace(0, 1, 101, dtype=np.float32)
    np.testing.assert_allclose(linear_to_srgb(srgb_to_linear(x)), x, atol=1e-5)
    assert srgb_to_linear(np.float32(0.5)) == pytest.approx(0.21404, abs=1e-4)


def test_linear_light_blend_matches_hand_computation():
    fg = np.array([[[1.0, 0.2, 0.5], [0.8, 0.8, 0.0]]], np.float32)
    bg = np.array([[[0.0, 0.9, 0.5], [0.1, 0.3, 1.0]]], np.float32)
    alpha = np.array([[0.5, 0.25]], np.float32)
    out = blend(fg, alpha, bg, linear_light=True)
    for j in range(2):
        a = float(alpha[0, j])
        for c in range(3):
            lin = a * _srgb_decode(fg[0, j, c]) + (1 - a) * _srgb_decode(bg[0, j, c])
            assert out[0, j, c] == pytest.approx(_srgb_encode(lin), abs=1e-5)
    plain = blend(fg, alpha, bg, linear_light=False)
    assert plain[0, 0, 0] == pytest.approx(0.5)
    assert out[0, 0, 0] == pytest.approx(0.7354, abs=1e-3)  # brighter than the sRGB average


def _halves(h: int, w: int) -> np.ndarray:
    """Left half red, right half blue."""
    bg = np.zeros((h, w, 3), np.float32)
    bg[:, : w // 2, 0] = 1.0
    bg[:, w // 2 :, 2] = 1.0
    return bg


def test_cover_fills_the_canvas_and_keeps_the_centre():
    bg = _halves(50, 100)
    out, cover = fit_background(bg, (40, 40), "cover")
    assert cover.min() > 0.99
    m = background_matrix(bg.shape, (40, 40), "cover")
    assert m[0, 0] == pytest.approx(0.8) and m[0, 2] == pytest.approx(-20.0)
    assert out[20, 5, 0] > 0.9 and out[20, 35, 2] > 0.9


def test_contain_letterboxes_and_none_keeps_pixel_size():
    bg = _halves(50, 100)
    out, cover = fit_background(bg, (40, 40), "contain")
    assert cover[:9].max() == 0.0 and cover[31:].max() == 0.0  # bars above and below
    assert cover[12:28].min() > 0.99
    assert out[:9].max() == 0.0 and out[20, 5, 0] > 0.9 and out[20, 35, 2] > 0.9
    m = background_matrix(bg.shape, (40, 40), "none")
    assert m[0, 0] == 1.0 and m[0, 2] == pytest.approx(-30.0) and m[1, 2] == pytest.approx(-5.0)
    shifted = background_matrix(bg.shape, (40, 40), "none", scale=2.0, offset=(3, -4))
    assert shifted[0, 0] == 2.0 and shifted[0, 2] == pytest.approx(-80.0 + 3)
    assert shifted[1, 2] == pytest.approx(-30.0 - 4)
    with pytest.raises(OperationError, match="fit"):
        background_matrix(bg.shape, (40, 40), "stretch")


def test_defringe_pulls_edge_colours_toward_the_interior():
    h, w = 20, 40
    fg = np.zeros((h, w, 3), np.float32)
    fg[..., 0] = 1.0  # red subject
    alpha = np.zeros((h, w), np.float32)
    alpha[:, :20] = 1.0
    alpha[:, 20:23] = 0.3  # soft edge still carrying the old blue background
    fg[:, 20:23] = (0.3, 0.0, 0.7)
    fixed = defringe(fg, alpha, strength=1.0, radius=3.0)
    red = np.array([1.0, 0.0, 0.0], np.float32)
    before = np.abs(fg[:, 20:23] - red).mean()
    after = np.abs(fixed[:, 20:23] - red).mean()
    assert after < 0.6 * before
    np.testing.assert_array_equal(fixed[:, :20], fg[:, :20])  # opaque pixels untouched
    np.testing.assert_array_equal(defringe(fg, alpha, strength=0.0), fg)


def test_composite_operation_with_rgba_and_separate_alpha():
    op = get_operation("composite")
    assert isinstance(op, Composite) and not op.needs_generator
    fg = np.zeros((10, 16, 4), np.float32)
    fg[..., 1] = 1.0
    fg[:, :8, 3] = 1.0
    bg = np.zeros((30, 30, 3), np.float32)
    bg[..., 2] = 1.0
    res = op.run(None, {"foreground": fg, "background": bg}, CompositeParams(), Progress())
    out = res.outputs["composite"]
    assert out.shape == (10, 16, 3)
    np.testing.assert_allclose(out[:, :8], np.broadcast_to([0, 1, 0], (10, 8, 3)), atol=1e-5)
    np.testing.assert_allclose(out[:, 8:], np.broadcast_to([0, 0, 1], (10, 8, 3)), atol=1e-5)
    alpha = np.full((10, 16), 0.5, np.float32)
    res2 = op.run(
        None, {"foreground": fg[..., :3], "alpha": alpha}, CompositeParams(fill_gray=0.0), Progress()
    )
    assert res2.outputs["composite"][0, 0, 1] == pytest.approx(_srgb_encode(0.5), abs=1e-4)
    with pytest.raises(OperationError, match="no alpha"):
        op.run(None, {"foreground": fg[..., :3]}, CompositeParams(), Progress())
    with pytest.raises(OperationError, match=r"5x5.*16x10"):
        op.run(None, {"foreground": fg, "alpha": np.ones((5, 5))}, CompositeParams(), Progress())

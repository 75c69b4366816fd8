"""Gradient-domain stitching: residual, seam removal, boundary and guidance fidelity."""

from __future__ import annotations

import numpy as np
import pytest

from latent_atelier.editors.operation import OperationError
from latent_atelier.editors.stitching.poisson import (
    naive_composite,
    poisson_residual,
    poisson_stitch,
    seam_gradient_jump,
)

N = 96


def _photo(n: int = N, seed: int = 0, noise: float = 0.02) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:n, 0:n] / n
    chans = [0.5 + 0.3 * np.sin(6 * xx + c) * np.cos(5 * yy - c) for c in range(3)]
    photo = np.stack(chans, -1) + noise * rng.standard_normal((n, n, 3))
    return photo.astype(np.float32)


def _voronoi_labels(n: int = N, count: int = 5, background: bool = True) -> np.ndarray:
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[0:n, 0:n] / n
    pts = rng.uniform(0.25, 0.75, (count, 2))
    dist = (yy[..., None] - pts[:, 0]) ** 2 + (xx[..., None] - pts[:, 1]) ** 2
    labels = dist.argmin(-1).astype(np.int32) + 1
    if background:
        labels[(yy - 0.5) ** 2 + (xx - 0.5) ** 2 > 0.4**2] = 0
    return labels


def _offset_segments(photo: np.ndarray, labels: np.ndarray) -> dict[int, np.ndarray]:
    """Each segment = photo + its own constant colour offset + a low-frequency ramp."""
    rng = np.random.default_rng(2)
    n = photo.shape[0]
    xx = np.mgrid[0:n, 0:n][1] / n
    out = {}
    for k in np.unique(labels[labels > 0]):
        offset = rng.uniform(-0.15, 0.15, 3) + 0.05 * np.sin(3 * xx + k)[..., None]
        out[int(k)] = (photo + offset).astype(np.float32)
    return out


@pytest.mark.parametrize("method", ["auto", "direct", "cg"])
@pytest.mark.parametrize("background", [True, False])
def test_residual_below_target(method: str, background: bool) -> None:
    photo = _photo()
    labels = _voronoi_labels(background=background)
    segs = _offset_segments(photo, labels)
    out = poisson_stitch(photo, labels, segs, method=method)
    assert out.shape == photo.shape and out.dtype == np.float32
    assert poisson_residual(out, photo, labels, segs) < 1e-4


def test_residual_metric_detects_unsolved_image() -> None:
    photo = _photo()
    labels = _voronoi_labels()
    segs = _offset_segments(photo, labels)
    assert poisson_residual(naive_composite(photo, labels, segs), photo, labels, segs) > 1e-2


def test_seam_jump_drops_five_fold_against_naive() -> None:
    photo = _photo(noise=0.0)  # smooth photo: its own gradient across borders is small
    labels = _voronoi_labels()
    segs = _offset_segments(photo, labels)
    naive = seam_gradient_jump(naive_composite(photo, labels, segs), labels)
    stitched = seam_gradient_jump(poisson_stitch(photo, labels, segs), labels)
    assert naive >= 5 * stitched
    assert stitched < 2 * seam_gradient_jump(photo, labels) + 1e-3


def test_label_zero_pixels_equal_photo_exactly() -> None:
    photo = _photo()
    labels = _voronoi_labels()
    segs = _offset_segments(photo, labels)
    out = poisson_stitch(photo, labels, segs, mixed_gradients=True)
    assert np.array_equal(out[labels == 0], photo[labels == 0])


def test_single_segment_reproduces_its_gradients() -> None:
    """One segment over the whole frame: the solution is that image (mean pinned)."""
    photo = _photo()
    labels = np.ones((N, N), np.int32)
    yy, xx = np.mgrid[0:N, 0:N] / N
    seg = (photo + 0.2 * np.sin(2 * xx + yy)[..., None]).astype(np.float32)
    out = poisson_stitch(photo, labels, {1: seg})
    np.testing.assert_allclose(np.diff(out, axis=0), np.diff(seg, axis=0), atol=1e-4)
    np.testing.assert_allclose(np.diff(out, axis=1), np.diff(seg, axis=1), atol=1e-4)


def test_interior_gradients_follow_guidance_with_dirichlet_border() -> None:
    """Inside a segment, far from its border, the correction is smooth: gradients stay
    within a small tolerance of the segment's own (high-frequency) gradients."""
    photo = _photo()
    labels = np.zeros((N, N), np.int32)
    labels[20:76, 20:76] = 1
    seg = (photo * 0.0 + _photo(seed=5) + 0.3).astype(np.float32)
    out = poisson_stitch(photo, labels, {1: seg})
    inner = (slice(30, 66), slice(30, 66))

    def laplace(a):
        return 4 * a[1:-1, 1:-1] - a[:-2, 1:-1] - a[2:, 1:-1] - a[1:-1, :-2] - a[1:-1, 2:]

    np.testing.assert_allclose(laplace(out[inner]), laplace(seg[inner]), atol=1e-4)


def test_array_form_equals_dict_form() -> None:
    photo = _photo()
    labels = _voronoi_labels()
    segs = _offset_segments(photo, labels)
    stack = np.stack([segs[k] for k in sorted(segs)])
    np.testing.assert_allclose(
        poisson_stitch(photo, labels, stack, method="direct"),
        poisson_stitch(photo, labels, segs, method="direct"),
        atol=1e-6,
    )


def test_mixed_gradients_keep_strong_photo_edges() -> None:
    photo = _photo()
    photo[:, 48:] += 0.3  # a strong vertical edge inside the segment
    labels = np.zeros((N, N), np.int32)
    labels[16:80, 16:80] = 1
    flat = np.full_like(photo, 0.5)
    plain = poisson_stitch(photo, labels, {1: flat})
    mixed = poisson_stitch(photo, labels, {1: flat}, mixed_gradients=True)
    edge_plain = np.abs(plain[30:60, 48] - plain[30:60, 47]).mean()
    edge_mixed = np.abs(mixed[30:60, 48] - mixed[30:60, 47]).mean()
    assert edge_mixed > 0.25 and edge_plain < 0.05


@pytest.mark.parametrize("method", ["auto", "direct"])
@pytest.mark.parametrize("background", [True, False])
def test_screened_residual_below_target(method: str, background: bool) -> None:
    photo = _photo()
    labels = _voronoi_labels(background=background)
    segs = _offset_segments(photo, labels)
    out = poisson_stitch(photo, labels, segs, method=method, screen=0.1, seams="stronger")
    assert poisson_residual(out, photo, labels, segs, screen=0.1, seams="stronger") < 1e-4
    # the residual is the screened system's: the plain solution does not satisfy it
    plain = poisson_stitch(photo, labels, segs, method=method)
    assert poisson_residual(plain, photo, labels, segs, screen=0.1, seams="stronger") > 1e-3


def test_screening_keeps_segment_colours_and_still_hides_seams() -> None:
    """No label 0: plain Poisson shifts whole segments by their seam mismatch; screened
    Poisson keeps each segment's own colour away from its borders and still cuts the seam
    jump five-fold (screen 0.1: corrections fade within ~3 px)."""
    photo = _photo(noise=0.0)
    labels = _voronoi_labels(background=False)
    segs = _offset_segments(photo, labels)
    naive = naive_composite(photo, labels, segs)
    plain = poisson_stitch(photo, labels, segs)
    screened = poisson_stitch(photo, labels, segs, screen=0.1)
    border = np.zeros_like(labels, bool)
    border[:, 1:] |= labels[:, 1:] != labels[:, :-1]
    border[1:, :] |= labels[1:, :] != labels[:-1, :]
    from scipy.ndimage import binary_dilation

    interior = ~binary_dilation(border, iterations=12)
    drift = lambda out: np.abs(out - naive)[interior].mean()  # noqa: E731
    assert drift(screened) < 0.1 * drift(plain), (drift(screened), drift(plain))
    jump_naive = seam_gradient_jump(naive, labels)
    assert jump_naive >= 5 * seam_gradient_jump(screened, labels)


def test_stronger_seam_guidance_keeps_an_edge_one_segment_draws() -> None:
    """Along a border that is a real edge, segment 1 draws it sharply and segment 2 softly:
    the mean guidance halves the edge, the stronger guidance keeps it."""
    n = 48
    photo = np.full((n, n, 3), 0.5, np.float32)
    labels = np.zeros((n, n), np.int32)
    labels[8:40, 8:24] = 1
    labels[8:40, 24:40] = 2
    xx = np.mgrid[0:n, 0:n][1]
    sharp = np.where(xx < 24, 0.2, 0.8)[..., None].repeat(3, -1).astype(np.float32)
    soft = np.clip(0.5 + (xx - 23.5) * 0.02, 0, 1)[..., None].repeat(3, -1).astype(np.float32)
    segs = {1: sharp, 2: soft}

    def edge(seams: str) -> float:
        out = poisson_stitch(photo, labels, segs, seams=seams, method="direct")
        return float(np.abs(out[12:36, 24] - out[12:36, 23]).mean())

    assert edge("stronger") > 0.55 and edge("mean") < 0.35, (edge("stronger"), edge("mean"))


@pytest.mark.parametrize(
    ("rows", "segments", "options", "message"),
    [
        (None, lambda photo, _labels: {1: photo}, {}, "no segment image"),
        (10, lambda _photo, _labels: {}, {}, "labels shape"),
        (None, _offset_segments, {"method": "magic"}, "method"),
        (None, _offset_segments, {"screen": -1.0}, "screen"),
        (None, _offset_segments, {"seams": "max"}, "seam guidance"),
    ],
)
def test_bad_inputs_raise_clear_errors(rows, segments, options, message) -> None:
    photo = _photo()
    labels = _voronoi_labels()
    with pytest.raises(OperationError, match=message):
        poisson_stitch(photo, labels[:rows], segments(photo, labels), **options)


def test_auto_matches_direct_solver() -> None:
    photo = _photo()
    labels = _voronoi_labels()
    segs = _offset_segments(photo, labels)
    np.testing.assert_allclose(
        poisson_stitch(photo, labels, segs),
        poisson_stitch(photo, labels, segs, method="direct"),
        atol=2e-3,
    )


@pytest.mark.parametrize("coarse_cycles", [1, 2])
def test_multigrid_preconditioner_is_symmetric(coarse_cycles: int) -> None:
    """CG needs a symmetric preconditioner: <M a, c> == <a, M c> for the V/W-cycle M."""
    from latent_atelier.editors.stitching.poisson import _Level, _Multigrid, build_system

    photo = _photo()
    labels = _voronoi_labels(n=N)
    sys_ = build_system(photo, labels, _offset_segments(photo, labels))
    level = _Level.padded(sys_.diag, sys_.wx, sys_.wy)
    mg = _Multigrid(level, coarse_size=12, coarse_cycles=coarse_cycles)
    assert len(mg.levels) >= 3
    rng = np.random.default_rng(3)
    mask = (level.diag > 0)[..., None]
    a, c = (rng.standard_normal((*level.diag.shape, 3)).astype(np.float32) * mask for _ in range(2))
    ma = mg.vcycle(a).copy()
    mc = mg.vcycle(c)
    lhs = float((ma.astype(np.float64) * c * mask).sum())
    rhs = float((a.astype(np.float64) * mc * mask).sum())
    assert abs(lhs - rhs) <= 1e-4 * abs(lhs) and lhs > 0


def _reference_half_sweep(level, u: np.ndarray, b: np.ndarray, colour: int) -> None:
    """Plain-Python Gauss-Seidel half-sweep over the padded grid (the kernels' definition)."""
    h, w = level.diag.shape
    for i in range(1, h - 1):
        for j in range(1, w - 1):
            d = level.diag[i, j]
            if (i + j) % 2 != colour or d <= 0:
                continue
            u[i, j] = (
                b[i, j]
                + level.wx[i, j - 1] * u[i, j - 1]
                + level.wx[i, j] * u[i, j + 1]
                + level.wy[i - 1, j] * u[i - 1, j]
                + level.wy[i, j] * u[i + 1, j]
            ) / d


@pytest.mark.parametrize("first", [0, 1])
def test_fused_gauss_seidel_pass_equals_two_half_sweeps(first: int) -> None:
    from latent_atelier.editors.stitching.poisson import _gauss_seidel_sweep, _Level, build_system

    n = 14
    photo = _photo(n)
    labels = _voronoi_labels(n, count=3)
    sys_ = build_system(photo, labels, _offset_segments(photo, labels))
    level = _Level.padded(sys_.diag, sys_.wx, sys_.wy)
    rng = np.random.default_rng(4)
    b = rng.standard_normal((n + 2, n + 2, 3)).astype(np.float32)
    u0 = rng.standard_normal((n + 2, n + 2, 3)).astype(np.float32)
    u0[0] = u0[-1] = u0[:, 0] = u0[:, -1] = 0
    for from_zero in (False, True):
        expected = np.zeros_like(u0) if from_zero else u0.copy()
        _reference_half_sweep(level, expected, b, first)
        _reference_half_sweep(level, expected, b, 1 - first)
        got = u0.copy()
        _gauss_seidel_sweep(level.diag, level.wx, level.wy, got, b, first, from_zero)
        unknown = level.diag > 0
        np.testing.assert_allclose(got[unknown], expected[unknown], rtol=1e-5, atol=1e-5)


def _textured_segments(labels: np.ndarray) -> dict[int, np.ndarray]:
    """Segment images with their own content (not the photo's), so the solve has work to do."""
    n = labels.shape[0]
    yy, xx = np.mgrid[0:n, 0:n] / n
    return {
        int(k): np.stack(
            [0.5 + 0.3 * np.cos((7 + k) * yy + c) * np.sin((5 + c) * xx) for c in range(3)], -1
        ).astype(np.float32)
        for k in np.unique(labels[labels > 0])
    }


@pytest.mark.parametrize("segments", ["offset", "textured"])
def test_default_solver_matches_an_independent_sparse_direct_solve(segments: str) -> None:
    """The same discrete system, assembled afresh from the documented formula and solved by
    SciPy's sparse LU (benchmarks/poisson_reference.py shares no code with the solver)."""
    from benchmarks.poisson_reference import reference_stitch

    photo = _photo()
    labels = _voronoi_labels()
    segs = _offset_segments(photo, labels) if segments == "offset" else _textured_segments(labels)
    reference, _seconds = reference_stitch(photo, labels, segs)
    ours = poisson_stitch(photo, labels, segs)
    assert np.abs(ours - reference).max() < 1e-3
    # and it is not trivially close: the naive composite is far from the solution
    assert np.abs(naive_composite(photo, labels, segs) - reference).max() > 0.05


def test_reference_solve_reproduces_the_photo_for_shifted_segments() -> None:
    """Segments that are the photo plus a constant have the photo's gradients: with the photo
    as border the exact solution is the photo itself."""
    from benchmarks.poisson_reference import reference_stitch

    photo = _photo()
    labels = _voronoi_labels()
    segs = {int(k): photo + np.float32(0.1 * k) for k in np.unique(labels[labels > 0])}
    reference, _seconds = reference_stitch(photo, labels, segs)
    np.testing.assert_allclose(reference, photo, atol=1e-6)  # float32 inputs

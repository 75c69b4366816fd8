"""Placement: exact inverse, pixel warps that agree with the point maps, paste-back blends."""

from __future__ import annotations

import numpy as np
import pytest

from latent_atelier.editors.placement import Placement

PHOTO_SHAPE = (240, 320)


def random_placement(rng: np.random.Generator, size: int = 128) -> Placement:
    """A random rotation + scale (+ a little shear) whose crop lies inside the photo."""
    angle = rng.uniform(-np.pi, np.pi)
    scale = rng.uniform(0.9, 1.6)
    shear = rng.uniform(-0.1, 0.1)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    lin = scale * rot @ np.array([[1.0, shear], [0.0, 1.0]])
    centre_photo = np.array([160.0, 120.0]) + rng.uniform(-15, 15, 2)
    t = np.array([size / 2 - 0.5, size / 2 - 0.5]) - lin @ centre_photo
    return Placement(np.hstack([lin, t[:, None]]), size, PHOTO_SHAPE)


def spots(shape: tuple[int, int], centres: np.ndarray, sigma: float = 2.0) -> np.ndarray:
    """Gaussian dots at sub-pixel ``centres`` (x, y), as an RGB float image."""
    ys, xs = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float64)
    img = np.zeros(shape, np.float64)
    for cx, cy in centres:
        img += np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * sigma**2))
    return np.repeat(img[..., None], 3, axis=2).astype(np.float32)


def spread_points(rng: np.random.Generator) -> np.ndarray:
    """Nine crop points on a jittered 3 x 3 grid (well apart, so dots never merge)."""
    grid = np.array([[x, y] for y in (30.0, 64.0, 98.0) for x in (30.0, 64.0, 98.0)])
    return grid + rng.uniform(-4, 4, grid.shape)


def centroid_near(img: np.ndarray, p: np.ndarray, r: int = 7) -> np.ndarray:
    x0, y0 = round(float(p[0])) - r, round(float(p[1])) - r
    win = img[y0 : y0 + 2 * r + 1, x0 : x0 + 2 * r + 1, 0].astype(np.float64)
    win = np.clip(win - 0.05 * win.max(), 0, None)
    ys, xs = np.mgrid[0 : win.shape[0], 0 : win.shape[1]]
    return np.array([(xs * win).sum() / win.sum() + x0, (ys * win).sum() / win.sum() + y0])


@pytest.mark.parametrize("seed", range(5))
def test_point_round_trip_is_exact(seed):
    rng = np.random.default_rng(seed)
    pl = random_placement(rng)
    pts = rng.uniform(0, 300, (50, 2))
    np.testing.assert_allclose(pl.to_photo(pl.to_crop(pts)), pts, atol=1e-9)
    np.testing.assert_allclose(pl.to_crop(pl.to_photo(pts)), pts, atol=1e-9)


@pytest.mark.parametrize("seed", range(5))
def test_pixel_warps_agree_with_the_point_maps_within_half_a_pixel(seed):
    rng = np.random.default_rng(100 + seed)
    pl = random_placement(rng)
    # photo -> crop: dots drawn in the photo are found in the crop where to_crop says
    photo_pts = pl.to_photo(spread_points(rng))
    crop = pl.extract(spots(PHOTO_SHAPE, photo_pts), border="constant")
    found = np.array([centroid_near(crop, p) for p in pl.to_crop(photo_pts)])
    assert np.abs(pl.to_photo(found) - photo_pts).max() < 0.5
    # crop -> photo: dots drawn in a crop are pasted where to_photo says
    crop_pts = spread_points(rng)
    pasted = pl.paste(np.zeros((*PHOTO_SHAPE, 3), np.float32), spots((128, 128), crop_pts), feather=0.0)
    found = np.array([centroid_near(pasted, p) for p in pl.to_photo(crop_pts)])
    assert np.abs(pl.to_crop(found) - crop_pts).max() < 0.5


def test_dict_round_trip_keeps_the_feather():
    pl = random_placement(np.random.default_rng(7))
    pl = Placement(pl.matrix, pl.size, pl.photo_shape, feather=0.1)
    back = Placement.from_dict(pl.to_dict())
    np.testing.assert_array_equal(back.matrix, pl.matrix)
    assert (back.size, back.photo_shape, back.feather) == (pl.size, pl.photo_shape, 0.1)
    old = {k: v for k, v in pl.to_dict().items() if k != "feather"}  # older project files
    assert Placement.from_dict(old).feather == 0.04
    with pytest.raises(ValueError, match="feather"):
        Placement.from_dict({**pl.to_dict(), "feather": -1})


def test_paste_uses_the_placement_feather_by_default():
    photo = np.zeros((64, 64, 3), np.float32)
    crop = np.ones((32, 32, 3), np.float32)
    hard = Placement.from_box(16, 16, 32, 32, (64, 64)).paste(photo, crop)  # feather 0.04
    soft = Placement(Placement.from_box(16, 16, 32, 32, (64, 64)).matrix, 32, (64, 64), 0.25)
    soft_out = soft.paste(photo, crop)
    assert hard[32, 17, 0] > soft_out[32, 17, 0]  # the wider ramp is still low near the edge
    assert soft_out[32, 32, 0] == pytest.approx(1.0)


def test_poisson_paste_follows_the_photo_brightness():
    ys, xs = np.mgrid[0:96, 0:96].astype(np.float32)
    photo = np.stack([0.3 + 0.3 * xs / 96, 0.4 + 0.2 * ys / 96, 0.5 + 0.0 * xs], axis=2)
    pl = Placement.from_box(24, 24, 48, 48, (96, 96))
    brighter = pl.extract(photo) + 0.2  # the same picture, shifted in brightness
    alpha = pl.paste(photo, brighter)
    poisson = pl.paste(photo, brighter, blend="poisson")
    inside = (slice(36, 60), slice(36, 60))
    assert np.abs(alpha[inside] - photo[inside]).mean() > 0.15
    assert np.abs(poisson[inside] - photo[inside]).mean() < 0.02
    with pytest.raises(ValueError, match="blend"):
        pl.paste(photo, brighter, blend="median")


def test_corners_are_the_crop_edges():
    pl = Placement.from_box(10, 20, 50, 100, (200, 200))
    c = pl.corners()
    np.testing.assert_allclose(pl.to_crop(c), [[-0.5, -0.5], [99.5, -0.5], [99.5, 99.5], [-0.5, 99.5]])
    assert c[1, 0] - c[0, 0] == pytest.approx(50.0)


@pytest.mark.parametrize("border", ["reflect", "constant"])
def test_extract_reads_only_a_window_but_matches_the_whole_photo_warp(border):
    """Crops that shrink, rotate and hang over the photo's edges equal the plain recipe."""
    import cv2

    rng = np.random.default_rng(3)
    photo = rng.random((150, 200, 3)).astype(np.float32)
    mode = cv2.BORDER_REFLECT101 if border == "reflect" else cv2.BORDER_CONSTANT
    for _ in range(40):
        angle, scale, size = rng.uniform(-np.pi, np.pi), rng.uniform(0.1, 2.5), 48
        lin = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        centre = rng.uniform([-40, -40], [240, 190])
        m = np.hstack([lin, (np.array([size / 2, size / 2]) - lin @ centre)[:, None]])
        pl = Placement(m, size, photo.shape[:2])
        src = photo
        if scale < 1:
            src = cv2.GaussianBlur(photo, (0, 0), sigmaX=0.5 / scale, sigmaY=0.5 / scale)
        want = cv2.warpAffine(src, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=mode)
        np.testing.assert_allclose(pl.extract(photo, border=border), want, atol=1e-3)


def test_placements_rescale_to_another_model_size():
    p = Placement.from_box(10, 20, 64, 32, (100, 100))
    q = p.at_size(128)
    np.testing.assert_allclose(q.corners(), Placement.from_box(10, 20, 64, 128, (100, 100)).corners())
    assert p.at_size(32) is p and q.feather == p.feather


def test_an_operation_uses_a_placement_of_another_size_at_the_models():
    """``align`` writes 256 px placements without a model; a 64 px model crops the same region."""
    from latent_atelier.editors.placement import resolve_placement

    photo = np.zeros((100, 120, 3), np.float32)
    aligned = Placement.from_box(10, 20, 64, 256, (100, 120))
    used = resolve_placement(photo, aligned, 64)
    assert used.size == 64
    np.testing.assert_allclose(used.corners(), Placement.from_box(10, 20, 64, 64, (100, 120)).corners())
    np.testing.assert_allclose(
        resolve_placement(photo, None, 64).corners(), Placement.centered((100, 120), 64).corners()
    )


def test_a_box_over_the_whole_photo_replaces_every_pixel() -> None:
    """No strip of the old photo at the rim where the crop reaches the photo's border."""
    photo = np.zeros((100, 100, 3), np.float32)
    crop = np.ones((32, 32, 3), np.float32)
    out = Placement.centered(photo.shape[:2], 32).paste(photo, crop)
    assert out.min() > 0.999


def test_only_the_edges_inside_the_photo_are_feathered() -> None:
    photo = np.zeros((100, 160), np.float32)  # landscape: the centred square spans all rows
    crop = np.ones((32, 32), np.float32)
    out = Placement.centered(photo.shape[:2], 32).paste(photo, crop)
    assert out[0, 80] > 0.999 and out[99, 80] > 0.999  # top and bottom rows: on the border
    assert 0.0 < out[50, 31] < 1.0 and 0.0 < out[50, 129] < 1.0  # left, right: a soft edge
    assert out[50, 10] == 0.0 and out[50, 150] == 0.0  # outside the box: the photo


def test_box_edges_are_the_crop_edges() -> None:
    """A box's sides are the crop's outer pixel edges (pixel-centre convention)."""
    pl = Placement.from_box(0.0, 0.0, 64.0, 16, (64, 64))
    np.testing.assert_allclose(pl.corners()[0], [-0.5, -0.5])
    np.testing.assert_allclose(pl.corners()[2], [63.5, 63.5])
    np.testing.assert_allclose(pl.at_size(64).corners(), pl.corners())
    box = Placement.from_box(10.0, 20.0, 30.0, 16, (64, 64)).outline()  # document coordinates
    np.testing.assert_allclose(box, [[10, 20], [40, 20], [40, 50], [10, 50]], atol=1e-9)


def test_a_big_shrink_antialiases_like_the_plain_gaussian():
    import cv2

    from latent_atelier.editors.placement import Placement

    rng = np.random.default_rng(0)
    photo = cv2.GaussianBlur(rng.random((1200, 900, 3)).astype(np.float32), (0, 0), 3)
    placement = Placement.from_box(50.0, 100.0, 800.0, 32, photo.shape[:2])
    fast = placement.extract(photo)
    sigma = 0.5 / placement.scale
    blurred = cv2.GaussianBlur(photo, (0, 0), sigmaX=sigma, sigmaY=sigma)
    plain = cv2.warpAffine(blurred, placement.matrix, (32, 32), flags=cv2.INTER_LINEAR)
    assert np.abs(fast - plain).mean() < 0.002
    assert np.abs(fast - plain).max() < 0.02

"""Exports: PNG 8/16, JPEG, TIFF with alpha, EXR half mattes; atomic writes; read-back."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PIL import Image

from latent_atelier.app.document.image_write import (
    ExportError,
    export_matte_set,
    read_matte,
    write_image,
    write_matte,
)


@pytest.fixture
def rgba() -> np.ndarray:
    rng = np.random.default_rng(0)
    img = rng.random((24, 32, 4)).astype(np.float32)
    img[:4, :, 3] = 0.0  # fully transparent rows with colour under them
    return img


def test_png_8bit_rgba_keeps_colour_under_transparent_pixels(tmp_path, rgba):
    path = write_image(tmp_path / "fg.png", rgba)
    back = np.asarray(Image.open(path)).astype(np.float32) / 255
    assert back.shape == rgba.shape
    assert np.abs(back - rgba).max() <= 0.5 / 255 + 1e-6
    assert np.abs(back[:4, :, :3] - rgba[:4, :, :3]).max() <= 0.5 / 255 + 1e-6
    assert back[:4, :, :3].std() > 0.1  # real colours, not zeroed


def test_png_16bit_rgba_and_grey_round_trip(tmp_path, rgba):
    import cv2

    write_image(tmp_path / "fg16.png", rgba, bit_depth=16)
    raw = cv2.imread(str(tmp_path / "fg16.png"), cv2.IMREAD_UNCHANGED)
    assert raw.dtype == np.uint16
    back = cv2.cvtColor(raw, cv2.COLOR_BGRA2RGBA).astype(np.float32) / 65535
    assert np.abs(back - rgba).max() <= 0.5 / 65535 + 1e-6
    write_matte(tmp_path / "a16.png", rgba[..., 3], bit_depth=16)
    with Image.open(tmp_path / "a16.png") as im:
        assert im.mode.startswith("I")
        grey = np.asarray(im).astype(np.float32) / 65535
    assert np.abs(grey - rgba[..., 3]).max() <= 0.5 / 65535 + 1e-6


def test_premultiplied_png_scales_colour(tmp_path, rgba):
    write_image(tmp_path / "pre.png", rgba, premultiply=True)
    back = np.asarray(Image.open(tmp_path / "pre.png")).astype(np.float32) / 255
    expect = rgba[..., :3] * rgba[..., 3:]
    assert np.abs(back[..., :3] - expect).max() <= 0.5 / 255 + 1e-6
    assert back[:4, :, :3].max() == 0.0


def test_tiff_with_alpha_marks_the_extra_sample(tmp_path, rgba):
    write_image(tmp_path / "straight.tif", rgba, bit_depth=16)
    write_image(tmp_path / "assoc.tif", rgba, bit_depth=8, premultiply=True)
    with tifffile.TiffFile(tmp_path / "straight.tif") as tif:
        page = tif.pages[0]
        assert int(page.extrasamples[0]) == 2  # UNASSALPHA
        data = page.asarray().astype(np.float32) / 65535
    assert np.abs(data - rgba).max() <= 0.5 / 65535 + 1e-6
    with tifffile.TiffFile(tmp_path / "assoc.tif") as tif:
        page = tif.pages[0]
        assert int(page.extrasamples[0]) == 1  # ASSOCALPHA
        data = page.asarray().astype(np.float32) / 255
    assert np.abs(data[..., :3] - rgba[..., :3] * rgba[..., 3:]).max() <= 0.5 / 255 + 1e-6


def test_exr_half_matte_round_trips_within_half_precision(tmp_path, rgba):
    import OpenEXR

    alpha = rgba[..., 3]
    path = write_matte(tmp_path / "alpha.exr", alpha, bit_depth="half")
    with OpenEXR.File(str(path)) as exr:
        pix = exr.channels()["Y"].pixels
        assert pix.dtype == np.float16
    np.testing.assert_array_equal(read_matte(path), alpha.astype(np.float16).astype(np.float32))
    assert np.abs(read_matte(path) - alpha).max() <= 2.0**-11


def test_png_8bit_matte_round_trip(tmp_path, rgba):
    path = write_matte(tmp_path / "a8.png", rgba[..., 3], bit_depth=8)
    assert np.abs(read_matte(path) - rgba[..., 3]).max() <= 0.5 / 255 + 1e-6


def test_jpeg_refuses_alpha_unless_flattened(tmp_path, rgba):
    with pytest.raises(ExportError, match="flatten"):
        write_image(tmp_path / "x.jpg", rgba)
    assert not (tmp_path / "x.jpg").exists()
    write_image(tmp_path / "x.jpg", rgba, flatten_over=(1.0, 1.0, 1.0), quality=100)
    back = np.asarray(Image.open(tmp_path / "x.jpg")).astype(np.float32) / 255
    expect = rgba[..., :3] * rgba[..., 3:] + (1 - rgba[..., 3:])
    assert back[:3].min() > 0.9  # fully transparent rows became the flatten colour
    assert np.abs(back.mean(axis=(0, 1)) - expect.mean(axis=(0, 1))).max() < 0.01


def test_failed_write_leaves_old_file_and_no_temp(tmp_path, rgba, monkeypatch):
    import latent_atelier.app.document.image_write as iw

    target = tmp_path / "keep.png"
    target.write_bytes(b"old content")

    def broken_png(arr, bit_depth):
        raise RuntimeError("disk full")

    monkeypatch.setattr(iw, "_encode_png", broken_png)
    with pytest.raises(RuntimeError):
        write_image(target, rgba)
    assert target.read_bytes() == b"old content"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.png"]


def test_interrupted_atomic_write_leaves_no_file(tmp_path):
    from latent_atelier.models.atomic import atomic_open

    target = tmp_path / "new.png"
    with pytest.raises(KeyboardInterrupt), atomic_open(target) as fh:
        fh.write(b"half")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_export_set_writes_everything_or_nothing(tmp_path, rgba):
    alpha = rgba[..., 3]
    fg = rgba[..., :3]
    with pytest.raises(ExportError, match="unknown format"):
        export_matte_set(
            tmp_path / "bad",
            alpha=alpha,
            foreground=fg,
            formats={"alpha": ("png16",), "foreground": ("webp",)},
        )
    assert not (tmp_path / "bad").exists()
    paths = export_matte_set(
        tmp_path / "ok", alpha=alpha, foreground=fg, trimap=alpha, composite=fg, stem="cat"
    )
    names = sorted(p.name for p in paths)
    assert names == sorted(
        [
            "cat_alpha_16bit.png",
            "cat_alpha.exr",
            "cat_foreground.png",
            "cat_foreground.tif",
            "cat_composite.png",
            "cat_trimap.png",
        ]
    )
    back = np.asarray(Image.open(tmp_path / "ok" / "cat_foreground.png")).astype(np.float32)
    assert np.abs(back[..., 3] / 255 - alpha).max() <= 0.5 / 255 + 1e-6
    with pytest.raises(ExportError, match=r"32x24.*10x10"):
        export_matte_set(tmp_path / "x", alpha=np.zeros((10, 10)), foreground=fg)


def test_atomic_files_get_ordinary_permissions(tmp_path):
    import os
    import stat

    from latent_atelier.models.atomic import atomic_write_bytes

    path = tmp_path / "f.bin"
    atomic_write_bytes(path, b"x")
    mode = stat.S_IMODE(os.stat(path).st_mode)
    mask = os.umask(0)
    os.umask(mask)
    assert mode == 0o666 & ~mask

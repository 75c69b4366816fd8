"""Image import: orientation, 16-bit precision, colour models, ICC conversion, bad files."""

from __future__ import annotations

import io
import struct

import cv2
import numpy as np
import pytest
import tifffile
from PIL import Image

from latent_atelier.app.document.image_read import ImageReadError, read_image

# sRGB primaries adapted to D50 (the ICC connection space), one column per primary
SRGB_R = (0.4361, 0.2225, 0.0139)
SRGB_G = (0.3851, 0.7169, 0.0971)
SRGB_B = (0.1431, 0.0606, 0.7141)


def _s15(v: float) -> bytes:
    return struct.pack(">i", round(v * 65536))


def _xyz_tag(xyz) -> bytes:
    return b"XYZ \0\0\0\0" + b"".join(_s15(v) for v in xyz)


def swapped_primaries_icc() -> bytes:
    """A minimal ICC v2 RGB matrix/TRC profile whose red primary is sRGB's blue (and vice
    versa): pure red in such a file is pure blue once converted to sRGB."""
    desc_text = b"swapped test profile\0"
    desc = b"desc\0\0\0\0" + struct.pack(">I", len(desc_text)) + desc_text
    desc += b"\0" * 8 + b"\0\0" + b"\0" + b"\0" * 67
    curve = b"curv\0\0\0\0" + struct.pack(">I", 1) + struct.pack(">H", 0x0233) + b"\0\0"
    tags = [
        (b"desc", desc),
        (b"wtpt", _xyz_tag((0.9642, 1.0, 0.8249))),
        (b"rXYZ", _xyz_tag(SRGB_B)),
        (b"gXYZ", _xyz_tag(SRGB_G)),
        (b"bXYZ", _xyz_tag(SRGB_R)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for sig, data in tags:
        pad = data + b"\0" * (-len(data) % 4)
        table += sig + struct.pack(">II", offset + len(body), len(data))
        body += pad
    size = offset + len(body)
    header = struct.pack(">I", size) + b"\0" * 4 + struct.pack(">I", 0x02100000)
    header += b"mntrRGB XYZ " + b"\0" * 12 + b"acsp" + b"\0" * 24
    header += struct.pack(">I", 0) + _s15(0.9642) + _s15(1.0) + _s15(0.8249)
    header += b"\0" * (128 - len(header))
    return header + struct.pack(">I", len(tags)) + table + body


def test_jpeg_exif_orientation_applied(tmp_path):
    stored = np.zeros((20, 40, 3), np.uint8)  # wide: red left, blue right
    stored[:, :20] = (255, 0, 0)
    stored[:, 20:] = (0, 0, 255)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    path = tmp_path / "rotated.jpg"
    Image.fromarray(stored).save(path, quality=95, exif=exif)
    img = read_image(path)
    assert img.pixels.shape == (40, 20, 3) and img.source_format == "JPEG"
    top, bottom = img.pixels[5, 10], img.pixels[34, 10]
    assert top[0] > 0.8 and top[2] < 0.2  # the left (red) side is now on top
    assert bottom[2] > 0.8 and bottom[0] < 0.2


def test_16bit_png_keeps_16bit_values(tmp_path):
    rng = np.random.default_rng(1)
    rgba = rng.integers(0, 65536, size=(9, 11, 4), dtype=np.uint16)
    path = tmp_path / "deep.png"
    _ok, buf = cv2.imencode(".png", rgba[..., [2, 1, 0, 3]])
    path.write_bytes(buf.tobytes())
    img = read_image(path)
    assert img.bit_depth == 16 and img.has_alpha and img.pixels.shape == (9, 11, 4)
    assert np.array_equal(np.round(img.pixels.astype(np.float64) * 65535).astype(np.uint16), rgba)


@pytest.mark.parametrize("compression", [None, "zlib", "lzw"])
def test_16bit_tiff_with_alpha_kept(tmp_path, compression):
    rng = np.random.default_rng(2)
    rgba = rng.integers(0, 65536, size=(7, 5, 4), dtype=np.uint16)
    path = tmp_path / "deep.tif"
    tifffile.imwrite(path, rgba, photometric="rgb", extrasamples=["unassalpha"], compression=compression)
    img = read_image(path)
    assert img.bit_depth == 16 and img.has_alpha and img.source_format == "TIFF"
    assert np.array_equal(np.round(img.pixels.astype(np.float64) * 65535).astype(np.uint16), rgba)


def test_tiff_8bit_gray_and_orientation(tmp_path):
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    path = tmp_path / "gray.tif"
    tifffile.imwrite(path, gray, photometric="minisblack", extratags=[(274, "H", 1, 3, False)])
    img = read_image(path)
    assert img.pixels.shape == (3, 4, 3) and img.bit_depth == 8
    np.testing.assert_allclose(img.pixels[..., 1], gray[::-1, ::-1] / 255.0, atol=1e-6)


def test_grayscale_palette_and_cmyk_become_rgb(tmp_path):
    gray = np.arange(64, dtype=np.uint8).reshape(8, 8) * 4
    Image.fromarray(gray, "L").save(tmp_path / "g.png")
    g = read_image(tmp_path / "g.png")
    assert g.pixels.shape == (8, 8, 3)
    assert np.array_equal(g.pixels[..., 0], g.pixels[..., 2])
    np.testing.assert_allclose(g.pixels[..., 0], gray / 255.0, atol=1e-6)

    pal = Image.fromarray(gray, "L").convert("P")
    pal.info["transparency"] = 0
    pal.save(tmp_path / "p.png", transparency=0)
    p = read_image(tmp_path / "p.png")
    assert p.has_alpha and p.pixels[0, 0, 3] == 0.0 and p.pixels[7, 7, 3] == 1.0

    cmyk = Image.new("CMYK", (6, 6), (0, 255, 255, 0))  # pure red ink mix
    cmyk.save(tmp_path / "c.jpg", quality=100)
    c = read_image(tmp_path / "c.jpg")
    assert c.pixels.shape == (6, 6, 3)
    assert c.pixels[3, 3, 0] > 0.9 and c.pixels[3, 3, 1] < 0.1 and c.pixels[3, 3, 2] < 0.1


def test_icc_profile_converted_to_srgb_8bit(tmp_path):
    red = np.zeros((4, 4, 3), np.uint8)
    red[..., 0] = 255
    path = tmp_path / "tagged.png"
    Image.fromarray(red).save(path, icc_profile=swapped_primaries_icc())
    img = read_image(path)
    assert img.icc_converted
    r, g, b = img.pixels[1, 1]
    assert b > 0.9 and r < 0.1 and g < 0.1  # the profile says this "red" is sRGB blue
    untagged = tmp_path / "plain.png"
    Image.fromarray(red).save(untagged)
    assert not read_image(untagged).icc_converted


def test_icc_profile_converted_for_16bit_tiff(tmp_path):
    rgb = np.zeros((3, 3, 3), np.uint16)
    rgb[..., 0] = 65535
    path = tmp_path / "tagged16.tif"
    tifffile.imwrite(path, rgb, photometric="rgb", iccprofile=swapped_primaries_icc())
    img = read_image(path)
    assert img.icc_converted and img.bit_depth == 16
    r, g, b = img.pixels[1, 1]
    assert b > 0.9 and r < 0.1 and g < 0.1


def test_webp_and_bmp(tmp_path):
    arr = np.random.default_rng(3).integers(0, 256, (6, 7, 3), dtype=np.uint8)
    Image.fromarray(arr).save(tmp_path / "a.bmp")
    Image.fromarray(arr).save(tmp_path / "a.webp", lossless=True)
    for name in ("a.bmp", "a.webp"):
        img = read_image(tmp_path / name)
        assert np.array_equal(np.round(img.pixels * 255).astype(np.uint8), arr)


def test_corrupt_and_missing_files_raise_clear_errors(tmp_path):
    arr = np.zeros((32, 32, 3), np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    (tmp_path / "cut.png").write_bytes(buf.getvalue()[:60])
    (tmp_path / "junk.jpg").write_bytes(b"this is not an image at all")
    (tmp_path / "empty.png").write_bytes(b"")
    for name in ("cut.png", "junk.jpg", "empty.png", "missing.png"):
        with pytest.raises(ImageReadError, match=name):
            read_image(tmp_path / name)

"""Open raster images as float32 sRGB: PNG, JPEG, TIFF, WebP, BMP (no Qt).

- JPEG/WebP/PNG EXIF orientation and the TIFF orientation tag are applied.
- 16-bit PNG and TIFF data stay 16-bit precise (``bit_depth`` 16), float TIFFs stay float.
- Grayscale, palette and CMYK images become RGB; an embedded ICC profile is converted to
  sRGB (LittleCMS through Pillow; 16-bit data through a sampled 3-D table).
- Anything unreadable raises :class:`ImageReadError` saying what was wrong.
"""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms, ImageOps

from latent_atelier.app.document.limits import (
    MAX_IMAGE_FILE_BYTES,
    MAX_IMAGE_PIXELS,
    image_size_problem,
)

LUT_NODES = 18  # 0, 15, ..., 255: an exact 8-bit grid for sampling a colour transform
TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


class ImageReadError(ValueError):
    """An image file cannot be read (missing, corrupt or of an unsupported kind)."""


def check_image_size(width: int, height: int) -> None:
    """Refuse an image over the pixel budget, from its header, before it is decoded."""
    problem = image_size_problem(int(width), int(height))
    if problem:
        raise ImageReadError(problem)


def too_large_message(exc: Exception) -> str:
    """Our message for Pillow's own decompression-bomb refusal (it fires at open)."""
    return (
        f"it is larger than the limit of {MAX_IMAGE_PIXELS / 1e6:.1f} megapixels "
        f"(e.g. 8192 x 8192): scale it down first ({exc})"
    )


@dataclass
class ImageData:
    """Decoded pixels (HxWx3 or HxWx4 float32 in [0, 1], straight alpha) and where from."""

    pixels: np.ndarray
    bit_depth: int
    has_alpha: bool
    source_format: str
    icc_converted: bool = False


def read_image(path: str | os.PathLike) -> ImageData:
    """Read an image file into float32 sRGB (see the module notes)."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_IMAGE_FILE_BYTES:
            raise ImageReadError(
                f"{p}: the file is {size / (1 << 30):.1f} GB; images up to "
                f"{MAX_IMAGE_FILE_BYTES >> 30} GB are read"
            )
        data = p.read_bytes()
    except FileNotFoundError:
        raise ImageReadError(f"{p}: no such file") from None
    except OSError as exc:
        raise ImageReadError(f"{p}: cannot be read ({exc.strerror or exc})") from exc
    if not data:
        raise ImageReadError(f"{p}: the file is empty")
    try:
        if data[:4] in TIFF_MAGIC:
            return _read_tiff(data)
        if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 25 and data[24] == 16:
            return _read_png16(data)
        return _read_with_pillow(data)
    except ImageReadError as exc:
        raise ImageReadError(f"{p}: {exc}") from exc
    except Image.DecompressionBombError as exc:
        raise ImageReadError(f"{p}: {too_large_message(exc)}") from exc
    except MemoryError:
        raise ImageReadError(f"{p}: not enough memory to decode this image") from None
    except Exception as exc:  # decoders raise many types; all mean "cannot decode"
        raise ImageReadError(
            f"{p}: not a readable image (PNG, JPEG, TIFF, WebP or BMP expected{_decoder_reason(exc)})"
        ) from exc


def _decoder_reason(exc: Exception) -> str:
    """A decoder's reason for the message, without Python object reprs ("<_io.BytesIO ...>")."""
    text = re.sub(r"\s*<[^<>]*object at 0x[0-9a-f]+>", "", str(exc)).strip()
    if not text or text.startswith("cannot identify image file"):
        return ""  # Pillow's way of saying the same thing
    return f"; {text}"


# -- Pillow path (8-bit formats) ------------------------------------------------------------
def _read_with_pillow(data: bytes) -> ImageData:
    with Image.open(io.BytesIO(data)) as im:
        fmt = im.format or "unknown"
        check_image_size(*im.size)
        im.load()
        im = ImageOps.exif_transpose(im)
        icc = im.info.get("icc_profile")
        has_alpha = im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
            im.mode == "P" and "transparency" in im.info
        )
        bit_depth = 8
        if im.mode in ("I;16", "I;16B", "I;16L", "I"):
            arr = np.asarray(im, np.float32) / np.float32(65535.0)
            return _finish(np.repeat(arr[..., None], 3, axis=2), 16, False, fmt)
        if im.mode == "F":
            arr = np.asarray(im, np.float32)
            return _finish(np.repeat(arr[..., None], 3, axis=2), 32, False, fmt)
        if im.mode == "1":
            im = im.convert("L")
        if im.mode in ("P", "PA"):
            im = im.convert("RGBA" if has_alpha else "RGB")
        elif im.mode in ("RGBa", "La"):
            im = im.convert("RGBA")
        converted = False
        if icc:
            im, converted = _icc_to_srgb_pillow(im, icc)
        if im.mode == "LA":
            im = im.convert("RGBA")
        elif im.mode not in ("RGB", "RGBA"):
            im = im.convert("RGB")  # L, CMYK without profile, YCbCr, ...
        arr = np.asarray(im, np.float32) / np.float32(255.0)
        return _finish(arr, bit_depth, has_alpha, fmt, converted)


def _icc_to_srgb_pillow(im: Image.Image, icc: bytes) -> tuple[Image.Image, bool]:
    """Convert an 8-bit Pillow image from its embedded profile to sRGB."""
    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    except (OSError, ImageCms.PyCMSError):
        return im, False  # an unreadable profile: keep the numbers, as browsers do
    dst = ImageCms.createProfile("sRGB")
    alpha = None
    if im.mode in ("RGBA", "LA"):
        alpha = im.getchannel("A")
        im = im.convert("RGB" if im.mode == "RGBA" else "L")
    if im.mode not in ("RGB", "L", "CMYK"):
        im = im.convert("RGB")
    try:
        out = ImageCms.profileToProfile(im, src, dst, outputMode="RGB")
    except ImageCms.PyCMSError:
        return im if alpha is None else _with_alpha(im, alpha), False
    assert out is not None
    return (out if alpha is None else _with_alpha(out, alpha)), True


def _with_alpha(im: Image.Image, alpha: Image.Image) -> Image.Image:
    out = im.convert("RGB")
    out.putalpha(alpha)
    return out


# -- 16-bit PNG -----------------------------------------------------------------------------
def _read_png16(data: bytes) -> ImageData:
    import cv2

    with Image.open(io.BytesIO(data)) as im:  # header only: size, ICC profile and EXIF
        check_image_size(*im.size)
        icc = im.info.get("icc_profile")
        orientation = im.getexif().get(0x0112, 1)
    arr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if arr is None:
        raise ImageReadError("corrupt 16-bit PNG data")
    arr = _bgr_to_rgb(arr).astype(np.float32) / np.float32(65535.0)
    arr = _orient(arr, int(orientation))
    return _finish_with_icc(arr, 16, "PNG", icc)


def _bgr_to_rgb(arr: np.ndarray) -> np.ndarray:
    if arr.ndim == 2:
        return np.repeat(arr[..., None], 3, axis=2)
    if arr.shape[2] == 3:
        return arr[..., ::-1]
    if arr.shape[2] == 4:
        return arr[..., [2, 1, 0, 3]]
    raise ImageReadError(f"unsupported channel count {arr.shape[2]}")


# -- TIFF -------------------------------------------------------------------------------------
def _read_tiff(data: bytes) -> ImageData:
    import tifffile

    try:
        with tifffile.TiffFile(io.BytesIO(data)) as tf:
            page = tf.pages[0]
            check_image_size(page.imagewidth, page.imagelength * max(1, page.imagedepth))
            if page.size * page.dtype.itemsize > MAX_IMAGE_PIXELS * 32:
                raise ImageReadError(f"its samples need {page.nbytes >> 20} MB: too large")
            arr = page.asarray()
            axes = page.axes
            photometric = int(page.photometric)
            extras = tuple(int(e) for e in (page.extrasamples or ()))
            colormap = page.colormap
            icc_tag = page.tags.get(34675)
            icc = bytes(icc_tag.value) if icc_tag is not None else None
            orient_tag = page.tags.get(274)
            orientation = int(orient_tag.value) if orient_tag is not None else 1
    except ValueError as exc:
        if "imagecodecs" in str(exc):  # a compression tifffile cannot decode alone
            return _read_with_pillow(data)
        raise
    if axes.startswith("S") and arr.ndim == 3:
        arr = np.moveaxis(arr, 0, -1)
    if arr.ndim > 3 or (arr.ndim == 3 and "S" not in axes):
        raise ImageReadError(f"unsupported TIFF layout (axes {axes}): save it as a plain image")
    depth, scaled = _normalise_dtype(arr)
    if photometric == 3 and colormap is not None:  # palette
        cmap = np.asarray(colormap, np.float64).T / 65535.0
        scaled = cmap[arr.astype(np.intp)]
        depth = 16
    elif photometric == 5:  # separated: CMYK (+ alpha)
        return _finish_cmyk(scaled, extras, icc, orientation, depth)
    if scaled.ndim == 2:
        scaled = scaled[..., None]
    if photometric == 0:  # min-is-white
        scaled[..., :1] = 1.0 - scaled[..., :1]
    n_color = 1 if photometric in (0, 1) else 3
    if scaled.shape[2] < n_color:
        raise ImageReadError(f"TIFF has {scaled.shape[2]} samples, {n_color} colour ones needed")
    color = scaled[..., :n_color]
    if n_color == 1:
        color = np.repeat(color, 3, axis=2)
    alpha = None
    if extras and scaled.shape[2] > n_color and extras[0] in (1, 2):
        alpha = scaled[..., n_color]
        if extras[0] == 1:  # associated (premultiplied) alpha
            color = np.divide(color, alpha[..., None], out=np.zeros_like(color), where=alpha[..., None] > 0)
    out = color if alpha is None else np.concatenate([color, alpha[..., None]], axis=2)
    out = _orient(out, orientation)
    return _finish_with_icc(out, depth, "TIFF", icc)


def _normalise_dtype(arr: np.ndarray) -> tuple[int, np.ndarray]:
    """(bit depth, float array scaled to [0, 1]) for integer or float samples."""
    if arr.dtype == np.uint8:  # float32 division: the values PNG files round-trip exactly
        return 8, arr.astype(np.float32) / np.float32(255.0)
    if arr.dtype == np.uint16:
        return 16, arr.astype(np.float32) / np.float32(65535.0)
    if arr.dtype == np.bool_:
        return 8, arr.astype(np.float64)
    if np.issubdtype(arr.dtype, np.floating):
        return 32, arr.astype(np.float64)
    if arr.dtype == np.uint32:
        return 32, arr.astype(np.float64) / 4294967295.0
    raise ImageReadError(f"unsupported TIFF sample type {arr.dtype}")


def _finish_cmyk(
    cmyk: np.ndarray, extras: tuple[int, ...], icc: bytes | None, orientation: int, depth: int
) -> ImageData:
    if cmyk.ndim != 3 or cmyk.shape[2] < 4:
        raise ImageReadError("a CMYK TIFF needs four samples per pixel")
    alpha = cmyk[..., 4] if extras and cmyk.shape[2] > 4 else None
    converted = False
    rgb = None
    if icc:
        im = Image.fromarray(np.round(cmyk[..., :4] * 255).astype(np.uint8), "CMYK")
        out, converted = _icc_to_srgb_pillow(im, icc)
        if converted:
            rgb = np.asarray(out.convert("RGB"), np.float64) / 255.0
    if rgb is None:
        k = 1.0 - cmyk[..., 3:4]
        rgb = (1.0 - cmyk[..., :3]) * k
    out_arr = rgb if alpha is None else np.concatenate([rgb, alpha[..., None]], axis=2)
    return _finish(_orient(out_arr, orientation), depth, alpha is not None, "TIFF", converted)


# -- shared ------------------------------------------------------------------------------------
def _orient(arr: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF/TIFF orientation value (1..8) to an HxWxC array."""
    ops = {
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: a.transpose(1, 0, 2),
        6: lambda a: a.transpose(1, 0, 2)[:, ::-1],
        7: lambda a: a.transpose(1, 0, 2)[::-1, ::-1],
        8: lambda a: a.transpose(1, 0, 2)[::-1],
    }
    fn = ops.get(orientation)
    return np.ascontiguousarray(fn(arr)) if fn else arr


def _finish_with_icc(arr: np.ndarray, depth: int, fmt: str, icc: bytes | None) -> ImageData:
    has_alpha = arr.shape[2] == 4
    converted = False
    if icc:
        rgb, converted = _icc_to_srgb_float(arr[..., :3], icc)
        arr = np.concatenate([rgb, arr[..., 3:]], axis=2) if has_alpha else rgb
    return _finish(arr, depth, has_alpha, fmt, converted)


def _icc_to_srgb_float(rgb: np.ndarray, icc: bytes) -> tuple[np.ndarray, bool]:
    """Convert high-precision RGB through a profile: sample the LittleCMS transform on a
    3-D grid and interpolate it trilinearly (keeps smooth 16-bit gradients smooth)."""
    from scipy.ndimage import map_coordinates

    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if src.profile.xcolor_space.strip() != "RGB":
            return rgb, False
        transform = ImageCms.buildTransform(src, ImageCms.createProfile("sRGB"), "RGB", "RGB")
    except (OSError, ImageCms.PyCMSError, AttributeError):
        return rgb, False
    n = LUT_NODES
    axis = np.round(np.linspace(0, 255, n)).astype(np.uint8)
    grid = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), axis=-1).reshape(1, -1, 3)
    table = ImageCms.applyTransform(Image.fromarray(np.ascontiguousarray(grid), "RGB"), transform)
    assert table is not None
    lut = np.asarray(table, np.float64).reshape(n, n, n, 3) / 255.0
    coords = np.clip(rgb, 0.0, 1.0).reshape(-1, 3).T * (n - 1)
    out = np.stack([map_coordinates(lut[..., c], coords, order=1, mode="nearest") for c in range(3)], axis=1)
    return out.reshape(rgb.shape), True


def _finish(arr: np.ndarray, depth: int, has_alpha: bool, fmt: str, converted: bool = False) -> ImageData:
    out = np.clip(np.asarray(arr, np.float32), 0.0, 1.0)
    if out.ndim != 3 or out.shape[2] not in (3, 4):
        raise ImageReadError(f"unexpected decoded shape {out.shape}")
    if out.shape[2] == 4 and not has_alpha:
        out = out[..., :3]
    return ImageData(np.ascontiguousarray(out), depth, out.shape[2] == 4, fmt.upper(), converted)

"""Image and matte export shared by the CLI and the GUI (no Qt): PNG, JPEG, TIFF, EXR.

Pixels come in as float arrays in [0, 1] (``H x W``, ``H x W x 3`` or ``H x W x 4``, straight
alpha). Every file is encoded in memory first and then written atomically through
:func:`latent_atelier.models.atomic.atomic_write_bytes`, so a failure never leaves a half-written file
and never touches an existing one.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import cv2
import numpy as np

from latent_atelier.models.atomic import atomic_write_bytes

BitDepth = int | str  # 8, 16 or "half" (EXR mattes only)

_PNG = {".png"}
_JPEG = {".jpg", ".jpeg"}
_TIFF = {".tif", ".tiff"}
_EXR = {".exr"}


class ExportError(ValueError):
    """An export was asked for something its format cannot hold; the message says what to do."""


# ---------------------------------------------------------------- helpers
def _as_float(pixels: np.ndarray) -> np.ndarray:
    arr = np.asarray(pixels)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise ExportError(f"pixels must be H x W, H x W x 3 or H x W x 4; got shape {arr.shape}")
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) / 255.0
    if arr.dtype == np.uint16:
        return arr.astype(np.float32) / 65535.0
    arr = arr.astype(np.float32)
    if not np.all(np.isfinite(arr)):
        raise ExportError("pixels hold NaN or infinite values")
    return np.clip(arr, 0.0, 1.0)


def _quantise(arr: np.ndarray, bit_depth: BitDepth) -> np.ndarray:
    """Round [0, 1] floats to 8 or 16 bits (``arr`` is clipped, so + 0.5 and truncation round)."""
    if bit_depth == 8:
        return (arr * 255.0 + 0.5).astype(np.uint8)
    if bit_depth == 16:
        return (arr * 65535.0 + 0.5).astype(np.uint16)
    raise ExportError(f"bit_depth must be 8 or 16 for this format, not {bit_depth!r}")


def premultiplied(rgba: np.ndarray) -> np.ndarray:
    """RGBA with its colour multiplied by alpha (associated alpha)."""
    out = np.array(rgba, np.float32, copy=True)
    out[..., :3] *= out[..., 3:4]
    return out


def flatten(rgba: np.ndarray, colour: tuple[float, float, float]) -> np.ndarray:
    """RGBA (straight alpha) composited over a solid colour -> RGB."""
    a = rgba[..., 3:4]
    return rgba[..., :3] * a + np.asarray(colour, np.float32) * (1.0 - a)


def _suffix(path: str | os.PathLike) -> str:
    return Path(path).suffix.lower()


# ---------------------------------------------------------------- encoders
#: zlib level of PNG files: on a 12-megapixel RGBA portrait, 4 encodes 2.7x faster than 6
#: (1.2 s against 3.3 s) for a file 9% larger
PNG_COMPRESSION = 4


def _encode_png(arr: np.ndarray, bit_depth: BitDepth) -> bytes:
    q = _quantise(arr, bit_depth)
    if q.ndim == 3:  # OpenCV stores BGR(A)
        q = cv2.cvtColor(q, cv2.COLOR_RGB2BGR if q.shape[2] == 3 else cv2.COLOR_RGBA2BGRA)
    ok, buf = cv2.imencode(".png", q, [cv2.IMWRITE_PNG_COMPRESSION, PNG_COMPRESSION])
    if not ok:
        raise ExportError("PNG encoding failed")
    return buf.tobytes()


def _encode_jpeg(arr: np.ndarray, quality: int) -> bytes:
    if not 1 <= int(quality) <= 100:
        raise ExportError(f"JPEG quality must be 1..100, not {quality}")
    q = _quantise(arr, 8)
    if q.ndim == 3:
        q = cv2.cvtColor(q, cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(".jpg", q, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ExportError("JPEG encoding failed")
    return buf.tobytes()


def _encode_tiff(arr: np.ndarray, bit_depth: BitDepth, associated: bool) -> bytes:
    import tifffile

    q = _quantise(arr, bit_depth)
    buf = io.BytesIO()
    if q.ndim == 2:
        tifffile.imwrite(buf, q, photometric="minisblack", compression="zlib")
    elif q.shape[2] == 3:
        tifffile.imwrite(buf, q, photometric="rgb", compression="zlib")
    else:  # extra sample code 1 = associated (premultiplied), 2 = unassociated alpha
        tifffile.imwrite(
            buf,
            q,
            photometric="rgb",
            extrasamples=[1 if associated else 2],
            compression="zlib",
        )
    return buf.getvalue()


def _encode_exr_gray(arr: np.ndarray, channel: str = "Y") -> bytes:
    import OpenEXR

    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
    exr = OpenEXR.File(header, {channel: np.ascontiguousarray(arr, np.float16)})
    buf = io.BytesIO()
    exr.write(buf)
    return buf.getvalue()


def encode_image(
    pixels: np.ndarray,
    fmt: str,
    *,
    bit_depth: BitDepth = 8,
    premultiply: bool = False,
    quality: int = 95,
    flatten_over: tuple[float, float, float] | None = None,
) -> bytes:
    """The bytes of ``pixels`` as a ``.png`` / ``.jpg`` / ``.tif`` file (see :func:`write_image`)."""
    fmt = fmt.lower() if fmt.startswith(".") else "." + fmt.lower()
    arr = _as_float(pixels)
    has_alpha = arr.ndim == 3 and arr.shape[2] == 4
    if has_alpha and flatten_over is not None:
        arr, has_alpha = flatten(arr, flatten_over), False
    if has_alpha and premultiply:
        arr = premultiplied(arr)
    if fmt in _PNG:
        return _encode_png(arr, bit_depth)
    if fmt in _JPEG:
        if has_alpha:
            raise ExportError(
                "JPEG cannot hold transparency: export PNG or TIFF, or flatten the image over "
                "a background colour (flatten_over=(r, g, b))"
            )
        if bit_depth != 8:
            raise ExportError("JPEG is 8-bit only: use PNG or TIFF for 16-bit output")
        return _encode_jpeg(arr, quality)
    if fmt in _TIFF:
        return _encode_tiff(arr, bit_depth, associated=premultiply)
    raise ExportError(f"cannot write {fmt!r} images: use .png, .jpg or .tif")


# ---------------------------------------------------------------- public writers
def write_image(
    path: str | os.PathLike,
    pixels: np.ndarray,
    *,
    bit_depth: BitDepth = 8,
    premultiply: bool = False,
    quality: int = 95,
    flatten_over: tuple[float, float, float] | None = None,
) -> Path:
    """Write an RGB/RGBA/grey image atomically; the format follows the file's suffix.

    PNG: 8/16-bit, straight alpha by default (colour under transparent pixels is kept).
    JPEG: 8-bit, no alpha (an RGBA image needs ``flatten_over``). TIFF: 8/16-bit, alpha
    as an extra sample marked unassociated, or associated when ``premultiply``.
    """
    data = encode_image(
        pixels,
        _suffix(path),
        bit_depth=bit_depth,
        premultiply=premultiply,
        quality=quality,
        flatten_over=flatten_over,
    )
    atomic_write_bytes(path, data)
    return Path(path)


def encode_matte(alpha: np.ndarray, fmt: str, bit_depth: BitDepth = 16) -> bytes:
    """The bytes of a grey matte: PNG 8/16-bit, TIFF 8/16-bit, or EXR half float."""
    fmt = fmt.lower() if fmt.startswith(".") else "." + fmt.lower()
    a = _as_float(alpha)
    if a.ndim != 2:
        raise ExportError(f"a matte must be H x W, got shape {a.shape}")
    if fmt in _EXR:
        if bit_depth not in ("half", 16):
            raise ExportError("EXR mattes are written as half floats (bit_depth='half')")
        return _encode_exr_gray(a)
    if bit_depth == "half":
        raise ExportError("half-float mattes need an .exr file")
    if fmt in _PNG:
        return _encode_png(a, bit_depth)
    if fmt in _TIFF:
        return _encode_tiff(a, bit_depth, associated=False)
    raise ExportError(f"cannot write mattes as {fmt!r}: use .png, .tif or .exr")


def write_matte(path: str | os.PathLike, alpha: np.ndarray, bit_depth: BitDepth = 16) -> Path:
    """Write a grey matte atomically: ``.png`` (8/16-bit), ``.tif`` or ``.exr`` ("half")."""
    if _suffix(path) in _EXR and bit_depth == 16:
        bit_depth = "half"
    atomic_write_bytes(path, encode_matte(alpha, _suffix(path), bit_depth))
    return Path(path)


def read_matte(path: str | os.PathLike) -> np.ndarray:
    """Read a matte written by :func:`write_matte` (or any grey image) as float32 in [0, 1]."""
    p = Path(path)
    if _suffix(p) in _EXR:
        import OpenEXR

        with OpenEXR.File(str(p)) as exr:
            channels = exr.channels()
            for name in ("Y", "A", "R", *channels):
                if name in channels:
                    pix = np.asarray(channels[name].pixels, np.float32)
                    return pix if pix.ndim == 2 else pix[..., 0]
        raise ExportError(f"{p}: the EXR file has no channels")
    data = np.fromfile(p, np.uint8)
    img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if img is None:
        raise ExportError(f"{p}: not a readable image")
    if img.ndim == 3:
        img = img[..., 0] if img.shape[2] in (1, 2) else cv2.cvtColor(img[..., :3], cv2.COLOR_BGR2GRAY)
    if img.dtype == np.uint8:
        return img.astype(np.float32) / 255.0
    if img.dtype == np.uint16:
        return img.astype(np.float32) / 65535.0
    return np.clip(img.astype(np.float32), 0.0, 1.0)


# ---------------------------------------------------------------- one-click export
def _encode_item(item: str, pixels: np.ndarray, ext: str, depth, premultiply: bool) -> bytes:
    """One export item in one format (mattes grey, images with their alpha)."""
    if item in ("alpha", "trimap"):
        return encode_matte(pixels, ext, depth)
    flat = (0.0, 0.0, 0.0) if ext in _JPEG and pixels.ndim == 3 else None
    return encode_image(
        pixels,
        ext,
        bit_depth=depth,
        premultiply=premultiply,
        flatten_over=flat if pixels.shape[-1] == 4 else None,
    )


def _in_threads(jobs: list[Callable[[], bytes]]) -> list[bytes]:
    """Run the encoders side by side (zlib, OpenCV and OpenEXR release the GIL); results in
    order; the first error is raised after all have finished."""
    if len(jobs) <= 1:
        return [job() for job in jobs]
    with ThreadPoolExecutor(max_workers=min(len(jobs), os.cpu_count() or 1)) as pool:
        futures = [pool.submit(job) for job in jobs]
        return [f.result() for f in futures]


DEFAULT_FORMATS: Mapping[str, tuple[str, ...]] = {
    "alpha": ("png16", "exr"),
    "foreground": ("png", "tif"),
    "composite": ("png",),
    "trimap": ("png",),
}

_FORMAT_SPECS = {
    "png": (".png", 8),
    "png8": (".png", 8),
    "png16": (".png", 16),
    "tif": (".tif", 8),
    "tif16": (".tif", 16),
    "jpg": (".jpg", 8),
    "exr": (".exr", "half"),
}


def export_matte_set(
    out_dir: str | os.PathLike,
    *,
    alpha: np.ndarray,
    foreground: np.ndarray,
    composite: np.ndarray | None = None,
    trimap: np.ndarray | None = None,
    formats: Mapping[str, Iterable[str]] | None = None,
    stem: str = "",
    premultiply: bool = False,
) -> list[Path]:
    """Write alpha, foreground (RGBA), and optionally composite and trimap into ``out_dir``.

    ``formats`` maps each item to format keys (``png``, ``png16``, ``tif``, ``tif16``,
    ``jpg``, ``exr``; default :data:`DEFAULT_FORMATS`). Everything is encoded before the
    first file is written, so a bad request writes nothing. ``foreground`` may be RGB,
    in which case ``alpha`` is attached. Returns the written paths.
    """
    fmts = dict(DEFAULT_FORMATS if formats is None else formats)
    fg = _as_float(foreground)
    a = _as_float(alpha)
    if fg.shape[:2] != a.shape[:2]:
        raise ExportError(f"foreground is {fg.shape[1]}x{fg.shape[0]} but alpha is {a.shape[1]}x{a.shape[0]}")
    if fg.ndim == 3 and fg.shape[2] == 3:
        fg = np.dstack([fg, a])
    items: dict[str, np.ndarray] = {"alpha": a, "foreground": fg}
    if composite is not None:
        items["composite"] = _as_float(composite)
    if trimap is not None:
        items["trimap"] = _as_float(trimap)
    prefix = f"{stem}_" if stem else ""
    jobs: list[tuple[Path, Callable[[], bytes]]] = []
    for item, keys in fmts.items():
        if item not in items:
            if item in ("composite", "trimap"):
                continue
            raise ExportError(f"unknown export item {item!r}; known: {sorted(DEFAULT_FORMATS)}")
        for key in keys:
            if key not in _FORMAT_SPECS:
                raise ExportError(f"unknown format {key!r}; known: {sorted(_FORMAT_SPECS)}")
            ext, depth = _FORMAT_SPECS[key]
            if item not in ("alpha", "trimap") and ext in _EXR:
                raise ExportError(f"{item} cannot be exported as EXR here: use png or tif")
            name = f"{prefix}{item}{'_16bit' if depth == 16 else ''}{ext}"
            encode = partial(_encode_item, item, items[item], ext, depth, premultiply)
            jobs.append((Path(out_dir) / name, encode))
    encoded = list(zip([p for p, _ in jobs], _in_threads([job for _, job in jobs])))
    written = []
    for path, data in encoded:
        atomic_write_bytes(path, data)
        written.append(path)
    return written

"""Build hostile files small and fast: PNGs and zip members of many zeros, never held in memory.

A deflate stream of zeros is one compressed 1 MiB block (ended by a full flush, so it
refers to nothing before it) repeated, plus a final block; the CRC-32 and Adler-32 of zeros
are computed arithmetically. A 1.8 GB image thus costs about 2 MB and milliseconds.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path

_BLOCK = 1 << 20


def _gf2_times(mat: list[int], vec: int) -> int:
    out, i = 0, 0
    while vec:
        if vec & 1:
            out ^= mat[i]
        vec >>= 1
        i += 1
    return out


def _gf2_square(mat: list[int]) -> list[int]:
    return [_gf2_times(mat, mat[n]) for n in range(32)]


def _append_zeros(register: int, n: int) -> int:
    """The CRC-32 register after ``n`` more zero bytes (the zero-byte operator, squared up)."""
    odd = [0xEDB88320] + [1 << k for k in range(31)]  # one zero bit
    even = _gf2_square(odd)  # two bits
    odd = _gf2_square(even)  # four bits
    while n:
        even = _gf2_square(odd)
        if n & 1:
            register = _gf2_times(even, register)
        n >>= 1
        if not n:
            break
        odd = _gf2_square(even)
        if n & 1:
            register = _gf2_times(odd, register)
        n >>= 1
    return register


def crc32_of_zeros(n: int) -> int:
    """zlib.crc32(bytes(n)) without the bytes."""
    return _append_zeros(0xFFFFFFFF, n) ^ 0xFFFFFFFF


def deflate_zeros(n: int, prefix: bytes = b"") -> bytes:
    """A raw deflate stream of ``prefix`` followed by ``n`` zero bytes."""
    head = zlib.compressobj(9, zlib.DEFLATED, -15)
    out = [head.compress(prefix) + head.flush(zlib.Z_FULL_FLUSH)] if prefix else []
    unit = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = unit.compress(bytes(_BLOCK)) + unit.flush(zlib.Z_FULL_FLUSH)
    out.append(block * (n // _BLOCK))
    tail = zlib.compressobj(9, zlib.DEFLATED, -15)
    out.append(tail.compress(bytes(n % _BLOCK)) + tail.flush(zlib.Z_FINISH))
    return b"".join(out)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def zero_png(width: int, height: int, bit_depth: int = 8, color_type: int = 6) -> bytes:
    """A valid all-zero PNG of any size (colour type 0 gray, 2 RGB, 4 gray+alpha, 6 RGBA)."""
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[color_type]
    raw = height * (1 + width * channels * bit_depth // 8)  # filter byte 0 + zero samples
    adler = ((raw % 65521) << 16) | 1
    stream = b"\x78\xda" + deflate_zeros(raw) + struct.pack(">I", adler)
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", stream) + _chunk(b"IEND", b"")


def add_zero_member(zf: zipfile.ZipFile, name: str, n: int, prefix: bytes = b"") -> None:
    """Add a deflated member holding ``prefix`` + ``n`` zero bytes, built without them."""
    if prefix:
        crc = zlib.crc32(prefix)
        # crc32(prefix + zeros) = crc32_combine(crc32(prefix), crc32(zeros), n)
        crc = _combine(crc, crc32_of_zeros(n), n)
    else:
        crc = crc32_of_zeros(n)
    data = deflate_zeros(n, prefix)
    info = zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.file_size = len(prefix) + n
    info.compress_size = len(data)
    info.CRC = crc
    zip64 = info.file_size > 0xFFFFFFFF or info.compress_size > 0xFFFFFFFF
    zf.fp.seek(zf.start_dir)
    info.header_offset = zf.fp.tell()
    zf.fp.write(info.FileHeader(zip64))
    zf.fp.write(data)
    zf.start_dir = zf.fp.tell()
    zf.filelist.append(info)
    zf.NameToInfo[name] = info
    zf._didModify = True


def _combine(crc1: int, crc2: int, len2: int) -> int:
    """crc32(a + b) from crc32(a), crc32(b) and len(b) (zlib's crc32_combine)."""
    return _append_zeros(crc1, len2) ^ crc2


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path

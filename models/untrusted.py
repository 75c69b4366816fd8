"""Budgets for reading files we did not write: every size is checked before it is allocated.

- :func:`read_zip_entry`: a zip member read under a cap, checked against the size its
  header declares and again while streaming (a lying header cannot get past the cap).
- :func:`check_zip`: the number of members and their declared total, before any is read.
- :func:`npy_shape` / :func:`load_npy` / :func:`check_npz`: ``.npy`` headers checked against
  the bytes that follow and against a cap before numpy allocates the array.
- :func:`parse_xml`: XML with no DTD at all (so no entities, internal or external, whatever
  the document's encoding).

Every refusal raises :class:`BudgetError` (a ``ValueError``) saying what was asked and the
limit.
"""

from __future__ import annotations

import io
import math
import os
import struct
import zipfile
from xml.etree import ElementTree as ET
from xml.parsers import expat

import numpy as np

MiB = 1 << 20
GiB = 1 << 30
_CHUNK = 1 << 20


class BudgetError(ValueError):
    """A file asks for more memory than its budget (or for something never allowed)."""


def human_bytes(n: float) -> str:
    """``1.5 GB``-style size (binary units, one decimal)."""
    for unit, size in (("GB", GiB), ("MB", MiB), ("KB", 1024)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{int(n)} bytes"


# -- zip -------------------------------------------------------------------------------------
def check_zip(zf: zipfile.ZipFile, max_entries: int, max_total: int, what: str) -> None:
    """Refuse an archive with more than ``max_entries`` members or a declared total above
    ``max_total`` bytes (read from the central directory only)."""
    infos = zf.infolist()
    if len(infos) > max_entries:
        raise BudgetError(f"{what} has {len(infos)} entries; the limit is {max_entries}")
    total = sum(i.file_size for i in infos)
    if total > max_total:
        raise BudgetError(f"{what} unpacks to {human_bytes(total)}; the limit is {human_bytes(max_total)}")


def zip_entry_count(source: str | os.PathLike | bytes) -> int | None:
    """The entry count an archive declares in its end record, read without parsing the
    central directory (zipfile builds an object per entry: ~10x the directory's size).
    None when no end record is found (zipfile then says what is wrong)."""
    opened = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")  # noqa: SIM115
    with opened as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        span = min(size, 22 + 0xFFFF)  # the end record and its longest comment
        fh.seek(size - span)
        tail = fh.read(span)
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or at + 22 > len(tail):
            return None
        total = struct.unpack("<H", tail[at + 10 : at + 12])[0]
        if total == 0xFFFF and at >= 20 and tail[at - 20 : at - 16] == b"PK\x06\x07":
            fh.seek(struct.unpack("<Q", tail[at - 12 : at - 4])[0])  # the zip64 end record
            record = fh.read(56)
            if record[:4] == b"PK\x06\x06":
                total = struct.unpack("<Q", record[32:40])[0]
        return total


def read_zip_entry(zf: zipfile.ZipFile, name: str | zipfile.ZipInfo, cap: int, what: str) -> bytes:
    """The bytes of one member, refused when its header or its stream exceeds ``cap``."""
    info = zf.getinfo(name) if isinstance(name, str) else name
    if info.file_size > cap:
        raise BudgetError(
            f"{what} is {human_bytes(info.file_size)} unpacked; the limit is {human_bytes(cap)}"
        )
    out = bytearray()
    with zf.open(info) as fh:
        while True:
            chunk = fh.read(min(_CHUNK, cap + 1 - len(out)))
            if not chunk:
                break
            out += chunk
            if len(out) > cap:
                raise BudgetError(f"{what} unpacks to more than {human_bytes(cap)} (the limit)")
    return bytes(out)


# -- npy / npz -------------------------------------------------------------------------------
def npy_shape(data: bytes, what: str) -> tuple[tuple[int, ...], np.dtype, int]:
    """``(shape, dtype, header_length)`` of ``.npy`` bytes; the data must match the shape."""
    fh = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, _fortran, dtype = np.lib.format.read_array_header_1_0(fh)
        elif version in ((2, 0), (3, 0)):
            shape, _fortran, dtype = np.lib.format.read_array_header_2_0(fh)
        else:
            raise BudgetError(f"{what}: unknown .npy version {version}")
    except BudgetError:
        raise
    except Exception as exc:  # numpy raises ValueError / SyntaxError for a bad header
        raise BudgetError(f"{what}: not a readable .npy array ({exc})") from exc
    if dtype.hasobject:
        raise BudgetError(f"{what}: holds Python objects, which are never read")
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes != len(data) - fh.tell():
        raise BudgetError(
            f"{what}: its header declares {human_bytes(nbytes)} of data but "
            f"{human_bytes(len(data) - fh.tell())} follow"
        )
    return tuple(int(s) for s in shape), dtype, fh.tell()


def load_npy(data: bytes, cap: int, what: str) -> np.ndarray:
    """A ``.npy`` array, refused above ``cap`` bytes before numpy allocates it."""
    shape, dtype, _ = npy_shape(data, what)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > cap:
        raise BudgetError(f"{what} is {human_bytes(nbytes)}; the limit is {human_bytes(cap)}")
    return np.load(io.BytesIO(data), allow_pickle=False)


def check_npz(data: bytes, cap: int, what: str, max_members: int = 256) -> None:
    """Refuse an ``.npz`` whose arrays, unpacked, exceed ``cap`` bytes in total (each member
    is read under the remaining budget and its header checked against its data)."""
    count = zip_entry_count(data)
    if count is not None and count > max_members:
        raise BudgetError(f"{what} has {count} arrays; the limit is {max_members}")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise BudgetError(f"{what}: not a readable .npz file ({exc})") from exc
    with zf:
        infos = zf.infolist()
        if len(infos) > max_members:
            raise BudgetError(f"{what} has {len(infos)} arrays; the limit is {max_members}")
        declared = sum(i.file_size for i in infos)
        if declared > cap + 4096 * len(infos):  # the .npy headers come on top of the arrays
            raise BudgetError(f"{what} unpacks to {human_bytes(declared)}; the limit is {human_bytes(cap)}")
        used = 0
        for info in zf.infolist():
            member = read_zip_entry(zf, info, cap - used + 4096, f"{what} ({info.filename})")
            npy_shape(member, f"{what} ({info.filename})")
            used += len(member)
            if used > cap:
                raise BudgetError(f"{what} unpacks to more than {human_bytes(cap)} (the limit)")


# -- XML -------------------------------------------------------------------------------------
def _refuse_dtd(*_args: object) -> None:
    raise BudgetError("the XML declares a DTD or entities, which these files never need")


def parse_xml(data: bytes, what: str, max_depth: int = 64) -> ET.Element:
    """An ElementTree from ``data``, parsed by expat with any DTD refused at its start.

    The DOCTYPE handler fires before any entity could be declared or expanded, whatever
    the encoding (UTF-8, UTF-16, ...); names are ``{namespace}local`` as in ElementTree.
    """
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate(namespace_separator="}")

    def name(n: str) -> str:
        return "{" + n if "}" in n else n

    depth = [0]

    def start(tag: str, attrs: dict[str, str]) -> None:
        depth[0] += 1
        if depth[0] > max_depth:
            raise BudgetError(f"elements are nested more than {max_depth} deep (the limit)")
        builder.start(name(tag), {name(k): v for k, v in attrs.items()})

    def end(tag: str) -> None:
        depth[0] -= 1
        builder.end(name(tag))

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = builder.data
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_dtd
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.buffer_text = True
    try:
        parser.Parse(data, True)
        return builder.close()
    except BudgetError as exc:
        raise BudgetError(f"{what}: {exc}") from None
    except (expat.ExpatError, AssertionError) as exc:  # AssertionError: TreeBuilder misuse
        raise BudgetError(f"{what} is not well-formed XML ({exc})") from exc

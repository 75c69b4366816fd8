"""Atomic file writes: temp file in the same folder, fsync, rename. Nothing half-written.

A temp file is named ``.<name>.<pid>-<random>.tmp``. One left by a process that was killed
mid-save is removed by the next save of the same file (:func:`clean_stale_temps`), and by
the app at start-up in its recovery folder.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO


def _read_umask() -> int:
    mask = os.umask(0)  # read once at import: os.umask has no read-only form
    os.umask(mask)
    return mask


_UMASK = _read_umask()
_LEGACY_TEMP_AGE_S = 600  # a temp file without an owner pid is stale after 10 minutes
_live: set[str] = set()  # this process's temp files being written now
_live_lock = threading.Lock()


def _owner_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def _is_stale(tmp: Path) -> bool:
    with _live_lock:
        if str(tmp) in _live:
            return False
    tag = tmp.name[: -len(".tmp")].rsplit(".", 1)[-1]
    pid_text = tag.split("-", 1)[0]
    if "-" in tag and pid_text.isdigit():
        pid = int(pid_text)
        return pid == os.getpid() or not _owner_alive(pid)  # ours but not live: a reused pid
    try:
        return time.time() - tmp.stat().st_mtime > _LEGACY_TEMP_AGE_S
    except OSError:
        return False


def clean_stale_temps(folder: str | os.PathLike, name: str | None = None) -> list[Path]:
    """Remove temp files of interrupted saves in ``folder`` (of file ``name``, or of any);
    files of saves still running (here or in a live process) stay. Returns those removed."""
    pattern = f".{name}.*.tmp" if name else ".*.tmp"
    removed = []
    try:
        candidates = list(Path(folder).glob(pattern))
    except OSError:
        return removed
    for tmp in candidates:
        if tmp.is_file() and _is_stale(tmp):
            with contextlib.suppress(OSError):
                tmp.unlink()
                removed.append(tmp)
    return removed


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """Open a temporary file beside ``path`` for binary writing; rename onto it on success.

    On any exception (a full disk, a cancelled job) the temporary file is removed and
    ``path`` keeps its old content.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temps(target.parent, target.name)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}-", suffix=".tmp", dir=target.parent)
    with _live_lock:
        _live.add(tmp)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the file ordinary permissions
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    finally:
        with _live_lock:
            _live.discard(tmp)
    with contextlib.suppress(OSError):  # persist the rename itself where the OS allows
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_open(path) as fh:
        fh.write(data)

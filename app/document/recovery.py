"""Autosave to a recovery folder and crash recovery at the next start (no Qt).

The GUI thread takes a :meth:`RecoveryStore.snapshot` (cheap: layers unchanged since the
previous snapshot share its frozen copy), then a background thread calls
:meth:`RecoveryStore.write`, which saves an ``.ora`` atomically plus a small JSON note.
At start-up, :meth:`RecoveryStore.crashed` lists files left by sessions that did not end
cleanly; a clean exit calls :meth:`RecoveryStore.discard`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from latent_atelier.app.document.document import Document
from latent_atelier.app.document.layers import Layer
from latent_atelier.app.document.ora import ProjectError, load_ora, save_ora
from latent_atelier.models.atomic import atomic_write_bytes, clean_stale_temps


@dataclass(frozen=True)
class RecoveryEntry:
    """One recovery file: where it is, what it was a copy of, when and by which process."""

    path: Path
    session_id: str
    source_path: str | None
    title: str
    saved_at: float
    pid: int

    def __fspath__(self) -> str:
        """An entry stands for its ``.ora`` file: ``load_ora(entry)`` and ``Path(entry)`` work."""
        return str(self.path)

    @property
    def process_alive(self) -> bool:
        """True when the process that wrote it still runs (so it is no crash left-over)."""
        if self.pid == os.getpid():
            return True
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


class RecoveryStore:
    """Recovery files of one session (``<session>.ora`` + ``<session>.json``) in ``directory``."""

    def __init__(self, directory: str | os.PathLike, session_id: str | None = None) -> None:
        self.directory = Path(directory)
        self.session_id = session_id or f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._frozen: dict[str, tuple[int, int, np.ndarray]] = {}
        self._lock = threading.Lock()

    @property
    def ora_path(self) -> Path:
        """This session's recovery project."""
        return self.directory / f"{self.session_id}.ora"

    @property
    def note_path(self) -> Path:
        """This session's recovery note (JSON)."""
        return self.directory / f"{self.session_id}.json"

    # -- autosave ------------------------------------------------------------------------
    def snapshot(self, doc: Document) -> Document:
        """A frozen copy of ``doc`` to write later; call it on the thread that edits ``doc``.

        Only layers whose pixels changed since the previous snapshot are copied (tracked
        by ``Layer.revision``); the others share the previous read-only copy.
        """
        layers = []
        seen = set()
        for layer in doc.layers:
            seen.add(layer.id)
            cached = self._frozen.get(layer.id)
            key = (layer.revision, id(layer.pixels))
            if cached is not None and cached[:2] == key:
                frozen = cached[2]
            else:
                frozen = layer.pixels.copy()
                frozen.flags.writeable = False
                self._frozen[layer.id] = (*key, frozen)
            layers.append(_frozen_layer(layer, frozen))
        for gone in set(self._frozen) - seen:
            del self._frozen[gone]
        snap = Document(doc.width, doc.height, layers, undo_budget_bytes=1)
        snap.active_id = doc.active_id
        snap.path = doc.path
        return snap

    def write(self, snapshot: Document) -> Path:
        """Save ``snapshot`` as this session's recovery file (any thread; atomic)."""
        with self._lock:
            save_ora(snapshot, self.ora_path)
            note = {
                "source_path": str(snapshot.path) if snapshot.path else None,
                "title": snapshot.path.name if snapshot.path else "Untitled",
                "saved_at": time.time(),
                "pid": os.getpid(),
            }
            atomic_write_bytes(self.note_path, json.dumps(note, indent=1).encode("utf-8"))
        return self.ora_path

    def write_in_background(
        self, snapshot: Document, on_done: Callable[[Path | Exception], None] | None = None
    ) -> threading.Thread:
        """Run :meth:`write` on a daemon thread; ``on_done`` gets the path or the error."""

        def run() -> None:
            try:
                result: Path | Exception = self.write(snapshot)
            except (ProjectError, OSError) as exc:
                result = exc
            if on_done is not None:
                on_done(result)

        thread = threading.Thread(target=run, name="autosave", daemon=True)
        thread.start()
        return thread

    # -- recovery --------------------------------------------------------------------------
    def list(self) -> list[RecoveryEntry]:
        """Every readable recovery entry in the folder, newest first."""
        entries = []
        for note in self.directory.glob("*.json"):
            if note.name.startswith("."):
                continue  # a temp file of an interrupted write is no recovery entry
            ora = note.with_suffix(".ora")
            try:
                data = json.loads(note.read_text("utf-8"))
                entries.append(RecoveryEntry(
                    path=ora,
                    session_id=note.stem,
                    source_path=data.get("source_path"),
                    title=str(data.get("title", "Untitled")),
                    saved_at=float(data["saved_at"]),
                    pid=int(data.get("pid", -1)),
                ))
            except (OSError, ValueError, KeyError, TypeError):
                continue  # a damaged note is not worth a crash at start-up
            if not ora.exists():
                entries.pop()
        return sorted(entries, key=lambda e: e.saved_at, reverse=True)

    def latest(self) -> RecoveryEntry | None:
        """The newest entry, or None."""
        entries = self.list()
        return entries[0] if entries else None

    def crashed(self) -> list[RecoveryEntry]:
        """Entries of other sessions whose process is gone: work to offer back.

        Called at start-up: temp files that interrupted writes left in the folder go first.
        """
        clean_stale_temps(self.directory)
        return [e for e in self.list() if e.session_id != self.session_id and not e.process_alive]

    def load(self, entry: RecoveryEntry) -> Document:
        """Open a recovery entry: the document points at its original file and is dirty."""
        doc = load_ora(entry.path)
        doc.path = Path(entry.source_path) if entry.source_path else None
        doc.dirty = True
        return doc

    def discard(self, entry: RecoveryEntry | None = None) -> None:
        """Delete ``entry``'s files; without one, this session's own files and the crash
        left-overs already offered (on a clean exit, after a save, or when declined)."""
        stems = [entry.session_id] if entry is not None else [
            self.session_id, *(e.session_id for e in self.crashed())
        ]
        with self._lock:
            for stem in stems:
                for suffix in (".ora", ".json"):
                    with contextlib.suppress(FileNotFoundError):
                        (self.directory / f"{stem}{suffix}").unlink()
            if entry is None:
                self._frozen.clear()


def _frozen_layer(layer: Layer, pixels: np.ndarray) -> Layer:
    return dataclasses.replace(
        layer,
        pixels=pixels,
        palette=layer.palette.copy() if layer.palette else None,
        operation=dict(layer.operation) if layer.operation else None,
        extras=dict(layer.extras),
    )

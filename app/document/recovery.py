"""Autosave to a recovery folder and crash recovery at the next start (no Qt).

The GUI thread takes a :meth:`RecoveryStore.snapshot` (cheap: layers unchanged since the
previous snapshot share its frozen copy), then a background thread calls
:meth:`RecoveryStore.write`, which saves an ``.ora`` atomically plus a small JSON note.
At start-up, :meth:`RecoveryStore.crashed` lists files left by sessions that did not end
cleanly; a clean exit calls :meth:`RecoveryStore.discard`.

Between autosaves, :meth:`RecoveryStore.record` appends each finished stroke to a journal
(``<session>.<generation>.journal``, see :mod:`stroke_journal`). Each snapshot starts a new
generation; the recovery ``.ora`` names the first generation it does not contain, and the
older journals are deleted once it is written. :meth:`RecoveryStore.load` replays the
journals from that generation on, so a crash loses at most the stroke in progress.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import threading
import time
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from latent_atelier.app.document.document import Document
from latent_atelier.app.document.layers import Layer
from latent_atelier.app.document.ora import ProjectError, load_ora, save_ora
from latent_atelier.app.document.stroke_journal import StrokeJournal, replay
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
    changed: bool = True  # False: a copy taken at opening, before any change
    base_layers: tuple[str, ...] = ()  # no .ora yet: the source file's layer ids, in order

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
        self._generation = 0  # the journal generation strokes go to now
        self._snapshot_generation = 0  # the first generation the last snapshot does not hold
        self._journal: StrokeJournal | None = None
        self.replayed = (0, 0)  # (applied, skipped) journal records of the last load()

    @property
    def ora_path(self) -> Path:
        """This session's recovery project."""
        return self.directory / f"{self.session_id}.ora"

    @property
    def note_path(self) -> Path:
        """This session's recovery note (JSON)."""
        return self.directory / f"{self.session_id}.json"

    def journal_path(self, generation: int, session_id: str | None = None) -> Path:
        """The stroke journal of one generation (see the module notes)."""
        return self.directory / f"{session_id or self.session_id}.{generation:06d}.journal"

    def _journals(self, session_id: str) -> list[tuple[int, Path]]:
        found = []
        for path in self.directory.glob(f"{session_id}.*.journal"):
            gen = path.name[len(session_id) + 1 : -len(".journal")]
            if gen.isdigit():
                found.append((int(gen), path))
        return sorted(found)

    # -- stroke journal ------------------------------------------------------------------
    def record(self, layer_id: str, tiles: list[tuple[int, int, np.ndarray]]) -> None:
        """Journal the changed tiles of one step (call on the thread that edits the document)."""
        if self._journal is None:
            self._journal = StrokeJournal(self.journal_path(self._generation))
        self._journal.append_tiles(layer_id, tiles)

    def record_layer(self, layer: Layer, index: int) -> None:
        """Journal a blank layer just inserted at ``index``."""
        if self._journal is None:
            self._journal = StrokeJournal(self.journal_path(self._generation))
        self._journal.append_blank_layer(layer, index)

    def note_source(self, source: str | os.PathLike | None, layer_ids: list[str]) -> None:
        """Before the first autosave exists: a note naming the opened file as the journal's
        base (its layers' ids in order), so strokes journaled now can be recovered even if
        the process dies before that autosave is written. Cheap: a small JSON file."""
        if source is None or self.ora_path.exists() or self.note_path.exists():
            return
        note = {
            "source_path": str(source),
            "title": Path(source).name,
            "saved_at": time.time(),
            "pid": os.getpid(),
            "changed": True,
            "base_layers": list(layer_ids),
        }
        atomic_write_bytes(self.note_path, json.dumps(note, indent=1).encode("utf-8"))

    def _rotate_journal(self) -> int:
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        self._generation += 1
        return self._generation

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
        self._snapshot_generation = self._rotate_journal()  # later strokes: a new journal
        snap = Document(doc.width, doc.height, layers, undo_budget_bytes=1)
        snap.active_id = doc.active_id
        snap.path = doc.path
        return snap

    def write(self, snapshot: Document, changed: bool = True) -> Path:
        """Save ``snapshot`` as this session's recovery file (any thread; atomic).

        ``changed=False`` marks a copy taken when the document was opened: it is the base
        the stroke journal replays onto, and no crash left-over until something changed.
        """
        with self._lock:
            first = self._snapshot_generation
            book = json.dumps({"journal_from": first}).encode()
            save_ora(snapshot, self.ora_path, extra_entries={RECOVERY_ENTRY: book})
            for gen, path in self._journals(self.session_id):
                if gen < first:  # held by the file just written
                    with contextlib.suppress(OSError):
                        path.unlink()
            note = {
                "source_path": str(snapshot.path) if snapshot.path else None,
                "title": snapshot.path.name if snapshot.path else "Untitled",
                "saved_at": time.time(),
                "pid": os.getpid(),
                "changed": bool(changed),
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
                entries.append(
                    RecoveryEntry(
                        path=ora,
                        session_id=note.stem,
                        source_path=data.get("source_path"),
                        title=str(data.get("title", "Untitled")),
                        saved_at=float(data["saved_at"]),
                        pid=int(data.get("pid", -1)),
                        changed=bool(data.get("changed", True)),
                        base_layers=tuple(str(i) for i in data.get("base_layers") or ()),
                    )
                )
            except (OSError, ValueError, KeyError, TypeError):
                continue  # a damaged note is not worth a crash at start-up
            source = entries[-1].source_path
            from_source = bool(entries[-1].base_layers) and source and Path(source).is_file()
            if not ora.exists() and not from_source:
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
        entries = self.list()
        self._drop_orphan_journals({e.session_id for e in entries})
        return [
            e
            for e in entries
            if e.session_id != self.session_id
            and not e.process_alive
            and (e.changed or self._journals(e.session_id))
        ]

    def _drop_orphan_journals(self, with_notes: set[str]) -> None:
        """Journals of dead sessions that never wrote a recovery file have nothing to replay onto."""
        for path in self.directory.glob("*.journal"):
            session = path.name.split(".", 1)[0]
            pid = session.split("-", 1)[0]
            if session in with_notes or session == self.session_id or not pid.isdigit():
                continue
            probe = RecoveryEntry(path, session, None, "", 0.0, int(pid))
            if not probe.process_alive:
                with contextlib.suppress(OSError):
                    path.unlink()

    def load(self, entry: RecoveryEntry) -> Document:
        """Open a recovery entry, its stroke journals replayed: the document points at its
        original file and is dirty."""
        if entry.path.exists():
            doc = load_ora(entry.path)
            first = _journal_from(entry.path)
        else:  # no autosave yet: the opened file is the base, every journal applies
            doc = _open_source(Path(str(entry.source_path)), entry.base_layers)
            first = 0
        applied = skipped = 0
        if first is not None:
            for gen, path in self._journals(entry.session_id):
                if gen >= first:
                    done, missed = replay(path, doc)
                    applied, skipped = applied + done, skipped + missed
        self.replayed = (applied, skipped)
        doc.history.clear()
        doc.path = Path(entry.source_path) if entry.source_path else None
        doc.dirty = True
        return doc

    def discard(self, entry: RecoveryEntry | None = None) -> None:
        """Delete ``entry``'s files; without one, this session's own files and the crash
        left-overs already offered (on a clean exit, after a save, or when declined)."""
        dead = [e for e in self.list() if e.session_id != self.session_id and not e.process_alive]
        stems = [entry.session_id] if entry is not None else [self.session_id, *(e.session_id for e in dead)]
        with self._lock:
            if entry is None and self._journal is not None:
                self._journal.close()
                self._journal = None
            for stem in stems:
                paths = [self.directory / f"{stem}{suffix}" for suffix in (".ora", ".json")]
                for path in [*paths, *(p for _gen, p in self._journals(stem))]:
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()
            if entry is None:
                self._frozen.clear()


RECOVERY_ENTRY = "latent-atelier/recovery.json"


def _open_source(path: Path, layer_ids: tuple[str, ...]) -> Document:
    """The file a session opened, its layers given the ids they had in that session."""
    if path.suffix.lower() == ".ora":
        doc = load_ora(path)
    else:
        from latent_atelier.app.document.image_read import read_image

        doc = Document.from_image(read_image(path).pixels, name=path.stem)
    if len(layer_ids) != len(doc.layers):
        raise ProjectError(f"{path} changed since it was opened: its strokes cannot be replayed")
    for layer, layer_id in zip(doc.layers, layer_ids, strict=True):
        layer.id = layer_id
    doc.active_id = doc.layers[-1].id if doc.layers else None
    return doc


def _journal_from(path: Path) -> int | None:
    """The first journal generation a recovery file does not hold (None: no journal)."""
    try:
        with zipfile.ZipFile(path) as zf:
            info = zf.getinfo(RECOVERY_ENTRY)
            if info.file_size > 4096:
                return None
            value = json.loads(zf.read(info)).get("journal_from")
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, AttributeError):
        return None
    return value if isinstance(value, int) and value >= 0 else None


def _frozen_layer(layer: Layer, pixels: np.ndarray) -> Layer:
    return dataclasses.replace(
        layer,
        pixels=pixels,
        palette=layer.palette.copy() if layer.palette else None,
        operation=dict(layer.operation) if layer.operation else None,
        extras=dict(layer.extras),
    )

"""User preferences as a JSON file in the XDG config folder (no Qt).

A missing or damaged file gives the defaults (a damaged value falls back alone, with a
logged warning), so a bad file never stops the application from starting.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from latent_atelier.models.atomic import atomic_write_bytes

APP_DIR_NAME = "latent-atelier"
FILE_NAME = "preferences.json"
DEVICE_PATTERN = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")
#: the optimisation loops' precisions (models.devices.SEARCH_PRECISIONS, listed here without torch)
PRECISIONS = ("auto", "float32", "bf16")
MAX_THREADS = 1024

log = logging.getLogger(__name__)


def config_dir() -> Path:
    """``$XDG_CONFIG_HOME/latent-atelier`` (``~/.config/latent-atelier`` by default)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / APP_DIR_NAME


def recovery_dir() -> Path:
    """``$XDG_STATE_HOME/latent-atelier/recovery`` (under ``~/.local/state`` by default)."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / APP_DIR_NAME / "recovery"


@dataclass
class Preferences:
    """Settings the preferences dialog edits; see :meth:`validate` for the allowed ranges."""

    device: str = "auto"  # auto, cpu, cuda, cuda:N, mps
    default_model: str | None = None  # a checkpoint path or bundled model name; None = demo
    autosave_seconds: int = 60  # 0 turns autosave off
    undo_budget_mb: int = 1024
    recent_files: list[str] = field(default_factory=list)
    max_recent: int = 10
    threads: int = 0  # CPU threads for the generator jobs; 0 = every core
    precision: str = "auto"  # of the optimisation loops: auto (bf16 where it pays), float32, bf16
    worker_address: str = ""  # "" = run jobs here; else a `latent-atelier-worker` address
    worker_tls_dir: str = ""  # certificate folder for a tls:// worker (see app/remote)

    @property
    def undo_budget_bytes(self) -> int:
        """The undo memory budget in bytes (what History takes)."""
        return int(self.undo_budget_mb) * 1024 * 1024

    def validate(self) -> None:
        """Raise ValueError naming the first setting outside its allowed range."""
        if not isinstance(self.device, str) or not DEVICE_PATTERN.match(self.device):
            raise ValueError(f"device must be auto, cpu, cuda, cuda:N or mps, not {self.device!r}")
        if self.default_model is not None and not isinstance(self.default_model, str):
            raise ValueError("default_model must be a path or a model name")
        if not isinstance(self.autosave_seconds, int) or not (
            self.autosave_seconds == 0 or 10 <= self.autosave_seconds <= 3600
        ):
            raise ValueError("autosave_seconds must be 0 (off) or 10..3600")
        if not isinstance(self.undo_budget_mb, int) or not 64 <= self.undo_budget_mb <= 65536:
            raise ValueError("undo_budget_mb must be 64..65536")
        if not isinstance(self.max_recent, int) or not 0 <= self.max_recent <= 100:
            raise ValueError("max_recent must be 0..100")
        threads_ok = isinstance(self.threads, int) and not isinstance(self.threads, bool)
        if not threads_ok or not 0 <= self.threads <= MAX_THREADS:
            raise ValueError(f"threads must be 0 (every core) .. {MAX_THREADS}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}")
        if not isinstance(self.worker_address, str) or not isinstance(self.worker_tls_dir, str):
            raise ValueError("worker_address and worker_tls_dir must be text ('' = none)")
        if self.worker_address.strip():
            from latent_atelier.app.remote.addresses import parse_address

            parse_address(self.worker_address)  # RemoteSetupError is a ValueError
        if not isinstance(self.recent_files, list) or not all(isinstance(p, str) for p in self.recent_files):
            raise ValueError("recent_files must be a list of paths")

    def add_recent(self, path: str | os.PathLike) -> None:
        """Put ``path`` first in the recent files (no duplicates, at most ``max_recent``)."""
        p = str(Path(path).resolve())
        self.recent_files = [p, *[r for r in self.recent_files if r != p]][: self.max_recent]

    def remove_recent(self, path: str | os.PathLike) -> None:
        """Forget ``path`` (a file that no longer opens)."""
        p = str(Path(path).resolve())
        self.recent_files = [r for r in self.recent_files if r != p]

    # -- files ---------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | os.PathLike | None = None) -> Preferences:
        """Read preferences; defaults for a missing file, a damaged file or a bad value."""
        target = Path(path) if path is not None else config_dir() / FILE_NAME
        prefs = cls()
        try:
            data = json.loads(target.read_text("utf-8"))
        except FileNotFoundError:
            return prefs
        except (OSError, ValueError) as exc:
            log.warning("preferences %s unreadable, using defaults: %s", target, exc)
            return prefs
        if not isinstance(data, dict):
            log.warning("preferences %s hold no settings object, using defaults", target)
            return prefs
        for f in dataclasses.fields(cls):
            if f.name not in data:
                continue
            trial = dataclasses.replace(prefs, **{f.name: data[f.name]})
            try:
                trial.validate()
            except ValueError as exc:
                log.warning("preferences %s: ignoring %s (%s)", target, f.name, exc)
                continue
            prefs = trial
        return prefs

    def save(self, path: str | os.PathLike | None = None) -> Path:
        """Validate and write atomically; returns the file written."""
        self.validate()
        target = Path(path) if path is not None else config_dir() / FILE_NAME
        atomic_write_bytes(target, json.dumps(self.to_dict(), indent=2).encode("utf-8"))
        return target

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return dataclasses.asdict(self)

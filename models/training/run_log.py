"""The run log: one JSON object per line (``log.jsonl``) that survives stops and resumes.

Three kinds of line: ``{"event": ...}`` (start, resume, init from a generator), training
windows (``iteration``, ``images_shown``, the mean of every loss over the window, mask
areas, images/s, cumulative training seconds) and ``{"fd_vgg16": ...}`` measurements.
A resume first drops the lines written after the checkpoint it resumes from, so the log
tells one consistent story even when a run was killed between two checkpoints.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

LOG_NAME = "log.jsonl"


def utc_now() -> str:
    """The current time as ``YYYY-MM-DDTHH:MM:SSZ``."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def read_log(path: str | Path) -> list[dict]:
    """Every well-formed line of a run log (a torn last line is skipped)."""
    p = Path(path)
    if not p.is_file():
        return []
    out = []
    for line in p.read_text(errors="replace").splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if isinstance(item, dict):
            out.append(item)
    return out


class RunLog:
    """Appends records to ``folder/log.jsonl`` (flushed and fsynced per line)."""

    def __init__(self, folder: str | Path) -> None:
        self.path = Path(folder) / LOG_NAME

    def truncate_after(self, iteration: int) -> int:
        """Drop records of iterations after ``iteration``; returns how many were dropped."""
        records = read_log(self.path)
        keep = [r for r in records if int(r.get("iteration", 0)) <= iteration]
        if len(keep) != len(records) or (self.path.is_file() and not records):
            tmp = self.path.with_name(self.path.name + ".tmp")
            tmp.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in keep))
            os.replace(tmp, self.path)
        return len(records) - len(keep)

    def append(self, record: dict) -> None:
        """Write one line (with a ``time_utc`` stamp)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({**record, "time_utc": utc_now()}, sort_keys=True)
        with self.path.open("a") as fh:
            fh.write(line + "\n")
            fh.flush()
            os.fsync(fh.fileno())


class LossWindow:
    """Running means of the per-iteration loss dicts between two log lines."""

    def __init__(self) -> None:
        self.sums: dict[str, float] = {}
        self.counts: dict[str, int] = {}
        self.iterations = 0
        self.train_seconds = 0.0

    def add(self, logs: dict[str, float], seconds: float = 0.0) -> None:
        """Count one iteration's values and the seconds it took."""
        self.iterations += 1
        self.train_seconds += seconds
        for k, v in logs.items():
            self.sums[k] = self.sums.get(k, 0.0) + float(v)
            self.counts[k] = self.counts.get(k, 0) + 1

    def means(self) -> dict[str, float]:
        """The mean of each key over the iterations that reported it."""
        return {k: self.sums[k] / self.counts[k] for k in sorted(self.sums)}

"""Where avatar SVGs come from: the Node renderer (bulk, one process) or a fixture file."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from .sample import SvgRecord

JS_DIR = Path(__file__).resolve().parent / "js"


class SvgSource(Protocol):
    """Yields the avatar records for ids start .. start+count-1, in order."""

    def records(self, seed: int, start: int, count: int) -> Iterator[SvgRecord]: ...


def _record(line: str | bytes) -> SvgRecord:
    obj = json.loads(line)
    return SvgRecord(id=int(obj["id"]), style=str(obj["style"]), svg=str(obj["svg"]))


class NodeSvgSource:
    """Runs js/render.mjs once per request and streams its JSON lines."""

    def __init__(self, js_dir: Path = JS_DIR, styles: tuple[str, ...] | None = None) -> None:
        self.js_dir = Path(js_dir)
        self.styles = styles
        node = shutil.which("node")
        if node is None:
            raise FileNotFoundError("Node.js is needed to render avatars; install node >= 18")
        if not (self.js_dir / "node_modules" / "@dicebear" / "core").is_dir():
            raise FileNotFoundError(
                f"DiceBear packages are missing; run `npm ci --prefix {self.js_dir}` first"
            )
        self.node = node

    def records(self, seed: int, start: int, count: int) -> Iterator[SvgRecord]:
        cmd = [self.node, "render.mjs", "--seed", str(seed), "--start", str(start), "--count", str(count)]
        if self.styles:
            cmd += ["--styles", ",".join(self.styles)]
        with subprocess.Popen(cmd, cwd=self.js_dir, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
            assert proc.stdout is not None
            n = 0
            for line in proc.stdout:
                yield _record(line)
                n += 1
            err = proc.stderr.read().decode() if proc.stderr else ""
            if proc.wait() != 0 or n != count:
                raise RuntimeError(f"render.mjs failed after {n}/{count} avatars: {err.strip()}")


class FixtureSvgSource:
    """Re-uses a few pre-rendered records (JSON lines, optionally gzipped) for any id.

    Pose and background still follow each id, so samples differ; the avatar repeats.
    """

    def __init__(self, path: Path) -> None:
        path = Path(path)
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as fh:
            self.fixtures = [_record(line) for line in fh if line.strip()]
        if not self.fixtures:
            raise ValueError(f"{path} holds no SVG records")

    def records(self, seed: int, start: int, count: int) -> Iterator[SvgRecord]:
        for sample_id in range(start, start + count):
            base = self.fixtures[(sample_id + seed) % len(self.fixtures)]
            yield SvgRecord(id=sample_id, style=base.style, svg=base.svg)

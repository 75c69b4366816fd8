"""What the stroke journal adds to a finished stroke on a 4096 x 4096 document.

Strokes (press, 40 dabs along a wavy line, release) are painted on the same document, first
without a journal (the baseline, same run), then with a :class:`JournalRecorder` writing to
a :class:`StrokeJournal` (records handed to the OS at once, fsync on a background thread).
The journal's share of a stroke is timed around its history listener, which is all the
journal does on the painting thread (tile comparison, CRC, ``writev``): wall time and this
thread's CPU time (the machine is shared, so wall times carry other jobs' load). Goal:
under 5 ms a stroke.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import write_result
from latent_atelier.app.document.brush import BrushSettings, StrokePainter
from latent_atelier.app.document.document import Document
from latent_atelier.app.document.layers import LayerKind, new_layer
from latent_atelier.app.document.stroke_journal import JournalRecorder, StrokeJournal


def _stroke(doc: Document, layer_id: str, row: int, size: int, dabs: int) -> float:
    settings = BrushSettings(size=24.0, hardness=0.7, opacity=0.8, color=(0.9, 0.1, 0.2))
    painter = StrokePainter(doc, layer_id, settings)
    y0 = 100 + (row * 37) % (size - 200)
    x0 = 100 + (row * 53) % (size // 2)
    t0 = time.perf_counter()
    painter.press(x0, y0)
    for i in range(1, dabs + 1):
        painter.move_to(x0 + i * 8.0, y0 + 20 * np.sin(i / 7))
    painter.release()
    return time.perf_counter() - t0


def bench(size: int, rounds: int, dabs: int) -> dict:
    rng = np.random.default_rng(0)
    doc = Document.from_image(rng.random((size, size, 3), dtype=np.float32))
    ink = doc.add_layer(new_layer(LayerKind.PAINT, "Ink", size=(size, size)))
    plain_wall, plain_cpu = [], []
    for r in range(rounds):  # the baseline: strokes without a journal, same document
        t0, c0 = time.perf_counter(), time.thread_time()
        _stroke(doc, ink.id, 2 * r, size, dabs)
        plain_wall.append(time.perf_counter() - t0)
        plain_cpu.append(time.thread_time() - c0)
    with tempfile.TemporaryDirectory() as tmp:
        journal = StrokeJournal(Path(tmp) / "bench.journal")
        recorder = JournalRecorder(doc, journal.append_tiles, lambda: None)
        added_wall: list[float] = []
        added_cpu: list[float] = []
        handler = recorder._on_event
        doc.remove_listener(handler)

        def timed_handler(event):  # the journal's whole share of a stroke: tiles + writes
            t0, c0 = time.perf_counter(), time.thread_time()
            handler(event)
            if event.kind == "history":
                added_wall.append(time.perf_counter() - t0)
                added_cpu.append(time.thread_time() - c0)

        doc.add_listener(timed_handler)
        journaled_wall = []
        for r in range(rounds):
            t0 = time.perf_counter()
            _stroke(doc, ink.id, 2 * r + 1, size, dabs)
            journaled_wall.append(time.perf_counter() - t0)
        doc.remove_listener(timed_handler)
        size_bytes = (Path(tmp) / "bench.journal").stat().st_size
        journal.close()
    added = statistics.median(added_wall) * 1e3
    return {
        "size": size,
        "rounds": rounds,
        "dabs_per_stroke": dabs,
        "stroke_plain_median_ms": round(statistics.median(plain_wall) * 1e3, 2),
        "stroke_plain_cpu_median_ms": round(statistics.median(plain_cpu) * 1e3, 2),
        "stroke_journaled_median_ms": round(statistics.median(journaled_wall) * 1e3, 2),
        "journal_added_median_ms": round(added, 3),
        "journal_added_p90_ms": round(float(np.percentile(added_wall, 90)) * 1e3, 3),
        "journal_added_max_ms": round(max(added_wall) * 1e3, 3),
        "journal_added_cpu_median_ms": round(statistics.median(added_cpu) * 1e3, 3),
        "journal_bytes_per_stroke": size_bytes // rounds,
        "journal_share_of_plain_stroke": round(added / (statistics.median(plain_wall) * 1e3), 4),
        "target_added_ms": 5.0,
        "meets_target": added < 5.0,
    }


def main(argv: list[str] | None = None) -> dict:
    """Write ``results/stroke_journal.json``."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--dabs", type=int, default=40)
    args = ap.parse_args(argv)
    figures = bench(args.size, args.rounds, args.dabs)
    write_result("stroke_journal", figures)
    return figures


if __name__ == "__main__":
    import json

    print(json.dumps(main(), indent=2))

"""Document benchmarks: brush dab + dirty-rect composite on 4096x4096, and memory with history.

1. ``memory``: ``--layers`` paint layers of ``--size``\u00b2 (float32 RGBA) and ``--strokes``
   random strokes of history under a ``--budget-mb`` undo budget: peak RSS
   (``resource.getrusage``), history bytes after every stroke, evictions.
2. ``dab``: one dab (through ``StrokePainter.move_to``) plus the composite of the dirty
   rectangle it returns, median over ``--dabs`` dabs; baseline: compositing the whole
   document, which is what a repaint without dirty rectangles would cost.

Run: ``python -m benchmarks.bench_document`` (``--size 1024`` for a quick run).
"""

from __future__ import annotations

import gc
import resource
import statistics
import time

import numpy as np

from benchmarks.common import count_options, write_result
from latent_atelier.app.document.brush import BrushSettings, StrokePainter
from latent_atelier.app.document.document import Document
from latent_atelier.app.document.layers import LayerKind, new_layer

MIB = 1024 * 1024


def _rss_mib() -> float:
    """Current resident set size (from /proc; falls back to the peak)."""
    try:
        with open("/proc/self/statm") as fh:
            pages = int(fh.read().split()[1])
        return pages * resource.getpagesize() / MIB
    except OSError:
        return _peak_rss_mib()


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def bench_memory(size: int, n_layers: int, n_strokes: int, budget_mb: int, seed: int = 0) -> dict:
    """Peak RSS and history size for many big layers and many strokes."""
    rng = np.random.default_rng(seed)
    rss_start = _rss_mib()
    doc = Document(size, size, undo_budget_bytes=budget_mb * MIB)
    for i in range(n_layers):
        layer = new_layer(LayerKind.PAINT, f"Layer {i}", size=(size, size))
        layer.pixels[..., 3] = 0.0  # touch every page, as a real layer would
        doc.layers.append(layer)  # built directly: adding layers is not what is measured
    rss_layers = _rss_mib()
    history_max = 0
    t0 = time.perf_counter()
    for _ in range(n_strokes):
        layer = doc.layers[int(rng.integers(n_layers))]
        brush = BrushSettings(
            size=float(rng.uniform(10, 80)), color=tuple(rng.random(3)), opacity=float(rng.uniform(0.3, 1.0))
        )
        painter = StrokePainter(doc, layer.id, brush)
        x, y = rng.uniform(0, size, 2)
        painter.press(x, y)
        for _ in range(int(rng.integers(3, 12))):
            x = float(np.clip(x + rng.normal(0, size / 16), 0, size))
            y = float(np.clip(y + rng.normal(0, size / 16), 0, size))
            painter.move_to(x, y, pressure=float(rng.uniform(0.4, 1.0)))
        painter.release()
        history_max = max(history_max, doc.history.total_bytes)
    elapsed = time.perf_counter() - t0
    layers_mib = sum(lay.nbytes for lay in doc.layers) / MIB
    result = {
        "size": size,
        "layers": n_layers,
        "strokes": n_strokes,
        "budget_mib": budget_mb,
        "layer_pixels_mib": round(layers_mib, 1),
        "rss_start_mib": round(rss_start, 1),
        "rss_after_layers_mib": round(rss_layers, 1),
        "rss_after_strokes_mib": round(_rss_mib(), 1),
        "peak_rss_mib": round(_peak_rss_mib(), 1),
        "history_steps_kept": len(doc.history.steps),
        "history_steps_evicted": doc.history.evicted,
        "history_final_mib": round(doc.history.total_bytes / MIB, 1),
        "history_max_mib": round(history_max / MIB, 1),
        "history_within_budget": history_max <= budget_mb * MIB,
        "peak_rss_minus_layers_mib": round(_peak_rss_mib() - rss_start - layers_mib, 1),
        "strokes_per_s": round(n_strokes / elapsed, 1),
    }
    del doc
    gc.collect()
    return result


def bench_dab(size: int, n_dabs: int, brush_size: float = 40.0) -> dict:
    """Median time of one dab plus the composite of its dirty rect on a size\u00b2 document."""
    rng = np.random.default_rng(1)
    doc = Document.from_image(rng.random((size, size, 3), dtype=np.float32))
    ink = doc.add_layer(new_layer(LayerKind.PAINT, "Ink", size=(size, size)))
    settings = BrushSettings(size=brush_size, hardness=0.7, opacity=0.8, color=(0.9, 0.1, 0.2))
    step = settings.spacing * settings.size  # one dab per move_to
    painter = StrokePainter(doc, ink.id, settings)
    x0, y0 = size * 0.1, size * 0.5
    painter.press(x0, y0)
    dab_s, total_s, areas = [], [], []
    for i in range(1, n_dabs + 1):
        t0 = time.perf_counter()
        rect = painter.move_to(x0 + i * step, y0 + 40 * np.sin(i / 9))
        t1 = time.perf_counter()
        if rect is not None:
            doc.composite(rect)
            areas.append(rect[2] * rect[3])
        t2 = time.perf_counter()
        dab_s.append(t1 - t0)
        total_s.append(t2 - t0)
    t0 = time.perf_counter()
    painter.release()
    commit_s = time.perf_counter() - t0
    full = []
    for _ in range(3):
        t0 = time.perf_counter()
        doc.composite()
        full.append(time.perf_counter() - t0)
    med = statistics.median(total_s)
    return {
        "size": size,
        "dabs": n_dabs,
        "brush_size": brush_size,
        "dab_median_ms": round(statistics.median(dab_s) * 1e3, 3),
        "dab_plus_composite_median_ms": round(med * 1e3, 3),
        "dab_plus_composite_p95_ms": round(float(np.percentile(total_s, 95)) * 1e3, 3),
        "dab_plus_composite_max_ms": round(max(total_s) * 1e3, 3),
        "dirty_rect_median_px": int(statistics.median(areas)),
        "stroke_commit_ms": round(commit_s * 1e3, 2),
        "full_composite_median_ms": round(statistics.median(full) * 1e3, 1),
        "full_composite_over_dab_ratio": round(statistics.median(full) / med, 1),
        "target_median_ms": 5.0,
        "meets_target": med * 1e3 <= 5.0,
    }


def main(argv: list[str] | None = None) -> dict:
    """Run both parts and write ``results/document.json``."""
    args = count_options(
        __doc__.splitlines()[0], argv, size=4096, layers=10, strokes=200, budget_mb=1024, dabs=200
    )
    figures = {  # memory first: ru_maxrss is a high-water mark
        "memory": bench_memory(args.size, args.layers, args.strokes, args.budget_mb),
        "dab": bench_dab(args.size, args.dabs),
    }
    write_result("document", figures)
    return figures


if __name__ == "__main__":
    import json

    print(json.dumps(main(), indent=2))

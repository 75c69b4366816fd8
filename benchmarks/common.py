"""Shared helpers for benchmarks: machine description and JSON result files.

Every benchmark writes ``benchmarks/results/<name>.json`` with the machine, the device,
library versions and its figures. Targets are ratios against a baseline measured in the
same run, never absolute timings asserted in tests.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def repo_relative(path: str | Path) -> str:
    """``path`` as results record it: relative to the repository where it lies inside it."""
    p = Path(path).resolve()
    repo = RESULTS_DIR.parents[1]
    return str(p.relative_to(repo)) if p.is_relative_to(repo) else str(p)


def machine_info() -> dict[str, Any]:
    """Where and with what this benchmark ran."""
    info: dict[str, Any] = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    for mod in ("torch", "numpy", "scipy", "cv2", "pymatting", "PySide6"):
        try:
            m = __import__(mod)
            info[f"{mod}_version"] = getattr(m, "__version__", "?")
        except ImportError:
            pass
    try:
        import torch

        info["torch_threads"] = torch.get_num_threads()
        if torch.cuda.is_available():
            info["cuda_device"] = torch.cuda.get_device_name(0)
    except ImportError:
        pass
    return info


def timed(fn: Callable[[], Any], repeat: int = 5, warmup: int = 1) -> dict[str, float]:
    """Run ``fn`` ``warmup + repeat`` times; seconds per call (median, min, max)."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return {
        "median_s": statistics.median(samples),
        "min_s": min(samples),
        "max_s": max(samples),
        "repeat": repeat,
    }


def write_result(name: str, figures: dict[str, Any], device: str = "cpu") -> Path:
    """Write ``results/<name>.json`` and return its path."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    payload = {"benchmark": name, "device": device, "machine": machine_info(), "figures": figures}
    path.write_text(json.dumps(payload, indent=2, default=float) + "\n")
    print(f"wrote {path}")
    return path


def report(name: str, figures: dict[str, Any], device: str = "cpu") -> dict[str, Any]:
    """Print each figure on its own line, write ``results/<name>.json``; returns ``figures``."""
    for key, value in figures.items():
        print(f"{key}: {value}")
    write_result(name, figures, device)
    return figures


def count_options(description: str, argv: list[str] | None, **defaults: int) -> argparse.Namespace:
    """Parse a benchmark's ``--name N`` options (``_`` in a name becomes ``-``), each
    a whole number with its default."""
    ap = argparse.ArgumentParser(description=description)
    for name, default in defaults.items():
        ap.add_argument(f"--{name.replace('_', '-')}", type=int, default=default)
    return ap.parse_args(argv)

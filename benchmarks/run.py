"""Run every benchmark (``python -m benchmarks.run``) or the ones named on the command line.

Each ``benchmarks/bench_<name>.py`` module has a ``main(argv)`` that writes its JSON result.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    """Discover ``bench_*`` modules and run the selected ones."""
    argv = list(sys.argv[1:] if argv is None else argv)
    here = Path(__file__).resolve().parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    selected = [n for n in names if not argv or n.removeprefix("bench_") in argv or n in argv]
    for name in selected:
        print(f"== {name}")
        importlib.import_module(f"benchmarks.{name}").main([])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

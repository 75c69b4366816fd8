"""Render resources/icons/latent-atelier.svg to PNGs at the usual desktop sizes.

Run from the repository root: ``python packaging/render_icons.py`` (needs resvg-py, the
``build`` extra). Output: resources/icons/png/latent-atelier-<N>.png for N in ICON_SIZES.
"""

from __future__ import annotations

import sys
from pathlib import Path

ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ROOT = Path(__file__).resolve().parents[1]
SVG = ROOT / "resources" / "icons" / "latent-atelier.svg"
OUT_DIR = ROOT / "resources" / "icons" / "png"


def render(size: int) -> bytes:
    """PNG bytes of the icon at ``size`` x ``size`` pixels."""
    import resvg_py

    data = resvg_py.svg_to_bytes(svg_path=str(SVG), width=size, height=size)
    return bytes(data)


def main(argv: list[str] | None = None) -> int:
    """Write every size; prints the files written."""
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for size in ICON_SIZES:
        path = OUT_DIR / f"latent-atelier-{size}.png"
        path.write_bytes(render(size))
        print(path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Lay the sources out as the installed package for PyInstaller: ``<out>/latent_atelier/``
with ``app``, ``editors``, ``models`` and ``resources`` inside (copies, not links).

The checkout maps those folders to ``latent_atelier.*`` through setup.py; PyInstaller
analyses import statements against folders on its path, so the bundle is built from this
staged copy (a regular package: an ``__init__.py`` is added at its root).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("app", "editors", "models", "resources")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "node_modules", ".pytest_cache")


def stage(out: Path) -> Path:
    """Copy the four folders under ``out/latent_atelier``; returns that package folder."""
    package = out / "latent_atelier"
    if package.exists():
        shutil.rmtree(package)
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('"""Latent Atelier (staged for the bundle)."""\n')
    for folder in FOLDERS:
        shutil.copytree(ROOT / folder, package / folder, ignore=IGNORED)
    return package


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "build" / "bundle-src")
    print("staged", stage(target))

"""Where bundled resources (icons, sample photos) live, from source or a PyInstaller bundle."""

from __future__ import annotations

import sys
from pathlib import Path


def resources_dir() -> Path:
    """The ``resources/`` folder: next to the package in a checkout, or inside the bundle."""
    bundle_root = getattr(sys, "_MEIPASS", None)
    if bundle_root is not None:
        return Path(bundle_root) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def sample_photo() -> Path:
    """The bundled sample portrait opened when no file is given."""
    return resources_dir() / "samples" / "astronaut.png"


def app_icon_path() -> Path:
    """The scalable application icon."""
    return resources_dir() / "icons" / "latent-atelier.svg"

"""Package data: icons, sample photos, the bundled models and their licences.

Found through :mod:`importlib.resources`, so an installed wheel carries them too.
"""

from __future__ import annotations

import os
import sys
from importlib.resources import files
from pathlib import Path


def resources_dir() -> Path:
    """This folder on disk (``LATENT_ATELIER_RESOURCES`` overrides it; a bundle has its own)."""
    env = os.environ.get("LATENT_ATELIER_RESOURCES")
    if env:
        return Path(env)
    bundle_root = getattr(sys, "_MEIPASS", None)
    if bundle_root is not None:
        return Path(bundle_root) / "latent_atelier" / "resources"
    return Path(str(files(__name__)))

"""Where bundled resources (icons, sample photos) live, from source or a PyInstaller bundle."""

from __future__ import annotations

from pathlib import Path

from latent_atelier.resources import resources_dir

__all__ = ["app_icon_path", "resources_dir", "sample_photo"]


def sample_photo() -> Path:
    """The bundled sample portrait opened when no file is given."""
    return resources_dir() / "samples" / "astronaut.png"


def app_icon_path() -> Path:
    """The scalable application icon."""
    return resources_dir() / "icons" / "latent-atelier.svg"

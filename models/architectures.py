"""The generator architectures, by name: the one list checkpoints, random models and training use.

Each entry imports its module only when asked, so listing the names costs nothing.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

#: architecture name -> "module:Class" of its generator
_GENERATORS: dict[str, str] = {
    "stylegan2": "latent_atelier.models.stylegan2:StyleGAN2Generator",
    "furrygan": "latent_atelier.models.furrygan:FurryGAN",
}

#: every name, in a stable order (for choices and messages)
ARCHITECTURES: tuple[str, ...] = tuple(sorted(_GENERATORS))


class UnknownArchitectureError(ValueError):
    """An architecture name that is not in :data:`ARCHITECTURES`."""


def check_architecture(name: Any) -> str:
    """``name`` if it is a known architecture, else :class:`UnknownArchitectureError`."""
    if name not in _GENERATORS:
        raise UnknownArchitectureError(f"unknown architecture {name!r}: use {' or '.join(ARCHITECTURES)}")
    return name


def generator_class(name: str) -> Any:
    """The generator class of architecture ``name`` (imported on first use)."""
    module_name, class_name = _GENERATORS[check_architecture(name)].split(":")
    return getattr(importlib.import_module(module_name), class_name)


def build_generator(config: Mapping) -> Any:
    """An untrained generator from an ``architecture()`` config (``config["arch"]`` picks)."""
    return generator_class(check_architecture(config.get("arch"))).from_architecture(config)

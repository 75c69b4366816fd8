"""Every Operation, by name. Modules in ``editors`` are discovered, not listed by hand."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from latent_atelier.editors.operation import Operation

_REGISTRY: dict[str, type[Operation]] = {}


def register(cls: type[Operation]) -> type[Operation]:
    """Class decorator: make an Operation known to the GUI and the CLI."""
    if not cls.name:
        raise ValueError(f"{cls.__qualname__} has no name")
    existing = _REGISTRY.get(cls.name)
    if existing is not None and existing is not cls:
        raise ValueError(f"two operations are named {cls.name!r}")
    _REGISTRY[cls.name] = cls
    return cls


@cache
def _discover() -> None:
    from latent_atelier import editors

    for info in pkgutil.walk_packages(editors.__path__, prefix=f"{editors.__name__}."):
        if info.name.rsplit(".", 1)[-1].startswith("_"):
            continue
        importlib.import_module(info.name)


def all_operations() -> dict[str, type[Operation]]:
    """All registered operations, sorted by name."""
    _discover()
    return dict(sorted(_REGISTRY.items()))


def get_operation(name: str) -> Operation:
    """A fresh instance of the operation called ``name``; KeyError lists the known names."""
    ops = all_operations()
    if name not in ops:
        raise KeyError(f"no operation {name!r}; known: {', '.join(ops)}")
    return ops[name]()

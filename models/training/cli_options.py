"""Option tables of the ``train`` command: each option is declared once, with the config
field it sets, and both the argparse options and the config's keywords come from the table.

A default is read from the config dataclass (``TrainConfig``, ``MaskGuidedTrainConfig``)
unless the option gives its own, so the defaults live once, in the config.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Option:
    """One command-line option: its flags, help, argparse keywords and the config field it
    sets (``None``: read by hand in the CLI's ``config_from_args``)."""

    flags: tuple[str, ...]
    help: str
    config_field: str | None
    kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def dest(self) -> str:
        """The attribute argparse stores the value under."""
        return self.flags[0].lstrip("-").replace("-", "_")


def option(*flags: str, help: str, config_field: str | None = "", **kwargs: Any) -> Option:
    """An :class:`Option`; ``config_field=""`` means the field named like the first flag."""
    name = flags[0].lstrip("-").replace("-", "_") if config_field == "" else config_field
    return Option(flags, help, name, kwargs)


def add_options(p: argparse._ActionsContainer, defaults: object, options: tuple[Option, ...]) -> None:
    """Add ``options`` to the parser or group ``p``, with defaults from the config ``defaults``
    (``None``: every option gives its own)."""
    for opt in options:
        kwargs = dict(opt.kwargs)
        takes_default = not kwargs.get("required") and kwargs.get("action") != "store_true"
        if takes_default and "default" not in kwargs and opt.config_field and defaults is not None:
            kwargs["default"] = getattr(defaults, opt.config_field)
        p.add_argument(*opt.flags, help=opt.help, **kwargs)


def config_kwargs(args: argparse.Namespace, options: tuple[Option, ...]) -> dict[str, Any]:
    """``{config field: parsed value}`` for every option of ``options`` that sets a field."""
    return {opt.config_field: getattr(args, opt.dest) for opt in options if opt.config_field}


def pick(args: argparse.Namespace, *names: str) -> dict[str, Any]:
    """``{name: args.name}``: options another table declared, passed on under the same name."""
    return {name: getattr(args, name) for name in names}

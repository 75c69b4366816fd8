"""Option tables of the ``train`` command: each option is declared once, with the config
field it sets, and both the argparse options and the config's keywords come from the table.

An option's default and number type are read from its field in the config dataclass
(``TrainConfig``, ``MaskGuidedTrainConfig``) unless it gives its own, so they live once, in
the config.
"""

from __future__ import annotations

import argparse
import dataclasses
import typing
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
    negate: bool = False  # a ``--no-...`` switch: the field is True unless it is given

    @property
    def dest(self) -> str:
        """The attribute argparse stores the value under."""
        return _dest(self.flags[0])


def _dest(flag: str) -> str:
    """argparse's attribute name for ``flag``: ``--style-dim`` -> ``style_dim``."""
    return flag.lstrip("-").replace("-", "_")


def option(*flags: str, help: str, config_field: str | None = "", **kwargs: Any) -> Option:
    """An :class:`Option`; ``config_field=""`` means the field named like the first flag."""
    return Option(flags, help, _dest(flags[0]) if config_field == "" else config_field, kwargs)


def switch_off(flag: str, config_field: str, help: str) -> Option:
    """A switch that sets the boolean ``config_field`` (True by default) to False."""
    return Option((flag,), help, config_field, {"action": "store_true"}, negate=True)


def add_options(p: argparse._ActionsContainer, defaults: object, options: tuple[Option, ...]) -> None:
    """Add ``options`` to the parser or group ``p``, with the default and the number type
    (int or float) of their field in the config ``defaults`` unless they give their
    own (``defaults=None``: every option gives its own)."""
    hints = typing.get_type_hints(type(defaults)) if defaults is not None else {}
    for opt in options:
        kwargs = dict(opt.kwargs)
        if opt.config_field in hints and not kwargs.get("required") and "action" not in kwargs:
            kwargs.setdefault("default", getattr(defaults, opt.config_field))
            value_type = _value_type(hints[opt.config_field])
            if value_type is not None:
                kwargs.setdefault("type", value_type)
        p.add_argument(*opt.flags, help=opt.help, **kwargs)


def _value_type(hint: Any) -> type | None:
    """``int`` or ``float`` for a field annotated so (or ``... | None``), else None (strings
    need no conversion)."""
    kinds = [t for t in typing.get_args(hint) if t is not type(None)] or [hint]
    return kinds[0] if len(kinds) == 1 and kinds[0] in (int, float) else None


def config_kwargs(args: argparse.Namespace, options: tuple[Option, ...]) -> dict[str, Any]:
    """``{config field: parsed value}`` for every option of ``options`` that sets a field."""
    kwargs: dict[str, Any] = {}
    for opt in options:
        if opt.config_field:
            value = getattr(args, opt.dest)
            kwargs[opt.config_field] = not value if opt.negate else value
    return kwargs


def shared_kwargs(
    args: argparse.Namespace, options: tuple[Option, ...], config_class: type
) -> dict[str, Any]:
    """:func:`config_kwargs` of ``options`` (the ``train`` table) for the fields another
    mode's config ``config_class`` has too: the options every mode reads alike."""
    names = {f.name for f in dataclasses.fields(config_class)}
    return {k: v for k, v in config_kwargs(args, options).items() if k in names}

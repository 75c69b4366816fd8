"""Readable form labels from Params field and Slot names ("lr_w" -> "W+ learning rate")."""

from __future__ import annotations

#: short words in field names, spelt out
WORDS = {
    "w": "W+",
    "lr": "learning rate",
    "bg": "background",
    "fg": "foreground",
    "px": "(px)",
    "id": "ID",
    "ids": "IDs",
    "rgb": "RGB",
    "sefa": "SeFa",
    "lpips": "LPIPS",
    "psnr": "PSNR",
}
#: leading words that read better last: "steps_noise" -> "noise steps"
TRAILING = ("steps", "lr")


def field_label(name: str) -> str:
    """The label a form shows for the field or slot ``name``."""
    tokens = [t for t in name.split("_") if t]
    if len(tokens) > 1 and tokens[0] in TRAILING:
        tokens = [*tokens[1:], tokens[0]]
    words = [WORDS.get(t, t) for t in tokens]
    text = " ".join(words)
    return text[:1].upper() + text[1:]

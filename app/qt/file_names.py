"""File names offered in save dialogs: made from layer and document names, valid everywhere."""

from __future__ import annotations

import re

#: characters no file name may hold on Windows, macOS or Linux (and control characters)
_FORBIDDEN = re.compile(r'[<>:"/\\|?*\x00-\x1f]')


def file_stem(name: str, fallback: str = "untitled") -> str:
    """``name`` as a file name stem: "Cut out subject: alpha" -> "Cut out subject - alpha".

    A colon with its space becomes " - ", other forbidden characters "_"; leading and
    trailing dots and spaces go (Windows drops them); an empty result is ``fallback``.
    """
    text = re.sub(r"\s*:\s*", " - ", name)
    text = _FORBIDDEN.sub("_", text)
    text = re.sub(r"\s+", " ", text).strip(" .")
    return text[:120].rstrip(" .") or fallback

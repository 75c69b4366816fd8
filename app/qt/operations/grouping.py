"""The order of the operation list: grouped the way the README's table reads.

Reconstruct first (embed, segments, edit a segment), then the Image2StyleGAN++ edits, the
part edits, cutting out and compositing, and the face tools. An operation not named here goes under
"Other" at the end, so a new one still appears.
"""

from __future__ import annotations

from collections.abc import Iterable

GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Reconstruct and edit", ("embed", "segments", "edit-segment")),
    ("Image2StyleGAN++ edits", ("crossover", "inpaint", "scribble", "style-transfer", "attribute-transfer")),
    ("Part edits", ("mask-edit", "dual-domain")),
    ("Cut out and composite", ("matte", "composite", "generate-background")),
    ("Faces", ("align", "auto-segments")),
)
OTHER = "Other"


def grouped(names: Iterable[str]) -> list[tuple[str, list[str]]]:
    """(group title, operation names) in display order; empty groups are left out."""
    available = list(names)
    out: list[tuple[str, list[str]]] = []
    placed: set[str] = set()
    for title, members in GROUPS:
        present = [name for name in members if name in available]
        placed.update(present)
        if present:
            out.append((title, present))
    rest = sorted(name for name in available if name not in placed)
    if rest:
        out.append((OTHER, rest))
    return out

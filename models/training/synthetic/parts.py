"""Part-label classes and how each DiceBear style's component groups map onto them."""

from __future__ import annotations

BACKGROUND, SKIN, HAIR, EYES, BROWS, NOSE, MOUTH, OTHER = range(8)

#: Class names indexed by label value.
LABEL_NAMES: tuple[str, ...] = (
    "background",
    "skin",
    "hair",
    "eyes",
    "brows",
    "nose",
    "mouth",
    "other",
)

#: DiceBear component group name -> label class (the innermost group wins).
PART_CLASSES: dict[str, int] = {
    "head": SKIN,
    "base": SKIN,
    "face": SKIN,
    "ears": SKIN,
    "ear": SKIN,
    "cheek": SKIN,
    "freckles": SKIN,
    "features": SKIN,
    "hair": HAIR,
    "frontHair": HAIR,
    "sideburn": HAIR,
    "beard": HAIR,
    "facialHair": HAIR,
    "eyes": EYES,
    "eyebrows": BROWS,
    "brows": BROWS,
    "nose": NOSE,
    "mouth": MOUTH,
    "lips": MOUTH,
    "hairAccessories": OTHER,
    "glasses": OTHER,
    "earrings": OTHER,
    "body": OTHER,
    "shirt": OTHER,
    "bodyIcon": OTHER,
    "gesture": OTHER,
}

#: (group, variant) pairs whose label differs from their group's: hats and glasses.
VARIANT_CLASSES: dict[tuple[str, str], int] = {
    ("eyes", "glasses"): OTHER,
    ("eyes", "sunglasses"): OTHER,
    ("hair", "cap"): OTHER,
    ("hair", "beanie"): OTHER,
    ("hair", "turban"): OTHER,
}

#: Label of artwork drawn outside every component group, per style.
UNGROUPED_CLASS: dict[str, int] = {
    "lorelei": SKIN,
    "notionists": SKIN,
    "adventurer": SKIN,
    "micah": SKIN,
    "personas": SKIN,
    "big-ears": SKIN,
}

#: The styles the builder renders (all CC0 1.0 or CC BY 4.0 designs; see resources/LICENSES).
STYLES: tuple[str, ...] = tuple(UNGROUPED_CLASS)


def part_class(part: str | None, style: str, variant: str | None = None) -> int:
    """Label class for a component group and variant (part None: outside every group)."""
    if part is None:
        return UNGROUPED_CLASS[style]
    if (part, variant) in VARIANT_CLASSES:
        return VARIANT_CLASSES[(part, variant)]
    if part not in PART_CLASSES:
        raise ValueError(f"unknown DiceBear component group {part!r}; add it to PART_CLASSES")
    return PART_CLASSES[part]

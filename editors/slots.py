"""Slots that mean the same in many operations, declared once (see :class:`Slot`)."""

from __future__ import annotations

from latent_atelier.editors.operation import Slot

#: the photo an operation works on
PHOTO = Slot("photo", "image", help="the photo (any size)")
#: a generated image's latent, as an output
LATENT = Slot("latent", "latent")


def region(
    help: str = "region to work on (default: centre)", name: str = "placement", *, reference: bool = False
) -> Slot:
    """An optional placement input: the region of a photo the model works on. ``reference``:
    the region of a second photo (used only when picked)."""
    return Slot(name, "placement", role="reference" if reference else "", optional=True, help=help)


#: the region of photo 1 in the operations that take two photos
FIRST_REGION = region("region of photo 1 (default: centre)")


def two_photos(first: str, second: str, mask: str) -> tuple[Slot, Slot, Slot]:
    """The inputs of an operation on two photos: photo 1 (``first``: its part; the result is
    pasted into it), photo 2 (``second``: its part) and the mask painted on photo 1."""
    return (
        Slot("photo", "image", help=f"photo 1: {first}; the result is pasted into it"),
        Slot("photo2", "image", help=f"photo 2: {second}"),
        Slot("mask", "mask", help=f"painted on photo 1: {mask}"),
    )

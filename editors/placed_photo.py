"""A photo input and the region of it an operation works on: read, cropped, pasted back.

Most operations start the same way (the RGB photo from the inputs, its placement at the
model's resolution) and end the same way (the model-resolution image pasted into the photo,
returned with its latent and the placement). :class:`PlacedPhoto` holds both ends, so an
operation's ``run`` only says what it does in between.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from latent_atelier.editors.masks import crop_to_model
from latent_atelier.editors.operation import OperationError
from latent_atelier.editors.placement import Placement, resolve_placement

#: soft-edge width (fraction of the crop side) of a generated image pasted into its photo
PASTE_FEATHER = 0.02


def rgb_input(inputs: Mapping[str, Any], slot: str = "photo") -> np.ndarray:
    """The image in ``inputs[slot]`` as float32 H x W x 3 (alpha dropped)."""
    return np.asarray(inputs[slot], np.float32)[..., :3]


def checked_rgb(value: Any, who: str, name: str = "photo") -> np.ndarray:
    """``value`` as float32 H x W x 3 (alpha dropped); an error naming the operation ``who``
    when it is not an RGB(A) image."""
    img = np.asarray(value, np.float32)
    if img.ndim != 3 or img.shape[2] not in (3, 4):
        raise OperationError(f"{who} needs an RGB {name}, got shape {img.shape}")
    return img[..., :3]


@dataclass(frozen=True)
class PlacedPhoto:
    """A full-resolution RGB photo and the placement of the model's square on it."""

    photo: np.ndarray
    placement: Placement

    @cached_property
    def crop(self) -> np.ndarray:
        """The placed region at model resolution (cut once)."""
        return self.placement.extract(self.photo)

    def crop_mask(self, mask: np.ndarray, name: str = "mask") -> np.ndarray:
        """A mask painted on the photo, cut out at model resolution (``name`` in errors)."""
        m = crop_to_model(mask, self.placement, name)
        assert m is not None  # crop_to_model keeps only None as None
        return m

    def paste(
        self,
        image: np.ndarray,
        *,
        onto: np.ndarray | None = None,
        feather: float = PASTE_FEATHER,
        mask: np.ndarray | None = None,
    ) -> np.ndarray:
        """``image`` (model resolution) pasted into the photo, or into ``onto`` (photo-sized)."""
        base = self.photo if onto is None else onto
        return self.placement.paste(base, image, feather=feather, mask=mask)

    def outputs(
        self, name: str, image: Any, latent: Any, pasted: np.ndarray | None = None, **more: Any
    ) -> dict[str, Any]:
        """The outputs a generating operation shares: ``result`` (``pasted``, by default
        ``image`` pasted into the photo), ``name`` (``image`` itself), ``latent``, any
        ``more`` outputs, and ``placement``."""
        return {
            "result": self.paste(image) if pasted is None else pasted,
            name: image,
            "latent": latent,
            **more,
            "placement": self.placement,
        }


def place_photo(
    inputs: Mapping[str, Any],
    resolution: int,
    slot: str = "photo",
    placement_slot: str = "placement",
    default: Placement | None = None,
) -> PlacedPhoto:
    """The photo in ``inputs[slot]`` with the placement in ``inputs[placement_slot]`` (else
    ``default``, else the centred square), checked and brought to ``resolution``."""
    photo = rgb_input(inputs, slot)
    given = inputs.get(placement_slot)
    return PlacedPhoto(photo, resolve_placement(photo, given if given is not None else default, resolution))

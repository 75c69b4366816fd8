"""Copy an operation's inputs out of the document before a job starts.

The worker thread never sees a document array: every image, mask and label map is copied
here, on the GUI thread, so painting during the job cannot change what the job computes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from latent_atelier.app.document.layers import LayerKind
from latent_atelier.app.qt.operations.slot_pickers import BOX
from latent_atelier.app.qt.placement.geometry import PlacementRequest, SquareBox, same_region
from latent_atelier.app.slot_codecs import codec_for
from latent_atelier.editors.operation import Operation, OperationError

if TYPE_CHECKING:
    from latent_atelier.app.document.document import Document
    from latent_atelier.app.document.layers import Layer


def document_sized(doc: Document, layer: Layer) -> np.ndarray:
    """The layer's pixels on a document-sized canvas (a copy; offsets applied)."""
    px = layer.pixels
    x, y = layer.offset
    if px.shape[:2] == (doc.height, doc.width) and (x, y) == (0, 0):
        return px.copy()
    out = np.zeros((doc.height, doc.width, *px.shape[2:]), px.dtype)
    sx0, sy0 = max(0, -x), max(0, -y)
    dx0, dy0 = max(0, x), max(0, y)
    w = min(px.shape[1] - sx0, doc.width - dx0)
    h = min(px.shape[0] - sy0, doc.height - dy0)
    if w > 0 and h > 0:
        out[dy0 : dy0 + h, dx0 : dx0 + w] = px[sy0 : sy0 + h, sx0 : sx0 + w]
    return out


def layer_value(doc: Document, layer: Layer, kind: str, role: str = "") -> np.ndarray:
    """A copy of ``layer`` in the form a slot of ``kind`` (and ``role``) expects."""
    if kind == "image" and role == "background" and layer.kind == LayerKind.BACKGROUND:
        return layer.pixels[..., :3].astype(np.float32, copy=True)  # any size: it gets fitted
    from_layer = codec_for(kind).from_layer
    if from_layer is None:
        raise ValueError(f"slot kind {kind!r} is not a layer")
    return from_layer(document_sized(doc, layer))


def gather_inputs(
    doc: Document,
    op: Operation,
    choices: dict[str, Any],
    box: Any,
    notes: list[str] | None = None,
) -> dict[str, Any]:
    """Slot name -> copied value; raises OperationError naming a missing required input.

    ``box`` is the canvas placement (a SquareBox or an editors Placement, or None). The
    placement becomes a :class:`PlacementRequest`, resolved when the model size is known.
    A stored latent only goes with the region it was made from (see
    :func:`match_latents_to_regions`); what that changed is appended to ``notes``.
    """
    inputs: dict[str, Any] = {}
    for slot in op.inputs:
        choice = choices.get(slot.name)
        if slot.kind in ("image", "rgba", "mask", "labels"):
            inputs[slot.name] = (
                None if choice is None else layer_value(doc, doc.layer(choice), slot.kind, slot.role)
            )
        elif slot.kind == "latent":
            latent = None if choice is None else doc.layer(choice).latent
            inputs[slot.name] = None if latent is None else _copy_latent(latent)
        elif slot.kind == "placement":
            inputs[slot.name] = _placement_request(doc, choice, box)
        else:
            inputs[slot.name] = choice
        if inputs[slot.name] is None and not slot.optional:
            title = op.title or op.name
            raise OperationError(f"{title} needs a {slot.kind} for '{slot.name}': {_hint(slot.kind)}")
    found = match_latents_to_regions(doc, op, choices, inputs)
    if notes is not None:
        notes.extend(found)
    return inputs


def match_latents_to_regions(
    doc: Document, op: Operation, choices: dict[str, Any], inputs: dict[str, Any]
) -> list[str]:
    """Keep each stored latent with the photo region it was made from.

    When the region a job will use differs from the one stored beside a chosen latent (the
    user moved the box), an optional latent is dropped, so the photo is embedded again in
    the new region; a required one brings its own region instead. Returns what was done.
    """
    notes: list[str] = []
    for slot in op.inputs:
        latent_name, region_name = slot.name, slot.region
        if slot.kind != "latent" or not region_name:
            continue
        choice = choices.get(latent_name)
        request = inputs.get(region_name)
        if choice is None or not isinstance(request, PlacementRequest):
            continue
        layer = doc.layer(choice)
        stored = layer.placement
        if stored is None or inputs.get(latent_name) is None:
            continue
        if tuple(stored.photo_shape) != (doc.height, doc.width):
            continue
        if same_region(stored, request.resolve(stored.size)):
            continue
        if slot.optional:
            inputs[latent_name] = None
            notes.append(
                f"the box moved since the latent of {layer.name} was made: embedding again in the new box"
            )
        else:
            inputs[region_name] = PlacementRequest(placement=stored, photo_shape=request.photo_shape)
            notes.append(
                f"the latent of {layer.name} was made for another region: working in that region, not the box"
            )
    return notes


def _hint(kind: str) -> str:
    return {
        "mask": "add a mask layer (Layer > Add mask layer) and paint it",
        "labels": "add a segments layer and paint the segments",
        "latent": "embed the photo first (or run the matte)",
        "rgba": "cut out the subject first (Cut out subject)",
    }.get(kind, "choose one in the inputs above")


def _placement_request(doc: Document, choice: str | None, box: Any) -> PlacementRequest:
    shape = (doc.height, doc.width)
    if choice not in (None, BOX):
        stored = doc.layer(choice).placement
        if stored is not None and tuple(stored.photo_shape) == shape:
            return PlacementRequest(placement=stored, photo_shape=shape)
    if isinstance(box, SquareBox):
        return PlacementRequest(box=box, photo_shape=shape)
    if box is not None:
        return PlacementRequest(placement=box, photo_shape=shape)
    return PlacementRequest(photo_shape=shape)


def _copy_latent(latent: Any) -> Any:
    clone = getattr(latent, "clone", None)
    return clone() if callable(clone) else latent


def resolve_placements(inputs: dict[str, Any], resolution: int) -> None:
    """On the worker: turn PlacementRequests into Placements for a model of ``resolution``."""
    for key, value in list(inputs.items()):
        if isinstance(value, PlacementRequest):
            inputs[key] = value.resolve(resolution)

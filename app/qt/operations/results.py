"""Turn an operation's Result into layers: which kind, which name, what they carry.

Full-size images and RGBA become RESULT layers, masks MASK layers (an ``alpha`` matte a
MATTE layer), label maps LABELS layers, and several variants of one slot (``multiple``)
become candidates to choose from. Latents and placements ride on the main result layer
and are offered to the source photo layer too, so a saved project keeps them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from latent_atelier.app.document.layers import Layer, LayerKind, Palette, new_layer
from latent_atelier.app.slot_codecs import codec_for
from latent_atelier.editors.operation import Operation, Result

if TYPE_CHECKING:
    from latent_atelier.app.document.document import Document


@dataclass
class ResultLayers:
    """The layers one finished job proposes (not yet in the document)."""

    title: str
    layers: list[Layer] = field(default_factory=list)
    variants: list[Layer] = field(default_factory=list)  # choose one (multiple=True slot)
    source_id: str | None = None
    source_props: dict[str, Any] = field(default_factory=dict)  # latent/placement for it
    notes: list[str] = field(default_factory=list)

    @property
    def is_cutout(self) -> bool:
        """Whether this is a cut-out: an RGBA result beside a matte layer."""
        return any(lay.is_cutout for lay in self.layers) and any(
            lay.kind == LayerKind.MATTE for lay in self.layers
        )

    @property
    def primary(self) -> Layer | None:
        """The layer that carries the latent and becomes active."""
        for layer in self.layers:
            if layer.kind in (LayerKind.RESULT, LayerKind.BACKGROUND):
                return layer
        if self.variants:
            return self.variants[0]
        return self.layers[0] if self.layers else None


def _params_dict(params: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(params) and not isinstance(params, type):
        return dataclasses.asdict(params)
    return dict(params or {})


def _cover(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Scale ``image`` to cover a ``width`` x ``height`` canvas, centred and cropped."""
    import cv2

    h, w = image.shape[:2]
    s = max(width / w, height / h)
    nw, nh = max(width, round(w * s)), max(height, round(h * s))
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC
    big = cv2.resize(np.ascontiguousarray(image, np.float32), (nw, nh), interpolation=interp)
    x0, y0 = (nw - width) // 2, (nh - height) // 2
    return np.clip(big[y0 : y0 + height, x0 : x0 + width], 0.0, 1.0)


def _palette_for(labels: np.ndarray) -> Palette:
    palette = Palette()
    for value in np.unique(labels):
        if int(value) > 0:
            palette.add(f"Segment {int(value)}")
    return palette


def result_layers(
    doc: Document,
    op: Operation,
    params: Any,
    result: Result,
    source_id: str | None,
    used_placement: Any = None,
) -> ResultLayers:
    """Layers for every output of ``result`` (nothing is added to ``doc``).

    The placement stored with the result is the one the operation returned, else the
    one it was given (``used_placement``).
    """
    title = op.title or op.name
    out = ResultLayers(title=title, source_id=source_id)
    size = (doc.height, doc.width)
    record = {"name": op.name, "params": _params_dict(params), "source": source_id}
    latent = placement = None
    latent_slot = "latent"
    source_latent = result.outputs.get("latent")  # the photo's own embedding, by convention
    generated_only = not any(s.kind in ("image", "rgba") for s in op.inputs)
    for slot in op.outputs:
        value = result.outputs.get(slot.name)
        if value is None:
            continue
        if slot.kind == "latent":
            if latent is None:
                latent, latent_slot = value, slot.name
            continue
        if slot.kind == "placement":
            placement = value if not slot.multiple else placement
            continue
        if codec_for(slot.kind).from_layer is None:  # not a layer kind (files, models)
            continue
        if not slot.layer:  # by-products such as a raw alpha
            out.notes.append(f"{slot.name} not added")
            continue
        if slot.multiple and out.variants:
            out.notes.append(f"{slot.name} not offered (one set of variants at a time)")
            continue
        values = list(value) if slot.multiple else [value]
        for i, arr in enumerate(values):
            arr = np.asarray(arr)
            name = f"{title}: {slot.name}" + (f" {i + 1}" if slot.multiple else "")
            layer = _layer_for(slot.kind, slot.role, arr, name, size, slot.multiple and generated_only)
            if layer is None:
                note = f"{slot.name} at {arr.shape[1]}x{arr.shape[0]} not added"
                if note not in out.notes:
                    out.notes.append(note)
                continue
            layer.operation = dict(record, output=slot.name)
            (out.variants if slot.multiple else out.layers).append(layer)
    _drop_duplicates_of_variants(out)
    if latent is None:
        latent = source_latent
    if placement is None:
        extra = result.outputs.get("placement")
        placement = extra if hasattr(extra, "extract") else used_placement
    if not hasattr(placement, "extract"):
        placement = None
    colour = [lay for lay in out.layers if lay.kind != LayerKind.MASK and lay.kind != LayerKind.MATTE]
    if not colour and len(out.layers) == 1:
        out.layers[0].visible = True  # a lone mask result is shown
    primary = out.primary
    carriers = [primary] if primary is not None and primary not in out.variants else []
    for layer in carriers + out.variants:  # whichever variant is accepted carries them
        layer.latent = latent
        layer.placement = placement
        if latent is not None and layer.operation is not None:
            layer.operation["latent_slot"] = latent_slot  # which kind of latent it holds
    if source_id is not None:
        if source_latent is not None:
            out.source_props["latent"] = source_latent
        if placement is not None:
            out.source_props["placement"] = placement
    return out


def _drop_duplicates_of_variants(out: ResultLayers) -> None:
    """A single result that is one of the variants (inpaint's "result") is not repeated."""
    if not out.variants:
        return
    out.layers = [
        lay
        for lay in out.layers
        if not any(
            v.pixels.shape == lay.pixels.shape and np.array_equal(v.pixels, lay.pixels) for v in out.variants
        )
    ]


def _layer_for(
    kind: str, role: str, arr: np.ndarray, name: str, size: tuple[int, int], background: bool
) -> Layer | None:
    """The new layer for one output value (its codec says which kind), or None."""
    layer_kind = codec_for(kind).result_layer(role)
    full = arr.shape[:2] == size
    if layer_kind == LayerKind.RESULT:
        if full:
            return new_layer(LayerKind.RESULT, name, pixels=arr.astype(np.float32))
        if background:  # generated from a latent alone, at model size: cover the document
            return new_layer(LayerKind.BACKGROUND, name, pixels=_cover(arr[..., :3], size[1], size[0]))
        return None
    if not full or layer_kind is None:
        return None
    if layer_kind in (LayerKind.MASK, LayerKind.MATTE):
        layer = new_layer(layer_kind, name, pixels=np.clip(arr, 0, 1).astype(np.float32))
        layer.visible = False
        return layer
    labels = arr.astype(np.int32)
    return new_layer(LayerKind.LABELS, name, pixels=labels, palette=_palette_for(labels))

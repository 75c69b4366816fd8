"""``mask-edit``: redraw a portrait so it follows an edited label map (Gu et al. 2019).

The photo's region (its placement) is cut out at the model's size with its label map and
the edited map. The model embeds the photo's components (eyes, mouth, skin, hair; or some
of them from a second portrait), draws a face in the edited map's shapes and fuses it with
the photo's background. The result goes back through the placement; by default only where
the map changed (plus a margin, feathered), so the rest keeps the photo's own pixels.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from latent_atelier.editors.mask_guided.label_placement import placement_from_labels
from latent_atelier.editors.mask_guided.map_edits import (
    TAKE_COMPONENTS,
    changed_region,
    component_region,
    crop_labels,
    missing_components,
    take_shape,
)
from latent_atelier.editors.operation import Operation, OperationError, Progress, Result, Slot, param
from latent_atelier.editors.placed_photo import checked_rgb
from latent_atelier.editors.placement import Placement, resolve_placement
from latent_atelier.editors.registry import register


@dataclass
class MaskEditParams:
    take: str = param(
        "nothing",
        help="components taken from the second portrait",
        choices=("nothing", "hair", "eyes", "mouth", "skin", "all"),
    )
    take_shape: bool = param(
        True, help="with a second portrait: also take those components' shapes into the edited map"
    )
    keep_unchanged: bool = param(True, help="keep the photo's pixels where the map did not change")
    margin: int = param(2, 0, 16, "model pixels around the changed region that are redrawn too")
    mask_model: str = param(
        "",
        help="mask-guided model file (not the generator that --model names); empty: the bundled 64 px model",
    )


def _check_image(value: Any, name: str) -> np.ndarray:
    return np.clip(checked_rgb(value, "mask-edit", name), 0.0, 1.0)


def _check_map(value: Any, shape: tuple[int, int], what: str) -> np.ndarray:
    from latent_atelier.models.mask_guided.labels import LabelMapError, check_label_map

    try:
        return check_label_map(value, shape, what)
    except LabelMapError as exc:
        raise OperationError(str(exc)) from exc


def _to_tensor(image: np.ndarray):
    import torch

    return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))[None].float() * 2.0 - 1.0


@register
class MaskEdit(Operation):
    """Follow an edited label map, keeping the person's look and the background."""

    name = "mask-edit"
    title = "Mask-guided edit"
    description = (
        "Redraw the face so it follows an edited label map (bigger eyes, another mouth, more "
        "hair), or take eyes, mouth or hair from a second portrait."
    )
    inputs = (
        Slot("photo", "image"),
        Slot("edited", "labels", help="the edited label map (in the app: the active label layer)"),
        Slot("labels", "labels", help="the photo's label map (auto-segments or painted)"),
        Slot("placement", "placement", optional=True),
        Slot("donor", "image", optional=True, help="a second portrait to take components from"),
        Slot("donor_labels", "labels", optional=True, help="the second portrait's label map"),
    )
    outputs = (
        Slot("result", "image"),
        Slot("crop", "image", optional=True, help="the model's output at its own size"),
        Slot("edited_labels", "labels", optional=True, help="the map the face follows"),
    )
    Params = MaskEditParams
    needs_generator = False

    def run(self, gen: Any, inputs: dict[str, Any], params: MaskEditParams, progress: Progress) -> Result:
        """The edited photo (full size), the model-size crop and the map it follows."""
        import torch

        from latent_atelier.editors.mask_guided.model_cache import get_model

        self.check_inputs(inputs)
        photo = _check_image(inputs["photo"], "photo")
        shape = photo.shape[:2]
        labels = _check_map(inputs["labels"], shape, "label map")
        edited = _check_map(inputs["edited"], shape, "edited map")
        taking = params.take != "nothing"
        donor = inputs.get("donor")
        if taking and donor is None:
            raise OperationError(f"take={params.take}: choose a second portrait (donor) to take it from")
        progress.step(0, 3)
        model = get_model(params.mask_model)
        size = model.config.size
        notes: list[str] = []
        given = inputs.get("placement")
        placed_by_user = given is not None
        if given is None:
            given, how = placement_from_labels(labels, size)
            notes.append(f"placed by the label map's {how}" if given else f"{how}: using the centred square")
        placement = resolve_placement(photo, given, size)
        crop = placement.extract(photo)
        before, after = crop_labels(placement, labels), crop_labels(placement, edited)
        source_img, source_map = crop, before
        comps: tuple[str, ...] = ()
        if taking:
            comps = TAKE_COMPONENTS[params.take]
            donor_img = _check_image(donor, "second portrait")
            if inputs.get("donor_labels") is None:
                raise OperationError("the second portrait needs its label map (donor_labels)")
            donor_lab = _check_map(inputs["donor_labels"], donor_img.shape[:2], "second portrait's map")
            dp = placement if placed_by_user and donor_img.shape[:2] == shape else None
            if dp is None:
                found = placement_from_labels(donor_lab, size)[0]
                dp = found or Placement.centered(donor_img.shape[:2], size)
            source_img, source_map = dp.extract(donor_img), crop_labels(dp, donor_lab)
            lacking = [c for c in comps if not component_region(source_map, (c,)).any()]
            if lacking:
                notes.append(f"the second portrait's map has no {', '.join(lacking)}: taken as empty")
            if params.take_shape:
                after = take_shape(after, source_map, comps)
        for part in missing_components(after):
            notes.append(f"no {part} in the edited map: the face is drawn without one")
        progress.step(1, 3)
        t0 = time.perf_counter()
        with torch.no_grad():
            g = model.generator
            x, m = _to_tensor(crop), torch.from_numpy(before)[None]
            codes = g.encode(x, m)
            if taking:
                donor_codes = g.encode(_to_tensor(source_img), torch.from_numpy(source_map)[None])
                codes.update({c: donor_codes[c] for c in comps})
            bg = _background_mask(before, after)
            out = g.synthesize(codes, x, torch.from_numpy(after)[None], torch.from_numpy(bg)[None, None])
            agreement = _parser_agreement(model.parser, out["image"], after)
        seconds = time.perf_counter() - t0
        result_crop = ((out["image"][0].permute(1, 2, 0).numpy() + 1.0) / 2.0).clip(0, 1).astype(np.float32)
        progress.step(2, 3)
        if params.keep_unchanged:
            region = changed_region(before, after, params.margin)
            if comps:
                region = np.maximum(
                    region,
                    changed_region(
                        np.zeros_like(after),
                        component_region(after, comps).astype(after.dtype),
                        params.margin,
                    ),
                )
            if not region.any():
                notes.append("the edited map equals the photo's map: nothing to redraw")
            result = placement.paste(photo, result_crop, mask=region) if region.any() else photo.copy()
        else:
            result = placement.paste(photo, result_crop)
        progress.step(3, 3)
        metrics = {"model_seconds": seconds}
        if agreement is not None:
            metrics["parser_miou"] = agreement
        outputs = {"result": result, "crop": result_crop, "edited_labels": after.astype(np.int32)}
        return Result(outputs=outputs, metrics=metrics, notes=notes)


def _background_mask(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Where the background encoder may read the photo: background (or neck/body) in both
    maps, so pixels that were face but become background are drawn anew."""
    from latent_atelier.models.mask_guided.classes import BACKGROUND_CLASSES

    return (np.isin(before, BACKGROUND_CLASSES) & np.isin(after, BACKGROUND_CLASSES)).astype(np.float32)


def _parser_agreement(parser: Any, image: Any, labels: np.ndarray) -> float | None:
    """Mean IoU of the model's own parser reading the result against the map it follows."""
    if parser is None:
        return None
    read = parser(image).argmax(1)[0].numpy()
    ious = []
    for c in np.unique(labels):
        inter = np.logical_and(read == c, labels == c).sum()
        union = np.logical_or(read == c, labels == c).sum()
        ious.append(inter / union)
    return float(np.mean(ious))

"""The ``edit-segment`` Operation: move segment latents along a direction and re-stitch.

``W_k + alpha * D`` for the chosen segment ``k`` (or every segment), with ``D`` from SeFa,
a ``.npy`` file, or the difference of two embedded latents (:mod:`editors.inversion.directions`).
Only the edited segments are stitched (Poisson, Dirichlet boundary = the input photo), so
pixels outside them keep the input exactly. With ``refine`` the edited segments' borders
first move by a level set (visible change, in CIE dE above ``refine_threshold``): ``grow``
(the default, the paper's Fig. 7; :func:`latent_atelier.editors.stitching.levelset.grow_labels`)
moves a border out over the pixels next to it that the edit changed, so a new feature that
reaches across it is not cut by the seam; ``shrink``
(:func:`latent_atelier.editors.stitching.levelset.refine_labels`) moves it away from pixels
where the edit differs from the photo, and cuts strongly changed regions out as holes, so the
edit stays inside the painted segment. Why both: docs/notes/segments.md.

The latents come from a ``segments`` run on the same labels: batch item ``i`` belongs to
the ``i``-th smallest segment id inside the placed region. Incremental editing
(``incremental``): the new composite becomes the target of a fresh projection of every
segment (warm-started from the edited codes), so the next edit starts from codes that
redraw the current image. It fits each segment's own masked loss by default (``loss``):
the next edit stitches with Poisson, which needs each segment fitted a little across its
border. Each run appends ``(segment, direction, alpha)`` to the history.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from latent_atelier.editors.inversion.directions import (
    apply_direction,
    default_group,
    difference_direction,
    load_direction,
    sefa_direction,
)
from latent_atelier.editors.inversion.segments import (
    COMPOSITE_LOSS_AND_POISSON,
    LOSSES,
    SegmentsParams,
    crop_labels,
    invert_segments,
    labels_to_photo,
    paste_segments,
    place_labels,
    segment_ids,
    stitch,
    synthesize_segments,
)
from latent_atelier.editors.operation import Operation, OperationError, Progress, Result, Slot, param
from latent_atelier.editors.registry import register
from latent_atelier.editors.slots import region
from latent_atelier.models.generator import Generator, Latent, LatentShapeError

HistoryEntry = tuple[int, str, float]
#: the settings of the incremental re-projection, named as in :class:`SegmentsParams`
REPROJECTION_FIELDS = ("space", "steps_w", "steps_noise", "margin", "seed", "loss")


@dataclass
class EditSegmentParams:
    """Settings of the ``edit-segment`` operation."""

    segment: int = param(0, 0, 65535, "segment id to edit (0 = every segment)")
    source: str = param("sefa", help="where the direction comes from", choices=("sefa", "file", "difference"))
    sefa_index: int = param(0, 0, 511, "SeFa direction number (0 = strongest)")
    alpha: float = param(3.0, -100.0, 100.0, "edit strength (W_k + alpha * D)")
    first_row: int = param(0, 0, 63, "first W+ row (layer) the edit touches")
    last_row: int = param(-1, -1, 63, "last W+ row the edit touches (-1 = the last)")
    poisson: bool = param(True, help="stitch in the gradient domain (else hard cut)")
    mixed_gradients: bool = param(False, help="keep the photo's gradient where it is stronger")
    refine: bool = param(False, help="move the edited segments' borders by the edit's change (level set)")
    refine_direction: str = param(
        "grow",
        help="grow: a border moves out over pixels the edit changed next to it, so a new feature "
        "is not cut by the seam (the paper's Fig. 7); shrink: it retreats from changed pixels, "
        "so the edit never leaves the segment",
        choices=("grow", "shrink"),
    )
    refine_threshold: float = param(
        2.5,
        0.5,
        50.0,
        "smallest colour change (CIE dE) that makes refine move a border; "
        "2.3 is one just-noticeable difference",
    )
    incremental: bool = param(False, help="re-project every segment from the new composite")
    space: str = param("w+", help="latent space of the incremental re-projection", choices=("w", "w+"))
    steps_w: int = param(100, 0, 20000, "W / W+ steps of the incremental re-projection")
    steps_noise: int = param(0, 0, 20000, "noise steps of the incremental re-projection")
    margin: int = param(4, 0, 256, "overlap margin (px) of the incremental re-projection")
    loss: str = param(
        "segments",
        help="what the incremental re-projection fits: each segment's "
        "own masked loss (suits the Poisson stitch of the next edit) or the "
        "hard-cut composite (as `segments` does by default)",
        choices=LOSSES,
    )
    seed: int = param(0, 0, 2**31 - 1, "random seed of the re-projection")


def read_history(value: Any) -> list[HistoryEntry]:
    """Earlier edits: a list of ``(segment, direction, alpha)`` or a JSON file holding one."""
    if value is None:
        return []
    if isinstance(value, (str, Path)):
        try:
            value = json.loads(Path(value).read_text())
        except (OSError, ValueError) as exc:
            raise OperationError(f"{value}: not a JSON edit history ({exc})") from exc
    if isinstance(value, dict):
        value = value.get("history", [])
    try:
        return [(int(s), str(d), float(a)) for s, d, a in value]
    except (TypeError, ValueError) as exc:
        raise OperationError("an edit history is a list of [segment, direction, alpha] entries") from exc


def _rows(gen: Generator, first: int, last: int) -> list[int]:
    n = gen.n_latent
    last = n - 1 if last < 0 else last
    if not 0 <= first <= last < n:
        raise OperationError(f"rows {first}..{last}: choose 0 <= first <= last <= {n - 1}")
    return list(range(first, last + 1))


def resolve_direction(
    gen: Generator, inputs: dict, params: EditSegmentParams, rows: list[int]
) -> tuple[torch.Tensor, str]:
    """The direction tensor and a short description of where it came from."""
    group = default_group(gen)
    if params.source == "sefa":
        d = sefa_direction(gen, params.sefa_index, rows, group)
        return d, f"sefa:{params.sefa_index}"
    if params.source == "file":
        path = inputs.get("direction")
        if path is None:
            raise OperationError("source 'file' needs a direction .npy file (--direction FILE)")
        if isinstance(path, (np.ndarray, torch.Tensor)):
            from latent_atelier.editors.inversion.directions import check_direction

            return check_direction(gen, path, group), "file"
        return load_direction(path, gen, group), f"file:{Path(path).name}"
    a, b = inputs.get("source_latent"), inputs.get("target_latent")
    if a is None or b is None:
        raise OperationError(
            "source 'difference' needs two embedded latents: --source-latent and --target-latent"
        )
    for lat in (a, b):
        lat.validate(gen)
    return difference_direction(a, b, group), "difference"


@register
class EditSegment(Operation):
    """Edit one segment (or all) along a latent direction and stitch it back."""

    name = "edit-segment"
    title = "Edit segment"
    description = (
        "Move a segment's latent along a direction (SeFa, .npy file or the difference "
        "of two latents) and stitch the edited segment into the photo."
    )
    inputs = (
        Slot("photo", "image", help="the current image (the photo or an earlier composite)"),
        Slot("labels", "labels", help="segment ids per pixel, as used by `segments`"),
        Slot("latents", "latent", region="placement", help="per-segment latents from a `segments` run"),
        region("the region `segments` used"),
        Slot("direction", "file", optional=True, help=".npy direction (n_latent x dim or 1 x dim)"),
        Slot("source_latent", "latent", role="reference", optional=True, help="difference: start latent"),
        Slot("target_latent", "latent", role="reference", optional=True, help="difference: end latent"),
        Slot("history", "file", optional=True, help="JSON list of earlier edits"),
    )
    outputs = (
        Slot("result", "image", help="the re-stitched composite, full resolution"),
        Slot("segment_images", "image", multiple=True, help="each segment's image after the edit"),
        Slot("latents", "latent", help="edited (or, incremental, re-projected) latents"),
        Slot("labels", "labels", help="the labels (refined when asked)"),
        Slot("history", "file", help="every edit so far: [segment, direction, alpha]"),
    )
    Params = EditSegmentParams

    def advice(self, params: EditSegmentParams) -> list[str]:
        """An incremental re-projection that leaves the next Poisson stitch nothing to carry."""
        if params.incremental and params.poisson and params.loss == "composite":
            return [f"{COMPOSITE_LOSS_AND_POISSON} in the next edit: keep loss 'segments'"]
        return []

    def run(self, gen: Generator, inputs: dict, params: EditSegmentParams, progress: Progress) -> Result:
        """Apply ``alpha * D`` to the chosen segment latents and re-stitch."""
        self.check_inputs(inputs)
        photo, labels, placement, crop, lab = place_labels(inputs, gen.resolution)
        ids = segment_ids(lab)
        latents: Latent = inputs["latents"]
        try:
            latents.validate(gen)
        except LatentShapeError as exc:
            raise OperationError(f"latents: {exc}") from exc
        if latents.batch != len(ids):
            raise OperationError(
                f"the latents hold {latents.batch} segments but the labels have {len(ids)} "
                "inside the placed region: run `segments` again with these labels"
            )
        if params.segment and params.segment not in ids:
            raise OperationError(
                f"segment {params.segment} is not in the placed region; segments there: {ids}"
            )
        chosen = ids if params.segment == 0 else [params.segment]
        items = [ids.index(k) for k in chosen]
        rows = _rows(gen, params.first_row, params.last_row)
        direction, described = resolve_direction(gen, inputs, params, rows)
        edited = apply_direction(latents, direction, params.alpha, rows, default_group(gen), items)
        progress.set_stage("edit")
        progress.step(1, 1)
        images = synthesize_segments(gen, edited)

        refined = lab
        if params.refine and params.refine_direction == "grow":
            from latent_atelier.editors.stitching.levelset import grow_labels

            before = synthesize_segments(gen, latents)
            refined = grow_labels(
                lab,
                {k: before[ids.index(k)] for k in chosen},
                {k: images[ids.index(k)] for k in chosen},
                threshold=params.refine_threshold,
            )
        elif params.refine:
            from latent_atelier.editors.stitching.levelset import refine_labels

            refined = refine_labels(
                lab,
                crop,
                {k: images[ids.index(k)] for k in chosen},
                segments=chosen,
                threshold=params.refine_threshold,
            )
        stitch_lab = np.where(np.isin(refined, chosen), refined, 0).astype(np.int32)
        stitched = stitch(
            crop, stitch_lab, ids, images, poisson=params.poisson, mixed_gradients=params.mixed_gradients
        )
        out_labels = labels_to_photo(placement, labels, lab, refined)
        paste_labels = np.where(np.isin(out_labels, chosen), out_labels, 0)
        result = paste_segments(photo, paste_labels, placement, stitched, stitch_lab)

        out_latents = edited
        metrics = {"changed_px": float(np.any(result != photo, axis=-1).sum())}
        if params.incremental:
            now = crop_labels(placement, out_labels)
            if segment_ids(now) != ids:
                raise OperationError("refinement removed a segment; turn `refine` off for this edit")
            refit = SegmentsParams(**{name: getattr(params, name) for name in REPROJECTION_FIELDS})
            inv = invert_segments(gen, placement.extract(result), now, refit, init=edited, progress=progress)
            out_latents, images = inv.latent, inv.images
            metrics.update(inv.metrics)
        history = [
            *read_history(inputs.get("history")),
            (int(params.segment), described, float(params.alpha)),
        ]
        return Result(
            outputs={
                "result": result,
                "segment_images": list(images),
                "latents": out_latents,
                "labels": out_labels,
                "history": history,
            },
            metrics=metrics,
            params={"history": history, "segment_ids": ids, "rows": [rows[0], rows[-1]]},
        )

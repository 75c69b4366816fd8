"""Per-segment inversion (Futschik et al., "Real Image Inversion via Segments"), in one batch.

Every segment id > 0 of a label map gets its own latent code; id 0 keeps the photo. All
segments are optimised together as ONE batch (``B`` = number of segments, masks stacked).
Two losses (``loss``):

* ``"segments"``, the paper's: each segment's own loss restricted to the segment dilated by
  an overlap margin. The items' losses are independent, so this is the serial method at
  the price of one batched synthesis per step. It is W_l's loss (perceptual + MSE under the
  dilated mask) with the pixel term averaged over the segment rather than the whole frame
  (:class:`SegmentLoss`), so small segments weigh colour against features as a whole-image
  projection does.
* ``"composite"`` (the default): the global projection's loss of the hard-cut composite,
  item ``k`` filling segment ``k``'s pixels (:class:`CompositeLoss`). Each code still only
  moves its own pixels, and Adam scales each code's steps on its own, but VGG runs once a
  step instead of once per segment, and what is fitted is what the operation outputs.

W space (one 512-vector per segment, repeated over all rows) is a re-parametrisation:
the optimiser sees a :class:`TiedRowsGenerator` that synthesises from the mean of each
latent's rows. The gradient reaching every row is then the same (1/n of the shared one),
rows that start equal (the mean latent) stay equal under Adam, and the result is
collapsed to the exact row mean afterwards. W+ optimises every row freely.

The per-segment images are stitched with :func:`editors.stitching.poisson.poisson_stitch` at model
resolution (the placement's crop) and pasted back into the full photo; photo pixels whose
label is 0 are copied exactly. The latents' batch order is the increasing order of the ids
found in the crop (:func:`segment_ids`); ``edit-segment`` relies on it.

Why these defaults, with the measurements behind them: ``docs/notes/segments.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

import cv2
import numpy as np
import torch

from latent_atelier.editors.inversion.embed import Mk_n, generator_device, initial_latent
from latent_atelier.editors.inversion.embed_core import (
    PIXEL_SCALE,
    W_L_WEIGHTS,
    EmbeddingLoss,
    LossWeights,
    OptimiserSettings,
    Targets,
    from_numpy_image,
    masked_psnr,
    optimise,
    to_numpy_image,
    with_weights,
)
from latent_atelier.editors.operation import Operation, OperationError, Progress, Result, Slot, param
from latent_atelier.editors.placed_photo import rgb_input
from latent_atelier.editors.placement import Placement, resolve_placement
from latent_atelier.editors.registry import register
from latent_atelier.editors.slots import PHOTO, region
from latent_atelier.editors.stages import StagePlan
from latent_atelier.models.generator import Generator, Latent, Synthesis


# --------------------------------------------------------------------------- geometry
def check_labels(photo: np.ndarray, labels: Any) -> np.ndarray:
    """``labels`` as an int32 H x W array matching ``photo``; clear errors otherwise."""
    if labels is None:
        raise OperationError("a label layer is needed: integer segment ids, 0 = keep the photo")
    lab = np.asarray(labels)
    if lab.ndim == 3 and lab.shape[2] == 1:
        lab = lab[..., 0]
    if lab.shape != photo.shape[:2]:
        raise OperationError(
            f"labels are {lab.shape[1::-1]} px but the photo is {photo.shape[1::-1]} px: "
            "paint the segments on the same image"
        )
    if lab.dtype.kind == "f":
        if not np.all(np.isfinite(lab)) or not np.all(lab == np.round(lab)):
            raise OperationError("labels must be whole numbers (segment ids); got fractions")
    elif lab.dtype.kind not in "iu":
        raise OperationError(f"labels must be integer segment ids, got dtype {lab.dtype}")
    if lab.min(initial=0) < 0:
        raise OperationError("segment ids must be >= 0 (0 = keep the photo)")
    return lab.astype(np.int32)


def crop_labels(placement: Placement, labels: np.ndarray) -> np.ndarray:
    """The label map at model resolution (nearest neighbour; outside the photo = 0)."""
    m = placement.matrix.astype(np.float64)
    out = cv2.warpAffine(
        labels.astype(np.float32),
        m,
        (placement.size, placement.size),
        flags=cv2.INTER_NEAREST,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )
    return np.rint(out).astype(np.int32)


class PlacedLabels(NamedTuple):
    """The photo and label inputs of a segments operation, and both cut out at model resolution."""

    photo: np.ndarray  # H x W x 3
    labels: np.ndarray  # H x W int32
    placement: Placement
    crop: np.ndarray  # S x S x 3
    lab: np.ndarray  # S x S int32


def place_labels(inputs: dict[str, Any], resolution: int) -> PlacedLabels:
    """``inputs["photo"]`` and ``inputs["labels"]`` (checked) through ``inputs["placement"]``."""
    photo = rgb_input(inputs)
    labels = check_labels(photo, inputs.get("labels"))
    placement = resolve_placement(photo, inputs.get("placement"), resolution)
    return PlacedLabels(photo, labels, placement, placement.extract(photo), crop_labels(placement, labels))


def labels_to_photo(
    placement: Placement, original: np.ndarray, before: np.ndarray, after: np.ndarray
) -> np.ndarray:
    """Full-resolution labels with the crop pixels that changed (``before`` -> ``after``) applied."""
    h, w = original.shape
    changed = (before != after).astype(np.float32)
    if not changed.any():
        return original.copy()
    inv = placement.inverse
    back = cv2.warpAffine(
        after.astype(np.float32),
        inv,
        (w, h),
        flags=cv2.INTER_NEAREST,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )
    moved = (
        cv2.warpAffine(
            changed, inv, (w, h), flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=0
        )
        > 0.5
    )
    return np.where(moved, np.rint(back).astype(np.int32), original).astype(np.int32)


def check_segment_count(count: int, size: int) -> None:
    """Refuse more segments than fit in memory: each is one batch item through the generator
    and VGG (300 segments of a 128 px crop took 4.8 GB, about 16 MB each)."""
    limit = max_segments(size)
    if count > limit:
        raise OperationError(
            f"{count} segments: at most {limit} can be inverted together at {size} px (each is "
            "one batch item in memory); merge segments or paint fewer ids"
        )


def max_segments(size: int) -> int:
    """:data:`MAX_SEGMENTS` at 128 px and below, fewer for larger models (same memory)."""
    return max(8, min(MAX_SEGMENTS, MAX_SEGMENTS * 128 * 128 // (size * size)))


def segment_ids(labels: np.ndarray) -> list[int]:
    """The segment ids > 0 present, increasing: the batch order of the latents."""
    return [int(k) for k in np.unique(labels) if k > 0]


def loss_masks(labels: np.ndarray, ids: list[int], margin: int) -> np.ndarray:
    """``(B, H, W)`` float32: each segment dilated by ``margin`` px (a disc)."""
    masks = np.stack([(labels == k) for k in ids]).astype(np.uint8)
    if margin > 0:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * margin + 1, 2 * margin + 1))
        masks = np.stack([cv2.dilate(m, kernel) for m in masks])
    return masks.astype(np.float32)


# --------------------------------------------------------------------------- W space
class TiedRowsGenerator:
    """A view of ``gen`` that draws every latent from the mean of its W+ rows (W space).

    Everything else (attributes, ``parameters()``, hooks) is the wrapped generator's.
    """

    def __init__(self, gen: Generator) -> None:
        self._gen = gen

    def __getattr__(self, name: str) -> Any:
        return getattr(self._gen, name)

    @property
    def wrapped_generator(self) -> Generator:
        """The model this view draws with (the optimisation loop runs its search twin)."""
        return self._gen

    def around(self, gen: Generator) -> TiedRowsGenerator:
        """The same view of another model."""
        return TiedRowsGenerator(gen)

    def synthesize(self, latent: Latent, **kwargs: Any) -> Synthesis:
        """Synthesise with each group's rows replaced by their mean."""
        return self._gen.synthesize(tie_rows(latent, keep_graph=True), **kwargs)


def tie_rows(latent: Latent, keep_graph: bool = False) -> Latent:
    """Each group's rows replaced by their mean (a W-space latent)."""
    w = {k: v.mean(1, keepdim=True).expand_as(v) for k, v in latent.w.items()}
    if not keep_graph:
        w = {k: v.detach().clone() for k, v in w.items()}
    return Latent(w, list(latent.noise))


# --------------------------------------------------------------------------- loss
class SegmentLoss(EmbeddingLoss):
    """W_l's loss (Eq. 2) for a batch of segments, the pixel term averaged over each segment.

    :class:`EmbeddingLoss` divides the masked squared error by the whole frame's size N
    while its perceptual term is a mean over the masked area, so a segment covering a
    fraction ``a`` of the frame would weigh colour ``a`` times less against VGG features
    than a global projection does (a 1% segment: 100 times less). Here the pixel term is
    the mean over the segment's own (dilated) mask, which gives every segment the balance
    the weights were set for on whole images. Needs ``targets.m_m``.
    """

    def __init__(self, targets: Targets, weights: LossWeights = W_L_WEIGHTS) -> None:
        if targets.m_m is None:
            raise ValueError("SegmentLoss needs the segments' masks (targets.m_m)")
        super().__init__(targets, with_weights(weights, mse1=0.0))
        self.mse1 = weights.mse1
        channels = targets.x.shape[1]
        self._values = targets.m_m.flatten(1).sum(1).clamp_min(1.0) * channels

    def __call__(self, img: torch.Tensor) -> torch.Tensor:
        """Per-segment loss ``(B,)`` of generated images ``img`` in [-1, 1]."""
        loss = super().__call__(img)
        if not self.mse1:
            return loss
        d = (img - self.t.x) * PIXEL_SCALE * self.t.m_m
        return loss + self.mse1 * d.pow(2).flatten(1).sum(1) / self._values


class CompositeLoss:
    """The global projection's loss (Eq. 1 on the whole crop) of the hard-cut composite.

    Item ``k`` of the generated batch fills the pixels of segment ``k`` (``cores``, a
    partition of the labelled pixels); unlabelled pixels are the target's. Each segment's
    latent gets gradients only through its own pixels, but VGG runs once on the composite
    instead of once per segment, and what is optimised is the image the operation outputs.
    """

    def __init__(self, x: torch.Tensor, cores: torch.Tensor, weights: LossWeights = W_L_WEIGHTS) -> None:
        self.cores = cores  # (B, 1, S, S)
        self.rest = (1.0 - cores.sum(0, keepdim=True)).clamp_min(0.0) * x[:1]
        self.whole = EmbeddingLoss(Targets(x=x[:1]), weights)
        self.t = Targets(x=x)  # what optimise() reports PSNR against

    def __call__(self, img: torch.Tensor) -> torch.Tensor:
        """The composite's loss, shared equally by the ``(B,)`` items (their sum is the loss)."""
        composite = (img * self.cores).sum(0, keepdim=True) + self.rest
        return self.whole(composite).expand(img.shape[0]) / img.shape[0]


# --------------------------------------------------------------------------- inversion
#: the losses :func:`invert_segments` can optimise
LOSSES = ("segments", "composite")
MAX_SEGMENTS = 64  # at 128 px: about 1 GB of activations (16 MB a segment)
#: truncation of the random start codes (towards the mean W: typical, well-formed faces)
CANDIDATE_TRUNCATION = 0.7


@dataclass
class SegmentInversion:
    """Per-segment latents (batch in ``ids`` order), their images and the loss masks."""

    ids: list[int]
    latent: Latent
    images: np.ndarray  # (B, S, S, 3) float32 in [0, 1]
    masks: np.ndarray  # (B, S, S) float32 loss masks (dilated segments)
    metrics: dict[str, float] = field(default_factory=dict)


def invert_segments(
    gen: Generator,
    target: np.ndarray,
    labels: np.ndarray,
    settings: SegmentsParams | None = None,
    *,
    init: Latent | None = None,
    progress: Progress | None = None,
) -> SegmentInversion:
    """Project every segment of ``target`` (S x S x 3) into its own latent, all in one batch.

    ``labels``: S x S ints (0 = not projected). ``settings`` are the operation's Params (their
    defaults are the only defaults): ``mean_weight`` adds ``mean_weight * mean((w - w_mean)^2)``
    per segment (keeps codes near the mean latent); ``candidates`` > 0 (and no ``init``): each
    segment starts from whichever of the mean latent and ``candidates`` random ones
    (:func:`best_candidates`) fits its mask best; ``loss``: "segments" (each segment's own loss
    over its dilated mask, the paper's) or "composite" (:class:`CompositeLoss`: the hard-cut
    composite against the whole crop). The stitching fields are not used here.
    ``init``: start from these latents (batch = number of segments) instead of the mean.
    """
    s = settings or SegmentsParams()
    space, steps_w, steps_noise, margin = s.space, s.steps_w, s.steps_noise, s.margin
    mean_weight, lr_w, lr_noise, seed = s.mean_weight, s.lr_w, s.lr_noise, s.seed
    candidates, loss = s.candidates, s.loss
    if space not in ("w", "w+"):
        raise OperationError(f"space={space!r}: choose 'w' or 'w+'")
    if loss not in LOSSES:
        raise OperationError(f"loss={loss!r}: choose one of {', '.join(LOSSES)}")
    size = gen.resolution
    if target.shape[:2] != (size, size) or labels.shape != (size, size):
        raise OperationError(f"target and labels must be {size}x{size} (the model's size)")
    ids = segment_ids(labels)
    if not ids:
        raise OperationError("no segment (id > 0) inside the placed region: paint some segments")
    check_segment_count(len(ids), size)
    device = generator_device(gen)
    torch.manual_seed(int(seed))
    batch = len(ids)
    masks_np = loss_masks(labels, ids, int(margin))
    masks = torch.from_numpy(masks_np)[:, None].to(device)
    x = from_numpy_image(target, device).expand(batch, -1, -1, -1).contiguous()
    progress = progress or Progress()
    if init is None:
        lat = initial_latent(gen, "mean", seed, batch=batch)
        if candidates > 0:
            progress.set_stage(f"choosing starts x{batch}")
            lat = best_candidates(gen, lat, x[:1], masks, candidates, seed)
    else:
        if init.batch != batch:
            raise OperationError(f"{init.batch} starting latents for {batch} segments")
        lat = init.to(device).clone()
    w_gen: Any = TiedRowsGenerator(gen) if space == "w" else gen
    extra = _mean_penalty(gen, mean_weight) if mean_weight > 0 else None
    plan = StagePlan(progress, (f"{space.upper()} x{batch}", steps_w), (f"noise x{batch}", steps_noise))
    core = torch.from_numpy(np.stack([(labels == k) for k in ids]).astype(np.float32))[:, None]
    core = core.to(device)
    loss_fn = (
        CompositeLoss(x, core) if loss == "composite" else SegmentLoss(Targets(x=x, m_m=masks, m_p=masks))
    )
    lat = optimise(
        w_gen,
        lat,
        loss_fn,
        settings=OptimiserSettings("adam", lr_w, steps_w),
        variables="w",
        progress=plan.enter(f"{space.upper()} x{batch}"),
        psnr_mask=masks,
        extra_loss=extra,
    )
    if space == "w":
        lat = tie_rows(lat)
    metrics: dict[str, float] = {}
    with torch.no_grad():
        metrics["psnr_w"] = float(masked_psnr(gen.synthesize(lat).image, x, core).mean())
    if steps_noise > 0:
        lat = Mk_n(
            gen, lat, x, m=masks, steps=steps_noise, lr=lr_noise, progress=plan.enter(f"noise x{batch}")
        )
    with torch.no_grad():
        img = gen.synthesize(lat).image
        metrics["psnr_segments"] = float(masked_psnr(img, x, core).mean())
    images = np.stack([to_numpy_image(img[i]) for i in range(batch)])
    return SegmentInversion(ids, lat.clone(), images, masks_np, metrics)


def best_candidates(
    gen: Generator,
    start: Latent,
    x: torch.Tensor,
    masks: torch.Tensor,
    count: int,
    seed: int = 0,
    truncation: float = CANDIDATE_TRUNCATION,
    chunk: int = 16,
) -> Latent:
    """``start`` with each item's W+ replaced by the best fitting of its own and ``count`` random codes.

    The codes are ``gen.random_latent(seed, count, truncation)``, drawn once and shared by all
    segments; each is synthesised once (no gradients, with ``start``'s first noise maps) and
    scored by the mean squared error to ``x`` (1,3,S,S) under each segment's mask (B,1,S,S).
    Costs about ``count / 6`` W+ steps of one latent (forward passes only). A segment only
    has to match its own region, so the best of a few dozen random faces is often far closer
    there than the mean face is, and its descent starts in a better basin.
    """
    device = masks.device
    pool = gen.random_latent(int(seed), batch=int(count), truncation=truncation).to(device)
    area = masks.flatten(1).sum(1).clamp_min(1.0)
    best_err = torch.full((masks.shape[0],), float("inf"), device=device)
    best_w = {k: v.detach().clone() for k, v in start.w.items()}
    with torch.no_grad():
        first = start.select(0)
        img0 = gen.synthesize(Latent(first.w, first.noise)).image
        groups = [(None, img0)]
        for i in range(0, count, chunk):
            w = {k: v[i : i + chunk] for k, v in pool.w.items()}
            n = next(iter(w.values())).shape[0]
            noise = [z.expand(n, *z.shape[1:]) for z in first.noise]
            groups.append((w, gen.synthesize(Latent(w, noise)).image))
        for w, img in groups:
            sq = (img - x).pow(2).mean(1, keepdim=True)  # (n,1,S,S)
            err = (sq[None] * masks[:, None]).flatten(2).sum(2) / area[:, None]  # (B, n)
            low, idx = err.min(1)
            better = low < best_err
            if w is None:  # the start itself (the mean latent): kept on ties
                best_err = low
                continue
            best_err = torch.where(better, low, best_err)
            for k, v in w.items():
                best_w[k] = torch.where(better[:, None, None], v[idx], best_w[k])
    return Latent(best_w, [z.clone() for z in start.noise])


def _mean_penalty(gen: Generator, weight: float):
    mean = {k: v.detach() for k, v in gen.mean_latent().w.items()}

    def penalty(lat: Latent) -> torch.Tensor:
        terms = [(v - mean[k].to(v.device)).pow(2).flatten(1).mean(1) for k, v in lat.w.items()]
        return weight * torch.stack(terms).sum(0)

    return penalty


def synthesize_segments(gen: Generator, latent: Latent) -> np.ndarray:
    """``(B, S, S, 3)`` images of a batched latent, in [0, 1]."""
    with torch.no_grad():
        img = gen.synthesize(latent.to(generator_device(gen))).image
    return np.stack([to_numpy_image(img[i]) for i in range(img.shape[0])])


# --------------------------------------------------------------------------- stitching
def stitch(
    crop: np.ndarray,
    labels: np.ndarray,
    ids: list[int],
    images: np.ndarray,
    *,
    poisson: bool = True,
    mixed_gradients: bool = False,
    screen: float = 0.0,
    seams: str = "mean",
) -> np.ndarray:
    """The segment images composited into ``crop`` (Poisson or a hard cut), S x S x 3.

    ``screen`` and ``seams`` are :func:`editors.stitching.poisson.poisson_stitch`'s (0 and "mean": the
    plain Perez et al. solve, which ``edit-segment`` uses to hide an edited segment's seams).
    """
    present = set(segment_ids(labels))
    chosen = {k: images[i] for i, k in enumerate(ids) if k in present}
    lab = np.where(np.isin(labels, list(chosen)), labels, 0).astype(np.int32)
    if poisson:
        from latent_atelier.editors.stitching.poisson import poisson_stitch

        out = poisson_stitch(crop, lab, chosen, mixed_gradients=mixed_gradients, screen=screen, seams=seams)
    else:
        out = crop.astype(np.float32).copy()
        for k, img in chosen.items():
            out[lab == k] = img[lab == k]
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def paste_segments(
    photo: np.ndarray, labels: np.ndarray, placement: Placement, stitched: np.ndarray, crop_lab: np.ndarray
) -> np.ndarray:
    """``stitched`` pasted into the full photo where segments are; label-0 pixels are the photo."""
    region = (crop_lab > 0).astype(np.float32)
    pasted = placement.paste(photo, stitched, feather=0.0, mask=region)
    keep = (labels == 0) | (placement.crop_mask() < 0.5)
    out = np.where(keep[..., None], photo, pasted)
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def composite_psnr(result: np.ndarray, photo: np.ndarray, region: np.ndarray) -> float:
    """PSNR (dB, [0, 1] images) over the pixels of ``region``."""
    if not region.any():
        return float("inf")
    mse = float(np.mean((result[region] - photo[region]) ** 2))
    return 10.0 * np.log10(1.0 / max(mse, 1e-12))


# --------------------------------------------------------------------------- Operation
#: stitching defaults of the operation (see the module docstring for the measurements)
MARGIN = 0
POISSON = False
SCREEN = 0.1
SEAMS = "stronger"
CANDIDATES = 64
LOSS = "composite"
SEAM_CHOICES = ("stronger", "mean")  # editors.stitching.poisson.SEAM_GUIDANCE (imported lazily: numba)


#: why Poisson stitching needs each segment fitted a little across its border (advice)
COMPOSITE_LOSS_AND_POISSON = (
    "the composite loss fits no segment across its border, so Poisson has little to carry there"
)


@dataclass
class SegmentsParams:
    """Settings of the ``segments`` operation."""

    space: str = param(
        "w+", help="latent space per segment: one W vector or all W+ rows", choices=("w", "w+")
    )
    steps_w: int = param(300, 0, 20000, "W / W+ steps (all segments at once)")
    steps_noise: int = param(0, 0, 20000, "noise-map steps per segment (0 = off)")
    margin: int = param(MARGIN, 0, 256, "overlap margin: each segment's loss mask is dilated this many px")
    mean_weight: float = param(0.0, 0.0, 100.0, "penalty pulling each code towards the mean latent")
    lr_w: float = param(0.01, 1e-4, 1.0, "Adam learning rate for W / W+")
    lr_noise: float = param(5.0, 1e-3, 50.0, "Adam learning rate for the noise maps")
    candidates: int = param(
        CANDIDATES,
        0,
        4096,
        "random codes tried as each segment's start "
        "(the best fitting one per segment, or the mean latent; 0 = mean only)",
    )
    loss: str = param(
        LOSS,
        help="what the codes are fitted to: the hard-cut composite against the "
        "whole crop (one VGG pass; the default) or each segment's own masked loss "
        "(the paper's; use it with Poisson and a margin)",
        choices=LOSSES,
    )
    poisson: bool = param(
        POISSON,
        help="stitch the segments in the gradient domain (else hard cut; use a margin of 2+ px with it)",
    )
    mixed_gradients: bool = param(False, help="keep the photo's gradient where it is stronger")
    screen: float = param(
        SCREEN,
        0.0,
        100.0,
        "Poisson data term: keeps each segment's colours, "
        "seam corrections fade within ~1/sqrt(screen) px (0 = plain Poisson)",
    )
    seams: str = param(
        SEAMS,
        help="guidance across a border between two segments: the stronger "
        "of their gradients (keeps edges) or their mean",
        choices=SEAM_CHOICES,
    )
    refine: bool = param(False, help="move segment borders away from badly fitted pixels (level set)")
    seed: int = param(0, 0, 2**31 - 1, "random seed of the initial noise maps and start codes")


@register
class Segments(Operation):
    """Project each segment into its own latent (one batch), then stitch them seamlessly."""

    name = "segments"
    title = "Invert by segments"
    description = (
        "Fit one latent per painted segment (all segments in one batch) and stitch "
        "their images into the photo; id 0 keeps the photo."
    )
    inputs = (
        PHOTO,
        Slot("labels", "labels", help="segment ids per pixel, 0 = keep the photo"),
        region("region to invert (default: centre square)"),
    )
    outputs = (
        Slot("result", "image", help="the stitched composite, full resolution"),
        Slot("segment_images", "image", multiple=True, help="each segment's image, model resolution"),
        Slot("latents", "latent", help="one latent per segment (batch in increasing id order)"),
        Slot("labels", "labels", help="the labels used (refined when asked)"),
        Slot("placement", "placement"),
    )
    Params = SegmentsParams

    def advice(self, params: SegmentsParams) -> list[str]:
        """Poisson stitching without a fit across the borders: say what makes it seamless."""
        if not params.poisson:
            return []
        if params.loss == "composite":
            return [
                f"{COMPOSITE_LOSS_AND_POISSON}: for seamless stitching choose loss 'segments' "
                "and a margin of 2+ px"
            ]
        if params.margin < 2:
            return [
                f"a margin of {params.margin} px fits no segment across its border, so "
                "Poisson has little to carry there: use a margin of 2+ px"
            ]
        return []

    def run(self, gen: Generator, inputs: dict, params: SegmentsParams, progress: Progress) -> Result:
        """Invert every segment of ``inputs["labels"]`` within the placed region."""
        self.check_inputs(inputs)
        photo, labels, placement, crop, lab = place_labels(inputs, gen.resolution)
        inv = invert_segments(gen, crop, lab, params, progress=progress)
        refined, out_labels = lab, labels
        if params.refine:
            from latent_atelier.editors.stitching.levelset import refine_labels

            edited = {k: inv.images[i] for i, k in enumerate(inv.ids)}
            refined = refine_labels(lab, crop, edited, holes=False)  # borders only, as documented
            out_labels = labels_to_photo(placement, labels, lab, refined)
        stitched = stitch(
            crop,
            refined,
            inv.ids,
            inv.images,
            poisson=params.poisson,
            mixed_gradients=params.mixed_gradients,
            screen=params.screen,
            seams=params.seams,
        )
        result = paste_segments(photo, out_labels, placement, stitched, refined)
        metrics = dict(inv.metrics)
        metrics["psnr"] = composite_psnr(stitched, crop, refined > 0)
        metrics["segments"] = float(len(inv.ids))
        return Result(
            outputs={
                "result": result,
                "segment_images": list(inv.images),
                "latents": inv.latent,
                "labels": out_labels,
                "placement": placement,
            },
            metrics=metrics,
            params={"segment_ids": inv.ids, "space": params.space},
        )

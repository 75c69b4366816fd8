"""What limits the inverted alpha: does the reconstruction draw the person where the alpha misses it?

An inversion can reconstruct a held-out portrait well (its image) while its alpha misses parts
of the person, because the background branch painted them. A face parser trained on the exact
labels tells the two apart: it reads the person from the original, from the reconstruction,
and it is asked about the pixels the alpha misses.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: the frame's thirds, top to bottom, in which the alpha's recall is reported
BANDS = ("top", "middle", "bottom")


def iou_per_image(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of two ``(N, H, W)`` binary masks per image (1 where both are empty)."""
    a, b = a.astype(bool), b.astype(bool)
    inter = (a & b).sum((1, 2))
    union = (a | b).sum((1, 2))
    return np.where(union > 0, inter / np.maximum(union, 1), 1.0)


def mask_limits(
    alpha: np.ndarray,
    reconstructions: np.ndarray,
    truth: np.ndarray,
    person: Callable[[np.ndarray], np.ndarray],
    originals: np.ndarray | None = None,
    threshold: float = 0.5,
) -> dict:
    """Figures that locate the alpha's errors.

    ``alpha`` and ``truth`` are ``(N, S, S)`` in [0, 1]; ``reconstructions`` and ``originals``
    ``(N, S, S, 3)`` in [0, 1]; ``person`` maps such images to ``(N, S, S)`` boolean person masks.
    """
    if alpha.shape != truth.shape or reconstructions.shape[:3] != alpha.shape:
        raise ValueError(
            f"alpha {alpha.shape}, truth {truth.shape} and reconstructions {reconstructions.shape} "
            "must cover the same images at the same size"
        )
    fg, gt = alpha >= threshold, truth >= threshold  # as segmentation_scores
    drawn = person(reconstructions).astype(bool)
    missed, extra = gt & ~fg, fg & ~gt
    out: dict = {
        "alpha_vs_truth_iou_fg": float(iou_per_image(fg, gt).mean()),
        "parser_on_reconstructions_vs_truth_iou_fg": float(iou_per_image(drawn, gt).mean()),
        "alpha_vs_parser_on_reconstructions_iou_fg": float(iou_per_image(fg, drawn).mean()),
        "missed_person_share_of_pixels": float(missed.mean()),
        "extra_person_share_of_pixels": float(extra.mean()),
        "missed_pixels_the_reconstruction_draws_as_person": float(drawn[missed].mean())
        if missed.any()
        else 0.0,
    }
    if originals is not None:
        read = person(originals).astype(bool)
        out["parser_on_originals_vs_truth_iou_fg"] = float(iou_per_image(read, gt).mean())
    edges = np.linspace(0, alpha.shape[1], len(BANDS) + 1).round().astype(int)
    recall = {}
    for name, lo, hi in zip(BANDS, edges[:-1], edges[1:], strict=True):
        band_gt = gt[:, lo:hi]
        recall[name] = float((band_gt & fg[:, lo:hi]).sum() / max(int(band_gt.sum()), 1))
    out["alpha_recall_by_band"] = recall
    return out


def parser_person() -> Callable[[np.ndarray], np.ndarray]:
    """The bundled face parser's person reading as a function of ``(N, S, S, 3)`` images in [0, 1]."""
    import torch
    import torch.nn.functional as F

    from latent_atelier.models.training.mask_probe import MaskProbe

    probe = MaskProbe(1)

    def read(images: np.ndarray) -> np.ndarray:
        side = images.shape[1]
        x = torch.from_numpy(np.ascontiguousarray(images, np.float32)).permute(0, 3, 1, 2) * 2 - 1
        if side != probe.size:
            x = F.interpolate(x, size=(probe.size, probe.size), mode="area")
        masks = torch.cat([probe.person(x[lo : lo + 50]) for lo in range(0, len(x), 50)])
        if masks.shape[-1] != side:
            masks = F.interpolate(masks[:, None], size=(side, side), mode="area")[:, 0]
        return (masks > 0.5).numpy()

    return read

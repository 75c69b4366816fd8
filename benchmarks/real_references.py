"""Reference mattes of the real-photo evaluation set, from hand-traced outlines.

Each photo in ``benchmarks/data/real_portraits`` has ``<name>.outline.json``: the subject's
outline traced by hand as a polygon (photo pixels, from zoomed views with a 16 px grid), the
half-width of the band of uncertainty around it, and wider bands where the edge is soft
(hair). The trimap is what an artist paints with dense strokes: sure subject farther than the
band inside the outline, sure background farther than the band outside, unknown between;
closed-form matting (the app's own solver, :func:`matte_from_trimap`) decides the band.
Written: ``<name>.alpha.png`` (16-bit) and, with ``--check DIR``, a sheet to inspect by eye
(photo | trimap | alpha | cut-out over red).

    python -m benchmarks.real_references [--check /tmp/check]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

DATA = Path(__file__).resolve().parent / "data" / "real_portraits"
REPO = Path(__file__).resolve().parents[1]


def photo_path(name: str) -> Path:
    """The photo of evaluation item ``name`` (its outline file says where it lies)."""
    spec = json.loads((DATA / f"{name}.outline.json").read_text())
    return REPO / spec["photo"]


def names() -> list[str]:
    """Every evaluation photo with an outline, sorted."""
    return sorted(p.name[: -len(".outline.json")] for p in DATA.glob("*.outline.json"))


def _polygon_mask(shape: tuple[int, int], points: list) -> np.ndarray:
    out = np.zeros(shape, np.uint8)
    pts = np.round(np.asarray(points, np.float64) * 16).astype(np.int32)
    cv2.fillPoly(out, [pts], 1, lineType=cv2.LINE_8, shift=4)
    return out > 0


def outline_trimap(shape: tuple[int, int], spec: dict) -> np.ndarray:
    """The painted trimap of an outline file (0 / 0.5 / 1)."""
    outlines = spec["outline"]
    if outlines and isinstance(outlines[0][0], (int, float)):
        outlines = [outlines]
    subject = np.zeros(shape, bool)
    for poly in outlines:
        subject |= _polygon_mask(shape, poly)
    for poly in spec.get("holes", []):
        subject &= ~_polygon_mask(shape, poly)
    band = np.full(shape, float(spec["band_px"]), np.float32)
    for wide in spec.get("wide", []):
        band[_polygon_mask(shape, wide["polygon"])] = float(wide["band_px"])
    inside = cv2.distanceTransform(subject.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    outside = cv2.distanceTransform((~subject).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    trimap = np.full(shape, 0.5, np.float32)
    trimap[subject & (inside > band)] = 1.0
    trimap[~subject & (outside > band)] = 0.0
    for poly in spec.get("sure_background", []):
        trimap[_polygon_mask(shape, poly)] = 0.0
    for poly in spec.get("sure_subject", []):
        trimap[_polygon_mask(shape, poly)] = 1.0
    return trimap


def read_photo(name: str) -> np.ndarray:
    """The photo as float32 RGB (a grey photo repeated into three channels)."""
    from latent_atelier.app.document.image_read import read_image

    img = read_image(photo_path(name)).pixels
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    return np.ascontiguousarray(img[..., :3], np.float32)


def read_reference(name: str) -> np.ndarray:
    """The reference alpha of ``name`` (H x W float32)."""
    from latent_atelier.app.document.image_read import read_image

    a = read_image(DATA / f"{name}.alpha.png").pixels
    return np.ascontiguousarray(a if a.ndim == 2 else a[..., 0], np.float32)


def build(name: str, check: Path | None = None) -> dict:
    """Solve and write the reference of ``name``; returns its summary."""
    from latent_atelier.app.document.image_write import write_image
    from latent_atelier.editors.matting.matte import matte_from_trimap

    spec = json.loads((DATA / f"{name}.outline.json").read_text())
    photo = read_photo(name)
    trimap = outline_trimap(photo.shape[:2], spec)
    alpha = matte_from_trimap(photo, trimap).alpha
    write_image(DATA / f"{name}.alpha.png", alpha, bit_depth=16)
    if check is not None:
        check.mkdir(parents=True, exist_ok=True)
        red = np.zeros_like(photo)
        red[..., 0] = 1.0
        cut = photo * alpha[..., None] + red * (1 - alpha[..., None])
        panels = [photo, np.repeat(trimap[..., None], 3, 2), np.repeat(alpha[..., None], 3, 2), cut]
        write_image(check / f"{name}_check.png", np.concatenate(panels, axis=1))
    return {
        "name": name,
        "shape": list(alpha.shape),
        "subject_share": float((alpha >= 0.5).mean()),
        "unknown_share": float(((trimap > 0) & (trimap < 1)).mean()),
    }


def main(argv: list[str] | None = None) -> int:
    """Build every reference (or those named)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("names", nargs="*", help="photos to build (default: all)")
    p.add_argument("--check", default="", help="folder for inspection sheets")
    args = p.parse_args(argv)
    for name in args.names or names():
        print(build(name, Path(args.check) if args.check else None), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

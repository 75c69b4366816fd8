"""Placement: the explicit transform between a full-resolution photo and the model's square.

A :class:`Placement` holds the 2x3 affine ``matrix`` that maps photo pixel coordinates
``(x, y)`` to crop coordinates ``(u, v)`` in a ``size x size`` crop, and its exact inverse.
Operations see ``extract(photo)``; results go back with ``paste(photo, crop)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Placement:
    """A photo -> crop affine transform (``matrix``, 2x3, float64) and the crop ``size``."""

    matrix: np.ndarray
    size: int
    photo_shape: tuple[int, int]  # (height, width) of the photo it was made for
    feather: float = 0.04  # default soft-edge width of :meth:`paste`, a fraction of ``size``

    # -- construction ------------------------------------------------------------------
    @staticmethod
    def from_box(x0: float, y0: float, side: float, size: int, photo_shape: tuple[int, int]) -> Placement:
        """An axis-aligned square box (top-left ``x0, y0``, ``side`` photo pixels) -> crop."""
        if side <= 0 or size <= 0:
            raise ValueError("a placement box needs a positive side and size")
        s = size / side
        # pixel centres: the box's edges (x0 - 0.5 ... x0 + side - 0.5 in OpenCV's centred
        # coordinates) are the crop's outer edges (-0.5 ... size - 0.5)
        t = 0.5 * (s - 1.0)
        m = np.array([[s, 0.0, t - x0 * s], [0.0, s, t - y0 * s]], dtype=np.float64)
        return Placement(m, int(size), (int(photo_shape[0]), int(photo_shape[1])))

    @staticmethod
    def centered(photo_shape: tuple[int, int], size: int, fit: str = "cover") -> Placement:
        """The largest centred square (``cover``) or the whole photo padded (``contain``)."""
        h, w = photo_shape[:2]
        side = min(h, w) if fit == "cover" else max(h, w)
        return Placement.from_box((w - side) / 2, (h - side) / 2, side, size, (h, w))

    @staticmethod
    def from_points(src: np.ndarray, dst: np.ndarray, size: int, photo_shape: tuple[int, int]) -> Placement:
        """A similarity transform taking photo points ``src`` onto crop points ``dst`` (N x 2)."""
        m, _ = cv2.estimateAffinePartial2D(
            np.asarray(src, np.float64), np.asarray(dst, np.float64), method=cv2.LMEDS
        )
        if m is None:
            raise ValueError("these points do not define a placement")
        return Placement(m.astype(np.float64), int(size), (int(photo_shape[0]), int(photo_shape[1])))

    def at_size(self, size: int) -> Placement:
        """The same photo region mapped onto a ``size`` px crop (another model's resolution)."""
        if size == self.size:
            return self
        k = size / self.size
        m = self.matrix * k
        m[:, 2] += 0.5 * (k - 1.0)  # the crop's outer edges stay where they were
        return Placement(m, int(size), self.photo_shape, self.feather)

    # -- geometry ----------------------------------------------------------------------
    @property
    def inverse(self) -> np.ndarray:
        """The exact inverse affine (crop -> photo), 2x3."""
        a = np.vstack([self.matrix, [0.0, 0.0, 1.0]])
        return np.linalg.inv(a)[:2]

    @property
    def scale(self) -> float:
        """Crop pixels per photo pixel."""
        return float(np.sqrt(abs(np.linalg.det(self.matrix[:, :2]))))

    def to_crop(self, points: np.ndarray) -> np.ndarray:
        """Map photo points (N x 2) into crop coordinates."""
        p = np.asarray(points, np.float64)
        return p @ self.matrix[:, :2].T + self.matrix[:, 2]

    def to_photo(self, points: np.ndarray) -> np.ndarray:
        """Map crop points (N x 2) back into photo coordinates."""
        inv = self.inverse
        p = np.asarray(points, np.float64)
        return p @ inv[:, :2].T + inv[:, 2]

    def corners(self) -> np.ndarray:
        """The crop's four outer corners in photo coordinates (TL, TR, BR, BL; 4 x 2)."""
        e = self.size - 0.5
        return self.to_photo(np.array([[-0.5, -0.5], [e, -0.5], [e, e], [-0.5, e]]))

    def outline(self) -> np.ndarray:
        """The same corners in document coordinates, where pixel ``i`` spans ``[i, i + 1]``
        (Qt's and a box's: ``from_box(x0, y0, side, ...)`` has its top-left at ``(x0, y0)``)."""
        return self.corners() + 0.5

    def check_photo(self, photo: np.ndarray) -> None:
        """Raise ValueError when ``photo`` is not the size this placement was made for."""
        if tuple(photo.shape[:2]) != tuple(self.photo_shape):
            raise ValueError(
                f"placement was made for a {self.photo_shape[1]}x{self.photo_shape[0]} photo, "
                f"got {photo.shape[1]}x{photo.shape[0]}: place the region again"
            )

    # -- pixels ------------------------------------------------------------------------
    def extract(self, photo: np.ndarray, border: str = "reflect") -> np.ndarray:
        """The crop at model resolution (float32), antialiased when shrinking."""
        self.check_photo(photo)
        scale = self.scale
        sigma = 0.5 / scale if scale < 1.0 else 0.0  # prefilter against aliasing when shrinking
        (x0, x1), (y0, y1) = self._source_window(4.0 * sigma + 3.0)
        src = np.ascontiguousarray(photo[y0:y1, x0:x1], dtype=np.float32)
        m = self.matrix.copy()
        m[:, 2] += self.matrix[:, :2] @ np.array([x0, y0], np.float64)  # window -> crop
        if sigma > 0:
            src, m, sigma = _box_shrink(src, m, sigma)
            src = cv2.GaussianBlur(src, (0, 0), sigmaX=sigma, sigmaY=sigma)
        mode = cv2.BORDER_REFLECT101 if border == "reflect" else cv2.BORDER_CONSTANT
        out = cv2.warpAffine(src, m, (self.size, self.size), flags=cv2.INTER_LINEAR, borderMode=mode)
        return out.astype(np.float32)

    def _source_window(self, margin: float) -> tuple[tuple[int, int], tuple[int, int]]:
        """The photo columns and rows (start, stop) that :meth:`extract` reads.

        The crop's footprint plus ``margin``, widened so that samples mirrored at the
        photo's edges stay inside: cutting it first gives the same crop as warping (and
        blurring) the whole photo, without touching the rest of a large photo.
        """
        corners = self.corners()
        spans = []
        for axis, n in ((0, self.photo_shape[1]), (1, self.photo_shape[0])):
            lo = float(corners[:, axis].min()) - margin
            hi = float(corners[:, axis].max()) + margin
            start = min(max(lo, 0.0), 2.0 * (n - 1) - hi)
            stop = max(min(hi, n - 1.0), -lo)
            spans.append((max(0, int(np.floor(start))), min(n, int(np.ceil(stop)) + 1)))
        return spans[0], spans[1]

    def crop_mask(self) -> np.ndarray:
        """Photo-sized float mask: 1 where the crop covers the photo."""
        ones = np.ones((self.size, self.size), np.float32)
        h, w = self.photo_shape
        return cv2.warpAffine(ones, self.inverse, (w, h), flags=cv2.INTER_LINEAR)

    def paste(
        self,
        photo: np.ndarray,
        crop: np.ndarray,
        feather: float | None = None,
        mask: np.ndarray | None = None,
        blend: str = "alpha",
    ) -> np.ndarray:
        """Put ``crop`` back into ``photo`` at full resolution, with a feathered edge.

        ``feather`` is the width of the soft edge as a fraction of the crop size (default:
        this placement's ``feather``). ``mask`` (crop-sized) limits the paste to where the
        crop was actually changed. ``blend="poisson"`` solves a Poisson blend inside the
        pasted region (colour and brightness follow the photo at the seam).
        """
        self.check_photo(photo)
        if blend not in ("alpha", "poisson"):
            raise ValueError(f"blend={blend!r}: choose 'alpha' or 'poisson'")
        feather = self.feather if feather is None else feather
        h, w = self.photo_shape
        weight = self._paste_weight(feather, mask)
        padded = self.matrix.copy()
        padded[:, 2] += 1.0  # the weight carries one extra crop pixel on every side
        inverse_padded = np.linalg.inv(np.vstack([padded, [0.0, 0.0, 1.0]]))[:2]
        back = cv2.warpAffine(
            np.ascontiguousarray(crop, np.float32),
            self.inverse,
            (w, h),
            flags=cv2.INTER_CUBIC,
            borderMode=cv2.BORDER_REPLICATE,
        )
        wb = cv2.warpAffine(weight, inverse_padded, (w, h), flags=cv2.INTER_LINEAR)
        wb = np.clip(wb, 0.0, 1.0)
        if photo.ndim == 3:
            wb = wb[..., None]
        out = photo.astype(np.float32) * (1.0 - wb) + back.reshape(photo.shape) * wb
        if blend == "poisson" and photo.ndim == 3:
            out = _poisson_inside(photo, back.reshape(photo.shape), wb[..., 0] > 0.5, out)
        return np.clip(out, 0.0, 1.0).astype(np.float32) if photo.dtype != np.float32 else out

    def _paste_weight(self, feather: float, mask: np.ndarray | None) -> np.ndarray:
        """The crop's paste weight, padded by one pixel on every side.

        Edges inside the photo fade out over ``feather`` (0 just outside the crop); an edge
        that lies on or beyond the photo's border keeps full weight up to it, so a box that
        covers the whole photo replaces all of it (no strip of the old photo at the rim).
        """
        n = self.size
        idx = np.arange(-1, n + 1, dtype=np.float32)
        f = max(1, round(feather * n))
        open_sides = self._sides_on_photo_border()

        def ramp(low_open: bool, high_open: bool) -> np.ndarray:
            r = np.ones(n + 2, np.float32)
            if not low_open:
                r = np.minimum(r, np.clip((idx + 0.5) / f, 0.0, 1.0) if feather > 0 else (idx >= 0))
            if not high_open:
                r = np.minimum(r, np.clip((n - idx - 0.5) / f, 0.0, 1.0) if feather > 0 else (idx < n))
            return r.astype(np.float32)

        across = ramp(open_sides["left"], open_sides["right"])
        down = ramp(open_sides["top"], open_sides["bottom"])
        weight = np.minimum(across[None, :], down[:, None])
        if mask is not None:
            weight = weight * np.pad(np.asarray(mask, np.float32), 1, mode="edge")
        return np.ascontiguousarray(weight, np.float32)

    def _sides_on_photo_border(self) -> dict[str, bool]:
        """Which crop edges (left, right, top, bottom) lie on or beyond the photo's border."""
        h, w = self.photo_shape
        tl, tr, br, bl = self.corners()
        edges = {"left": (tl, bl), "right": (tr, br), "top": (tl, tr), "bottom": (bl, br)}

        def outside(a: np.ndarray, b: np.ndarray) -> bool:
            return bool(
                max(a[0], b[0]) <= 0.0
                or min(a[0], b[0]) >= w - 1.0
                or max(a[1], b[1]) <= 0.0
                or min(a[1], b[1]) >= h - 1.0
            )

        return {side: outside(a, b) for side, (a, b) in edges.items()}

    # -- persistence ---------------------------------------------------------------------
    def to_dict(self) -> dict:
        """JSON-ready form (project files carry it)."""
        return {
            "matrix": self.matrix.tolist(),
            "size": self.size,
            "photo_shape": list(self.photo_shape),
            "feather": self.feather,
        }

    @staticmethod
    def from_dict(d: dict) -> Placement:
        """Inverse of :meth:`to_dict`, with validation."""
        m = np.asarray(d["matrix"], np.float64)
        if m.shape != (2, 3) or not np.all(np.isfinite(m)):
            raise ValueError("placement matrix must be a finite 2x3 array")
        shape = tuple(int(v) for v in d["photo_shape"])
        feather = float(d.get("feather", 0.04))
        if not np.isfinite(feather) or feather < 0:
            raise ValueError("placement feather must be a finite number >= 0")
        return Placement(m, int(d["size"]), (shape[0], shape[1]), feather)


def _poisson_inside(
    photo: np.ndarray, back: np.ndarray, region: np.ndarray, fallback: np.ndarray
) -> np.ndarray:
    """``fallback`` with the pixels of ``region`` replaced by a Poisson blend of ``back``."""
    from latent_atelier.editors.stitching.poisson import poisson_stitch

    ys, xs = np.nonzero(region)
    if ys.size == 0:
        return fallback
    h, w = region.shape
    y0, y1 = max(0, ys.min() - 2), min(h, ys.max() + 3)
    x0, x1 = max(0, xs.min() - 2), min(w, xs.max() + 3)
    labels = region[y0:y1, x0:x1].astype(np.int32)
    blended = poisson_stitch(
        np.asarray(photo[y0:y1, x0:x1], np.float32),
        labels,
        {1: np.asarray(back[y0:y1, x0:x1], np.float32)},
    )
    out = fallback.copy()
    inside = labels > 0
    out[y0:y1, x0:x1][inside] = np.clip(blended[inside], 0.0, 1.0)
    return out


def resolve_placement(photo: np.ndarray, placement: Placement | None, resolution: int) -> Placement:
    """The given placement (the same region at the model's resolution), checked against the
    photo, or the centred square.

    Raises :class:`latent_atelier.editors.operation.OperationError` with what to do when it does not fit.
    """
    from latent_atelier.editors.operation import OperationError

    placement = (placement or Placement.centered(photo.shape[:2], resolution)).at_size(resolution)
    try:
        placement.check_photo(photo)
    except ValueError as exc:
        raise OperationError(str(exc)) from exc
    return placement


def _box_shrink(src: np.ndarray, matrix: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Part of a wide antialiasing blur done as an integer box average (one cheap resize of a
    large photo instead of a Gaussian ``sigma`` px wide over all of it).

    Returns the shrunk source, the affine from it to the crop, and the Gaussian sigma still to
    apply at its scale, so that box and Gaussian together have the variance of ``sigma``.
    """
    factor = int(sigma // 2)
    h, w = src.shape[:2]
    if factor < 2 or min(h, w) < 4 * factor:
        return src, matrix, sigma
    h, w = h - h % factor, w - w % factor
    small = cv2.resize(src[:h, :w], (w // factor, h // factor), interpolation=cv2.INTER_AREA)
    # small pixel i covers source pixels f*i .. f*i+f-1: its centre is at f*i + (f-1)/2
    to_source = np.array([[factor, 0.0, (factor - 1) / 2.0], [0.0, factor, (factor - 1) / 2.0], [0, 0, 1]])
    m = (np.vstack([matrix, [0.0, 0.0, 1.0]]) @ to_source)[:2]
    rest = np.sqrt(max(sigma**2 - (factor**2 - 1) / 12.0, 0.0)) / factor
    return small, m, float(rest)

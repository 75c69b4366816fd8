"""Face alignment the FFHQ way, as a :class:`~latent_atelier.editors.placement.Placement` that pastes back.

The recipe (Karras et al., the FFHQ data set) builds an oriented square from the eye
centres and the mouth::

    eye_to_eye   = eye_right - eye_left          (image-left eye -> image-right eye)
    eye_to_mouth = mouth - (eye_left + eye_right) / 2
    x = eye_to_eye - rot90(eye_to_mouth);  x /= |x|
    x *= max(2.0 * |eye_to_eye|, 1.8 * |eye_to_mouth|);  y = rot90(x)
    c = eye_avg + 0.1 * eye_to_mouth
    quad = [c - x - y, c - x + y, c + x + y, c + x - y]   (TL, BL, BR, TR)

The placement is the similarity taking that quad onto the ``size x size`` output square,
so its inverse pastes any result made in the crop back into the full-resolution photo.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from latent_atelier.editors import faces
from latent_atelier.editors.faces import Face
from latent_atelier.editors.operation import Operation, OperationError, Progress, Result, Slot, param
from latent_atelier.editors.placed_photo import checked_rgb
from latent_atelier.editors.placement import Placement
from latent_atelier.editors.registry import register

DEFAULT_SIZE = 256

MANUAL_HINT = (
    "align it by hand instead: click both eye centres and the centre of the mouth "
    "(the `points` setting: 'x,y x,y x,y')"
)


def _rot90(v: np.ndarray) -> np.ndarray:
    """The recipe's rotation: (x, y) -> (-y, x), a quarter turn in image coordinates."""
    return np.array([-v[1], v[0]], np.float64)


def ffhq_quad(eye_a: np.ndarray, eye_b: np.ndarray, mouth: np.ndarray) -> np.ndarray:
    """The FFHQ crop square (4 x 2: TL, BL, BR, TR) from both eye centres and the mouth centre.

    The eyes may come in either order: they are sorted so that the mouth lies below the
    line from the first eye to the second (the image-left eye comes first for an upright face).
    """
    ea, eb, m = (np.asarray(p, np.float64).reshape(2) for p in (eye_a, eye_b, mouth))
    eye_to_eye = eb - ea
    eye_avg = (ea + eb) / 2.0
    eye_to_mouth = m - eye_avg
    if eye_to_eye[0] * eye_to_mouth[1] - eye_to_eye[1] * eye_to_mouth[0] < 0:
        eye_to_eye = -eye_to_eye  # the eyes were given right-to-left
    x = eye_to_eye - _rot90(eye_to_mouth)
    norm = float(np.hypot(*x))
    if not np.isfinite(norm) or norm < 1e-6:
        raise OperationError(
            "the eye and mouth points do not define a face (they coincide or lie on one line)"
        )
    x = x / norm * max(np.hypot(*eye_to_eye) * 2.0, np.hypot(*eye_to_mouth) * 1.8)
    y = _rot90(x)
    c = eye_avg + eye_to_mouth * 0.1
    return np.stack([c - x - y, c - x + y, c + x + y, c + x - y])


def placement_from_quad(
    quad: np.ndarray, size: int, photo_shape: tuple[int, int], feather: float = 0.04
) -> Placement:
    """The similarity taking ``quad`` (TL, BL, BR, TR; pixel-centre coordinates) to the crop.

    The quad's corners are the outer edges of the output square, as in the FFHQ script
    (so corner TL lands on crop coordinate (-0.5, -0.5) in OpenCV's pixel-centre convention).
    """
    q = np.asarray(quad, np.float64)
    lo, hi = -0.5, size - 0.5
    dst = np.array([[lo, lo], [lo, hi], [hi, hi], [hi, lo]])
    # least squares similarity: u = a x - b y + tx, v = b x + a y + ty (exact for a square)
    rows = []
    for px, py in q:
        rows.append([px, -py, 1.0, 0.0])
        rows.append([py, px, 0.0, 1.0])
    sol, *_ = np.linalg.lstsq(np.array(rows), dst.reshape(-1), rcond=None)
    a, b, tx, ty = sol
    m = np.array([[a, -b, tx], [b, a, ty]], np.float64)
    return Placement(m, int(size), (int(photo_shape[0]), int(photo_shape[1])), float(feather))


def placement_from_points(
    left_eye: Any,
    right_eye: Any,
    mouth_center: Any,
    size: int,
    photo_shape: tuple[int, int],
    feather: float = 0.04,
) -> Placement:
    """Manual alignment: the eye centres (image-left, image-right; either order works)
    and the mouth centre, in photo pixels. Needs no face model."""
    return placement_from_quad(ffhq_quad(left_eye, right_eye, mouth_center), size, photo_shape, feather)


def placement_for_face(
    face: Face, size: int, photo_shape: tuple[int, int], feather: float = 0.04
) -> Placement:
    """The FFHQ placement of a detected face (eye centres and the mouth-corner midpoint)."""
    return placement_from_points(face.right_eye, face.left_eye, face.mouth_center, size, photo_shape, feather)


def parse_points(text: str) -> np.ndarray:
    """``'x,y x,y x,y'`` (or ``;``-separated) -> a 3 x 2 array; OperationError if malformed."""
    parts = [p for p in text.replace(";", " ").split() if p]
    try:
        pts = np.array([[float(v) for v in p.split(",")] for p in parts], np.float64)
    except ValueError:
        pts = np.zeros((0,))
    if pts.shape != (3, 2) or not np.all(np.isfinite(pts)):
        raise OperationError(f"points={text!r}: give three 'x,y' pairs: left eye, right eye, mouth centre")
    return pts


@dataclass
class AlignParams:
    size: int = param(0, 0, 4096, "output size in pixels; 0 = the model's resolution (256 without one)")
    face: int = param(0, 0, 63, "which face when there are several (0 = the largest)")
    feather: float = param(0.04, 0.0, 0.5, "soft edge when pasting back, a fraction of the crop")
    points: str = param("", help="manual: 'x,y x,y x,y' = both eye centres and the mouth centre")


@register
class Align(Operation):
    """Detect faces and crop each the FFHQ way; the placement pastes results back."""

    name = "align"
    title = "Align face"
    description = (
        "Find the face, crop and rotate it the way the model's training faces were, and keep "
        "the transform so results paste back into the full-resolution photo."
    )
    inputs = (Slot("photo", "image"),)
    outputs = (
        Slot("aligned", "image", help="the aligned face crop"),
        Slot("placement", "placement", help="photo <-> crop transform of the chosen face"),
        Slot("placements", "placement", multiple=True, help="one placement per face found"),
    )
    Params = AlignParams
    needs_generator = False

    def run(self, gen: Any, inputs: dict[str, Any], params: AlignParams, progress: Progress) -> Result:
        """Align the chosen face; ``inputs["points"]`` (3 x 2) or ``params.points``: by hand."""
        self.check_inputs(inputs)
        photo = checked_rgb(inputs["photo"], "align")
        size = params.size or (int(gen.resolution) if gen is not None else DEFAULT_SIZE)
        manual = inputs.get("points")
        if manual is None and params.points.strip():
            manual = parse_points(params.points)
        progress.step(0, 2)
        if manual is not None:
            pts = np.asarray(manual, np.float64).reshape(3, 2)
            placements = [placement_from_points(*pts, size, photo.shape[:2], params.feather)]
            scores = [1.0]
        else:
            found = self._detect(photo)
            placements = [placement_for_face(f, size, photo.shape[:2], params.feather) for f in found]
            scores = [f.score for f in found]
        if params.face >= len(placements):
            raise OperationError(
                f"face={params.face} but only {len(placements)} face(s) were found "
                f"(faces are numbered from 0, largest first)"
            )
        chosen = placements[params.face]
        progress.step(1, 2)
        aligned = chosen.extract(photo)
        progress.step(2, 2)
        return Result(
            outputs={"aligned": aligned, "placement": chosen, "placements": placements},
            metrics={
                "faces": float(len(placements)),
                "score": float(scores[params.face]),
                "scale": chosen.scale,
            },
            params={
                "size": size,
                "face": params.face,
                "feather": params.feather,
                "manual": manual is not None,
            },
        )

    @staticmethod
    def _detect(photo: np.ndarray) -> list[Face]:
        if not faces.faces_available():
            raise faces.FacesUnavailable(
                f"no automatic face detection: {faces.INSTALL_HINT}; or {MANUAL_HINT}"
            )
        found = faces.detect_faces(photo)
        if not found:
            raise OperationError(f"no face was found in this photo; {MANUAL_HINT}")
        return found

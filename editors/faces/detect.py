"""Find faces and their landmarks in a photo of any size.

Detection runs on a copy downscaled to at most :data:`DETECT_SIDE` pixels (and, when
nothing is found, on overlapping tiles and on rotated copies, for small or tilted faces);
the dense face mesh then runs on a crop around each detected face taken from the
full-resolution photo, so landmark precision does not depend on the photo size.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from latent_atelier.editors.faces.backend import load_solutions
from latent_atelier.editors.faces.mesh_regions import MOUTH_LEFT, MOUTH_RIGHT, NOSE_TIP, eye_rings

DETECT_SIDE = 1024  # detection works on a copy no larger than this
MESH_SIDE = 384  # the face-mesh crop is resized to this many pixels
MESH_CONTEXT = 2.2  # the mesh crop is this many face-box sides wide
TILE_SIDE = 384  # tiles for the small-face retry
RETRY_ANGLES = (30.0, -30.0, 60.0, -60.0)
SURE_SCORE = 0.8  # a detection the face mesh cannot confirm must be at least this sure


@dataclass(frozen=True)
class Face:
    """One face in photo pixel coordinates ``(x, y)``.

    ``left``/``right`` are the person's own sides, as in anatomy: the person's right eye
    appears on the image's left in a frontal photo. ``mesh`` holds the 478 face-mesh
    landmarks (N x 2) when the mesh could be fitted, else None.
    """

    box: tuple[float, float, float, float]  # x0, y0, x1, y1
    score: float
    right_eye: np.ndarray
    left_eye: np.ndarray
    nose: np.ndarray
    mouth_right: np.ndarray
    mouth_left: np.ndarray
    mesh: np.ndarray | None = None

    @property
    def mouth_center(self) -> np.ndarray:
        """The midpoint of the two mouth corners."""
        return (self.mouth_right + self.mouth_left) / 2.0

    @property
    def key_points(self) -> np.ndarray:
        """5 x 2: right eye, left eye, nose tip, right and left mouth corners."""
        return np.stack([self.right_eye, self.left_eye, self.nose, self.mouth_right, self.mouth_left])

    @property
    def width(self) -> float:
        """Width of the face box in photo pixels."""
        return float(self.box[2] - self.box[0])


def to_uint8_rgb(image: np.ndarray) -> np.ndarray:
    """An ``H x W x 3`` uint8 copy of a float [0, 1] (or uint8) RGB/RGBA image."""
    img = np.asarray(image)
    if img.ndim != 3 or img.shape[2] not in (3, 4):
        raise ValueError(f"expected an H x W x 3 image, got shape {img.shape}")
    img = img[..., :3]
    if img.dtype != np.uint8:
        img = np.clip(np.rint(img.astype(np.float32) * 255.0), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(img)


def detect_faces(image: np.ndarray, min_score: float = 0.5, max_faces: int = 8) -> list[Face]:
    """All faces in ``image`` (float ``H x W x 3`` in [0, 1]), largest first.

    Raises :class:`~latent_atelier.editors.faces.backend.FacesUnavailable` when the extra is missing.
    """
    sol = load_solutions()
    photo = np.asarray(image)
    if photo.ndim != 3 or photo.shape[2] not in (3, 4):
        raise ValueError(f"expected an H x W x 3 image, got shape {photo.shape}")
    photo = photo[..., :3]
    scale = min(1.0, DETECT_SIDE / max(photo.shape[:2]))
    work = to_uint8_rgb(
        photo if scale == 1.0 else cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    )
    boxes = _find_boxes(sol, work, min_score)
    faces = []
    for box, score, kps in boxes[:max_faces]:
        face = _fit_mesh(sol, photo, box / scale, score, kps / scale)
        if face.mesh is not None or score >= SURE_SCORE:
            faces.append(face)
    faces.sort(key=lambda f: -(f.box[2] - f.box[0]) * (f.box[3] - f.box[1]))
    return faces


# -- detection ---------------------------------------------------------------------------
Detection = tuple[np.ndarray, float, np.ndarray]  # box (x0 y0 x1 y1), score, 6 key points


def _find_boxes(sol, work: np.ndarray, min_score: float) -> list[Detection]:
    found = _detect(sol, work, min_score)
    if not found:
        found = _detect_tiles(sol, work, min_score)
    if not found:
        for angle in RETRY_ANGLES:
            found = _detect_rotated(sol, work, min_score, angle)
            if found:
                break
    return _suppress_overlaps(found)


def _detect(sol, img: np.ndarray, min_score: float) -> list[Detection]:
    h, w = img.shape[:2]
    out: list[Detection] = []
    for model in (1, 0):  # full range first (small faces), then short range (close-ups)
        with sol.face_detection.FaceDetection(
            model_selection=model, min_detection_confidence=min_score
        ) as fd:
            res = fd.process(img)
        for d in res.detections or []:
            rb = d.location_data.relative_bounding_box
            box = np.array([rb.xmin * w, rb.ymin * h, (rb.xmin + rb.width) * w, (rb.ymin + rb.height) * h])
            kps = np.array([[k.x * w, k.y * h] for k in d.location_data.relative_keypoints])
            out.append((box, float(d.score[0]), kps))
        if out:
            break
    return out


def _detect_tiles(sol, img: np.ndarray, min_score: float) -> list[Detection]:
    h, w = img.shape[:2]
    if max(h, w) <= TILE_SIDE:
        return []
    out: list[Detection] = []
    step = TILE_SIDE // 2
    for y in range(0, max(1, h - step), step):
        for x in range(0, max(1, w - step), step):
            tile = np.ascontiguousarray(img[y : y + TILE_SIDE, x : x + TILE_SIDE])
            for box, score, kps in _detect(sol, tile, min_score):
                off = np.array([x, y], np.float64)
                out.append((box + np.tile(off, 2), score, kps + off))
    return out


def _detect_rotated(sol, img: np.ndarray, min_score: float, angle: float) -> list[Detection]:
    h, w = img.shape[:2]
    rot = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), angle, 1.0)
    turned = cv2.warpAffine(img, rot, (w, h), borderMode=cv2.BORDER_REFLECT101)
    back = cv2.invertAffineTransform(rot)
    out: list[Detection] = []
    for box, score, kps in _detect(sol, turned, min_score):
        corners = np.array([[box[0], box[1]], [box[2], box[1]], [box[2], box[3]], [box[0], box[3]]])
        corners = corners @ back[:, :2].T + back[:, 2]
        kps = kps @ back[:, :2].T + back[:, 2]
        cx, cy = corners.mean(axis=0)
        half = (box[2] - box[0]) / 2.0  # keep it square-ish around the rotated centre
        out.append((np.array([cx - half, cy - half, cx + half, cy + half]), score, kps))
    return out


def _suppress_overlaps(dets: list[Detection], iou_limit: float = 0.3) -> list[Detection]:
    kept: list[Detection] = []
    for det in sorted(dets, key=lambda d: -d[1]):
        if all(_iou(det[0], k[0]) < iou_limit for k in kept):
            kept.append(det)
    return kept


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


# -- landmarks ---------------------------------------------------------------------------
def _fit_mesh(sol, photo: np.ndarray, box: np.ndarray, score: float, kps: np.ndarray) -> Face:
    """The face with dense mesh landmarks when the mesh fits, else the detector's points."""
    mesh = _mesh_near(sol, photo, box)
    if mesh is not None:
        right_ring, left_ring = eye_rings()
        return Face(
            box=tuple(float(v) for v in box),
            score=score,
            right_eye=mesh[right_ring].mean(axis=0),
            left_eye=mesh[left_ring].mean(axis=0),
            nose=mesh[NOSE_TIP].copy(),
            mouth_right=mesh[MOUTH_RIGHT].copy(),
            mouth_left=mesh[MOUTH_LEFT].copy(),
            mesh=mesh,
        )
    # detector key points: right eye, left eye, nose tip, mouth centre, right ear, left ear
    return Face(
        box=tuple(float(v) for v in box),
        score=score,
        right_eye=kps[0].copy(),
        left_eye=kps[1].copy(),
        nose=kps[2].copy(),
        mouth_right=kps[3].copy(),
        mouth_left=kps[3].copy(),
        mesh=None,
    )


def _mesh_near(sol, photo: np.ndarray, box: np.ndarray) -> np.ndarray | None:
    """478 x 2 mesh landmarks (photo pixels) of the face inside ``box``, or None."""
    cx, cy = (box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0
    side = MESH_CONTEXT * max(box[2] - box[0], box[3] - box[1])
    s = MESH_SIDE / side
    # cut the region first, so a huge photo is never blurred or copied as a whole
    h, w = photo.shape[:2]
    reach = side / 2 + (1.5 / s if s < 0.5 else 0.0) + 2  # the crop, plus the blur's tail
    x0, y0 = max(0, int(cx - reach)), max(0, int(cy - reach))
    x1, y1 = min(w, int(cx + reach) + 1), min(h, int(cy + reach) + 1)
    region = to_uint8_rgb(photo[y0:y1, x0:x1])
    if s < 0.5:  # antialias big faces before sampling them down
        region = cv2.GaussianBlur(region, (0, 0), 0.5 / s)
    to_crop = np.array([[s, 0.0, MESH_SIDE / 2 - cx * s], [0.0, s, MESH_SIDE / 2 - cy * s]])
    in_region = to_crop.copy()
    in_region[:, 2] += to_crop[:, :2] @ np.array([x0, y0], np.float64)
    crop = cv2.warpAffine(
        np.ascontiguousarray(region),
        in_region,
        (MESH_SIDE, MESH_SIDE),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    with sol.face_mesh.FaceMesh(
        static_image_mode=True,
        max_num_faces=3,
        refine_landmarks=True,
        min_detection_confidence=0.3,
    ) as fm:
        res = fm.process(crop)
    if not res.multi_face_landmarks:
        return None
    best, best_d = None, np.inf
    for lms in res.multi_face_landmarks:
        pts = np.array([[p.x * MESH_SIDE, p.y * MESH_SIDE] for p in lms.landmark], np.float64)
        d = float(np.hypot(*(pts.mean(axis=0) - MESH_SIDE / 2)))
        if d < best_d:
            best, best_d = pts, d
    if best is None or best_d > MESH_SIDE / 4:
        return None
    back = cv2.invertAffineTransform(to_crop)
    return best @ back[:, :2].T + back[:, 2]

"""The person prior of the ``matte`` operation: where a person is, where their face and hair are.

Built from the models of the optional ``faces`` extra (selfie segmentation, face detection
and face mesh), which need no training here. The prior is computed on a copy of the photo no
larger than :data:`PRIOR_SIDE` on its long side and resized when used.

- ``mask``: the selfie segmentation's person probability, kept only for pieces of the photo
  that hold a detected face (the segmentation alone calls the cat a person), plus every face
  oval filled (eyes and lips are never holes in a person);
- ``face_region``: the filled face ovals;
- ``hair_zone``: where hair can be (around and above each head, outside the face oval); the
  trimap's unknown band is wider there so that closed-form matting recovers strands;
- ``confidence``: how sure the segmentation is of its own answer (:func:`decisiveness`): about
  0.96 on real photographs, often below 0.8 on drawn portraits, where it should not lead.

Without the extra, or without a face in the photo, :func:`person_prior` returns a prior with
``found = False`` and a note saying why; it never raises for those.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from latent_atelier.editors.masks import pieces_touching

#: the prior is computed on a copy no larger than this (long side, px)
PRIOR_SIDE = 1024
#: person / background cut-off of the selfie segmentation
PERSON_THRESHOLD = 0.5
#: a segmentation piece is kept when it touches a face box grown by this fraction of its side
FACE_REACH = 0.25
#: with several faces, each is segmented again in a crop reaching this many face sides to
#: the left, right, above and below its box (where its body can be)
BODY_REACH = (2.0, 2.0, 0.8, 6.0)


@dataclass
class PersonPrior:
    """Person, face and hair maps at ``mask.shape`` (a copy of the photo, see PRIOR_SIDE)."""

    mask: np.ndarray  # float32 in [0, 1]
    face_region: np.ndarray  # bool
    hair_zone: np.ndarray  # bool
    faces: int = 0
    found: bool = False
    note: str = ""
    confidence: float = 1.0
    _sized: dict = field(default_factory=dict, repr=False, compare=False)

    def resized(self, shape: tuple[int, int]) -> PersonPrior:
        """The same prior at ``shape`` (H, W): the mask bilinear, the regions nearest (made
        once per shape: the fit, the fusion and the trimap all ask for the photo's size)."""
        h, w = shape
        if self.mask.shape == (h, w):
            return self
        if (h, w) in self._sized:
            return self._sized[(h, w)]

        def size(a: np.ndarray, interp: int) -> np.ndarray:
            return cv2.resize(a, (w, h), interpolation=interp)

        self._sized[(h, w)] = PersonPrior(
            np.clip(size(self.mask, cv2.INTER_LINEAR), 0.0, 1.0),
            size(self.face_region.astype(np.uint8), cv2.INTER_NEAREST) > 0,
            size(self.hair_zone.astype(np.uint8), cv2.INTER_NEAREST) > 0,
            self.faces,
            self.found,
            self.note,
            self.confidence,
        )
        return self._sized[(h, w)]


def empty_prior(shape: tuple[int, int], note: str) -> PersonPrior:
    """A prior that found nobody (``found = False``), with the reason."""
    return PersonPrior(np.zeros(shape, np.float32), np.zeros(shape, bool), np.zeros(shape, bool), note=note)


def _work_copy(photo: np.ndarray) -> tuple[np.ndarray, float]:
    h, w = photo.shape[:2]
    scale = min(1.0, PRIOR_SIDE / max(h, w))
    if scale == 1.0:
        return photo, 1.0
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(photo, size, interpolation=cv2.INTER_AREA), scale


def person_prior(photo: np.ndarray) -> PersonPrior:
    """The person prior of an ``H x W x 3`` photo in [0, 1] (maps at the working size)."""
    from latent_atelier.editors import faces

    img = np.ascontiguousarray(np.asarray(photo, np.float32)[..., :3])
    work, scale = _work_copy(img)
    shape = work.shape[:2]
    if not faces.faces_available():
        return empty_prior(shape, f"no person prior: {faces.INSTALL_HINT}")
    found = faces.detect_faces(img)  # detection copes with any size; landmarks at full size
    if not found:
        return empty_prior(shape, "no face found in the photo, so no person prior")
    seg = _segment_people(work, [tuple(v * scale for v in f.box) for f in found])
    face_region = np.zeros(shape, np.uint8)
    boxes = np.zeros(shape, np.uint8)
    hair_zone = np.zeros(shape, bool)
    for face in found:
        x0, y0, x1, y1 = (v * scale for v in face.box)
        grow = FACE_REACH * max(x1 - x0, y1 - y0)
        cv2.rectangle(boxes, (int(x0 - grow), int(y0 - grow)), (int(x1 + grow), int(y1 + grow)), 1, -1)
        if face.mesh is None:  # the detector's box alone: an ellipse inside it
            centre = (int((x0 + x1) / 2), int((y0 + y1) / 2))
            axes = (max(1, int((x1 - x0) / 2)), max(1, int((y1 - y0) / 2)))
            cv2.ellipse(face_region, centre, axes, 0, 0, 360, 1, -1)
            continue
        mesh = face.mesh * scale
        _fill(face_region, _face_oval(mesh))
        hair_zone |= _head_zone(shape, mesh)
    faces_mask = face_region > 0
    kept = pieces_touching(seg >= PERSON_THRESHOLD, boxes > 0)
    reach = max(3, round(0.02 * max(shape)))
    near = cv2.dilate(kept.astype(np.uint8), _disc(reach)) > 0
    mask = np.where(near, seg, 0.0).astype(np.float32)
    mask[faces_mask] = np.maximum(mask[faces_mask], 1.0)
    return PersonPrior(
        mask, faces_mask, hair_zone & ~faces_mask, len(found), True, confidence=decisiveness(seg)
    )


#: segmentation probabilities above this count as the segmentation's answer for decisiveness
ANSWER_FLOOR = 0.1


def decisiveness(probability: np.ndarray) -> float:
    """Mean of ``|2p - 1|`` over the pixels the segmentation gives more than
    :data:`ANSWER_FLOOR`: 1 when it says person with certainty everywhere it says anything,
    near 0 when its answer is a haze of middling probabilities (0 when it says nothing)."""
    p = np.asarray(probability, np.float32)
    said = p > ANSWER_FLOOR
    return float(np.abs(2.0 * p[said] - 1.0).mean()) if said.any() else 0.0


def _segment_people(work: np.ndarray, boxes: list[tuple[float, ...]]) -> np.ndarray:
    """The selfie segmentation of the whole photo, and again of a crop around each face's
    likely body (:data:`BODY_REACH`), the largest answer per pixel: the model, made for one
    person filling the frame, misses all but one of several small people."""
    from latent_atelier.editors import faces

    seg = faces.person_mask(work)
    if len(boxes) < 2:
        return seg
    h, w = seg.shape
    for x0, y0, x1, y1 in boxes:
        side = max(x1 - x0, y1 - y0)
        left, right, up, down = BODY_REACH
        cx0, cx1 = max(0, int(x0 - left * side)), min(w, int(x1 + right * side))
        cy0, cy1 = max(0, int(y0 - up * side)), min(h, int(y1 + down * side))
        if cx1 - cx0 < 8 or cy1 - cy0 < 8:
            continue
        part = faces.person_mask(np.ascontiguousarray(work[cy0:cy1, cx0:cx1]))
        seg[cy0:cy1, cx0:cx1] = np.maximum(seg[cy0:cy1, cx0:cx1], part)
    return seg


def _disc(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def _face_oval(mesh: np.ndarray) -> np.ndarray:
    from latent_atelier.editors.faces.mesh_regions import region_polygon

    return region_polygon(mesh, "face_oval")


def _fill(target: np.ndarray, polygon: np.ndarray) -> None:
    pts = np.round(polygon * 16).astype(np.int32)
    cv2.fillPoly(target, [pts], 1, lineType=cv2.LINE_8, shift=4)


def _head_zone(shape: tuple[int, int], mesh: np.ndarray) -> np.ndarray:
    """Where this face's hair can be (auto-segments' head region), on the bounding box of
    the head only, so a big photo never builds full-size coordinate grids."""
    from latent_atelier.editors.faces.auto_segments import head_region

    oval = _face_oval(mesh)
    span = float(np.ptp(oval, axis=0).max())
    lo = np.floor(oval.min(axis=0) - 2.0 * span).astype(int)
    hi = np.ceil(oval.max(axis=0) + 2.0 * span).astype(int)
    h, w = shape
    x0, y0 = max(0, lo[0]), max(0, lo[1])
    x1, y1 = min(w, hi[0]), min(h, hi[1])
    out = np.zeros(shape, bool)
    if x1 <= x0 or y1 <= y0:
        return out
    head, _crown = head_region((y1 - y0, x1 - x0), mesh - np.array([x0, y0], np.float64))
    out[y0:y1, x0:x1] = head
    return out

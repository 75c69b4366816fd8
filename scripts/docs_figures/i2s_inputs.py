"""Inputs for the Image2StyleGAN++ figures in the README, written to one work folder.

The box around the astronaut's face, a second photo (an evaluation portrait pasted into the
same box of a copy of the astronaut photo, so both photos share the placement), the masks
and a scribble.

    python scripts/docs_figures/i2s_inputs.py WORK_DIR MODEL_SIZE
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from latent_atelier.editors.placement import Placement  # noqa: E402
from latent_atelier.models.training.synthetic.dataset import PortraitDataset  # noqa: E402

FACE_BOX = (115, 0, 230)  # left, top, side of the square around the astronaut's face
PORTRAIT_INDEX = 7  # which evaluation portrait becomes photo 2


def _save_mask(mask: np.ndarray, path: Path) -> None:
    Image.fromarray((np.clip(mask, 0, 1) * 255).astype(np.uint8)).save(path)


def main(work: Path, model_size: int) -> None:
    """Write placement.json, photo2.png, face_mask.png, hole.png, mouth.png, scribble.png."""
    work.mkdir(parents=True, exist_ok=True)
    photo = np.asarray(Image.open(ROOT / "resources/samples/astronaut.png").convert("RGB"))
    h, w = photo.shape[:2]
    left, top, side = FACE_BOX
    placement = Placement.from_box(left, top, side, model_size, (h, w))
    (work / "placement.json").write_text(json.dumps(placement.to_dict()))

    portrait = PortraitDataset(ROOT / "data/portraits128", "eval")[PORTRAIT_INDEX][0]
    photo2 = photo.copy()
    pasted = cv2.resize(portrait, (side, side), interpolation=cv2.INTER_AREA)
    photo2[top : top + side, left : left + side] = pasted
    Image.fromarray(photo2).save(work / "photo2.png")

    face = np.zeros((h, w), np.float32)
    cv2.ellipse(face, (225, 110), (62, 85), 0, 0, 360, 1.0, -1)
    _save_mask(face, work / "face_mask.png")
    hole = np.zeros((h, w), np.float32)
    hole[95:150, 160:290] = 1.0  # a band over the eyes
    _save_mask(hole, work / "hole.png")
    mouth = np.zeros((h, w), np.float32)
    mouth[140:200, 170:280] = 1.0
    _save_mask(mouth, work / "mouth.png")
    scribble = np.zeros((h, w, 4), np.uint8)
    cv2.ellipse(scribble, (225, 40), (70, 30), 0, 0, 360, (40, 200, 255, 255), -1)  # light-blue hair
    Image.fromarray(scribble, "RGBA").save(work / "scribble.png")


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]))

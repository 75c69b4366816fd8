"""Labelled panels (the placed crop of each input and the outputs) for the README.

python scripts/docs_figures/i2s_panels.py WORK_DIR OUT_DIR [NOTE]
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

TILE = 192


def _load(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"), np.float32) / 255.0


def _tile(img: np.ndarray, label: str) -> np.ndarray:
    small = img.shape[0] < TILE
    img = cv2.resize(
        np.clip(img, 0, 1), (TILE, TILE), interpolation=cv2.INTER_NEAREST if small else cv2.INTER_AREA
    )
    t = (img * 255).astype(np.uint8).copy()
    cv2.rectangle(t, (0, TILE - 18), (TILE, TILE), (0, 0, 0), -1)
    cv2.putText(t, label, (4, TILE - 5), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (255, 255, 255), 1, cv2.LINE_AA)
    return t


def main(work: Path, out: Path, note: str = "") -> None:
    """Write docs images i2s_<operation>.png from the CLI outputs under ``work``."""
    pl = Placement.from_dict(json.loads((work / "placement.json").read_text()))
    view = Placement(pl.matrix * (TILE / pl.size), TILE, pl.photo_shape)

    def crop(img: np.ndarray) -> np.ndarray:
        return view.extract(img)

    def dimmed(photo_crop: np.ndarray, mask_path: Path) -> np.ndarray:
        return photo_crop * (0.35 + 0.65 * crop(_load(mask_path))[..., :1])

    photo = _load(ROOT / "resources/samples/astronaut.png")
    pc = crop(photo)
    scribbled = Image.alpha_composite(
        Image.open(ROOT / "resources/samples/astronaut.png").convert("RGBA"),
        Image.open(work / "scribble.png"),
    )
    coffee = _load(ROOT / "resources/samples/coffee.png")
    panels = {
        "crossover": [
            _tile(pc, "photo 1"),
            _tile(crop(_load(work / "photo2.png")), "photo 2"),
            _tile(dimmed(pc, work / "face_mask.png"), "mask (photo 1)"),
            _tile(crop(_load(work / "crossover/result.png")), "crossover"),
        ],
        "inpaint": [_tile(pc, "photo"), _tile(pc * (1 - crop(_load(work / "hole.png"))[..., :1]), "hole")]
        + [_tile(crop(_load(work / f"inpaint/variants_{i}.png")), f"fill {i}") for i in range(3)],
        "scribble": [
            _tile(pc, "photo"),
            _tile(crop(np.asarray(scribbled.convert("RGB"), np.float32) / 255.0), "scribble"),
            _tile(crop(_load(work / "scribble/result.png")), "edit"),
        ],
        "style_transfer": [
            _tile(pc, "photo"),
            _tile(Placement.centered(coffee.shape[:2], TILE).extract(coffee), "style"),
            _tile(dimmed(pc, work / "face_mask.png"), "kept"),
            _tile(crop(_load(work / "style/result.png")), "result"),
        ],
        "attribute_transfer": [
            _tile(pc, "photo 1"),
            _tile(crop(_load(work / "photo2.png")), "photo 2"),
            _tile(dimmed(pc, work / "mouth.png"), "mask"),
            _tile(crop(_load(work / "attr/result.png")), "transfer"),
        ],
    }
    out.mkdir(parents=True, exist_ok=True)
    for name, tiles in panels.items():
        padded = [np.pad(t, ((4, 4), (4, 4), (0, 0)), constant_values=255) for t in tiles]
        row = np.concatenate(padded, axis=1)
        if note:
            bar = np.full((20, row.shape[1], 3), 255, np.uint8)
            cv2.putText(bar, note, (6, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (0, 0, 0), 1, cv2.LINE_AA)
            row = np.concatenate([row, bar], axis=0)
        Image.fromarray(row).save(out / f"i2s_{name}.png", optimize=True)
        print("wrote", out / f"i2s_{name}.png")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else "")

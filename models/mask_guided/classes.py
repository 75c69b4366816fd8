"""The label classes of the mask-guided model and how other label sets map onto them.

The ids are the ones ``auto-segments`` paints (``editors/faces``), so its label maps feed
``mask-edit`` unchanged. "Left" and "right" are the person's own sides: the person's left
eye is on the image's right. Class 9 holds everything in front of the background that is
neither face nor hair (neck, body, clothes, hats, glasses, earrings).
"""

from __future__ import annotations

import numpy as np

BACKGROUND, SKIN, HAIR, LEFT_EYE, RIGHT_EYE, LEFT_BROW, RIGHT_BROW, NOSE, MOUTH, OTHER = range(10)
N_CLASSES = 10

CLASS_NAMES: tuple[str, ...] = (
    "background",
    "skin",
    "hair",
    "left eye",
    "right eye",
    "left brow",
    "right brow",
    "nose",
    "lips/mouth",
    "neck/body",
)
#: display colour per class (the auto-segments palette)
CLASS_COLOURS: tuple[tuple[int, int, int], ...] = (
    (0, 0, 0),
    (230, 180, 140),
    (110, 60, 20),
    (40, 120, 255),
    (0, 200, 255),
    (120, 40, 160),
    (200, 80, 220),
    (255, 140, 0),
    (220, 20, 60),
    (60, 170, 80),
)

#: the five embedded components and the classes each one covers (the seed's grouping:
#: skin takes the brows and the nose)
COMPONENTS: tuple[str, ...] = ("left_eye", "right_eye", "mouth", "skin", "hair")
COMPONENT_CLASSES: dict[str, tuple[int, ...]] = {
    "left_eye": (LEFT_EYE,),
    "right_eye": (RIGHT_EYE,),
    "mouth": (MOUTH,),
    "skin": (SKIN, LEFT_BROW, RIGHT_BROW, NOSE),
    "hair": (HAIR,),
}
#: the components cut out as fixed-size crops around their centre (the rest are full-size)
LOCAL_COMPONENTS: tuple[str, ...] = ("left_eye", "right_eye", "mouth")
#: classes the background encoder reads from the target photo
BACKGROUND_CLASSES: tuple[int, ...] = (BACKGROUND, OTHER)

#: CelebAMask-HQ's 19 classes (in its usual order) -> ours
CELEBAMASK_NAMES: tuple[str, ...] = (
    "background",
    "skin",
    "nose",
    "eye_g",
    "l_eye",
    "r_eye",
    "l_brow",
    "r_brow",
    "l_ear",
    "r_ear",
    "mouth",
    "u_lip",
    "l_lip",
    "hair",
    "hat",
    "ear_r",
    "neck_l",
    "neck",
    "cloth",
)
CELEBAMASK_TO_OURS = np.array(
    [
        BACKGROUND,
        SKIN,
        NOSE,
        OTHER,
        LEFT_EYE,
        RIGHT_EYE,
        LEFT_BROW,
        RIGHT_BROW,
        SKIN,
        SKIN,
        MOUTH,
        MOUTH,
        MOUTH,
        HAIR,
        OTHER,
        OTHER,
        OTHER,
        OTHER,
        OTHER,
    ],
    np.uint8,
)

#: the synthetic portrait set's 8 classes (models/training/synthetic/parts.py) -> ours,
#: before eyes and brows are split into left and right
SYNTHETIC_TO_OURS = np.array([BACKGROUND, SKIN, HAIR, LEFT_EYE, LEFT_BROW, NOSE, MOUTH, OTHER], np.uint8)
SYNTHETIC_EYES, SYNTHETIC_BROWS, SYNTHETIC_NOSE, SYNTHETIC_MOUTH = 3, 4, 5, 6

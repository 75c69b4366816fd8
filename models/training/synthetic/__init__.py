"""Synthetic portrait dataset: DiceBear avatars with exact alpha and part labels (build-time).

Rendering needs Node and the npm packages in js/ (`npm ci --prefix
models/training/synthetic/js`); reading a built dataset needs only numpy.
"""

from .builder import EVAL_ID_OFFSET, SUPPORTED_SIZES, build_dataset
from .dataset import PortraitDataset
from .parts import LABEL_NAMES

__all__ = ["EVAL_ID_OFFSET", "LABEL_NAMES", "SUPPORTED_SIZES", "PortraitDataset", "build_dataset"]

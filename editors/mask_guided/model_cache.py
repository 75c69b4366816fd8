"""The mask-guided model a ``mask-edit`` run uses: the bundled one or a file, loaded once."""

from __future__ import annotations

import threading
from pathlib import Path

from latent_atelier.editors.operation import OperationError

_lock = threading.Lock()
_cache: dict[str, object] = {}


def get_model(path: str = ""):  # -> MaskGuidedModel
    """The model in ``path`` (empty: the bundled one), cached per resolved path."""
    from latent_atelier.models.mask_guided.io import ModelFileError, bundled_model_path, load_model

    file = Path(path).expanduser() if path else bundled_model_path()
    key = str(file.resolve()) if file.exists() else str(file)
    with _lock:
        if key not in _cache:
            try:
                model = load_model(file)
            except ModelFileError as exc:
                raise OperationError(
                    f"{exc}; give a mask-guided model trained with "
                    "`latent-atelier-cli train --arch mask-guided`"
                ) from exc
            if model.generator is None:
                raise OperationError(
                    f"{file} holds no mask-guided generator (a baseline or parser-only "
                    "file); give the full model"
                )
            _cache[key] = model
        return _cache[key]

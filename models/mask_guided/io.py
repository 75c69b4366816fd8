"""Save and load a mask-guided model: one ``.safetensors`` file, weights plus JSON metadata.

Tensors are named ``generator.*`` (or ``baseline.*`` for the label-to-image baseline) and
``parser.*``; the metadata holds the format name, the :class:`MaskGuidedConfig` and free
notes (training time, hardware). Reading never unpickles anything and checks every name
and shape before use.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from .config import MaskGuidedConfig
from .networks import FaceParser, LabelToImage, MaskGuidedGenerator

FORMAT = "latent-atelier-mask-guided"
#: a model file larger than this is refused before reading (the shipped one is ~2 MB)
MAX_FILE_BYTES = 512 * 1024 * 1024


class ModelFileError(ValueError):
    """A model file that cannot be used; the message names the file and the problem."""


@dataclass
class MaskGuidedModel:
    """What a model file holds: the generator (or the baseline), the parser, the notes."""

    config: MaskGuidedConfig
    generator: MaskGuidedGenerator | None = None
    baseline: LabelToImage | None = None
    parser: FaceParser | None = None
    info: dict = field(default_factory=dict)


def save_model(path: str | os.PathLike, model: MaskGuidedModel, dtype: torch.dtype = torch.float16) -> None:
    """Write ``model`` atomically (float tensors as ``dtype``)."""
    from safetensors.torch import save

    from latent_atelier.models.atomic import atomic_write_bytes

    tensors: dict[str, torch.Tensor] = {}
    nets = (("generator", model.generator), ("baseline", model.baseline), ("parser", model.parser))
    for prefix, net in nets:
        if net is None:
            continue
        for key, value in net.state_dict().items():
            value = value.detach().cpu()
            value = value.to(dtype) if value.is_floating_point() else value
            tensors[f"{prefix}.{key}"] = value.contiguous()
    metadata = {
        "format": FORMAT,
        "config": json.dumps(model.config.to_json(), sort_keys=True),
        "info": json.dumps(model.info, sort_keys=True),
    }
    atomic_write_bytes(Path(path), save(tensors, metadata=metadata))


def _part(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {k[len(prefix) + 1 :]: v for k, v in tensors.items() if k.startswith(prefix + ".")}


def _load_into(net: nn.Module, state: dict[str, torch.Tensor], path: Path, what: str) -> None:
    own = net.state_dict()
    missing = sorted(set(own) - set(state))
    extra = sorted(set(state) - set(own))
    if missing or extra:
        raise ModelFileError(
            f"{path}: the {what} does not match its config (missing {missing[:3]}, unexpected {extra[:3]})"
        )
    for key, value in state.items():
        if tuple(value.shape) != tuple(own[key].shape):
            raise ModelFileError(
                f"{path}: {what} tensor {key} has shape {tuple(value.shape)}, "
                f"expected {tuple(own[key].shape)}"
            )
    net.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})


def load_model(path: str | os.PathLike, device: str | torch.device = "cpu") -> MaskGuidedModel:
    """Read a model file; :class:`ModelFileError` says what is wrong with a bad one."""
    from safetensors import SafetensorError, safe_open

    p = Path(path)
    if not p.is_file():
        raise ModelFileError(f"{p}: no such model file")
    if p.stat().st_size > MAX_FILE_BYTES:
        raise ModelFileError(f"{p}: {p.stat().st_size} bytes is too large for a mask-guided model")
    try:
        with safe_open(str(p), framework="pt") as fh:
            meta = fh.metadata() or {}
            if meta.get("format") != FORMAT:
                raise ModelFileError(f"{p}: not a mask-guided model (format {meta.get('format')!r})")
            config = MaskGuidedConfig.from_json(json.loads(meta["config"]))
            info = json.loads(meta.get("info", "{}"))
            tensors = {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118 (a safetensors handle)
    except ModelFileError:
        raise
    except (SafetensorError, OSError, KeyError, ValueError, TypeError) as exc:
        raise ModelFileError(f"{p}: unreadable mask-guided model ({exc})") from exc
    model = MaskGuidedModel(config=config, info=info if isinstance(info, dict) else {})
    for prefix, cls in (("generator", MaskGuidedGenerator), ("baseline", LabelToImage)):
        state = _part(tensors, prefix)
        if state:
            net = cls(config)
            _load_into(net, state, p, prefix)
            setattr(model, prefix, net.to(device).eval().requires_grad_(False))
    state = _part(tensors, "parser")
    if state:
        parser = FaceParser(config.parser_width)
        _load_into(parser, state, p, "parser")
        model.parser = parser.to(device).eval().requires_grad_(False)
    if model.generator is None and model.baseline is None and model.parser is None:
        raise ModelFileError(f"{p}: holds no network")
    return model


#: the mask-guided model that ships in ``resources/models`` (generator and face parser)
BUNDLED_NAME = "mask-guided-64.safetensors"


def bundled_model_path() -> Path:
    """The shipped mask-guided model file."""
    from latent_atelier.resources import resources_dir

    return resources_dir() / "models" / BUNDLED_NAME


def load_parser(path: str | os.PathLike | None = None) -> tuple[FaceParser, int]:
    """The frozen face parser of a mask-guided model file (default: the shipped one), float32
    in eval mode, and the image size it reads; :class:`ModelFileError` when there is none."""
    p = Path(path) if path else bundled_model_path()
    model = load_model(p)
    if model.parser is None:
        raise ModelFileError(f"{p}: this mask-guided model file carries no face parser")
    return model.parser.float().eval(), int(model.config.size)

"""Read and write generator checkpoints, safely.

Formats, told apart by content (not by file extension):

- our own ``.safetensors``: weights plus the JSON architecture config in the metadata;
- rosinality ``stylegan2-pytorch`` ``.pt`` (``{"g_ema": state_dict, "latent_avg": ...}``),
  read with ``torch.load(weights_only=True)``; size, ``n_mlp``, ``style_dim`` and the
  channel widths are inferred from the tensor shapes;
- the official FurryGAN ``.pt`` (keys ``style_fg...``), handed to
  ``latent_atelier.models.furrygan.FurryGAN.from_official_state_dict``;
- NVIDIA ``stylegan2-ada-pytorch`` ``.pkl`` network pickles, read by a restricted
  unpickler that resolves only tensor-rebuilding helpers and turns every persistent
  network object into an inert record (its embedded source code is never executed);
  ``G_ema`` is converted to the rosinality layout.

Anything wrong, truncated or hostile raises :class:`CheckpointError` naming the file.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import io
import json
import math
import os
import pickle
import re
import warnings
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from latent_atelier.models.architectures import build_generator, generator_class
from latent_atelier.models.atomic import atomic_write_bytes
from latent_atelier.models.generator_parts import default_channels
from latent_atelier.models.layers import BLUR_KERNEL, make_kernel
from latent_atelier.models.safe_pickle import (
    FreshSubclass,
    Token,
    UnsafePickleError,
    check_array_size,
    load_from,
    numpy_allow_list,
    restricted_loads,
    scan,
)
from latent_atelier.models.stylegan2 import StyleGAN2Generator
from latent_atelier.models.untrusted import check_zip, human_bytes, read_zip_entry, zip_entry_count

FORMAT_NAME = "latent-atelier-generator"
FORMAT_VERSION = "1"
LATENT_AVG_KEY = "__latent_avg__"
SAVE_DTYPES = (torch.float32, torch.float16, torch.bfloat16)
# A pickled Python long 0x1950a86a20f9469cfc6c: how legacy (pre-zip) torch.save files begin.
_TORCH_LEGACY_MAGIC = bytes.fromhex("80028a0a6cfc9c46f9206aa85019")
MAX_CHECKPOINT_BYTES = 8 << 30  # the largest model file read at all
MAX_PICKLE_BYTES = 4 << 30  # a network pickle, or a torch file's data.pkl


class CheckpointError(Exception):
    """A checkpoint could not be read or written; the message names the file and why."""

    def __init__(self, path: str | os.PathLike, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = str(path)
        self.problem = problem


class _Problem(ValueError):
    """Internal: what is wrong with a file; wrapped into CheckpointError with its path."""


# -- architectures (the one list lives in models/architectures.py) --------------------
def _furrygan_class() -> Any:
    try:
        return generator_class("furrygan")
    except ModuleNotFoundError as exc:
        if exc.name in ("latent_atelier.models.furrygan", "latent_atelier.models"):
            raise _Problem("FurryGAN support not installed (models/furrygan.py is missing)") from exc
        raise


# -- format sniffing ------------------------------------------------------------------
def sniff_format(path: str | os.PathLike) -> str:
    """``"safetensors"``, ``"torch"`` (torch.save, zip or legacy) or ``"pickle"``."""
    p = Path(path)
    if not p.is_file():
        raise CheckpointError(p, "no such file")
    size = p.stat().st_size
    with p.open("rb") as fh:
        head = fh.read(16)
    if len(head) >= 9:
        header_len = int.from_bytes(head[:8], "little")
        if head[8:9] == b"{" and 0 < header_len <= size - 8:
            return "safetensors"
    if head.startswith(b"PK\x03\x04") or head.startswith(_TORCH_LEGACY_MAGIC):
        return "torch"
    if head[:1] == b"\x80" and len(head) >= 2 and 2 <= head[1] <= 5:
        return "pickle"
    raise CheckpointError(p, _unknown_format_problem(p.suffix.lower(), head))


def _unknown_format_problem(suffix: str, head: bytes) -> str:
    """What to say about a file whose first bytes match no format we read, by what its name claims."""
    if suffix == ".pkl":
        old = " (an old text pickle, protocol 0 or 1)" if head[:1].isalpha() or head[:1] == b"(" else ""
        return (
            f"named .pkl but not a pickle this app reads{old}: network pickles are protocol 2-5, "
            "as NVIDIA's StyleGAN2/3 files are; the file may be damaged or not a model"
        )
    if suffix in (".pt", ".pth", ".ckpt"):
        return f"named {suffix} but not a torch.save file (zip or legacy); it may be damaged or not a model"
    if suffix == ".safetensors":
        return "named .safetensors but its header is not valid; the file may be damaged or cut short"
    return "not a known checkpoint format (expected .safetensors, a torch .pt or a .pkl)"


# -- public API -----------------------------------------------------------------------
def load_generator(path: str | os.PathLike, device: str | torch.device | None = "cpu") -> nn.Module:
    """Read any supported checkpoint into a generator on ``device`` (None: pick_device()).

    The module comes back in eval mode with ``requires_grad`` off on its weights (editors
    optimise latents, not weights); call ``requires_grad_(True)`` to train it.
    """
    p = Path(path)
    gen, _ = _load(p)
    gen.eval().requires_grad_(False)
    if device is None:
        from latent_atelier.models.devices import pick_device

        device = pick_device()
    return gen.to(device)


def describe(path: str | os.PathLike) -> dict:
    """What a checkpoint holds: format, arch, resolution, n_latent, style_dim, n_mlp, ..."""
    p = Path(path)
    fmt = sniff_format(p)
    if fmt == "safetensors":
        config, dtype = _safetensors_header(p)
        try:
            with torch.device("meta"):
                gen = build_generator(config)
        except _Problem as exc:
            raise CheckpointError(p, str(exc)) from exc
        except (TypeError, ValueError) as exc:
            raise CheckpointError(p, f"architecture config is not valid: {exc}") from exc
        _check_safetensors_shapes(p, gen, config)
        kind = "latent-atelier safetensors"
    else:
        gen, kind = _load(p)
        dtype = "float32"
    config = gen.architecture()
    return {
        "path": str(p),
        "format": kind,
        "dtype": dtype,
        "arch": config.get("arch"),
        "resolution": gen.resolution,
        "n_latent": gen.n_latent,
        "latent_groups": list(gen.latent_groups),
        "latent_shapes": {k: list(v) for k, v in gen.latent_shapes().items()},
        "style_dim": config.get("style_dim"),
        "n_mlp": config.get("n_mlp"),
        "channel_multiplier": config.get("channel_multiplier"),
        "noise_maps": len(gen.noise_shapes),
        "parameters": sum(t.numel() for t in gen.parameters()),
        "architecture": config,
    }


def save_generator(gen: nn.Module, path: str | os.PathLike, dtype: torch.dtype = torch.float32) -> None:
    """Write ``gen`` as ``.safetensors`` with its architecture config, atomically.

    Floating-point tensors are stored as ``dtype`` (float32, float16 or bfloat16); a mean
    W set from a checkpoint (``fixed_mean_w``) is kept, in float32.
    """
    from safetensors.torch import save as safetensors_save

    if dtype not in SAVE_DTYPES:
        raise ValueError(f"dtype must be one of {SAVE_DTYPES}, got {dtype}")
    config = gen.architecture()
    tensors: dict[str, torch.Tensor] = {}
    for key, value in gen.state_dict().items():
        value = value.detach().to("cpu")
        if value.is_floating_point():
            value = value.to(dtype)
        tensors[key] = value.contiguous().clone()
    mean = getattr(gen, "fixed_mean_w", None)
    if mean is not None:
        tensors[LATENT_AVG_KEY] = mean.detach().to("cpu", torch.float32).contiguous()
    metadata = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "architecture": json.dumps(config, sort_keys=True),
        "dtype": str(dtype).removeprefix("torch."),
    }
    try:
        atomic_write_bytes(Path(path), safetensors_save(tensors, metadata=metadata))
    except OSError as exc:
        raise CheckpointError(path, f"could not write the file ({exc})") from exc


# -- loading --------------------------------------------------------------------------
def _load(p: Path) -> tuple[nn.Module, str]:
    fmt = sniff_format(p)
    try:
        if fmt == "safetensors":
            return _load_safetensors(p), "latent-atelier safetensors"
        if fmt == "torch":
            return _from_torch_checkpoint(_torch_load(p))
        return _from_network_pickle(_restricted_unpickle(p)), "stylegan2-ada-pytorch pickle"
    except CheckpointError:
        raise
    except _Problem as exc:
        raise CheckpointError(p, str(exc)) from exc
    except UnsafePickleError as exc:
        raise CheckpointError(p, f"refused or damaged checkpoint: {exc}") from exc
    except MemoryError as exc:
        raise CheckpointError(p, "not enough memory to load this checkpoint") from exc
    except RecursionError as exc:
        raise CheckpointError(p, "the checkpoint is nested too deeply to read") from exc
    except (
        pickle.UnpicklingError,
        zipfile.BadZipFile,
        EOFError,
        RuntimeError,
        ValueError,
        TypeError,
        KeyError,
        IndexError,
        AttributeError,
        OSError,
    ) as exc:
        problem = f"unreadable or damaged checkpoint ({type(exc).__name__}: {exc})"
        raise CheckpointError(p, problem) from exc


def _meta_build(config: Mapping, state: Mapping[str, torch.Tensor]) -> nn.Module:
    """Build from ``config`` without random init, then load ``state`` strictly."""
    state = {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
    with torch.device("meta"):
        gen = build_generator(config)
    try:
        gen.load_state_dict(state, strict=True, assign=True)
    except RuntimeError as exc:
        raise _Problem(f"weights do not fit the architecture {dict(config)}: {exc}") from exc
    if any(t.is_meta for t in [*gen.parameters(), *gen.buffers()]):  # non-persistent buffers
        gen = build_generator(config)
        gen.load_state_dict(state, strict=True)
    return gen


def _safetensors_header(p: Path) -> tuple[dict, str]:
    from safetensors import safe_open

    try:
        with safe_open(str(p), framework="pt", device="cpu") as fh:
            meta = fh.metadata() or {}
    except Exception as exc:  # safetensors raises its own error types for damaged files
        raise CheckpointError(p, f"damaged safetensors file ({exc})") from exc
    if meta.get("format") != FORMAT_NAME or "architecture" not in meta:
        raise CheckpointError(
            p, "a safetensors file without a Latent Atelier architecture config in its metadata"
        )
    try:
        config = json.loads(meta["architecture"])
    except json.JSONDecodeError as exc:
        raise CheckpointError(p, f"architecture config is not valid JSON ({exc})") from exc
    if not isinstance(config, dict):
        raise CheckpointError(p, "architecture config is not a JSON object")
    return config, meta.get("dtype", "float32")


def _check_safetensors_shapes(p: Path, gen: nn.Module, config: Mapping) -> None:
    """The file's tensor names and shapes against ``gen``'s (what loading checks too)."""
    from safetensors import safe_open

    try:
        with safe_open(str(p), framework="pt", device="cpu") as fh:
            found = {k: tuple(fh.get_slice(k).get_shape()) for k in fh.keys() if k != LATENT_AVG_KEY}  # noqa: SIM118
    except Exception as exc:  # safetensors raises its own error types for damaged files
        raise CheckpointError(p, f"damaged safetensors file ({exc})") from exc
    wanted = {k: tuple(v.shape) for k, v in gen.state_dict().items()}
    missing = sorted(set(wanted) - set(found))
    extra = sorted(set(found) - set(wanted))
    wrong = sorted(k for k in set(wanted) & set(found) if wanted[k] != found[k])
    if missing or extra or wrong:
        details = "; ".join(
            part
            for part in (
                f"missing {missing[:3]}" if missing else "",
                f"unexpected {extra[:3]}" if extra else "",
                ", ".join(f"{k} is {list(found[k])}, not {list(wanted[k])}" for k in wrong[:3]),
            )
            if part
        )
        raise CheckpointError(p, f"weights do not fit the architecture {dict(config)}: {details}")


def _load_safetensors(p: Path) -> nn.Module:
    from safetensors.torch import load_file

    config, _ = _safetensors_header(p)
    try:
        tensors = load_file(str(p), device="cpu")
    except Exception as exc:
        raise CheckpointError(p, f"damaged safetensors file ({exc})") from exc
    latent_avg = tensors.pop(LATENT_AVG_KEY, None)
    gen = _meta_build(config, tensors)
    if latent_avg is not None and hasattr(gen, "set_mean_w"):
        gen.set_mean_w(latent_avg)
    return gen


@contextlib.contextmanager
def _allow_argparse_namespace() -> Iterator[None]:
    """rosinality training checkpoints carry ``args`` (an argparse.Namespace): harmless."""
    safe = getattr(torch.serialization, "safe_globals", None)
    if safe is None:
        yield
        return
    with safe([argparse.Namespace]):
        yield


def _torch_load(p: Path) -> Any:
    _check_torch_file(p)
    with _allow_argparse_namespace(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return torch.load(p, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as exc:
            # torch's message advises loading with weights_only=False: never repeat that
            found = re.search(r"GLOBAL ([\w.]+)", str(exc))
            what = f" ('{found.group(1)}' is not allowed)" if found else ""
            raise _Problem(f"refused: the file needs objects beyond plain tensors to load{what}") from None


def _check_torch_file(p: Path) -> None:
    """Budgets before ``torch.load``: the archive's declared sizes, the pickles' opcodes
    (nesting that would crash the interpreter), and a legacy file's storage sizes."""
    size = p.stat().st_size
    if size > MAX_CHECKPOINT_BYTES:
        raise _Problem(f"the file is {human_bytes(size)}; the limit is {human_bytes(MAX_CHECKPOINT_BYTES)}")
    if zipfile.is_zipfile(p):
        count = zip_entry_count(p)
        if count is not None and count > 100_000:
            raise _Problem(f"the checkpoint has {count} entries; the limit is 100000")
        with zipfile.ZipFile(p) as zf:
            check_zip(zf, 100_000, max(4 * size, 64 << 20), "the checkpoint")
            for info in zf.infolist():
                if info.filename.endswith(".pkl"):
                    scan(read_zip_entry(zf, info, MAX_PICKLE_BYTES, info.filename), info.filename)
        return
    _check_legacy_torch_file(p.read_bytes())


class _Stub:
    """Stands for any global in a dry run over a legacy file: accepts everything, runs nothing."""

    def __new__(cls, *_args: Any, **_kwargs: Any) -> _Stub:
        return object.__new__(cls)

    def __init__(self, *_args: Any, **_kwargs: Any) -> None:
        pass

    def __call__(self, *_args: Any, **_kwargs: Any) -> _Stub:
        return _Stub()

    def __setitem__(self, _key: Any, _value: Any) -> None:
        pass

    def __setstate__(self, _state: Any) -> None:
        pass

    def append(self, _value: Any) -> None:
        pass

    def extend(self, _values: Any) -> None:
        pass


class _AnyGlobal(dict):
    """An allow-list where every name is a fresh stub class (dry runs only)."""

    def get(self, key: Any, default: Any = None) -> Any:
        return FreshSubclass(_Stub)


def _check_legacy_torch_file(data: bytes) -> None:
    """A dry run over a legacy (pre-zip) ``torch.save`` file: every storage it declares
    must be present in full before torch allocates it (torch allocates first)."""
    fh = io.BytesIO(data)
    for _ in range(3):  # magic number, protocol version, system info
        load_from(fh, {}, "the checkpoint header")
    declared: dict[str, tuple[int, int]] = {}

    def persistent(pid: Any) -> Any:
        if not isinstance(pid, tuple) or len(pid) < 5 or pid[0] != "storage":
            raise UnsafePickleError("malformed storage reference")
        type_name = str(getattr(pid[1], "global_name", ""))
        dtype = _STORAGE_DTYPES.get(type_name.removeprefix("torch."))
        if dtype is None or not type_name.startswith("torch.") or not isinstance(pid[4], int):
            raise UnsafePickleError(f"unknown storage type {type_name!r:.40}")
        itemsize = torch.empty(0, dtype=dtype).element_size()
        check_array_size((pid[4],), itemsize, "a storage")
        declared[str(pid[2])] = (pid[4], itemsize)
        return _Stub()

    load_from(fh, _AnyGlobal(), "the checkpoint", persistent)
    keys = load_from(fh, {}, "the checkpoint")
    if not isinstance(keys, list):
        raise UnsafePickleError("the storage list is malformed")
    for key in keys:
        numel, itemsize = declared.get(str(key), (-1, 0))
        count = int.from_bytes(fh.read(8), "little")
        end = fh.tell() + numel * itemsize
        if numel < 0 or count != numel or end > len(data):
            raise UnsafePickleError("a storage is shorter than declared (the file is cut or forged)")
        fh.seek(end)


def _state_dict_of(obj: Any) -> dict[str, torch.Tensor]:
    if not isinstance(obj, Mapping) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items()
    ):
        raise _Problem("'g_ema' is not a state dict of named tensors")
    return {k.removeprefix("module."): v for k, v in obj.items()}


def _from_torch_checkpoint(obj: Any) -> tuple[nn.Module, str]:
    if not isinstance(obj, Mapping):
        raise _Problem(f"a torch file holding a {type(obj).__name__}, not a checkpoint dict")
    if "g_ema" in obj:
        state = _state_dict_of(obj["g_ema"])
    elif obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
        state = _state_dict_of(obj)  # a bare generator state dict
    else:
        raise _Problem(f"no StyleGAN2 generator found (expected 'g_ema'; the file has {sorted(obj)[:8]})")
    if any(k.startswith("style_fg") for k in state):
        gen = _furrygan_class().from_official_state_dict(state)
        return gen, "FurryGAN official .pt"
    if "input.input" not in state or "conv1.conv.weight" not in state:
        raise _Problem("no StyleGAN2 generator found (expected 'g_ema' with rosinality's key names)")
    gen = _meta_build(stylegan2_config_from_state_dict(state), state)
    latent_avg = obj.get("latent_avg")
    if isinstance(latent_avg, torch.Tensor):
        gen.set_mean_w(latent_avg)
    return gen, "rosinality stylegan2-pytorch .pt"


def stylegan2_config_from_state_dict(state: Mapping[str, torch.Tensor]) -> dict:
    """The StyleGAN2Generator config implied by a rosinality-layout state dict's shapes."""
    mlp = sorted(int(m.group(1)) for k in state if (m := re.fullmatch(r"style\.(\d+)\.weight", k)))
    n_rgb = len([k for k in state if re.fullmatch(r"to_rgbs\.\d+\.conv\.weight", k)])
    style_dim = int(state["conv1.conv.modulation.weight"].shape[1])
    size = 4 * 2**n_rgb
    widths = {4: int(state["input.input"].shape[1])}
    for k in range(n_rgb):
        widths[8 * 2**k] = int(state[f"convs.{2 * k}.conv.weight"].shape[1])
    config: dict[str, Any] = {
        "arch": "stylegan2",
        "size": size,
        "style_dim": style_dim,
        "n_mlp": len(mlp),
        "channel_multiplier": 2,
        "lr_mlp": 0.01,
        "channels": None,
    }
    for cm in (2, 1, 4, 8):
        table = default_channels(cm)
        if all(table[r] == w for r, w in widths.items()):
            config["channel_multiplier"] = cm
            break
    else:
        config["channels"] = {str(r): w for r, w in widths.items()}
    return config


# -- stylegan2-ada-pytorch pickles ----------------------------------------------------
MAX_RECORDS = 100_000  # persistent objects walked in one network pickle
MAX_MODULE_DEPTH = 64  # nesting of sub-modules


class PersistentRecord:
    """Inert stand-in for a ``torch_utils.persistence`` object: its class name and state.

    The original source code in the pickle is never compiled or run.
    """

    __slots__ = ("class_name", "state")

    def __init__(self, meta: Any) -> None:
        if not isinstance(meta, Mapping) or not isinstance(meta.get("state"), Mapping):
            raise UnsafePickleError("malformed persistent object record")
        self.class_name = str(meta.get("class_name"))[:200]
        self.state: Mapping = meta["state"]

    def __setstate__(self, _state: Any) -> None:
        raise UnsafePickleError("refused to change a persistent object record (BUILD)")

    def tensors(self) -> dict[str, torch.Tensor]:
        """Every parameter and buffer below this object, by dotted name.

        The walk is iterative and bounded: each record is visited once (a pickle can share
        one record under many names, which made an exponential walk), at most
        :data:`MAX_MODULE_DEPTH` deep and :data:`MAX_RECORDS` records in all.
        """
        out: dict[str, torch.Tensor] = {}
        seen: set[int] = set()
        todo: list[tuple[PersistentRecord, str, int]] = [(self, "", 0)]
        while todo:
            record, prefix, depth = todo.pop()
            if id(record) in seen:
                raise _Problem(f"the module '{prefix.rstrip('.')}' appears twice in the network")
            seen.add(id(record))
            if len(seen) > MAX_RECORDS:
                raise _Problem(f"more than {MAX_RECORDS} sub-modules (the limit)")
            if depth > MAX_MODULE_DEPTH:
                raise _Problem(f"sub-modules nested more than {MAX_MODULE_DEPTH} deep (the limit)")
            for field in ("_parameters", "_buffers"):
                values = record.state.get(field) or {}
                if not isinstance(values, Mapping):
                    raise _Problem(f"malformed '{field}' in '{prefix.rstrip('.')}'")
                for name, value in values.items():
                    if isinstance(value, torch.Tensor):
                        out[f"{prefix}{name}"] = value
            children = record.state.get("_modules") or {}
            if not isinstance(children, Mapping):
                raise _Problem(f"malformed '_modules' in '{prefix.rstrip('.')}'")
            for name, child in children.items():
                if isinstance(child, PersistentRecord):
                    todo.append((child, f"{prefix}{name}.", depth + 1))
        return out


class _Storage:
    """One storage of a pickled tensor: a flat tensor of its elements."""

    __slots__ = ("flat",)

    def __init__(self, flat: torch.Tensor) -> None:
        self.flat = flat


_STORAGE_DTYPES = {
    "FloatStorage": torch.float32, "DoubleStorage": torch.float64, "HalfStorage": torch.float16,
    "BFloat16Storage": torch.bfloat16, "LongStorage": torch.int64, "IntStorage": torch.int32,
    "ShortStorage": torch.int16, "CharStorage": torch.int8, "ByteStorage": torch.uint8,
    "BoolStorage": torch.bool,
}  # fmt: skip
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001


def _rebuild_tensor(storage, offset, size, stride, requires_grad=False, hooks=None, meta=None):
    """A view of ``storage``, its bounds checked (no element outside the storage)."""
    if not isinstance(storage, _Storage):
        raise UnsafePickleError("tensor record without a storage")
    flat = storage.flat
    dims = check_array_size(tuple(size), flat.element_size(), "a tensor")
    steps = tuple(stride)
    if len(steps) != len(dims) or not all(isinstance(s, int) and s >= 0 for s in steps):
        raise UnsafePickleError("tensor record with malformed strides")
    if not isinstance(offset, int) or offset < 0:
        raise UnsafePickleError("tensor record with a malformed offset")
    if math.prod(dims) and offset + sum((d - 1) * s for d, s in zip(dims, steps)) >= flat.numel():
        raise UnsafePickleError("tensor record reaches outside its storage")
    return flat.as_strided(dims, steps, offset)


def _rebuild_parameter(data, requires_grad=False, hooks=None, state=None):
    if not isinstance(data, torch.Tensor):
        raise UnsafePickleError("parameter record without a tensor")
    return data


def _storage_tokens() -> dict[tuple[str, str], Any]:
    return {("torch", name): Token(f"torch.{name}") for name in _STORAGE_DTYPES}


def _storage_from_bytes(data: Any) -> _Storage:
    """Read the legacy ``torch.save`` bytes of one storage without ``torch.load``.

    Layout: pickles of the magic number, the protocol version and the system info, the
    storage's persistent id ``('storage', <type>, key, location, numel, ...)``, the list of
    keys, then ``numel`` as 8 bytes and the raw elements. The element count must agree
    with the bytes that are really there before anything is allocated.
    """
    if not isinstance(data, bytes):
        raise UnsafePickleError("storage record without bytes")
    fh = io.BytesIO(data)
    magic = load_from(fh, {}, "storage record")
    protocol = load_from(fh, {}, "storage record")
    info = load_from(fh, {}, "storage record")
    if magic != _LEGACY_MAGIC or protocol != _LEGACY_PROTOCOL or not isinstance(info, dict):
        raise UnsafePickleError("storage record is not a torch storage")
    if info.get("little_endian") is not True:
        raise UnsafePickleError("big-endian storages are not supported")
    found: list[tuple[torch.dtype, Any, int]] = []

    def persistent(pid: Any) -> Any:
        if (
            not isinstance(pid, tuple)
            or len(pid) < 5
            or pid[0] != "storage"
            or not isinstance(pid[1], Token)
            or not isinstance(pid[4], int)
            or pid[4] < 0
        ):
            raise UnsafePickleError("malformed storage reference")
        dtype = _STORAGE_DTYPES[pid[1].name.removeprefix("torch.")]
        found.append((dtype, pid[2], pid[4]))
        return None

    load_from(fh, _storage_tokens(), "storage record", persistent)
    keys = load_from(fh, {}, "storage record")
    if len(found) != 1 or keys != [found[0][1]]:
        raise UnsafePickleError("a storage record must hold exactly one storage")
    dtype, _key, numel = found[0]
    itemsize = torch.empty(0, dtype=dtype).element_size()
    count = int.from_bytes(fh.read(8), "little")
    raw = fh.read()
    if count != numel or len(raw) != numel * itemsize:
        raise UnsafePickleError(f"storage record declares {numel} elements but holds {len(raw) // itemsize}")
    check_array_size((numel,), itemsize, "a storage")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # frombuffer warns about non-writable buffers
        flat = torch.frombuffer(bytearray(raw), dtype=dtype) if numel else torch.empty(0, dtype=dtype)
    return _Storage(flat)


def _network_allow_list() -> dict[tuple[str, str], Any]:
    """What a stylegan2-ada-pytorch network pickle may build (see models.safe_pickle)."""
    allowed: dict[tuple[str, str], Any] = dict(numpy_allow_list())
    allowed.update(
        {
            ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
            ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
            ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
            ("torch.storage", "_load_from_bytes"): _storage_from_bytes,
            ("torch", "Size"): torch.Size,
            ("torch", "device"): torch.device,
            ("collections", "OrderedDict"): collections.OrderedDict,
            ("builtins", "set"): set,
            ("builtins", "frozenset"): frozenset,
            ("torch_utils.persistence", "_reconstruct_persistent_obj"): PersistentRecord,
            ("dnnlib.util", "EasyDict"): FreshSubclass(dict),
        }
    )
    return allowed


def _restricted_unpickle(p: Path) -> Any:
    size = p.stat().st_size
    if size > MAX_PICKLE_BYTES:
        raise _Problem(
            f"the pickle is {size / (1 << 30):.1f} GB; the limit is {MAX_PICKLE_BYTES / (1 << 30):.0f} GB"
        )
    try:
        return restricted_loads(p.read_bytes(), _network_allow_list(), "the pickle")
    except UnsafePickleError as exc:
        raise _Problem(f"refused or damaged pickle: {exc}") from exc


def _from_network_pickle(obj: Any) -> nn.Module:
    if not isinstance(obj, Mapping):
        raise _Problem("not a stylegan2-ada-pytorch network pickle (no dict at the top)")
    net = obj.get("G_ema", obj.get("G"))
    if not isinstance(net, PersistentRecord):
        raise _Problem("no 'G_ema' network in the pickle")
    tensors = net.tensors()
    if any(k.startswith("synthesis.L") for k in tensors) or "synthesis.input.freqs" in tensors:
        raise _Problem("a StyleGAN3 network; only StyleGAN2(-ADA) generators are supported")
    if "mapping.embed.weight" in tensors:
        raise _Problem("a class-conditional network; only unconditional generators are supported")
    state, w_avg = ada_to_rosinality(tensors)
    gen = _meta_build(stylegan2_config_from_state_dict(state), _with_fixed_buffers(state))
    if w_avg is not None:
        gen.set_mean_w(w_avg)
    return gen


def _with_fixed_buffers(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Add the constant upsampling kernels that NVIDIA files do not store per layer."""
    config = stylegan2_config_from_state_dict(state)
    with torch.device("meta"):
        shape_only = StyleGAN2Generator.from_architecture(config)
    upsample_kernel = make_kernel(BLUR_KERNEL) * 4  # every generator kernel upsamples by 2
    full = dict(state)
    for key in shape_only.state_dict():
        if key.endswith(".kernel") and key not in full:
            full[key] = upsample_kernel.clone()
    return full


def ada_to_rosinality(
    tensors: Mapping[str, torch.Tensor],
) -> tuple[dict[str, torch.Tensor], torch.Tensor | None]:
    """Rename stylegan2-ada-pytorch ``G_ema`` tensors to rosinality's layout.

    Returns the state dict (without the fixed blur kernels) and ``w_avg`` (or None).
    """

    def need(key: str) -> torch.Tensor:
        if key not in tensors:
            raise _Problem(f"not a StyleGAN2 generator: '{key}' is missing")
        return tensors[key]

    fcs = sorted(int(m.group(1)) for k in tensors if (m := re.fullmatch(r"mapping\.fc(\d+)\.weight", k)))
    res_list = sorted(
        int(m.group(1)) for k in tensors if (m := re.fullmatch(r"synthesis\.b(\d+)\.torgb\.weight", k))
    )
    if not res_list or res_list[0] != 4:
        raise _Problem("not a StyleGAN2 generator: no 'synthesis.b4.torgb' layer")
    if res_list != [2**i for i in range(2, 2 + len(res_list))]:
        raise _Problem(f"unsupported block layout {res_list} (expected 4, 8, 16, ...)")
    out: dict[str, torch.Tensor] = {}
    for n, i in enumerate(fcs):
        weight = need(f"mapping.fc{i}.weight")
        if weight.shape[0] != weight.shape[1]:
            raise _Problem("mapping layers with z_dim != w_dim are not supported")
        out[f"style.{n + 1}.weight"] = weight
        out[f"style.{n + 1}.bias"] = need(f"mapping.fc{i}.bias")

    def synthesis_layer(src: str, dst: str, noise_index: int) -> None:
        weight = need(f"{src}.weight")
        out[f"{dst}.conv.weight"] = weight.unsqueeze(0)
        out[f"{dst}.conv.modulation.weight"] = need(f"{src}.affine.weight")
        out[f"{dst}.conv.modulation.bias"] = need(f"{src}.affine.bias")
        out[f"{dst}.activate.bias"] = need(f"{src}.bias")
        strength = tensors.get(f"{src}.noise_strength", torch.zeros(()))
        out[f"{dst}.noise.weight"] = strength.reshape(1)
        res = int(2 ** ((noise_index + 5) // 2))
        const = tensors.get(f"{src}.noise_const", torch.zeros(res, res))
        out[f"noises.noise_{noise_index}"] = const.reshape(1, 1, *const.shape[-2:])

    def to_rgb(src: str, dst: str) -> None:
        weight = need(f"{src}.weight")
        if weight.shape[0] != 3:
            raise _Problem(f"{weight.shape[0]}-channel output; only RGB generators are supported")
        out[f"{dst}.conv.weight"] = weight.unsqueeze(0)
        out[f"{dst}.conv.modulation.weight"] = need(f"{src}.affine.weight")
        out[f"{dst}.conv.modulation.bias"] = need(f"{src}.affine.bias")
        out[f"{dst}.bias"] = need(f"{src}.bias").reshape(1, -1, 1, 1)

    out["input.input"] = need("synthesis.b4.const").unsqueeze(0)
    synthesis_layer("synthesis.b4.conv1", "conv1", 0)
    to_rgb("synthesis.b4.torgb", "to_rgb1")
    for k, res in enumerate(res_list[1:]):
        synthesis_layer(f"synthesis.b{res}.conv0", f"convs.{2 * k}", 2 * k + 1)
        synthesis_layer(f"synthesis.b{res}.conv1", f"convs.{2 * k + 1}", 2 * k + 2)
        to_rgb(f"synthesis.b{res}.torgb", f"to_rgbs.{k}")
    return out, tensors.get("mapping.w_avg")

"""Hostile model files: every one ends in a CheckpointError quickly and within a memory
budget, runs nothing, changes nothing for later loads, and never repeats torch's advice
to retry with weights_only=False."""

from __future__ import annotations

import collections
import io
import pickle
import struct
import sys
import types
import zipfile

import pytest
import torch
from hostile_harness import assert_refused, report, run_cases

BUDGET_MB = 200


def _reconstruct_persistent_obj(meta):  # pickled by name only; never called
    raise AssertionError("never called")


_reconstruct_persistent_obj.__module__ = "torch_utils.persistence"


class Record:
    """Pickles like a stylegan2-ada persistent object."""

    def __init__(self, state: dict) -> None:
        self.state = state

    def __reduce__(self):
        meta = {"type": "class", "version": 4, "module_src": "", "class_name": "X", "state": self.state}
        return (_reconstruct_persistent_obj, (meta,))


@pytest.fixture
def nvidia_names(monkeypatch):
    module = types.ModuleType("torch_utils.persistence")
    module._reconstruct_persistent_obj = _reconstruct_persistent_obj
    monkeypatch.setitem(sys.modules, "torch_utils", types.ModuleType("torch_utils"))
    monkeypatch.setitem(sys.modules, "torch_utils.persistence", module)


class Shell:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        import os

        return (os.system, (f"touch {self.marker}",))


class Reduce:
    """An object that pickles as ``fn(*args)``, for forging."""

    def __init__(self, fn, *args) -> None:
        self.fn, self.args = fn, args

    def __reduce__(self):
        return (self.fn, self.args)


def _legacy_storage(numel_declared: int, data: bytes) -> bytes:
    """The bytes torch.storage._load_from_bytes reads, declaring ``numel_declared`` floats."""
    out = io.BytesIO()
    pickle.dump(0x1950A86A20F9469CFC6C, out, protocol=2)
    pickle.dump(1001, out, protocol=2)
    pickle.dump({"protocol_version": 1001, "little_endian": True, "type_sizes": {}}, out, protocol=2)

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            if obj == "STORAGE":
                return ("storage", torch.FloatStorage, "0", "cpu", numel_declared, None)
            return None

    Pickler(out, protocol=2).dump("STORAGE")
    pickle.dump(["0"], out, protocol=2)
    out.write(struct.pack("<q", numel_declared) + data)
    return out.getvalue()


def _tensor(storage_bytes: bytes, size: tuple, stride: tuple, offset: int = 0) -> Reduce:
    from torch._utils import _rebuild_tensor_v2
    from torch.storage import _load_from_bytes

    storage = Reduce(_load_from_bytes, storage_bytes)
    return Reduce(_rebuild_tensor_v2, storage, offset, size, stride, False, collections.OrderedDict())


@pytest.fixture
def hostile(tmp_path, nvidia_names) -> dict:
    files = {}

    def put(name: str, data: bytes):
        files[name] = tmp_path / f"{name}.pkl"
        files[name].write_bytes(data)

    # records sharing one child at every level: an exponential walk (the old loader hung)
    child = Record({"_parameters": {"w": torch.zeros(1)}})
    for _ in range(20):  # 2**20 paths to walk; 4 levels of containers per record
        child = Record({"_modules": {"a": child, "b": child}})
    put("shared_records", pickle.dumps({"G_ema": child}, protocol=4))
    # records nested 70 deep (beyond the walk's 64; much deeper crashes pickle.dumps itself)
    deep = Record({})
    for _ in range(70):
        deep = Record({"_modules": {"m": deep}})
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(10_000)
    try:
        put("deep_records", pickle.dumps({"G_ema": deep}, protocol=4))
    finally:
        sys.setrecursionlimit(limit)
    # BUILD on the allow-listed record class: would replace its method for every later load
    put(
        "build_on_class",
        b"\x80\x04ctorch_utils.persistence\n_reconstruct_persistent_obj\nN}\x8c\x07tensorsNs\x86b.",
    )
    # the same on the allow-listed EasyDict class
    put("build_on_easydict", b"\x80\x04cdnnlib.util\nEasyDict\nN}\x8c\x03fooNs\x86b.")
    # 28 bytes asking for a 74 GB bytes object
    put("huge_bytes", b"\x80\x04\x8e" + struct.pack("<Q", 74 << 30) + b"0123456789abcdef.")
    # a numpy array of 74 GB from its shape alone
    import numpy as np

    core = getattr(np, "_core", None) or np.core
    put(
        "huge_array",
        pickle.dumps(
            Reduce(core.multiarray._reconstruct, np.ndarray, (100_000, 100_000, 8), b"b"), protocol=4
        ),
    )
    # a storage declaring 20 G floats and holding 4 bytes
    put(
        "huge_storage",
        pickle.dumps({"G_ema": _tensor(_legacy_storage(20 << 30, bytes(4)), (20 << 30,), (1,))}, protocol=4),
    )
    # a tensor view reaching far outside its 4-byte storage
    put(
        "view_outside",
        pickle.dumps({"G_ema": _tensor(_legacy_storage(1, bytes(4)), (1000, 1000), (1000, 1))}, protocol=4),
    )
    # a million nested tuples used as a dict key: hashing it crashed the interpreter
    put("deep_tuple_key", b"\x80\x04}" + b")" + b"\x85" * 1_000_000 + b"K\x01s.")
    # code execution
    put("runs_shell", pickle.dumps({"G_ema": Shell(str(tmp_path / "pwned"))}, protocol=4))
    # the same deep tuple inside a torch zip file (torch's own unpickler would crash too)
    pt = io.BytesIO()
    with zipfile.ZipFile(pt, "w") as zf:
        zf.writestr("archive/data.pkl", b"\x80\x02}" + b")" + b"\x85" * 1_000_000 + b"K\x01s.")
        zf.writestr("archive/version", b"3\n")
    files["deep_tuple_pt"] = tmp_path / "deep_tuple.pt"
    files["deep_tuple_pt"].write_bytes(pt.getvalue())
    # a torch file with a global torch refuses: torch's message advises weights_only=False
    files["needs_globals_pt"] = tmp_path / "needs_globals.pt"
    torch.save({"g_ema": Shell(str(tmp_path / "pwned2"))}, files["needs_globals_pt"])
    return files


EXPECTED = {
    "shared_records": r"appears twice",
    "deep_records": r"nested more than (64|100) deep",
    "build_on_class": r"refused to change",
    "build_on_easydict": r"refused to change 'dnnlib\.util\.EasyDict'",
    "huge_bytes": r"damaged",
    "huge_array": r"asks for 74\.5 GB; the limit is 4\.0 GB",
    "huge_storage": r"declares 21474836480 elements but holds 1",
    "view_outside": r"outside its storage",
    "deep_tuple_key": r"nested more than 100 deep",
    "runs_shell": r"refusing to load '(posix|os)\.system'",
    "deep_tuple_pt": r"nested more than 100 deep",
    "needs_globals_pt": r"refused: the file needs objects beyond plain tensors",
}


def test_hostile_model_files_fail_fast_with_a_checkpoint_error(hostile, tmp_path):
    good = tmp_path / "good.safetensors"
    cases = {name: f"describe({str(path)!r})" for name, path in hostile.items()}
    cases["record_class_unchanged"] = (
        "from latent_atelier.models.checkpoints import PersistentRecord\n"
        "r = PersistentRecord({'state': {'_parameters': {}, '_modules': {'c': PersistentRecord("
        "{'state': {'_buffers': {'b': __import__('torch').ones(2)}}})}}})\n"
        "result = [sorted(r.tensors()), 'tensors' in PersistentRecord.__dict__]"
    )
    cases["good_after"] = (
        "from latent_atelier.models.checkpoints import build_generator, save_generator\n"
        "g = build_generator({'arch': 'stylegan2', 'size': 16, 'style_dim': 32, 'n_mlp': 2,"
        " 'channel_multiplier': 1, 'channels': {'4': 16, '8': 16, '16': 16}})\n"
        f"save_generator(g, {str(good)!r})\n"
        f"result = [describe({str(good)!r})['resolution'], load_generator({str(good)!r}).resolution]"
    )
    results = run_cases(
        tmp_path,
        cases,
        preload=("import torch\nfrom latent_atelier.models.checkpoints import describe, load_generator"),
    )
    print(report(results))
    for name, pattern in EXPECTED.items():
        assert_refused(results[name], "CheckpointError", pattern, BUDGET_MB)
        assert hostile[name].name in results[name]["error"]
        assert "weights_only" not in results[name]["error"]
    assert results["record_class_unchanged"]["result"] == [["c.b"], True]
    assert results["good_after"]["result"] == [16, 16]
    assert not (tmp_path / "pwned").exists() and not (tmp_path / "pwned2").exists()


def test_hostile_files_are_small(hostile):
    for name, path in hostile.items():
        limit = 2 << 20 if "deep_tuple" in name or "records" in name else 4096
        assert path.stat().st_size < limit, name

"""The one restricted unpickler: every pickle we read (NVIDIA network pickles, the VGG-16
weights) goes through :func:`restricted_loads` with an allow-list of what it may build.

What it guarantees, whatever the file holds:

- Nothing outside the allow-list is resolved, so no code from the file runs.
- Bounded memory and time: the opcodes are scanned first (no length field may point past
  the end of the data, at most :data:`MAX_OPCODES` opcodes, tuples and other containers
  nested at most :data:`MAX_NESTING` deep: a million nested tuples used as a dict key would
  crash the interpreter while hashing). Allowed constructors check the sizes they are
  asked for (:data:`MAX_ARRAY_BYTES`) before allocating.
- Stateless: each lookup of an allowed name gives a fresh wrapper (or a fresh subclass),
  so a BUILD opcode aimed at it changes nothing that a later load sees; BUILD on a
  function or class is refused outright.
- Every failure raises :class:`UnsafePickleError` (a ``ValueError``).
"""

from __future__ import annotations

import io
import math
import pickle
import pickletools
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

MAX_OPCODES = 4_000_000
MAX_NESTING = 100
MAX_ARRAY_BYTES = 4 << 30
MAX_DIMS = 16


class UnsafePickleError(ValueError):
    """A pickle was refused (not allowed, over a budget) or is damaged."""


# -- allow-list entries -------------------------------------------------------------------
class _Allowed:
    """A fresh stand-in for an allowed callable: calls go through, BUILD is refused."""

    __slots__ = ("_fn", "_name")

    def __init__(self, fn: Callable[..., Any], name: str) -> None:
        self._fn = fn
        self._name = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._fn(*args, **kwargs)

    def __setstate__(self, _state: Any) -> None:
        raise UnsafePickleError(f"refused to change '{self._name}' (BUILD on an allowed name)")

    def __reduce__(self) -> Any:
        raise TypeError("allow-list entries cannot be pickled")


class Token:
    """A name that may appear only as an argument of another allowed call (``numpy.ndarray``)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __setstate__(self, _state: Any) -> None:
        raise UnsafePickleError(f"refused to change '{self.name}' (BUILD on a class)")


class FreshSubclass:
    """Allow-list entry for a class the pickle instantiates itself (NEWOBJ): each lookup
    returns a new subclass of ``base``, so changing it (BUILD) affects only this load."""

    def __init__(self, base: type) -> None:
        self.base = base

    def make(self, name: str) -> type:
        def refuse_on_class(self_or_state: Any, state: Any = None) -> None:
            if isinstance(self_or_state, type) or state is None:
                raise UnsafePickleError(f"refused to change '{name}' (BUILD on a class)")
            # an instance's own attributes: accepted and dropped (we read only its items)

        short = name.rsplit(".", 1)[-1]
        return type(short, (self.base,), {"__setstate__": refuse_on_class, "global_name": name})


AllowList = Mapping[tuple[str, str], Any]


def _resolve(entry: Any, name: str) -> Any:
    if isinstance(entry, FreshSubclass):
        return entry.make(name)
    if isinstance(entry, Token):
        return Token(entry.name)
    return _Allowed(entry, name)


class _Unpickler(pickle.Unpickler):
    def __init__(
        self, fh: io.BytesIO, allowed: AllowList, persistent: Callable[[Any], Any] | None = None
    ) -> None:
        super().__init__(fh)
        self._allowed = allowed
        self._persistent = persistent

    def find_class(self, module: str, name: str) -> Any:
        entry = self._allowed.get((module, name))
        if entry is None:
            raise UnsafePickleError(f"refusing to load '{module}.{name}' (not allowed)")
        return _resolve(entry, f"{module}.{name}")

    def persistent_load(self, pid: Any) -> Any:
        if self._persistent is None:
            raise UnsafePickleError("persistent references are not allowed")
        return self._persistent(pid)


# -- opcode scan ---------------------------------------------------------------------------
_CONTAINERS = {"TUPLE", "TUPLE1", "TUPLE2", "TUPLE3", "FROZENSET", "LIST", "DICT"}
_MUTATORS = {"APPEND", "APPENDS", "SETITEM", "SETITEMS", "ADDITEMS", "BUILD"}
_CALLS = {"REDUCE", "NEWOBJ", "NEWOBJ_EX", "OBJ", "INST"}
_MARK = -1


def scan(data: bytes | io.BytesIO, what: str = "pickle") -> int:
    """Check one pickle's opcodes before it is loaded; returns the offset after its STOP.

    Refuses truncated length fields, more than :data:`MAX_OPCODES` opcodes and containers
    nested deeper than :data:`MAX_NESTING` (tracked through the memo as well).
    """
    fh = data if isinstance(data, io.BytesIO) else io.BytesIO(data)
    stack: list[int] = []
    memo: dict[Any, int] = {}
    count = 0
    try:
        for op, arg, _pos in pickletools.genops(fh):
            count += 1
            if count > MAX_OPCODES:
                raise UnsafePickleError(f"{what} has more than {MAX_OPCODES} opcodes (the limit)")
            _simulate(op, arg, stack, memo)
    except UnsafePickleError:
        raise
    except (ValueError, IndexError, KeyError) as exc:  # genops: truncated / unknown opcode
        raise UnsafePickleError(f"{what} is damaged ({exc})") from exc
    return fh.tell()


def _top(stack: list[int]) -> int:
    """The depth of the last value (marks are not values: the unpickler keeps them apart)."""
    for value in reversed(stack):
        if value != _MARK:
            return value
    raise UnsafePickleError("malformed pickle (empty stack)")


def _pop_mark(stack: list[int]) -> list[int]:
    items = []
    while stack:
        top = stack.pop()
        if top == _MARK:
            return items
        items.append(top)
    raise UnsafePickleError("malformed pickle (no MARK)")


def _simulate(op: pickletools.OpcodeInfo, arg: Any, stack: list[int], memo: dict[Any, int]) -> None:
    """Track each stack value's container nesting depth (0 for a scalar or a call result)."""
    name = op.name
    if name == "MARK":
        stack.append(_MARK)
        return
    if name in ("PUT", "BINPUT", "LONG_BINPUT"):
        memo[arg] = _top(stack)
        return
    if name == "MEMOIZE":
        memo[len(memo)] = _top(stack)
        return
    if name in ("GET", "BINGET", "LONG_BINGET"):
        stack.append(memo[arg])
        return
    if name == "DUP":
        stack.append(_top(stack))
        return
    if name == "POP" and stack and stack[-1] == _MARK:
        stack.pop()  # as the unpickler does: POP right after MARK drops the mark
        return
    popped: list[int] = []
    before = list(op.stack_before)
    if pickletools.markobject in before:
        popped = _pop_mark(stack)
        before = before[: before.index(pickletools.markobject)]
    for _ in before:
        if not stack or stack[-1] == _MARK:
            raise UnsafePickleError("malformed pickle (stack underflow)")
        popped.append(stack.pop())
    depth = 0
    if name in _CONTAINERS:
        depth = 1 + max(popped, default=0)
    elif name in _CALLS:
        depth = max(popped, default=0)  # a call's result counts as deep as its arguments
    elif name in _MUTATORS and before:
        # the container stays: it was the first value popped from below the items
        container = popped[-1]
        items = popped[:-1]
        depth = max(container, 1 + max(items, default=0))
    if depth > MAX_NESTING:
        raise UnsafePickleError(f"containers nested more than {MAX_NESTING} deep (the limit)")
    for _ in op.stack_after:
        stack.append(depth)


# -- loading --------------------------------------------------------------------------------
def restricted_loads(data: bytes, allowed: AllowList, what: str = "pickle") -> Any:
    """Load one pickle from ``data`` with only ``allowed`` names (see the module notes)."""
    return load_from(io.BytesIO(data), allowed, what)


def load_from(
    fh: io.BytesIO, allowed: AllowList, what: str = "pickle", persistent: Callable[[Any], Any] | None = None
) -> Any:
    """Load the pickle at ``fh``'s position (scanned first); ``fh`` ends after its STOP.

    ``persistent(pid)`` answers persistent references; without it they are refused.
    """
    start = fh.tell()
    end = scan(fh, what)
    fh.seek(start)
    try:
        obj = _Unpickler(fh, allowed, persistent).load()
    except UnsafePickleError:
        raise
    except MemoryError as exc:
        raise UnsafePickleError(f"{what} asks for more memory than is available") from exc
    except RecursionError as exc:
        raise UnsafePickleError(f"{what} is nested too deeply") from exc
    except Exception as exc:  # the unpickler and the allowed calls raise many types
        raise UnsafePickleError(f"{what} is damaged or refused ({type(exc).__name__}: {exc})") from exc
    if fh.tell() != end:
        raise UnsafePickleError(f"{what} is damaged (the scan and the load disagree)")
    return obj


# -- numpy arrays ---------------------------------------------------------------------------
def check_array_size(
    shape: Iterable[Any], itemsize: int, what: str = "an array", max_bytes: int = MAX_ARRAY_BYTES
) -> tuple[int, ...]:
    """``shape`` as ints, refused when malformed or above ``max_bytes``."""
    dims = tuple(shape)
    if len(dims) > MAX_DIMS or not all(isinstance(d, int) and d >= 0 for d in dims):
        raise UnsafePickleError(f"{what} has a malformed shape {dims!r:.80}")
    nbytes = math.prod(dims) * max(1, itemsize)
    if nbytes > max_bytes:
        raise UnsafePickleError(
            f"{what} of shape {dims} asks for {nbytes / (1 << 30):.1f} GB; "
            f"the limit is {max_bytes / (1 << 30):.1f} GB"
        )
    return dims


def _checked_dtype(*args: Any) -> np.dtype:
    dtype = np.dtype(*args)
    if dtype.hasobject:
        raise UnsafePickleError("refused an array of Python objects")
    return dtype


def _checked_reconstruct(subtype: Any, shape: Any, dtype: Any) -> np.ndarray:
    if not (isinstance(subtype, Token) and subtype.name == "numpy.ndarray"):
        raise UnsafePickleError("refused an array of an unknown class")
    dims = check_array_size(shape if isinstance(shape, tuple) else (shape,), 1)
    core = getattr(np, "_core", None) or np.core
    return core.multiarray._reconstruct(np.ndarray, dims, dtype)


def _checked_scalar(dtype: Any, data: Any = None) -> Any:
    if not isinstance(dtype, np.dtype) or dtype.hasobject or not isinstance(data, bytes):
        raise UnsafePickleError("refused a numpy scalar that is not plain data")
    core = getattr(np, "_core", None) or np.core
    return core.multiarray.scalar(dtype, data)


def _checked_frombuffer(buf: Any, dtype: Any, shape: Any, order: Any) -> np.ndarray:
    if not isinstance(buf, (bytes, bytearray, pickle.PickleBuffer)):
        raise UnsafePickleError("refused an array without a byte buffer")
    dtype = _checked_dtype(dtype)
    dims = check_array_size(shape, dtype.itemsize)
    data = memoryview(buf).cast("B")
    if math.prod(dims) * dtype.itemsize != data.nbytes:
        raise UnsafePickleError("an array's buffer does not match its shape")
    arr = np.frombuffer(data, dtype=dtype).reshape(dims, order="F" if order == "F" else "C")
    return arr.copy(order="K")


def numpy_allow_list() -> dict[tuple[str, str], Any]:
    """What a pickle of plain numpy arrays and scalars needs (no object arrays)."""
    allowed: dict[tuple[str, str], Any] = {
        ("numpy", "ndarray"): Token("numpy.ndarray"),
        ("numpy", "dtype"): _checked_dtype,
    }
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        allowed[(module, "_reconstruct")] = _checked_reconstruct
        allowed[(module, "scalar")] = _checked_scalar
    for module in ("numpy.core.numeric", "numpy._core.numeric"):
        allowed[(module, "_frombuffer")] = _checked_frombuffer
    return allowed

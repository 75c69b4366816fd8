"""The Operation protocol: one definition that the GUI, the CLI and the tests all use.

An Operation declares its inputs and outputs as :class:`Slot` s and its settings as a
``Params`` dataclass whose fields are made with :func:`param` (default, range, help).
``run(gen, inputs, params, progress)`` does the work and returns a :class:`Result`.

Data at the boundary (see docs/architecture.md): images are ``float32 H x W x 3`` in
``[0, 1]`` sRGB; RGBA images ``H x W x 4`` straight alpha; masks ``H x W`` float32 in
``[0, 1]``; label maps ``H x W`` int32; latents are :class:`latent_atelier.models.generator.Latent`.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np

#: what a slot holds; "model" is a second generator's file (or ``random:`` spec), which the
#: operation loads itself on the main model's device (the CLI and the GUI pass the path)
SlotKind = Literal["image", "rgba", "mask", "labels", "latent", "placement", "file", "model"]


class Cancelled(Exception):
    """Raised by :meth:`Progress.step` when the user cancelled; the run changes nothing."""


class OperationError(Exception):
    """A user-facing problem with an operation's inputs: the message says what to do."""


def param(
    default: Any,
    low: float | None = None,
    high: float | None = None,
    help: str = "",
    choices: tuple[Any, ...] | None = None,
) -> Any:
    """A Params field with its default, allowed range (or choices) and help text."""
    meta = {"low": low, "high": high, "help": help, "choices": choices}
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class ParamSpec:
    """What a form or a CLI flag needs to know of one Params field."""

    name: str
    type: type
    default: Any
    low: float | None
    high: float | None
    help: str
    choices: tuple[Any, ...] | None


def param_specs(params_cls: type) -> list[ParamSpec]:
    """The fields of a Params dataclass, in order, with their metadata."""
    hints = _resolved_types(params_cls)
    specs = []
    for f in dataclasses.fields(params_cls):
        m = f.metadata
        specs.append(
            ParamSpec(
                name=f.name,
                type=hints[f.name],
                default=f.default,
                low=m.get("low"),
                high=m.get("high"),
                help=m.get("help", ""),
                choices=m.get("choices"),
            )
        )
    return specs


def _resolved_types(params_cls: type) -> dict[str, type]:
    import typing

    return typing.get_type_hints(params_cls)


def validate_params(params: Any) -> None:
    """Raise :class:`OperationError` when a value is outside its declared range or choices."""
    for spec in param_specs(type(params)):
        value = getattr(params, spec.name)
        if spec.choices is not None and value not in spec.choices:
            raise OperationError(f"{spec.name}={value!r}: choose one of {list(spec.choices)}")
        if isinstance(value, float) and not math.isfinite(value):
            raise OperationError(f"{spec.name}={value}: a finite number is needed")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if spec.low is not None and value < spec.low:
                raise OperationError(f"{spec.name}={value} is below its minimum {spec.low}")
            if spec.high is not None and value > spec.high:
                raise OperationError(f"{spec.name}={value} is above its maximum {spec.high}")


#: what a slot means, beyond its kind; the GUI and the CLI read this, never the slot's name
SLOT_ROLES: dict[str, str] = {
    "": "no special meaning",
    "background": "a background picture (any size: it is fitted to the document)",
    "foreground": "a cut-out subject (colour + alpha)",
    "alpha": "an alpha matte (opaque = subject)",
    "fg_strokes": "painted strokes that are surely the subject",
    "bg_strokes": "painted strokes that are surely background",
    "unknown": "painted strokes where the edge must be worked out",
    "hole": "the region to fill",
    "reference": "a second photo's or a direction's latent or region: used only when picked",
}


@dataclass(frozen=True)
class Slot:
    """An input or output of an Operation: its name, kind, meaning, and whether it may be absent.

    ``role`` (one of :data:`SLOT_ROLES`) says what the slot means to the front ends;
    ``region`` names, for a latent slot, the placement slot holding the photo region the
    latent was made from; ``layer`` is False for an output that is a by-product the GUI does
    not add as a layer (the CLI still writes it).
    """

    name: str
    kind: SlotKind
    optional: bool = False
    help: str = ""
    multiple: bool = False  # an output holding several variants to choose from
    role: str = ""
    region: str = ""
    layer: bool = True

    def __post_init__(self) -> None:
        if self.role not in SLOT_ROLES:
            raise ValueError(f"slot {self.name!r}: unknown role {self.role!r}; known: {sorted(SLOT_ROLES)}")
        if self.region and self.kind != "latent":
            raise ValueError(f"slot {self.name!r}: only latent slots name a region")


@dataclass
class Result:
    """What an Operation returns: outputs by slot name, final metrics, and notes."""

    outputs: dict[str, Any]
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what the user should know about the result


ProgressCallback = Callable[[int, int, "np.ndarray | None", Mapping[str, float]], None]


class Progress:
    """Reports steps, previews and metrics; checks for cancellation at every step.

    ``callback(step, total, preview, metrics)`` is called for each step; previews are
    only built when :meth:`wants_preview` says so (throttled, default 10 per second).
    """

    def __init__(
        self,
        callback: ProgressCallback | None = None,
        preview_interval_s: float = 0.1,
        stage_prefix: str = "",
    ) -> None:
        self._callback = callback
        self._cancelled = False
        self._preview_interval = preview_interval_s
        self._last_preview = -1e9
        self.stage = stage_prefix
        self.history: list[tuple[int, int, dict[str, float]]] = []
        self._stage_steps: int | None = None  # the current stage's length, when it was said
        self._stage_start = 0  # the step reported last before the current stage began
        self._last_step = 0

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._cancelled

    def cancel(self) -> None:
        """Ask the running operation to stop at its next step (thread-safe flag)."""
        self._cancelled = True

    def wants_preview(self) -> bool:
        """True when a preview would be shown now (the throttle has elapsed)."""
        if self._callback is None:
            return False
        return time.monotonic() - self._last_preview >= self._preview_interval

    def step(
        self,
        i: int,
        n: int,
        preview: np.ndarray | None = None,
        metrics: Mapping[str, float] | None = None,
    ) -> None:
        """Report step ``i`` of ``n``; raise :class:`Cancelled` if the user cancelled."""
        if self._cancelled:
            raise Cancelled()
        m = dict(metrics or {})
        self.history.append((i, n, m))
        if len(self.history) > 100_000:
            del self.history[:50_000]
        if preview is not None:
            self._last_preview = time.monotonic()
        if self._callback is not None:
            self._callback(i, n, preview, m)
        self._last_step = i

    def set_stage(self, name: str, steps: int | None = None) -> None:
        """Name the current phase (e.g. "W+", "noise"); shown beside the progress bar.

        With ``steps`` (the phase's length) the bar counts within the phase ("W+: 89 / 300")
        instead of over the whole run.
        """
        self.stage = name
        self._stage_steps = None if steps is None else max(0, int(steps))
        self._stage_start = self._last_step

    @property
    def stage_length_known(self) -> bool:
        """Whether the current stage said how many steps it has (see :meth:`set_stage`)."""
        return self._stage_steps is not None

    def in_stage(self, i: int, n: int) -> tuple[int, int]:
        """Step ``i`` of ``n`` (the whole run) as (step, total) within the current stage;
        unchanged when the stage's length was not given."""
        if self._stage_steps is None:
            return i, n
        return min(max(0, i - self._stage_start), self._stage_steps), self._stage_steps


class Operation:
    """Base class of every capability. Subclasses set the class attributes and ``run``."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    description: ClassVar[str] = ""
    inputs: ClassVar[tuple[Slot, ...]] = ()
    outputs: ClassVar[tuple[Slot, ...]] = ()
    Params: ClassVar[type] = object
    needs_generator: ClassVar[bool] = True
    #: generator architectures this operation works with (empty = any)
    archs: ClassVar[tuple[str, ...]] = ()

    def run(self, gen: Any, inputs: dict[str, Any], params: Any, progress: Progress) -> Result:
        """Do the work. Must call ``progress.step`` at least once per optimisation step."""
        raise NotImplementedError

    def wants_generator(self, params: Any) -> bool:
        """Whether a run with ``params`` needs the model (``needs_generator`` unless overridden)."""
        return self.needs_generator

    def advice(self, params: Any) -> list[str]:
        """Notes on settings that run but work against each other (none unless overridden).

        Shown before the run (CLI: on stderr; GUI: in the status bar), never an error.
        """
        return []

    def default_params(self) -> Any:
        """A Params instance with every default."""
        return self.Params()

    def check_inputs(self, inputs: Mapping[str, Any]) -> None:
        """Raise :class:`OperationError` naming any required input that is missing."""
        missing = [s.name for s in self.inputs if not s.optional and inputs.get(s.name) is None]
        if missing:
            raise OperationError(f"{self.title or self.name}: missing input(s) {missing}")

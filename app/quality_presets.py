"""Quality presets for operations with optimisation steps, and run-time estimates (no Qt).

Draft, standard and best set every ``steps*`` field of an operation's Params: draft caps
each phase at 100 steps (a quick look, seconds to a minute on a CPU), standard at 300,
best uses the operation's own defaults. The CPU default is draft. An estimate is steps x
seconds per step, the rate measured on this machine for this operation and model (or a
stated guess before the first run).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from latent_atelier.editors.operation import ParamSpec

DRAFT, STANDARD, BEST, CUSTOM = "draft", "standard", "best", "custom"
PRESETS: tuple[str, ...] = (DRAFT, STANDARD, BEST)
PRESET_TITLES = {DRAFT: "Draft", STANDARD: "Standard", BEST: "Best", CUSTOM: "Custom"}
PRESET_HELP = {
    DRAFT: "at most 100 steps a phase: a quick look",
    STANDARD: "at most 300 steps a phase",
    BEST: "the operation's full step counts",
}
STEP_CAPS = {DRAFT: 100, STANDARD: 300}
#: seconds per step guessed before this machine has measured a model (64 px demo model,
#: 2-core CPU, scaled with the pixel count); the label says it is a guess
GUESS_S_PER_STEP_64PX_CPU = 0.25
GUESS_GPU_SPEEDUP = 20.0


def step_fields(specs: list[ParamSpec]) -> list[ParamSpec]:
    """The integer ``steps*`` fields of a Params class."""
    return [s for s in specs if s.name.startswith("steps") and s.type is int]


def preset_values(specs: list[ParamSpec], preset: str) -> dict[str, int]:
    """Field values of ``preset`` for the step fields among ``specs``."""
    out: dict[str, int] = {}
    for spec in step_fields(specs):
        default = int(spec.default)
        cap = STEP_CAPS.get(preset)
        out[spec.name] = default if cap is None else min(default, cap)
    return out


def preset_of(specs: list[ParamSpec], values: Mapping[str, object]) -> str:
    """Which preset ``values`` match (best first when two coincide), else CUSTOM."""
    for preset in (BEST, STANDARD, DRAFT):
        wanted = preset_values(specs, preset)
        if all(values.get(name) == value for name, value in wanted.items()):
            return preset
    return CUSTOM


def default_preset(on_cpu: bool) -> str:
    """Draft on a CPU; the operation's full settings on a GPU."""
    return DRAFT if on_cpu else BEST


def total_steps(specs: list[ParamSpec], values: Mapping[str, Any]) -> int:
    """Every step the run may take (a phase the run skips still counts: an upper bound)."""
    return sum(int(values.get(s.name, 0) or 0) for s in step_fields(specs))


@dataclass(frozen=True)
class Estimate:
    """How long a run is expected to take, and where the rate comes from."""

    seconds: float
    measured: bool

    def text(self) -> str:
        """'about 40 s (measured on this machine)' style."""
        how = "measured on this machine" if self.measured else "a guess until the first run"
        return f"{format_duration(self.seconds)} ({how})"


def estimate(steps: int, measured_s_per_step: float | None, resolution: int | None, on_cpu: bool) -> Estimate:
    """Seconds for ``steps`` at the measured rate, or at a guess scaled by resolution."""
    if measured_s_per_step is not None:
        return Estimate(steps * measured_s_per_step, True)
    per_step = GUESS_S_PER_STEP_64PX_CPU * ((resolution or 64) / 64) ** 2
    if not on_cpu:
        per_step /= GUESS_GPU_SPEEDUP
    return Estimate(steps * per_step, False)


def format_duration(seconds: float) -> str:
    """'under a second', '40 s', '3 min', '1 h 20 min'."""
    s = round(seconds)
    if s < 1:
        return "under a second"
    if s < 90:
        return f"about {s} s"
    if s < 3600:
        return f"about {round(s / 60)} min"
    return f"about {s // 3600} h {round(s % 3600 / 60)} min"

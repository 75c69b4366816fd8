"""Running a ``train`` mode from the command line: settings checked, a tqdm progress bar
(one, or one per stage), and bad settings or files reported on stderr as exit status 2."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

#: what the trainers raise for a bad run folder, missing data or settings that cannot work
TRAIN_ERRORS: tuple[type[Exception], ...] = (FileExistsError, FileNotFoundError, ValueError)

T = TypeVar("T")


class _Config(Protocol):
    def validate(self) -> None: ...


class StageBars:
    """A progress callback drawing one tqdm bar per stage (``logs["stage"]``, default 1),
    with the losses named ``keys`` beside it. A stage's bar opens at its first step, or
    (given ``total``) the main stage's as soon as the settings are checked."""

    def __init__(
        self,
        name: Callable[[float], str],
        keys: tuple[str, ...],
        digits: int = 3,
        total: int | None = None,
    ) -> None:
        self.name, self.keys, self.digits, self.total = name, keys, digits, total
        self.bars: dict[float, Any] = {}

    def open(self, total: int, stage: float = 1.0) -> None:
        """Close the bars so far and open the one of ``stage``."""
        from tqdm import tqdm

        self.close()
        self.bars[stage] = tqdm(total=total, desc=self.name(stage), unit="it", dynamic_ncols=True)

    def __call__(self, step: int, total: int, logs: dict[str, float]) -> None:
        stage = logs.get("stage", 1.0)
        if stage not in self.bars:
            self.open(total, stage)
        bar = self.bars[stage]
        if bar.n == 0 and step > 1:
            bar.update(step - 1)  # a resumed run
        bar.update(1)
        bar.set_postfix({k: f"{logs[k]:.{self.digits}f}" for k in self.keys if k in logs}, refresh=False)

    def close(self) -> None:
        """Close every bar."""
        for bar in self.bars.values():
            bar.close()


def run_training(
    config: _Config,
    train: Callable[[Any, StageBars], T],
    bars: StageBars,
    errors: tuple[type[Exception], ...] = TRAIN_ERRORS,
) -> T | None:
    """Validate ``config`` and ``train(config, bars)``; None after saying on stderr why not."""
    try:
        config.validate()
    except ValueError as exc:
        print(f"train: {exc}", file=sys.stderr)
        return None
    if bars.total is not None:
        bars.open(bars.total)
    try:
        return train(config, bars)
    except errors as exc:
        bars.close()
        print(f"train: {exc}", file=sys.stderr)
        return None
    finally:
        bars.close()

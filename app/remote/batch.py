"""Run one Operation over many photos in parallel, on local worker processes or remote workers.

Each photo's results go to ``out_dir/<photo stem>/`` as soon as it finishes, followed by a
``.done`` marker that records the source and the settings; a rerun with the same settings
skips every photo whose marker is there (an interrupted batch resumes). One progress bar
counts photos; failures are collected and summed up at the end instead of stopping the batch.
At most ``2 x workers`` photos are read and in flight at once, so memory stays bounded.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from latent_atelier.app.remote.session import RemoteSession, params_dict
from latent_atelier.editors.operation import Operation, Progress, Result

MARKER = ".done"
IN_FLIGHT_PER_WORKER = 2


@dataclass
class BatchReport:
    """What a batch did: photos done now, skipped as already done, and failures."""

    done: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        """One line, then one line per failure."""
        lines = [
            f"batch: {len(self.done)} done, {len(self.skipped)} already done (skipped), "
            f"{len(self.failed)} failed in {self.seconds:.1f}s"
        ]
        lines += [f"  failed {path}: {message}" for path, message in self.failed]
        return "\n".join(lines)


def output_folders(files: Sequence[Path], out_dir: Path) -> list[Path]:
    """``out_dir/<stem>`` per file; the parent folder's name is added where two stems clash."""
    stems = [f.stem for f in files]
    return [out_dir / (f"{f.parent.name}_{f.stem}" if stems.count(f.stem) > 1 else f.stem) for f in files]


def _marker_text(op_name: str, source: Path, params: dict[str, Any], model: str) -> str:
    return json.dumps(
        {"operation": op_name, "source": str(source.resolve()), "params": params, "model": model},
        sort_keys=True,
        default=str,
    )


def is_done(folder: Path, expected: str) -> bool:
    """True when ``folder`` holds a marker written for exactly this run's settings."""
    try:
        return (folder / MARKER).read_text() == expected
    except OSError:
        return False


@dataclass
class BatchPlan:
    """The photos still to run (path, output folder, marker text) and those already done."""

    todo: list[tuple[Path, Path, str]]
    skipped: list[Path]
    params: dict[str, Any]


def plan_batch(
    op_name: str, files: Sequence[str | Path], params: Any, out_dir: str | Path, model: str | None
) -> BatchPlan:
    """Which of ``files`` still need a run with these settings (see the module docstring)."""
    paths = [Path(f) for f in files]
    param_dict = params_dict(params)
    todo, skipped = [], []
    for path, folder in zip(paths, output_folders(paths, Path(out_dir))):
        marker = _marker_text(op_name, path, param_dict, str(model))
        if is_done(folder, marker):
            skipped.append(path)
        else:
            todo.append((path, folder, marker))
    return BatchPlan(todo, skipped, param_dict)


def run_batch(
    op: Operation,
    plan: BatchPlan,
    read_photo: Callable[[Path], dict[str, Any]],
    write: Callable[[Result, Path], list[Path]],
    session: RemoteSession,
    *,
    model: str | None = None,
    device: str | None = None,
    needs_model: bool = True,
    show_bar: bool = True,
) -> BatchReport:
    """Run ``op`` on every photo ``plan`` still holds, through ``session``'s workers.

    ``read_photo(path)``: the inputs for one file. ``write(result, folder)``: writes one
    result, returns the files. ``model``: the model spec as the CLI takes it.
    """
    from tqdm import tqdm

    from latent_atelier.editors.operation import Cancelled

    t0 = time.perf_counter()
    report = BatchReport(skipped=list(plan.skipped))
    todo, param_dict = plan.todo, plan.params
    bar = tqdm(
        total=len(todo), desc=op.name, unit="photo", file=sys.stderr, disable=not show_bar, dynamic_ncols=True
    )
    limit = max(1, IN_FLIGHT_PER_WORKER * max(session.n_workers, 1))
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    running: list[Progress] = []

    def one(path: Path, folder: Path, marker: str) -> Path:
        progress = Progress(None)
        running.append(progress)
        inputs = read_photo(path)
        result = session.run(
            op.name, inputs, param_dict, progress, spec=model, device=device, needs_model=needs_model
        )
        folder.mkdir(parents=True, exist_ok=True)
        (folder / MARKER).unlink(missing_ok=True)
        write(result, folder)
        (folder / MARKER).write_text(marker)
        return path

    pool = ThreadPoolExecutor(max_workers=limit)
    pending: dict[Any, Path] = {}
    queue = list(reversed(todo))
    try:
        while queue or pending:
            while queue and len(pending) < limit:
                path, folder, marker = queue.pop()
                pending[pool.submit(one, path, folder, marker)] = path
            finished, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            for fut in finished:
                path = pending.pop(fut)
                try:
                    report.done.append(fut.result())
                except Cancelled:
                    report.failed.append((path, "cancelled"))
                except Exception as exc:  # one photo's failure never stops the batch
                    report.failed.append((path, str(exc) or type(exc).__name__))
                bar.update(1)
                bar.set_postfix(failed=len(report.failed), refresh=False)
    finally:
        for fut in pending:
            fut.cancel()
        for progress in running:  # an interrupted batch stops its jobs at their next step
            progress.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
        bar.close()
        report.seconds = time.perf_counter() - t0
    return report

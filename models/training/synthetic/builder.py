"""Build the synthetic portrait dataset: Node renders SVGs in bulk, a process pool rasterises."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import islice
from pathlib import Path

import numpy as np

from .parts import LABEL_NAMES, STYLES
from .sample import SvgRecord, render_batch
from .svg_sources import NodeSvgSource, SvgSource

FORMAT = "latent-atelier-portraits"
SUPPORTED_SIZES = (64, 128, 256)
#: Eval sample ids start here, so they never meet train ids (0 .. n_train-1).
EVAL_ID_OFFSET = 1_000_000_000
_CHUNK = 64
_ARRAYS = {"images": 3, "alpha": 0, "labels": 0}

ProgressFn = Callable[[str, int, int], None]


def shard_path(split_dir: Path, kind: str, shard: int) -> Path:
    """File of one shard's array (kind: images, alpha or labels)."""
    return split_dir / f"{kind}_{shard:05d}.npy"


def _chunks(records: Iterator[SvgRecord], size: int) -> Iterator[list[SvgRecord]]:
    while chunk := list(islice(records, size)):
        yield chunk


class _ShardWriter:
    """Writes consecutive samples of one split into fixed-size .npy shards."""

    def __init__(self, split_dir: Path, count: int, size: int, shard_size: int) -> None:
        self.split_dir, self.size, self.shard_size = split_dir, size, shard_size
        self.counts = [min(shard_size, count - s) for s in range(0, count, shard_size)]
        self.open: dict[int, dict[str, np.ndarray]] = {}
        self.written = 0

    def _shard(self, index: int) -> dict[str, np.ndarray]:
        if index not in self.open:
            for old in list(self.open):
                self._close(old)
            n, s = self.counts[index], self.size
            self.open[index] = {
                kind: np.lib.format.open_memmap(
                    shard_path(self.split_dir, kind, index),
                    mode="w+",
                    dtype=np.uint8,
                    shape=(n, s, s, ch) if ch else (n, s, s),
                )
                for kind, ch in _ARRAYS.items()
            }
        return self.open[index]

    def _close(self, index: int) -> None:
        for arr in self.open.pop(index).values():
            arr.flush()  # type: ignore[attr-defined]

    def write(self, arrays: tuple[np.ndarray, ...]) -> None:
        done = 0
        n = len(arrays[0])
        while done < n:
            shard, offset = divmod(self.written, self.shard_size)
            take = min(n - done, self.counts[shard] - offset)
            dest = self._shard(shard)
            for kind, arr in zip(_ARRAYS, arrays, strict=True):
                dest[kind][offset : offset + take] = arr[done : done + take]
            done += take
            self.written += take

    def close(self) -> None:
        for index in list(self.open):
            self._close(index)


def _build_split(
    source: SvgSource,
    split_dir: Path,
    name: str,
    start: int,
    count: int,
    seed: int,
    size: int,
    workers: int,
    shard_size: int,
    progress: ProgressFn | None,
) -> dict:
    split_dir.mkdir(parents=True)
    writer = _ShardWriter(split_dir, count, size, shard_size)
    styles: Counter[str] = Counter()
    pending: deque[Future] = deque()
    pool = ProcessPoolExecutor(workers) if workers > 1 else None

    def drain(limit: int) -> None:
        while len(pending) > limit:
            writer.write(pending.popleft().result())
            if progress:
                progress(name, writer.written, count)

    try:
        for chunk in _chunks(source.records(seed, start, count), _CHUNK):
            styles.update(r.style for r in chunk)
            if pool is None:
                writer.write(render_batch(chunk, seed, size))
                if progress:
                    progress(name, writer.written, count)
                continue
            pending.append(pool.submit(render_batch, chunk, seed, size))
            drain(4 * workers)
        drain(0)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        writer.close()
    if writer.written != count:
        raise RuntimeError(f"{name}: wrote {writer.written} of {count} samples")
    meta = {
        "format": FORMAT,
        "split": name,
        "seed": seed,
        "size": size,
        "count": count,
        "id_start": start,
        "shard_size": shard_size,
        "shard_counts": writer.counts,
        "style_counts": dict(sorted(styles.items())),
        "label_names": list(LABEL_NAMES),
    }
    (split_dir / "meta.json").write_text(json.dumps(meta, indent=2))
    return meta


def build_dataset(
    out_dir: str | Path,
    n_train: int = 30000,
    n_eval: int = 500,
    size: int = 128,
    seed: int = 0,
    workers: int = 2,
    *,
    shard_size: int = 5000,
    source: SvgSource | None = None,
    overwrite: bool = False,
    progress: ProgressFn | None = None,
) -> Path:
    """Render the train and held-out eval splits into out_dir; returns out_dir.

    Layout: out_dir/meta.json, out_dir/{train,eval}/meta.json and per shard
    images_NNNNN.npy (N,S,S,3), alpha_NNNNN.npy (N,S,S), labels_NNNNN.npy (N,S,S), uint8.
    Deterministic from seed; eval ids start at EVAL_ID_OFFSET so the splits are disjoint.
    """
    if size not in SUPPORTED_SIZES:
        raise ValueError(f"size must be one of {SUPPORTED_SIZES}, got {size}")
    if not 0 < n_train < EVAL_ID_OFFSET or n_eval < 0:
        raise ValueError(f"need 0 < n_train < {EVAL_ID_OFFSET} and n_eval >= 0")
    if shard_size < 1 or workers < 1:
        raise ValueError("shard_size and workers must be at least 1")
    out = Path(out_dir)
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} exists; pick another folder or pass overwrite=True")
    source = source if source is not None else NodeSvgSource()
    tmp = out.with_name(out.name + ".building")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    started = time.perf_counter()
    splits = {}
    for name, start, count in (("train", 0, n_train), ("eval", EVAL_ID_OFFSET, n_eval)):
        splits[name] = _build_split(
            source, tmp / name, name, start, count, seed, size, workers, shard_size, progress
        )
    meta = {
        "format": FORMAT,
        "version": 1,
        "seed": seed,
        "size": size,
        "counts": {k: v["count"] for k, v in splits.items()},
        "splits": {k: {"folder": k, "id_start": v["id_start"]} for k, v in splits.items()},
        "styles": list(STYLES),
        "label_names": list(LABEL_NAMES),
        "licenses": "resources/LICENSES (DiceBear styles, scikit-image sample photos)",
        "build_seconds": round(time.perf_counter() - started, 1),
        "workers": workers,
        "cpu_count": os.cpu_count(),
    }
    (tmp / "meta.json").write_text(json.dumps(meta, indent=2))
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)
    return out

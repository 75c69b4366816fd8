"""The dual-domain results file: sections merged by several writers keep each other's figures."""

from __future__ import annotations

import json
from multiprocessing import get_context

import pytest

import benchmarks.bench_dual_domain as bench


def _add_bound(args: tuple[str, str]) -> None:
    path, key = args
    bench.RESULT = bench.Path(path)
    bench.merge("ceiling", lambda current: {"bounds": {**current.get("bounds", {}), key: 1.0}})


@pytest.fixture
def results_file(tmp_path, monkeypatch):
    path = tmp_path / "dual_domain.json"
    monkeypatch.setattr(bench, "RESULT", path)
    return path


def test_a_section_is_replaced_and_the_others_kept(results_file) -> None:
    bench.merge("a", {"x": 1})
    bench.merge("b", {"y": 2})
    bench.merge("a", {"x": 3})
    figures = json.loads(results_file.read_text())["figures"]
    assert figures == {"a": {"x": 3}, "b": {"y": 2}}


def test_an_update_function_sees_the_section_as_it_is_under_the_lock(results_file) -> None:
    keys = [f"bound{i}" for i in range(6)]
    with get_context("spawn").Pool(3) as pool:
        pool.map(_add_bound, [(str(results_file), k) for k in keys])
    bounds = json.loads(results_file.read_text())["figures"]["ceiling"]["bounds"]
    assert sorted(bounds) == keys  # no writer dropped another's bound

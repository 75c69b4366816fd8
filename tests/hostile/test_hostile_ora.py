"""Hostile and broken .ora projects: each is refused with a clear ProjectError, within a
memory budget and a time bound, and a legitimate project still opens afterwards."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hostile_harness import assert_refused, report, run_cases
from hostile_projects import build_hostile_projects

#: growth of the process's peak RSS (and of traced allocations) allowed per hostile file;
#: what they ask for is 1-14 GB
BUDGET_MB = 200


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> dict[str, Path]:
    return build_hostile_projects(tmp_path_factory.mktemp("ora"))


EXPECTED = {
    "huge_mask": r"30000 x 30000 px .*limit is 67\.1 megapixels",
    "huge_layer": r"16384 x 16384 px",
    "huge_document": r"document cannot be opened: it is 16384 x 16384 px",
    "huge_extra": r"blob\.bin' is 3\.0 GB unpacked; the limit is 64\.0 MB",
    "latent_zeros": r"latent.* the limit is 256\.0 MB",
    "utf16_entity": r"DTD or entities",
    "billion_laughs": r"DTD or entities",
    "many_layers": r"need more than .* of memory",
    "shared_entry": r"two layers use the entry 'data/l\.png'",
    "deep_stacks": r"nested more than (32|64) deep",
    "not_png": r"data/a\.png is not a PNG image",
    "many_entries": r"it has 30002 entries; the limit is 20000",
}


def test_hostile_projects_are_refused_within_budget_and_a_good_one_still_opens(hostile, tmp_path):
    from latent_atelier.app.document.document import Document
    from latent_atelier.app.document.ora import save_ora

    good = tmp_path / "good.ora"
    doc = Document.from_image(np.random.default_rng(0).random((48, 64, 3), dtype=np.float32))
    save_ora(doc, good)
    cases = {name: f"load_ora({str(path)!r})" for name, path in hostile.items()}
    cases["good_after"] = f"d = load_ora({str(good)!r}); result = [d.width, d.height, len(d.layers)]"
    results = run_cases(tmp_path, cases, preload="from latent_atelier.app.document.ora import load_ora")
    print(report(results))
    for name, pattern in EXPECTED.items():
        assert_refused(results[name], "ProjectError", pattern, BUDGET_MB)
        assert str(hostile[name]) in results[name]["error"]  # the message names the file
    assert results["good_after"]["error_type"] is None, results["good_after"]
    assert results["good_after"]["result"] == [64, 48, 1]


def test_hostile_files_are_small(hostile):
    for name, path in hostile.items():
        assert path.stat().st_size < 4 << 20, name

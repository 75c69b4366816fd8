"""Run hostile cases in a subprocess (see probe.py) and check the common promises."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
PROBE = HERE / "probe.py"
#: generous for a 2-core machine shared with other jobs: the point is "seconds, not forever"
TIME_BOUND_S = 30.0


def run_cases(tmp_path: Path, cases: dict[str, str], preload: str = "", timeout: float = 300) -> dict:
    """``{name: result}`` for each case's code, run one after the other in one process
    (one process per case where the peak RSS cannot be reset)."""
    results = _run(tmp_path, cases, preload, timeout)
    if results and not all(r["peak_reset"] for r in results.values()):
        results = {}
        for name, code in cases.items():
            results.update(_run(tmp_path, {name: code}, preload, timeout))
    return results


def _run(tmp_path: Path, cases: dict[str, str], preload: str, timeout: float) -> dict:
    spec = tmp_path / "probe-cases.json"
    spec.write_text(json.dumps({"preload": preload, "cases": cases}))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run(
        [sys.executable, str(PROBE), str(spec)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=tmp_path,
        env=env,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("PROBE ")]
    assert proc.returncode == 0 and lines, f"probe crashed ({proc.returncode}): {proc.stderr[-3000:]}"
    return json.loads(lines[-1][len("PROBE ") :])


def assert_refused(result: dict, error_type: str, pattern: str, budget_mb: float) -> None:
    """The case raised ``error_type`` with ``pattern`` in its message, within the memory
    budget (RSS growth and traced Python/numpy allocations) and the time bound."""
    import re

    assert result["error_type"] == error_type, result
    assert re.search(pattern, result["error"]), result["error"]
    assert result["rss_growth_mb"] < budget_mb, result
    assert result["traced_peak_mb"] < budget_mb, result
    assert result["seconds"] < TIME_BOUND_S, result
    assert "Traceback" not in result["error"]


def report(results: dict) -> str:
    """One line per case: what pytest prints with -s (measured figures for the notes)."""
    return "\n".join(
        f"{name}: {r['error_type']} rss+{r['rss_growth_mb']:.0f} MB traced {r['traced_peak_mb']:.0f} MB "
        f"{r['seconds']:.2f} s"
        for name, r in results.items()
    )

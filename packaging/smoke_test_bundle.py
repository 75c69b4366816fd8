"""Smoke-test a built bundle offscreen: the editor starts and quits, and the bundle's CLI
runs a 2-step embed (which needs the VGG-16 weights) and, when the face models are in the
bundle, aligns the sample face. Prints and saves the bundle's size
and the times (``benchmarks/results/bundle_smoke.json``); exits 1 on any failure.

    python packaging/smoke_test_bundle.py [dist/latent-atelier]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "bundle_smoke.json"
TIMEOUT_S = 600


def folder_size(folder: Path) -> int:
    """Bytes of every file under ``folder``."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess]:
    """Run ``cmd``; (wall seconds, result)."""
    t0 = time.perf_counter()
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    return time.perf_counter() - t0, result


def main(argv: list[str]) -> int:
    dist = Path(argv[0] if argv else ROOT / "dist" / "latent-atelier")
    gui, cli = dist / "latent-atelier", dist / "latent-atelier-cli"
    for program in (gui, cli):
        if not program.is_file():
            print(f"FAIL: {program} is missing (build with make bundle)", file=sys.stderr)
            return 1
    tmp = Path(tempfile.mkdtemp(prefix="la-bundle-"))
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        XDG_CONFIG_HOME=str(tmp / "config"),
        XDG_STATE_HOME=str(tmp / "state"),
        XDG_CACHE_HOME=str(tmp / "cache"),
        HOME=str(tmp),
        LATENT_ATELIER_DEVICE="cpu",
    )
    env.pop("LATENT_ATELIER_RESOURCES", None)
    env.pop("PYTHONPATH", None)
    report: dict[str, object] = {
        "bundle": str(dist),
        "size_mb": round(folder_size(dist) / 2**20, 1),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }
    failures: list[str] = []

    seconds, result = timed([str(gui), "--quit-after-start"], env)
    report["gui_start_and_quit_s"] = round(seconds, 2)
    if result.returncode != 0 or "window shown" not in result.stdout:
        failures.append(f"the editor did not start: rc {result.returncode}\n{result.stderr[-2000:]}")

    # the same start from the source tree, measured in the same run (the machine may be busy)
    seconds, result = timed(
        [sys.executable, "-m", "latent_atelier.app.qt.main", "--quit-after-start"],
        dict(env, PYTHONPATH=str(ROOT)),
    )
    report["source_start_and_quit_s"] = round(seconds, 2)
    if result.returncode == 0 and seconds > 0:
        report["bundle_vs_source_start"] = round(report["gui_start_and_quit_s"] / seconds, 2)

    sample = dist / "_internal" / "latent_atelier" / "resources" / "samples" / "astronaut.png"
    if not sample.is_file():
        sample = next(dist.rglob("astronaut.png"), sample)
    out = tmp / "embed"
    seconds, result = timed(
        [str(cli), "embed", str(sample), "--steps-w", "2", "--steps-noise", "2", "--out-dir", str(out)], env
    )
    report["cli_embed_2_steps_s"] = round(seconds, 2)
    written = sorted(p.name for p in out.glob("*")) if out.is_dir() else []
    report["cli_embed_wrote"] = written
    if result.returncode != 0 or not any(name.endswith(".npz") for name in written):
        failures.append(f"the CLI embed failed: rc {result.returncode}\n{result.stderr[-2000:]}")

    if (dist / "_internal" / "mediapipe").is_dir():  # the face models came along: align
        seconds, result = timed([str(cli), "align", str(sample), "--out-dir", str(tmp / "align")], env)
        report["cli_align_s"] = round(seconds, 2)
        if result.returncode != 0 or "faces: 1" not in result.stdout:
            failures.append(f"the CLI align failed: rc {result.returncode}\n{result.stderr[-2000:]}")

    report["passed"] = not failures
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report, indent=1))
    for failure in failures:
        print("FAIL:", failure, file=sys.stderr)
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

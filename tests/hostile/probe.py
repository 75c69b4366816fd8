"""Run hostile cases in a fresh process and measure each: ``python probe.py cases.json``.

Each case is Python code run after its own reset of the peak RSS (``/proc/self/clear_refs``)
with tracemalloc on; the code's exception (type and message), its peak memory growth and
its time go to stdout as one JSON line. Without clear_refs only the first case is measured
fairly, so the harness then runs one case per process.
"""

from __future__ import annotations

import json
import sys
import time
import tracemalloc


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def run_case(code: str, namespace: dict, traced: bool = True) -> dict:
    can_reset = _reset_peak()
    base = _status_kb("VmRSS")
    if traced:
        tracemalloc.start()
    t0 = time.perf_counter()
    error_type, message = None, ""
    try:
        exec(code, namespace)  # the test files' own code
    except BaseException as exc:  # what was raised is the measurement
        error_type, message = type(exc).__name__, str(exc)
    seconds = time.perf_counter() - t0
    _cur, traced_peak = tracemalloc.get_traced_memory() if traced else (0, 0)
    tracemalloc.stop()
    peak = _status_kb("VmHWM")
    return {
        "error_type": error_type,
        "error": message,
        "rss_growth_mb": max(0, peak - base) / 1024,
        "traced_peak_mb": traced_peak / 2**20,
        "seconds": seconds,
        "peak_reset": can_reset,
        "result": namespace.get("result"),
    }


def main() -> None:
    with open(sys.argv[1]) as fh:
        spec = json.load(fh)
    namespace: dict = {}
    exec(spec.get("preload", ""), namespace)
    out = {}
    for name, code in spec["cases"].items():
        namespace.pop("result", None)
        # legitimate loads after the hostile ones run untraced (tracemalloc slows torch 10x)
        out[name] = run_case(code, namespace, traced=not name.startswith("good"))
    print("PROBE " + json.dumps(out, default=str), flush=True)


if __name__ == "__main__":
    main()

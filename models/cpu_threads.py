"""How many CPU threads torch should use, decided without importing torch (the GUI asks at start)."""

from __future__ import annotations

import os

THREADS_ENV_VAR = "LATENT_ATELIER_THREADS"
MAX_THREADS = 1024


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def check_threads(threads: object, source: str = "threads") -> int:
    """``threads`` as an int in 1..MAX_THREADS, or a ValueError that says what to give."""
    try:
        n = int(str(threads).strip())
    except ValueError:
        raise ValueError(
            f"{source} must be a whole number of CPU threads (1..{MAX_THREADS}), not {threads!r}"
        ) from None
    if not 1 <= n <= MAX_THREADS:
        raise ValueError(
            f"{source} must be 1..{MAX_THREADS} CPU threads, not {n} "
            f"(this machine has {available_cores()} cores)"
        )
    return n


def default_threads() -> int:
    """``$LATENT_ATELIER_THREADS`` when set, else ``$OMP_NUM_THREADS`` (the usual way to pin a
    process's threads), else every available core."""
    env = os.environ.get(THREADS_ENV_VAR, "").strip()
    if env:
        return check_threads(env, f"${THREADS_ENV_VAR}")
    omp = os.environ.get("OMP_NUM_THREADS", "").strip()
    if omp.isdigit() and 1 <= int(omp) <= MAX_THREADS:
        return int(omp)
    return available_cores()

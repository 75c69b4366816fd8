"""Networks and weights: generators, checkpoints, perceptual features. Knows nothing of editors or app."""

import os as _os

# Idle OpenMP threads sleep instead of spinning. Set before torch loads its OpenMP runtime
# (the app, the CLI and the benchmarks import this package first): with every core in use
# (models.devices' thread policy), spinning threads starve each other whenever the machine
# has other work; on a busy 2-core machine 2 spinning threads ran 4x slower than 1, while
# 2 passive threads ran 1.5-2x faster than 1 (benchmarks/bench_speed.py).
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

"""Keep native libraries' log lines off the terminal (no Qt, no torch).

The face models (MediaPipe, TensorFlow Lite) write glog/absl lines straight to file
descriptor 2 ("Created TensorFlow Lite XNNPACK delegate", "inference_feedback_manager.cc",
...), past Python's ``sys.stderr``. While a command runs, descriptor 2 points at a temporary
file and ``sys.stderr`` at the real terminal, so progress bars, notes and errors still show
and the native lines do not. If the command fails, the last of them are printed after the
error, where they may help. ``LATENT_ATELIER_NATIVE_LOGS=1`` turns this off.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator

ENV_SHOW = "LATENT_ATELIER_NATIVE_LOGS"


@contextlib.contextmanager
def native_logs_hidden() -> Iterator[None]:
    """Run the body with native writes to stderr kept in a temporary file."""
    if os.environ.get(ENV_SHOW) == "1":
        yield
        return
    try:
        sys.stderr.flush()
        terminal_fd = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no real stderr (embedded, closed)
        yield
        return
    python_stderr = sys.stderr
    # Python's stderr is descriptor 2 on a terminal; when it is something else (a capture in
    # tests, an IDE's console) it is left alone and only the native writes are diverted
    try:
        follows_fd2 = python_stderr.fileno() == 2
    except (OSError, ValueError, AttributeError):
        follows_fd2 = False
    with tempfile.TemporaryFile() as log:
        os.dup2(log.fileno(), 2)
        if follows_fd2:
            sys.stderr = open(  # noqa: SIM115  (closed in the finally below)
                terminal_fd,
                "w",
                buffering=1,
                closefd=False,
                encoding=getattr(python_stderr, "encoding", None) or "utf-8",
                errors="backslashreplace",
            )
        try:
            yield
        finally:
            if follows_fd2:
                sys.stderr.flush()
                sys.stderr.close()
                sys.stderr = python_stderr
            os.dup2(terminal_fd, 2)
            os.close(terminal_fd)

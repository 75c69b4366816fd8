"""No temp-file litter after interrupted saves; the segment count limit says what it is."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from latent_atelier.app.document.document import Document
from latent_atelier.app.document.ora import save_ora
from latent_atelier.app.document.recovery import RecoveryStore


def _killed_mid_save(folder, name: str) -> None:
    """A process that dies (SIGKILL) in the middle of an atomic write of ``folder/name``."""
    script = textwrap.dedent(f"""
        import os, signal
        from latent_atelier.models.atomic import atomic_open
        with atomic_open({str(folder / name)!r}) as fh:
            fh.write(b"half a project")
            fh.flush()
            os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()


def test_the_next_save_removes_what_an_interrupted_save_left(tmp_path):
    doc = Document.from_image(np.zeros((8, 8, 3), np.float32))
    save_ora(doc, tmp_path / "work.ora")
    _killed_mid_save(tmp_path, "work.ora")
    stale = list(tmp_path.glob(".work.ora.*.tmp"))
    assert len(stale) == 1  # what the kill left
    legacy = tmp_path / ".work.ora.abcdef.tmp"  # an older writer's name, without a pid
    legacy.write_bytes(b"x")
    old = time.time() - 3600
    os.utime(legacy, (old, old))
    fresh_other = tmp_path / f".work.ora.{os.getppid()}-zzzz.tmp"  # a live process's save
    fresh_other.write_bytes(b"y")
    other_file = tmp_path / ".other.ora.1-aaaa.tmp"  # another project's: left for its own save
    other_file.write_bytes(b"z")
    save_ora(doc, tmp_path / "work.ora")
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted([fresh_other.name, other_file.name, "work.ora"])


def test_start_up_cleans_the_recovery_folder_and_never_lists_temp_files(tmp_path):
    store = RecoveryStore(tmp_path, session_id="111-dead")
    doc = Document.from_image(np.zeros((8, 8, 3), np.float32))
    store.write(store.snapshot(doc))
    _killed_mid_save(tmp_path, "222-dead.ora")
    _killed_mid_save(tmp_path, "222-dead.json")
    assert len(list(tmp_path.glob(".*.tmp"))) == 2
    fresh = RecoveryStore(tmp_path)  # the next start
    assert [e.session_id for e in fresh.list()] == ["111-dead"]
    fresh.crashed()
    assert not list(tmp_path.glob(".*.tmp"))


def test_too_many_segments_are_refused_with_the_limit():
    from latent_atelier.editors.inversion.segments import invert_segments, max_segments
    from latent_atelier.editors.operation import OperationError
    from latent_atelier.models.zoo import load_model

    gen = load_model("random:stylegan2:32:0:32", "cpu")
    labels = np.arange(32 * 32, dtype=np.int32).reshape(32, 32) % 300 + 1  # 300 segments
    target = np.zeros((32, 32, 3), np.float32)
    with pytest.raises(OperationError, match=r"300 segments: at most 64 can be inverted together at 32 px"):
        invert_segments(gen, target, labels)
    assert max_segments(128) == 64 and max_segments(256) == 16 and max_segments(1024) == 8


def test_a_direction_file_declaring_74_gb_is_refused_before_numpy_allocates(tmp_path):
    import io

    from latent_atelier.editors.inversion.directions import DirectionError, load_direction
    from latent_atelier.models.zoo import load_model

    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": "<f4", "fortran_order": False, "shape": (100_000, 200_000)}
    )
    path = tmp_path / "direction.npy"
    path.write_bytes(buf.getvalue() + bytes(64))
    gen = load_model("random:stylegan2:32:0:32", "cpu")
    refused = r"direction\.npy.*declares 74\.5 GB of data but 64 bytes follow"
    with pytest.raises(DirectionError, match=refused):
        load_direction(path, gen)


@pytest.mark.parametrize(
    "spec", ["random:stylegan2:1048576", "random:stylegan2:48", "random:stylegan2:32:0:100000"]
)
def test_a_random_model_spec_beyond_the_limits_is_refused(spec):
    from latent_atelier.models.zoo import load_model

    with pytest.raises(ValueError, match=r"random model (size|width)"):
        load_model(spec, "cpu")


def test_journals_of_a_session_that_never_autosaved_are_removed_at_start(tmp_path):
    orphan = tmp_path / "999999999-dead.000000.journal"
    orphan.write_bytes(b"LAJ1")
    alive = tmp_path / f"{os.getpid()}-live.000000.journal"  # a running session's: kept
    alive.write_bytes(b"LAJ1")
    RecoveryStore(tmp_path).crashed()
    assert not orphan.exists() and alive.exists()

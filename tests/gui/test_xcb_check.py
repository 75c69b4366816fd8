"""`make app` checks Qt's xcb libraries first and prints the one apt-get line that fixes
what is missing (scripts/check_xcb.py)."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "check_xcb.py"
LDD_OUT = """\
\tlinux-vdso.so.1 (0x00007ffc)
\tlibQt6XcbQpa.so.6 => /x/PySide6/Qt/lib/libQt6XcbQpa.so.6 (0x00007f)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibxcb-cursor.so.0 => not found
\tlibxcb-icccm.so.4 => not found
\tlibfoo-bar.so.2 => not found
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)
"""


@pytest.fixture
def check_xcb():
    spec = importlib.util.spec_from_file_location("check_xcb", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_missing_libraries_become_one_apt_get_line(check_xcb) -> None:
    missing = check_xcb.missing_libraries(LDD_OUT)
    assert missing == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libxcb-cursor.so.0", "libfoo-bar.so.2"]
    assert check_xcb.apt_line(missing) == (
        "sudo apt-get install -y libfoo-bar2 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1"
    )


def test_check_reports_every_missing_library(check_xcb, monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    plugin = tmp_path / "libqxcb.so"
    plugin.write_bytes(b"")
    calls: list[list[str]] = []

    def fake_run(cmd, **_kw):  # type: ignore[no-untyped-def]
        calls.append(cmd)
        out = LDD_OUT if cmd[-1] == str(plugin) else "\tlibxcb-image.so.0 => not found\n"
        return subprocess.CompletedProcess(cmd, 0, out, "")

    monkeypatch.setattr(check_xcb.subprocess, "run", fake_run)
    ok, message = check_xcb.check(plugin)
    assert not ok
    assert "libxcb-icccm4" in message and "libxcb-image0" in message  # Qt's xcb library too
    assert message.count("apt-get install") == 1
    assert len(calls) == 2


def test_no_check_for_other_platforms(check_xcb, monkeypatch) -> None:
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert check_xcb.check() == (True, "")

"""Check that Qt's xcb platform plugin finds its system libraries before the editor starts.

``make app`` runs this first. Qt's own message when a library is missing names only one of
them (and not always the right one); this lists every missing library of the plugin (via
``ldd``) and prints the one ``apt-get install`` line that brings them all.

Exit status: 0 when everything is there (or the check does not apply: another platform
plugin was asked for, or not Linux), 1 with the fix printed otherwise.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

#: library file -> the Debian/Ubuntu package that ships it
DEBIAN_PACKAGES = {
    "libxcb.so.1": "libxcb1",
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-xinput.so.0": "libxcb-xinput0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libGLX.so.0": "libglx0",
    "libGLdispatch.so.0": "libglvnd0",
    "libOpenGL.so.0": "libopengl0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libdbus-1.so.3": "libdbus-1-3",
    "libXau.so.6": "libxau6",
    "libXdmcp.so.6": "libxdmcp6",
}
NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found", re.MULTILINE)


def xcb_plugin() -> Path | None:
    """Qt's xcb platform plugin inside the installed PySide6 (None when absent)."""
    import importlib.util

    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    base = Path(next(iter(spec.submodule_search_locations)))
    plugin = base / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    return plugin if plugin.is_file() else None


def missing_libraries(ldd_output: str) -> list[str]:
    """The library names ``ldd`` reported as 'not found', each once, in order."""
    seen: list[str] = []
    for name in NOT_FOUND.findall(ldd_output):
        if name not in seen:
            seen.append(name)
    return seen


def package_for(library: str) -> str:
    """The Debian package for a library file (a guess from its name when not in the table)."""
    if library in DEBIAN_PACKAGES:
        return DEBIAN_PACKAGES[library]
    stem, _, version = library.partition(".so.")
    name = stem.lower().replace("_", "-")
    if version:
        name += ("-" if name[-1].isdigit() else "") + version.split(".")[0]
    return name


def apt_line(libraries: list[str]) -> str:
    """The one command that installs every missing library."""
    packages = sorted({package_for(lib) for lib in libraries})
    return "sudo apt-get install -y " + " ".join(packages)


def check(plugin: Path | None = None) -> tuple[bool, str]:
    """(ok, message) for the xcb plugin's libraries on this machine."""
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if not sys.platform.startswith("linux") or (platform and not platform.startswith("xcb")):
        return True, ""
    plugin = plugin or xcb_plugin()
    if plugin is None:
        return True, "Qt's xcb plugin is not installed here; nothing to check"
    ldd = shutil.which("ldd")
    if ldd is None:
        return True, "ldd is not available; the xcb libraries were not checked"
    out = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, check=False).stdout
    for dep in re.findall(r"=>\s+(\S+libQt6XcbQpa\S*)", out):  # Qt's xcb library's own needs
        out += subprocess.run([ldd, dep], capture_output=True, text=True, check=False).stdout
    missing = missing_libraries(out)
    if not missing:
        return True, ""
    return False, (
        "Qt's xcb platform (the Linux desktop) needs system libraries that are missing:\n  "
        + ", ".join(missing)
        + "\nInstall them with:\n  "
        + apt_line(missing)
    )


def main() -> int:
    ok, message = check()
    if message:
        print(message, file=sys.stderr if not ok else sys.stdout)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

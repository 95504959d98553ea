"""The virtual board (SIMULATION) for tests: its firmware built once per session, and images.

    def test_x(virtual_firmware, tmp_path):       # conftest.py's session fixture: firmware()
        img = image(tmp_path, CONFIG, files={"/boot.py": b"..."})
        with VirtualBoard(virtual_firmware, img, air={...}) as board:
            board.power_on()
            board.expect(r"^ember: ready ")

`firmware(app)` builds build/EMBER_VIRTUAL (examples/demo.py frozen) or, for another app,
build/EMBER_VIRTUAL-<app name>, with make in the MicroPython tree (as `./build.sh EMBER_VIRTUAL
--app APP` does), once per process and under a lock (pytest sessions may run side by side).
Without a MicroPython tree the test skips, saying so.
"""

import fcntl
import os
import re
import subprocess
from pathlib import Path

import pytest
from ember_host import virtual
from firmware_support import MPY_DIR, ROOT, micropython_present

BOARD = "EMBER_VIRTUAL"
# The tree `./build.sh` unpacks from $EMBER_MICROPYTHON_SRC, when there is no other.
UNPACKED = ROOT / "build" / "micropython-src" / "micropython"
DEMO = ROOT / "examples" / "demo.py"
_built = {}


def mpy_dir():
    if micropython_present():
        return MPY_DIR
    if (UNPACKED / "py" / "mpconfig.h").is_file():
        return UNPACKED
    return None


def _pins():
    """MPY_TAG and MPY_COMMIT as build.sh pins them: a tree without git metadata needs them."""
    text = (ROOT / "build.sh").read_text()
    tag = re.search(r"^MPY_TAG=(\S+)", text, re.M).group(1)
    commit = re.search(r"^MPY_COMMIT=(\S+)", text, re.M).group(1)
    return {"MICROPY_GIT_TAG": tag, "MICROPY_GIT_HASH": commit[:10]}


def firmware(app=DEMO):
    """The EMBER_VIRTUAL binary with `app` frozen in, built if needed (skips without a tree)."""
    app = Path(app).resolve()
    if app in _built:
        return _built[app]
    mpy = mpy_dir()
    if mpy is None:
        pytest.skip(
            "no MicroPython source to build the virtual board: check out micropython/, or run "
            "./build.sh with EMBER_MICROPYTHON_SRC=micropython-v1.28.0.tar.xz once"
        )
    name = BOARD if app == DEMO.resolve() else f"{BOARD}-{app.stem}"
    build = ROOT / "build" / name
    build.parent.mkdir(exist_ok=True)
    env = dict(os.environ, EMBER_APP=str(app), **_pins())
    with open(ROOT / "build" / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for cmd in (
            ["make", "-C", str(mpy / "mpy-cross"), f"-j{os.cpu_count()}"],
            ["make", "-C", str(mpy / "ports" / "unix"), f"-j{os.cpu_count()}",
             f"VARIANT_DIR={ROOT / 'boards' / BOARD}", f"BUILD={build}"],
        ):
            done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
            assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    _built[app] = build / "micropython"
    return _built[app]


def image(tmp_path, config, files=None, name="flash.img"):
    """The board's flash as `ember-provision image --board EMBER_VIRTUAL` writes it (`config`, a
    dict, validated by the schema), plus `files` ({"/boot.py": bytes}); its path."""
    path = Path(tmp_path) / name
    virtual.write_image(path, config, files=files, mac=None)
    return path

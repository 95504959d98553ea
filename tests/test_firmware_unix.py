"""The EMBER_UNIX board built for real (unix port, frozen ember + demo + ember_build)."""

import os
import subprocess

import pytest
from firmware_support import MPY_DIR, ROOT, micropython_present


def test_unix_board_builds_and_reports_its_version(tmp_path):
    if not micropython_present():
        pytest.skip(
            "no MicroPython tree: micropython/ is not checked out, and EMBER_MPY_DIR is not "
            "set (./build.sh test sets it from EMBER_MICROPYTHON_SRC)"
        )
    if not (MPY_DIR / "mpy-cross" / "build" / "mpy-cross").exists():
        pytest.skip(f"mpy-cross is not built (make -C {MPY_DIR}/mpy-cross)")
    build = tmp_path / "build"
    env = dict(
        os.environ, EMBER_VERSION="v0.0.0-unix-test", EMBER_APP=str(ROOT / "examples" / "demo.py")
    )
    # The make line `./build.sh EMBER_UNIX` runs (see test_firmware_build), into a tmp BUILD.
    make = subprocess.run(
        [
            "make",
            "-C",
            str(MPY_DIR / "ports" / "unix"),
            f"-j{os.cpu_count()}",
            "MICROPY_PY_BTREE=0",
            "MICROPY_PY_FFI=0",
            "MICROPY_SSL_AXTLS=1",
            "MICROPY_SSL_MBEDTLS=0",
            f"VARIANT_DIR={ROOT}/boards/EMBER_UNIX",
            f"BUILD={build}",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert make.returncode == 0, make.stderr[-3000:]
    run = subprocess.run(
        [
            str(build / "micropython"),
            "-c",
            "import ember, demo\nfrom ember import version\nimport ember_build\n"
            "print(version.VERSION, ember_build.APP, type(demo.app).__name__)",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["v0.0.0-unix-test", "demo", "App"]

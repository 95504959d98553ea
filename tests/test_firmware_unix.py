"""Firmware built for real from the MicroPython tree (the unix stage runs these, after
`./build.sh unix` has built mpy-cross): the EMBER_UNIX board with an app that serves static
files, frozen, and `./build.sh check` freezing every board."""

import os
import shutil
import socket
import subprocess
import time

import httpx
import pytest
from ember_host import boards
from firmware_support import MPY_DIR, ROOT, micropython_present

pytestmark = pytest.mark.skipif(
    not micropython_present() or not (MPY_DIR / "mpy-cross" / "build" / "mpy-cross").exists(),
    reason="needs a MicroPython tree with mpy-cross built: ./build.sh unix (from micropython/ or "
    "EMBER_MICROPYTHON_SRC)",
)


def test_a_frozen_static_app_serves_the_filesystem_it_runs_on(tmp_path):
    build = tmp_path / "build"
    env = dict(
        os.environ,
        EMBER_VERSION="v0.0.0-unix-test",
        EMBER_APP=str(ROOT / "examples" / "static.py"),
        MICROPY_GIT_TAG="v1.28.0",
    )
    # The make line `./build.sh EMBER_UNIX` runs (see test_firmware_build), into a tmp BUILD.
    make = subprocess.run(
        [
            "make",
            "-C",
            str(MPY_DIR / "ports" / "unix"),
            f"-j{os.cpu_count()}",
            f"VARIANT_DIR={ROOT}/boards/EMBER_UNIX",
            f"BUILD={build}",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert make.returncode == 0, make.stderr[-3000:]
    # A device's filesystem: the static folder at its root, and nothing of the repository.
    device = tmp_path / "device"
    shutil.copytree(ROOT / "examples" / "static_www", device / "static_www")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    script = (
        "import ember_build, static\n"
        "from ember import version\n"
        "print(version.VERSION, ember_build.APP, static.__file__)\n"
        f"static.app.run('127.0.0.1', {port})\n"
    )
    proc = subprocess.Popen(
        [str(build / "micropython"), "-c", script],
        cwd=device,
        env={"MICROPYPATH": ".frozen"},  # the frozen modules only, as on a device
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        first = proc.stdout.readline().split()
        assert first == ["v0.0.0-unix-test", "static", "static.py"]  # frozen: no folder
        url = f"http://127.0.0.1:{port}"
        for _ in range(50):
            try:
                r = httpx.get(url + "/static/", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert r.status_code == 200
        assert r.content == (ROOT / "examples/static_www/index.html").read_bytes()
        r = httpx.get(url + "/report.txt", timeout=2)
        assert r.content == (ROOT / "examples/static_www/sub/data.txt").read_bytes()
    finally:
        proc.kill()
        proc.wait()


def test_check_runs_makemanifest_for_real():
    proc = subprocess.run(
        [str(ROOT / "build.sh"), "check"], capture_output=True, text=True, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stderr
    for board in boards.names():
        frozen = (ROOT / "build" / "check" / board / "frozen_content.c").read_text()
        for module in ("ember/app.py", "ember_device/config.py", "ember_build.py", "demo.py"):
            assert f'"{module}"' in frozen
    esp8266 = (ROOT / "build" / "check" / "EMBER_ESP8266" / "frozen_content.c").read_text()
    assert '"_boot.py"' in esp8266 and '"webrepl.py"' not in esp8266

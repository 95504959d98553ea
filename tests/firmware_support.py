"""Shared by the firmware and provisioning tests: paths, synthetic ESP images, tool lookups."""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from esptool.targets import CHIP_DEFS
from esptool.bin_image import (
    ELFSection,
    ESP32C3FirmwareImage,
    ESP32FirmwareImage,
    ESP32S3FirmwareImage,
    ESP8266ROMFirmwareImage,
)

ROOT = Path(__file__).resolve().parent.parent
SUBMODULE = ROOT / "micropython"
# The MicroPython tree build.sh builds from: the submodule, or the source archive it unpacked
# ($EMBER_MPY_DIR, which `./build.sh test` sets).
MPY_DIR = Path(os.environ.get("EMBER_MPY_DIR") or SUBMODULE)
UNIX_MICROPYTHON = ROOT / "build" / "unix" / "micropython"  # what `./build.sh unix` builds

_IMAGE_CLASSES = {
    "esp32": ESP32FirmwareImage,
    "esp32s3": ESP32S3FirmwareImage,
    "esp32c3": ESP32C3FirmwareImage,
    "esp8266": ESP8266ROMFirmwareImage,
}


def micropython_present():
    return (MPY_DIR / "py" / "mpconfig.h").is_file()


def app_image(chip, path, payload=b"ember", flash_size="1MB"):
    """A small but valid ESP app image made by esptool itself, so image-info can read it."""
    img = _IMAGE_CLASSES[chip]()
    img.entrypoint = 0x40080000
    img.flash_size_freq = CHIP_DEFS[chip].FLASH_SIZES[flash_size]
    img.segments = [ELFSection(b".dram0.data", 0x3FFB0000, payload * 64, 0)]
    if chip == "esp8266":  # esptool saves a V1 image as <name>0x00000.bin
        img.save(str(path))
        Path(f"{path}0x00000.bin").rename(path)
    else:
        img.save(str(path))
    return Path(path).read_bytes()


def synthetic_build(board, build_dir):
    """build/<board>/ as the MicroPython build leaves it: firmware.bin (+ micropython.bin).

    ESP32 family: firmware.bin holds the 'bootloader' at 0 and the app at app_offset -
    firmware_offset, 0xFF between (as makeimg.py pads), headers with the board's flash size (as
    the sdkconfig sets it); ESP8266: one image flashed at 0x0, its header saying 1MB (as the port's
    build writes it).
    """
    build_dir = Path(build_dir)
    build_dir.mkdir(parents=True, exist_ok=True)
    if board.port == "esp8266":
        fw = app_image(board.chip, build_dir / "firmware.bin", b"esp8266-firmware")
        return {"firmware.bin": fw}
    app = app_image(board.chip, build_dir / "micropython.bin", flash_size=board.flash_size)
    boot = app_image(board.chip, build_dir / "bootloader.bin", b"boot", board.flash_size)
    rel = board.app_offset - board.firmware_offset
    fw = boot + b"\xff" * (rel - len(boot)) + app
    (build_dir / "firmware.bin").write_bytes(fw)
    return {"firmware.bin": fw, "micropython.bin": app}


def esptool(*args):
    return subprocess.run(
        [sys.executable, "-m", "esptool", *args], capture_output=True, text=True, check=True
    ).stdout


def tool_path(
    tmp_path, *stubs, tools=("bash", "python3", "git", "dirname", "basename", "id", "nproc", "env")
):
    """A PATH holding only the tools build.sh needs, plus empty stub commands (docker, idf.py...).

    Lets a test choose which toolchain build.sh finds, whatever this machine has installed.
    """
    bindir = Path(tempfile.mkdtemp(prefix="bin-", dir=tmp_path))
    for tool in tools:
        # python3 may be a pyenv shim that needs its own PATH: link the real interpreter.
        real = os.path.realpath(sys.executable) if tool == "python3" else shutil.which(tool)
        os.symlink(real, bindir / tool)
    for stub in stubs:
        (bindir / stub).write_text("#!/bin/sh\nexit 0\n")
        (bindir / stub).chmod(0o755)
    return str(bindir)

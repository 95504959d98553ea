"""The EMBER_ESP8266 firmware as `./build.sh EMBER_ESP8266` really built it (stage `esp8266`).

What a compile can prove without a board: esptool reads the image, the release directory is
complete and consistent, every module manifest.py freezes is in the linked firmware, and each
memory region fits with the IRAM headroom the budget asks for. Whether it boots is for the HIL
stage on real hardware.
"""

import hashlib
import json
import os
import sys
from pathlib import Path

import pytest
from ember_host import boards, imagesize
from ember_host.elf import Elf
from firmware_support import MPY_DIR, ROOT, esptool

BOARD = boards.load("EMBER_ESP8266")
BUILD = ROOT / "build" / BOARD.name
DIST = Path(os.environ.get("EMBER_DIST") or ROOT / "dist") / BOARD.name

pytestmark = pytest.mark.skipif(
    not (BUILD / "firmware.elf").is_file() or not (DIST / "manifest.json").is_file(),
    reason="EMBER_ESP8266 is not built (./build.sh EMBER_ESP8266, see docs/firmware.md)",
)


def test_esptool_reads_the_image_and_the_factory_header_has_the_board_flash_size():
    info = esptool("--chip", "esp8266", "image-info", str(DIST / "firmware.bin"))
    assert "Image version: 1" in info and "Checksum:" in info and "(valid)" in info
    assert "Flash size: 1MB" in info  # what the port's build writes, whatever the module
    factory = esptool("--chip", "esp8266", "image-info", str(DIST / "factory.bin"))
    assert f"Flash size: {BOARD.flash_size}" in factory and "(valid)" in factory


def test_release_directory_matches_the_build():
    manifest = json.loads((DIST / "manifest.json").read_text())
    assert manifest["board"] == BOARD.name and manifest["flash_size"] == BOARD.flash_size
    assert (DIST / "firmware.bin").read_bytes() == (BUILD / "firmware.bin").read_bytes()
    sums = dict(
        reversed(line.split("  ")) for line in (DIST / "SHA256SUMS").read_text().splitlines()
    )
    assert sorted(sums) == ["factory.bin", "firmware.bin", "manifest.json"]
    for name, digest in sums.items():
        assert hashlib.sha256((DIST / name).read_bytes()).hexdigest() == digest
    for name, f in manifest["files"].items():
        assert f["sha256"] == sums[name] and f["size"] == (DIST / name).stat().st_size


def manifest_modules():
    """What manifest.py freezes for this board, by MicroPython's own manifest reader."""
    sys.path.insert(0, str(MPY_DIR / "tools"))
    try:
        import manifestfile
    finally:
        sys.path.pop(0)
    m = manifestfile.ManifestFile(
        manifestfile.MODE_FREEZE,
        {
            "MPY_DIR": str(MPY_DIR),
            "MPY_LIB_DIR": str(MPY_DIR / "lib" / "micropython-lib"),
            "PORT_DIR": str(MPY_DIR / "ports" / "esp8266"),
            "BOARD_DIR": str(BOARD.directory),
        },
    )
    m.execute(str(ROOT / "manifest.py"))
    return {r.target_path for r in m.files()}


def test_every_module_the_manifest_lists_is_frozen_into_the_image():
    if not (MPY_DIR / "tools" / "manifestfile.py").is_file():
        pytest.skip(f"no MicroPython tree at {MPY_DIR} to read the manifest with")
    expected = manifest_modules()
    # ember.testing (the in-process test client) is for hosts: manifest.py leaves it out.
    ember = {f"ember/{p.name}" for p in (ROOT / "modules" / "ember").glob("*.py")}
    assert "ember/testing.py" not in expected
    ember.discard("ember/testing.py")
    must = ember | {
        "asyncio/core.py",
        "asyncio/stream.py",
        "ember_device/config.py",
        "demo.py",
        "main.py",
        "_boot.py",
        "ember_build.py",
    }
    assert must <= expected, f"manifest.py no longer lists {sorted(must - expected)}"

    elf = Elf(BUILD / "firmware.elf")
    frozen = set(filter(None, elf.read(*elf.symbol("mp_frozen_names")).split(b"\0")))
    missing = sorted(expected - {n.decode() for n in frozen})
    assert not missing, f"in manifest.py but not in firmware.elf: {missing}"
    # The linked ELF is what firmware.bin was made from: its names are in the image too.
    image = (DIST / "firmware.bin").read_bytes()
    assert all(n + b"\0" in image for n in frozen)


def test_each_region_fits_with_the_iram_budget():
    sizes = imagesize.report(BOARD, BUILD, MPY_DIR)
    assert imagesize.check(sizes) == []
    iram = sizes["IRAM .text"]
    assert iram["limit"] == 32 * 1024 and iram["free"] >= imagesize.IRAM_HEADROOM
    assert sizes["firmware.bin"]["used"] == (DIST / "firmware.bin").stat().st_size
    # The report the build wrote is the same figures.
    assert json.loads((BUILD / "size.json").read_text()) == sizes

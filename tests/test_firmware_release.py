"""Release assembly run for real with esptool on synthetic build output, then read back."""

import hashlib
import json
import subprocess
import sys

import pytest
from ember_host import boards, release
from firmware_support import ROOT, esptool, synthetic_build

FLASHABLE = [n for n in boards.names() if boards.load(n).flashable]


@pytest.mark.parametrize("name", FLASHABLE)
def test_release_directory_reads_back(name, tmp_path):
    board = boards.load(name)
    parts = synthetic_build(board, tmp_path / "build")
    out = tmp_path / "dist"
    rc = release.main(
        [
            name,
            "--build",
            str(tmp_path / "build"),
            "--out",
            str(out),
            "--ember-version",
            "v1.2.3-4-gabc",
            "--micropython-version",
            "1.28.0",
        ]
    )
    assert rc == 0

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["chip"] == board.chip and manifest["flash_size"] == board.flash_size
    assert manifest["ember_version"] == "v1.2.3-4-gabc"
    assert manifest["micropython_version"] == "1.28.0"
    assert int(manifest["firmware_offset"], 0) == board.firmware_offset
    assert (
        manifest["filesystem"]
        == json.loads((board.directory / "ember-board.json").read_text())["filesystem"]
    )

    # The factory image is firmware.bin placed at its offset, 0xFF padding before it, with the
    # board's flash size written into the header of its first image (and so a new digest).
    factory = (out / "factory.bin").read_bytes()
    fw = parts["firmware.bin"]
    assert factory[: board.firmware_offset] == b"\xff" * board.firmware_offset
    placed = factory[board.firmware_offset :]
    assert len(placed) == len(fw)
    first = tmp_path / "first.bin"
    first_len = (
        len(fw) if board.port == "esp8266" else (tmp_path / "build/bootloader.bin").stat().st_size
    )
    first.write_bytes(placed[:first_len])
    info = esptool("--chip", board.chip, "image-info", str(first))
    assert f"Flash size: {board.flash_size}" in info and "(valid)" in info
    changed = [i for i in range(len(fw)) if placed[i] != fw[i]]
    assert all(i == 3 or first_len - 32 <= i < first_len for i in changed)
    assert (out / "firmware.bin").read_bytes() == fw

    sums = dict(
        reversed(line.split("  ")) for line in (out / "SHA256SUMS").read_text().splitlines()
    )
    expected = ["factory.bin", "firmware.bin", "manifest.json"]
    if board.app_offset is not None:
        expected.insert(2, "micropython.bin")
        app = factory[board.app_offset : board.app_offset + len(parts["micropython.bin"])]
        assert app == parts["micropython.bin"]
    assert sorted(sums) == sorted(expected)
    for n, digest in sums.items():
        assert hashlib.sha256((out / n).read_bytes()).hexdigest() == digest

    # esptool parses the OTA app image and the image at the start of firmware.bin.
    if board.app_offset is not None:
        info = esptool("--chip", board.chip, "image-info", str(out / "micropython.bin"))
        assert "Checksum:" in info and "(valid)" in info
        info = esptool("--chip", board.chip, "image-info", str(out / "firmware.bin"))
        assert "(valid)" in info


def test_firmware_too_big_for_the_app_slot_is_refused(tmp_path):
    board = boards.load("EMBER_ESP32")
    synthetic_build(board, tmp_path)
    (tmp_path / "micropython.bin").write_bytes(b"\0" * 0x180001)
    with pytest.raises(ValueError, match="larger than its app partition"):
        release.assemble(board, tmp_path, tmp_path / "out", "v", "1.28.0")


def test_missing_build_output_names_the_file(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "ember_host.release",
            "EMBER_ESP32_C3",
            "--build",
            str(tmp_path),
            "--out",
            str(tmp_path / "o"),
            "--ember-version",
            "v",
            "--micropython-version",
            "1.28.0",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 1
    assert "firmware.bin is missing: build the board first" in proc.stderr

"""Board files (boards/*/ember-board.json) against the partition tables and MicroPython's rules."""

import json
import re

import pytest
from ember_host import boards, partitions

ESP_BOARDS = [n for n in boards.names() if boards.load(n).flashable]


def test_every_expected_board_is_defined():
    assert boards.names() == [
        "EMBER_ESP32",
        "EMBER_ESP32_C3",
        "EMBER_ESP32_S3",
        "EMBER_ESP8266",
        "EMBER_UNIX",
        "EMBER_VIRTUAL",
    ]


@pytest.mark.parametrize("name", [n for n in ESP_BOARDS if boards.load(n).port == "esp32"])
def test_esp32_board_matches_its_partition_table(name):
    board = boards.load(name)
    parts = partitions.parse_csv(board.partition_table.read_text())
    flash = boards.flash_bytes(board.flash_size)
    # No overlaps, nothing past the end of flash, everything 4 KiB aligned.
    end = board.partition_table_offset + 0x1000
    for p in parts:
        assert p.offset >= end, f"{p.name} overlaps the previous partition"
        assert p.offset % 0x1000 == 0 and p.size % 0x1000 == 0
        end = p.offset + p.size
    assert end <= flash
    apps = [p for p in parts if p.type == "app"]
    assert apps[0].offset == board.app_offset
    vfs = partitions.by_name(parts, "vfs")
    fs = board.filesystem
    assert (vfs.type, vfs.offset, vfs.size) == ("data", fs.offset, fs.size)
    assert fs.block_size == 4096 and fs.block_count == vfs.size // 4096
    # firmware.bin starts at the bootloader offset MicroPython uses for the chip (firmware.md).
    assert board.firmware_offset == {"esp32": 0x1000, "esp32s3": 0x0, "esp32c3": 0x0}[board.chip]


def test_esp32_is_ota_capable():
    parts = partitions.parse_csv(boards.load("EMBER_ESP32").partition_table.read_text())
    subtypes = {p.subtype for p in parts}
    assert {"ota", "ota_0", "ota_1"} <= subtypes


def test_esp8266_geometry_follows_micropython_flashbdev():
    # flashbdev.py: start sector 256 (0x100000), end 20 KiB before the end of flash.
    board = boards.load("EMBER_ESP8266")
    flash = boards.flash_bytes(board.flash_size)
    fs = board.filesystem
    assert fs.offset == 0x100000 and board.firmware_offset == 0
    assert fs.block_count == (flash - 0x5000) // 4096 - 256 == 763
    mk = (board.directory / "mpconfigboard.mk").read_text()
    assert "LD_FILES = boards/esp8266_2MiB.ld" in mk


def test_cmake_reads_the_board_file_rather_than_repeating_it():
    for name in ESP_BOARDS:
        board = boards.load(name)
        if board.port != "esp32":
            continue
        cmake = (board.directory / "mpconfigboard.cmake").read_text()
        assert "ember_board.cmake" in cmake
        assert not re.search(r"0x[0-9a-f]+|IDF_TARGET|partitions", cmake, re.I)
        json.loads((board.directory / "board.json").read_text())
        assert (board.directory / "mpconfigboard.h").is_file()


def test_inconsistent_geometry_is_rejected(tmp_path):
    d = tmp_path / "BAD"
    d.mkdir()
    data = json.loads((boards.BOARDS_DIR / "EMBER_ESP32" / boards.BOARD_FILE).read_text())
    data["name"] = "BAD"
    data["filesystem"]["block_count"] = 241
    (d / boards.BOARD_FILE).write_text(json.dumps(data))
    with pytest.raises(ValueError, match="not block_size"):
        boards.load("BAD", tmp_path)
    with pytest.raises(ValueError, match="unknown board 'NOPE'.*BAD"):
        boards.load("NOPE", tmp_path)

def test_device_boards_name_a_setup_button_and_esp32_keeps_mdns():
    # The runtime's setup button (ember_build.SETUP_PIN): each dev board's BOOT/FLASH button.
    pins = {n: json.loads((boards.load(n).directory / "ember-board.json").read_text())["setup_pin"]
            for n in ESP_BOARDS}
    assert pins == {"EMBER_ESP32": 0, "EMBER_ESP32_C3": 9, "EMBER_ESP32_S3": 0, "EMBER_ESP8266": 0}
    for name in ESP_BOARDS:
        if boards.load(name).port == "esp32":  # <hostname>.local (docs/device.md)
            header = (boards.load(name).directory / "mpconfigboard.h").read_text()
            assert re.search(r"#define MICROPY_HW_ENABLE_MDNS_RESPONDER\s+\(1\)", header)

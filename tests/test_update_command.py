"""The host side of updates (#12): the image checks on real esptool images, the release's "ota"
entry, and ember-update run as a command against a device process over real HTTP (the harness of
test_updates.py on CPython, over the SIMULATED OTA flash), restarted as its launcher would."""

import hashlib
import json
import os
import subprocess
import sys
import threading

import pytest
from ember_device import ota
from ember_host import boards, release, update
from firmware_support import app_image, esptool, synthetic_build
from test_updates import SECRET, Board, app_source, esp32


def descriptor(version="v9.9.9", project="ember"):
    """An esp_app_desc_t (256 bytes): what the IDF puts at the start of an app's first segment."""
    def text(s, n):
        return s.encode().ljust(n, b"\0")
    desc = (bytes.fromhex("3254cdab") + bytes(12) + text(version, 32) + text(project, 32)
            + text("12:00:00", 16) + text("Dec  1 2026", 16) + text("v5.5.1", 32))
    return desc.ljust(256, b"\0")


def esp_app(chip, path, version="v9.9.9"):
    """A valid app image made by esptool (image-info accepts it) with an app descriptor."""
    return app_image(chip, path, descriptor(version))


@pytest.mark.parametrize("chip,chip_id", [("esp32", 0), ("esp32s3", 9), ("esp32c3", 5)])
def test_image_info_reads_esptool_images(chip, chip_id, tmp_path):
    data = esp_app(chip, tmp_path / "app.bin")
    assert "(valid)" in esptool("--chip", chip, "image-info", str(tmp_path / "app.bin"))
    info = ota.image_info(data[: ota.HEAD])
    assert info == {"chip_id": chip_id, "version": "v9.9.9", "project": "ember",
                    "date": "Dec  1 2026", "idf": "v5.5.1"}
    assert ota.chip_name(info["chip_id"]) == chip
    ota.check_chip(info, chip_id)
    with pytest.raises(ota.Refused, match="an image for %s; this device is esp32s2" % chip):
        ota.check_chip(info, 2)


def test_image_info_refuses_what_is_not_an_app_image(tmp_path):
    no_desc = app_image("esp32", tmp_path / "boot.bin", b"bootloader")  # valid, but no app
    with pytest.raises(ota.Refused, match="without an app descriptor: send micropython.bin"):
        ota.image_info(no_desc[: ota.HEAD])
    with pytest.raises(ota.Refused, match=r"not an ESP app image \(first byte 0x7f"):
        ota.image_info(b"\x7fELF" + bytes(300))
    with pytest.raises(ota.Refused, match="too short"):
        ota.image_info(b"\xe9" * 100)


def _release(name, tmp_path, version="v2.0.0"):
    board = boards.load(name)
    build = tmp_path / "build"
    synthetic_build(board, build)
    if board.app_offset is not None:  # the app image as the IDF makes it: with a descriptor
        app = esp_app(board.chip, build / "micropython.bin", version)
        fw = (build / "firmware.bin").read_bytes()
        rel = board.app_offset - board.firmware_offset
        (build / "firmware.bin").write_bytes(fw[:rel] + app)
    out = tmp_path / "dist" / name
    assert release.main([name, "--build", str(build), "--out", str(out), "--ember-version",
                         version, "--micropython-version", "1.28.0"]) == 0
    return out, json.loads((out / "manifest.json").read_text())


@pytest.mark.parametrize("name,slot", [("EMBER_ESP32", 0x180000), ("EMBER_ESP32_S3", 0x270000)])
def test_release_lists_the_ota_image(name, slot, tmp_path):
    out, manifest = _release(name, tmp_path)
    data = (out / "micropython.bin").read_bytes()
    assert manifest["ota"] == {"file": "micropython.bin", "size": len(data),
                               "sha256": hashlib.sha256(data).hexdigest(), "slot_size": slot}
    payload = update.from_release(out, name)
    assert payload.kind == "firmware" and payload.version == "v2.0.0"
    assert payload.sha256 == manifest["ota"]["sha256"]


@pytest.mark.parametrize("name", ["EMBER_ESP32_C3", "EMBER_ESP8266"])
def test_boards_without_two_slots_have_no_ota_entry(name, tmp_path):
    out, manifest = _release(name, tmp_path)
    assert manifest["ota"] is None
    with pytest.raises(update.UpdateError, match="no second app slot.*--app"):
        update.from_release(out, name)


def test_release_is_checked_before_anything_is_sent(tmp_path):
    out, manifest = _release("EMBER_ESP32", tmp_path)
    with pytest.raises(update.UpdateError, match="for EMBER_ESP32; the device is EMBER_ESP32_S3"):
        update.from_release(out, "EMBER_ESP32_S3")
    data = bytearray((out / "micropython.bin").read_bytes())
    data[-1] ^= 1
    (out / "micropython.bin").write_bytes(bytes(data))
    with pytest.raises(update.UpdateError, match="differs from manifest.json"):
        update.from_release(out, "EMBER_ESP32")
    manifest["chip"] = "esp32s3"
    manifest["ota"]["sha256"] = hashlib.sha256(data).hexdigest()
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(update.UpdateError, match="is for esp32, the release for esp32s3"):
        update.from_release(out, "EMBER_ESP32")


# -- ember-update against a running device -------------------------------------------------------


@pytest.fixture
def device(tmp_path):
    b = Board(tmp_path, "cpython", healthy_ms=300)
    b.boot()
    yield b
    b.kill()


def ember_update(*args, secret=SECRET, stdin=None):
    env = dict(os.environ)
    env.pop(update.SECRET_ENV, None)
    if secret is not None:
        env[update.SECRET_ENV] = secret
    return subprocess.Popen([sys.executable, "-m", "ember_host.update", *args], env=env,
                            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def restart_when_rebooted(board):
    """The launcher: once the device process ends for its reboot, the next boot."""
    board.wait_reboot()
    board.boot()


def update_across_reboot(device, *args, launcher=restart_when_rebooted):
    """ember-update ARGS against `device` while `launcher(device)` restarts it on a thread, as
    the device's launcher would; returns ember-update's (exit status, stdout, stderr)."""
    t = threading.Thread(target=launcher, args=(device,))
    t.start()
    proc = ember_update(*args)
    out, err = proc.communicate(timeout=60)
    t.join()
    return proc.returncode, out, err


def test_ember_update_sends_a_firmware_and_sees_it_running(device, tmp_path):
    image = tmp_path / "micropython.bin"
    image.write_bytes(esp32.pack_image(b"firmware N" * 20000, "vN"))
    address = f"127.0.0.1:{device.port}"
    code, out, err = update_across_reboot(device, address, "--firmware", str(image))
    assert code == 0, out + err
    assert "EMBER_VIRTUAL, firmware vA" in out
    assert "accepted into ota_1; the device reboots" in out
    assert "runs firmware vN" in out
    assert "100% (200288 of 200288 bytes)" in err  # not a terminal: a line per quarter
    assert device.status()["firmware"] == "vN"


def test_ember_update_reports_a_rollback(device, tmp_path):
    image = tmp_path / "micropython.bin"
    image.write_bytes(esp32.pack_image(b"firmware R" * 1000, "vR"))

    def crash_then_boot(device):
        device.wait_reboot()
        with open(device.flash, "r+b") as f:
            assert esp32.bootloader(f) == "ota_1"  # the new firmware starts, and crashes
        device.boot()  # before it served anything: the bootloader rolls it back
    code, out, err = update_across_reboot(device, f"http://127.0.0.1:{device.port}/",
                                          "--firmware", str(image), launcher=crash_then_boot)
    assert code == 1, out + err
    assert "ember-update: the new firmware did not stay: rolled back from vR, running vA" in err


def test_ember_update_sends_an_app(device, tmp_path):
    app = tmp_path / "upapp.py"
    app.write_bytes(app_source("sent 7"))
    code, out, err = update_across_reboot(device, f"127.0.0.1:{device.port}", "--app", str(app))
    assert code == 0, out + err
    assert "runs the uploaded app sent 7 (trying)" in out


def test_ember_update_asks_for_the_secret_and_says_when_it_is_wrong(device, tmp_path):
    app = tmp_path / "upapp.py"
    app.write_bytes(app_source("never"))
    proc = ember_update(f"127.0.0.1:{device.port}", "--app", str(app), secret=None, stdin=True)
    out, err = proc.communicate("not-the-secret\n", timeout=30)
    assert proc.returncode == 1
    assert "admin secret for 127.0.0.1" in err  # the prompt
    assert "ember-update: the device refused the admin secret" in err
    assert "not-the-secret" not in out + err
    assert device.proc.poll() is None and not (device.state / "upapp.py").exists()


def test_ember_update_refuses_a_file_that_is_not_an_app_image(device, tmp_path):
    bad = tmp_path / "firmware.bin"
    bad.write_bytes(app_image("esp32", tmp_path / "x.bin", b"boot"))
    proc = ember_update(f"127.0.0.1:{device.port}", "--firmware", str(bad))
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert "without an app descriptor: send micropython.bin" in err
    assert "sending" not in out


def test_ember_update_shows_the_device_refusal(device, tmp_path):
    image = bytearray(esp32.pack_image(b"firmware S3" * 100, "vS"))
    image[12] = 9
    (tmp_path / "s3.bin").write_bytes(bytes(image))
    proc = ember_update(f"127.0.0.1:{device.port}", "--firmware", str(tmp_path / "s3.bin"))
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert ("refused the firmware: 422 an image for esp32s3; this device is virtual") in err
    assert device.proc.poll() is None


@pytest.mark.parametrize("name", ["EMBER_ESP32", "EMBER_ESP32_S3"])
def test_ota_boards_have_two_slots_otadata_and_rollback(name):
    board = boards.load(name)
    assert release.ota_slot_size(board) is not None
    sdkconfig = (board.directory / "sdkconfig.board").read_text().splitlines()
    assert "CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE=y" in sdkconfig
    assert release.ota_slot_size(board) >= 0x180000


def test_the_c3_has_no_ota_slots():
    assert release.ota_slot_size(boards.load("EMBER_ESP32_C3")) is None

"""Firmware OTA on a real ESP32 (docs/updates.md): a refused image changes nothing, the release's
own app image goes round trip (uploaded, booted from the other slot, marked valid once healthy),
and an image reset before it is healthy is rolled back by the bootloader.

Only on the boards with two OTA slots; the virtual board's simulated partitions are tested by the
updates' own tests (a simulation proves nothing about the bootloader)."""

import hashlib
import time

import httpx
import pytest
from hil_support import TIMEOUT, status

pytestmark = [
    pytest.mark.hil_reboots,
    pytest.mark.hil_boards(
        "EMBER_ESP32",
        "EMBER_ESP32_S3",
        reason="OTA and rollback need two app slots and the ESP-IDF bootloader",
    ),
]
HEALTHY_S = 60  # the runtime's healthy_ms on a real board


def image(device):
    path = device.target.release_file("micropython.bin")
    if not path.is_file():
        pytest.fail(f"{path}: the release has no OTA app image")
    return path.read_bytes()


def upload(device, data, sha, version):
    headers = dict(device.auth, **{"X-Ember-SHA256": sha, "X-Ember-Version": version})
    return httpx.post(
        device.base_url + "_ember/firmware", content=data, headers=headers, timeout=300
    )


def updated(device, data, version, timeout):
    """Upload `data` as `version`; wait for the reboot and the ready line; seconds taken."""
    mark = device.console.mark()
    start = time.monotonic()
    r = upload(device, data, hashlib.sha256(data).hexdigest(), version)
    assert r.status_code == 200, r.text
    device.console.expect(r"ember: reboot reason=update$", TIMEOUT, after=mark)
    device.wait_ready(timeout, after=mark)
    return time.monotonic() - start


def test_an_image_with_another_sha256_is_refused_and_nothing_changes(device):
    data = image(device)
    before = status(device)
    mark = device.console.mark()
    r = upload(device, data, "0" * 64, "hil-wrong-sha")
    assert 400 <= r.status_code < 500 and "error" in r.json()
    device.console.expect(r"ember: update-refused kind=firmware", TIMEOUT, after=mark)
    after = status(device)
    assert after["uptime_s"] >= before["uptime_s"]  # no reboot
    assert after.get("update") == before.get("update")


def test_ota_round_trip(device, hil_report, request):
    seconds = updated(device, image(device), "hil-ota-1", request.config.getoption("--hil-timeout"))
    hil_report.timing("ota_upload_to_ready", seconds)
    rec = status(device)["update"]["firmware"]
    assert (rec["state"], rec["version"]) == ("pending-verify", "hil-ota-1")
    device.console.expect(
        r"ember: update-valid version=hil-ota-1$", HEALTHY_S + 30, after=device.ready_at
    )
    assert status(device)["update"]["firmware"]["state"] == "valid"


def test_reset_before_healthy_is_rolled_back(device, request):
    timeout = request.config.getoption("--hil-timeout")
    updated(device, image(device), "hil-ota-2", timeout)
    assert status(device)["update"]["firmware"]["state"] == "pending-verify"
    mark = device.console.mark()
    device.reset()  # before healthy_ms: the bootloader must go back to the previous slot
    device.console.expect(r"ember: rollback running=\S+ from=hil-ota-2$", timeout, after=mark)
    device.wait_ready(timeout, after=mark)
    rec = status(device)["update"]["firmware"]
    assert (rec["state"], rec["rolled_back_from"]) == ("rolled-back", "hil-ota-2")

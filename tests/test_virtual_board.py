"""The virtual board (SIMULATION) itself: the launcher restarts the firmware as an ESP32 would
reset (machine.reset, watchdog), RTC memory lives as long as the power, the flash is the image
file, the button is held at power-on only, and the simulated radio does what the air says.

Each test scripts the board with a /boot.py in its image (virtual_main runs it before the
runtime, as an ESP32 does), so these tests depend on the simulation alone, not on the runtime.
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from ember_host import boards, provision
from ember_host.virtual import MAC, SIM_HEAP, VirtualBoard
from test_firmware_build import MPY_DIR, NPROC, PY, VERSION, build_sh, commands, fetch
from test_provision import mount as mount_data
from virtual_support import BOARD, image

from conftest import free_port
from firmware_support import ROOT

CONFIG = {"wifi_ssid": "lab", "wifi_password": "secret123", "admin_secret": "admin-secret-1",
          "device_id": "unit-0001"}
FS = boards.load(BOARD).filesystem


def boot_image(tmp_path, script):
    return image(tmp_path, CONFIG, files={"/boot.py": script.encode()})


def mount(path):
    """The image file at `path`, mounted (kept: a file must not outlive its LittleFS)."""
    return mount_data(path.read_bytes(), FS)


def printed(board, prefix, timeout=10):
    """The JSON a boot.py printed after `prefix`."""
    return json.loads(board.expect("^" + prefix + " (.*)$", timeout).group(1))


RESETS = """
import machine, time
rtc = machine.RTC()
kept = rtc.memory()
print("boot", machine.reset_cause(), len(kept), kept[:18])
try:
    rtc.memory(bytes(2049))
except ValueError:
    print("rtc holds at most 2048 bytes")
if kept == b"":
    rtc.memory(b"kept across resets" + bytes(2030))
    machine.reset()
    print("reset returned")
while True:
    time.sleep(1)
"""


def test_reset_restarts_with_cause_hard_and_rtc_memory_lasts_until_power_off(
    tmp_path, virtual_firmware
):
    with VirtualBoard(virtual_firmware, boot_image(tmp_path, RESETS)) as board:
        board.power_on()
        assert board.expect("^boot (.*)$").group(1) == "1 0 b''"  # PWRON_RESET
        board.expect("^rtc holds at most 2048 bytes$")
        board.expect(r"^virtual: machine\.reset\(\): restart, reset cause hard$")
        # HARD_RESET (the ESP32's value), and all 2048 bytes
        assert board.expect("^boot (.*)$").group(1) == "2 2048 b'kept across resets'"
        assert board.boots == ["power", "hard"]
        assert "reset returned" not in board.lines()
        board.power_off()
        board.power_on()  # a power cycle: RTC memory is gone
        assert board.expect("^boot (.*)$").group(1) == "1 0 b''"
        assert board.expect("^boot (.*)$").group(1) == "2 2048 b'kept across resets'"


WATCHDOG = """
import machine, time
print("boot", machine.reset_cause())
if machine.reset_cause() == machine.PWRON_RESET:
    wdt = machine.WDT(timeout=400)
    for _ in range(12):  # 1.2 s, fed every 100 ms: three timeouts' worth, no reset
        time.sleep_ms(100)
        wdt.feed()
    print("fed for 1.2 s")
    while True:  # a stuck loop: no more feeds
        pass
while True:
    time.sleep(1)
"""


def test_watchdog_restarts_a_starved_board_with_cause_watchdog(tmp_path, virtual_firmware):
    with VirtualBoard(virtual_firmware, boot_image(tmp_path, WATCHDOG)) as board:
        board.power_on()
        board.expect("^boot 1$")
        board.expect("^fed for 1.2 s$", timeout=5)
        assert board.boots == ["power"]
        t = time.monotonic()
        board.expect("^virtual: watchdog: no feed for 400 ms: restart, reset cause watchdog$")
        assert time.monotonic() - t < 2
        board.expect("^boot 3$")  # WDT_RESET
        time.sleep(1)  # no watchdog after the reset: it was not made again
        assert board.boots == ["power", "watchdog"]


SOFT = """
import machine, time
print("boot", machine.reset_cause())
if machine.reset_cause() == machine.PWRON_RESET:
    machine.WDT(timeout=500).feed()
    machine.soft_reset()
while True:  # armed before the soft reset and never fed since
    time.sleep_ms(100)
"""


def test_a_soft_reset_keeps_the_watchdog_running(tmp_path, virtual_firmware):
    with VirtualBoard(virtual_firmware, boot_image(tmp_path, SOFT)) as board:
        board.power_on()
        board.expect("^boot 1$")
        board.expect(r"^virtual: machine\.soft_reset\(\): restart, reset cause soft$")
        board.expect("^boot 5$")  # SOFT_RESET
        board.expect("^virtual: watchdog: no feed for 500 ms: restart, reset cause watchdog$")
        board.expect("^boot 3$")
        assert board.boots == ["power", "soft", "watchdog"]


def test_ember_provision_writes_the_virtual_boards_image(tmp_path):
    cfg = tmp_path / "device.json"
    cfg.write_text(json.dumps(CONFIG))
    out = tmp_path / "unit.img"
    args = ["image", "--board", BOARD, "--config", str(cfg), "--out", str(out)]
    assert provision.main(args) == 0
    assert out.stat().st_size == FS.size == FS.block_count * FS.block_size
    lfs = mount(out)  # kept: a file must not outlive its LittleFS
    with lfs.open("/config.json", "r") as f:
        assert json.loads(f.read())["device_id"] == "unit-0001"


def test_flash_writes_land_in_the_image_file(tmp_path, virtual_firmware):
    script = """
import os, time
print("files", sorted(os.listdir("/")), open("/config.json").read())
os.mkdir("/data")
with open("/data/log.tmp", "w") as f:
    f.write("written by the board")
os.rename("/data/log.tmp", "/data/log.txt")
print("fs", os.statvfs("/")[0], os.statvfs("/")[2])
import gc
print("heap", gc.mem_free() + gc.mem_alloc())
while True:
    time.sleep(1)
"""
    img = boot_image(tmp_path, script)
    with VirtualBoard(virtual_firmware, img, heap="48k") as board:
        board.power_on()
        m = board.expect(r"^files (\[.*\]) (.*)$")
        assert m.group(1) == "['boot.py', 'config.json']"
        assert json.loads(m.group(2))["device_id"] == "unit-0001"
        assert board.expect(r"^fs (\d+) (\d+)$").groups() == (
            str(FS.block_size), str(FS.block_count)
        )
        heap = int(board.expect(r"^heap (\d+)$").group(1))  # less the GC's own tables
        assert 0.9 * (48 * 1024 + SIM_HEAP) < heap < 48 * 1024 + SIM_HEAP
    lfs = mount(img)
    with lfs.open("/data/log.txt", "r") as f:
        assert f.read() == "written by the board"
    assert sorted(lfs.listdir("/data")) == ["log.txt"]


def test_a_blank_flash_is_formatted_at_the_first_boot(tmp_path, virtual_firmware):
    img = tmp_path / "blank.img"
    img.write_bytes(b"\xff" * FS.size)
    # The runtime starts after the format, in setup mode: its servers on free ports.
    runtime = {"portal_port": free_port(), "dns_port": free_port(), "wdt_ms": None}
    with VirtualBoard(virtual_firmware, img, runtime=runtime) as board:
        board.power_on()
        deadline = time.monotonic() + 10
        while True:
            try:
                lfs = mount(img)
                break
            except Exception:
                assert time.monotonic() < deadline, "the image was never formatted"
                time.sleep(0.1)
    assert "config.json" not in lfs.listdir("/")


BUTTON = """
import machine, time
print("pins", machine.reset_cause(), machine.Pin(0, machine.Pin.IN, machine.Pin.PULL_UP).value(),
      machine.Pin(4, machine.Pin.IN).value())
if machine.reset_cause() == machine.PWRON_RESET:
    machine.reset()
while True:
    time.sleep(1)
"""


def test_the_setup_button_is_held_at_power_on_only(tmp_path, virtual_firmware):
    with VirtualBoard(virtual_firmware, boot_image(tmp_path, BUTTON), hold_button=True) as board:
        board.power_on()
        assert board.expect(r"^pins (.*)$").group(1) == "1 0 1"  # pressed: low; others high
        assert board.expect(r"^pins (.*)$").group(1) == "2 1 1"  # released after the reset


RADIO = """
import binascii, json, machine, network, time
def hx(b):
    return binascii.hexlify(b).decode()
def out(name, value):
    print(name, json.dumps(value))
def settle(sta):
    while sta.status() in (network.STAT_CONNECTING, network.STAT_IDLE) and not sta.isconnected():
        time.sleep_ms(20)
    return sta.status()
sta = network.WLAN(network.WLAN.IF_STA)
try:
    sta.connect("lab", "secret123")
except OSError as e:
    out("inactive", str(e))
sta.active(True)
sta.config(reconnects=0)
network.hostname("unit-0001")
out("ids", [network.hostname(), hx(sta.config("mac")), hx(network.WLAN(1).config("mac")),
            hx(machine.unique_id())])
out("scan", [[s.decode(), ch, rssi, auth] for s, _, ch, rssi, auth, _ in sta.scan()])
sta.connect("nowhere", "whatever1")
out("connecting", sta.status())
try:
    sta.connect("lab", "secret123")
except OSError as e:
    out("busy", str(e))
out("no-ap", settle(sta))
sta.disconnect()
out("idle", sta.status())
sta.connect("lab", "wrong-password")
out("wrong", settle(sta))
sta.disconnect()
sta.connect("lab", "secret123")
out("joined", [settle(sta), sta.isconnected(), sta.ifconfig()[0], sta.status("rssi"),
               sta.config("channel")])
while sta.isconnected():
    time.sleep_ms(20)
out("dropped", sta.status())
sta.disconnect()
sta.connect("lab", "secret123")
out("while-down", settle(sta))
time.sleep_ms(1000)
sta.disconnect()
sta.connect("lab", "secret123")
out("rejoined", settle(sta))
ap = network.WLAN(network.WLAN.IF_AP)
ap.active(True)
ap.config(ssid="ember-setup-000001", security=0)
out("ap", [ap.config("ssid"), ap.ifconfig()[0], ap.isconnected()])
try:
    sta.config(ssid="x")
except OSError as e:
    out("sta-ssid", str(e))
out("ready", 1)
while True:
    sta.disconnect()
    sta.connect("later", "password9")
    out("later", settle(sta))
    time.sleep_ms(200)
"""


def test_the_simulated_radio_obeys_the_air(tmp_path, virtual_firmware):
    air = {
        "networks": [
            {"ssid": "lab", "password": "secret123", "rssi": -51, "channel": 11,
             "drop_after_s": 0.5, "down_s": 0.5},
            {"ssid": "cafe", "password": "", "rssi": -80},
        ],
        "station_ip": "127.0.0.2",
        "ap_ip": "127.0.0.3",
        "join_ms": 100,
    }
    with VirtualBoard(virtual_firmware, boot_image(tmp_path, RADIO), air=air) as board:
        board.power_on()
        assert printed(board, "inactive") == "Wifi Not Started"
        mac = MAC.replace(":", "")
        assert printed(board, "ids") == ["unit-0001", mac, mac[:-1] + "2", mac]
        assert printed(board, "scan") == [["lab", 11, -51, 3], ["cafe", 6, -80, 0]]
        assert printed(board, "connecting") == 1001  # STAT_CONNECTING: connect() did not block
        assert printed(board, "busy") == "Wifi Internal Error"
        assert printed(board, "no-ap") == 201  # ESP32's STAT_NO_AP_FOUND
        assert printed(board, "idle") == 1000
        assert printed(board, "wrong") == 202  # STAT_WRONG_PASSWORD
        assert printed(board, "joined") == [1010, True, "127.0.0.2", -51, 11]
        assert printed(board, "dropped") == 200  # STAT_BEACON_TIMEOUT, no retries (reconnects=0)
        assert printed(board, "while-down") == 201
        assert printed(board, "rejoined") == 1010  # and no second drop
        assert printed(board, "ap") == ["ember-setup-000001", "127.0.0.3", False]
        assert printed(board, "sta-ssid") == "AP required"
        printed(board, "ready")
        assert printed(board, "later") == 201
        air["networks"].append({"ssid": "later", "password": "password9"})
        board.set_air(air)  # the next attempt hears the new air
        end = time.monotonic() + 5
        while printed(board, "later") != 1010:
            assert time.monotonic() < end
        assert board.boots == ["power"]


def test_an_air_file_is_read_at_each_attempt_and_a_bad_one_keeps_the_last(
    tmp_path, virtual_firmware
):
    script = """
import json, network, time
sta = network.WLAN(network.WLAN.IF_STA)
sta.active(True)
while True:
    print("seen", json.dumps([s[0].decode() for s in sta.scan()]))
    time.sleep_ms(100)
"""
    air = tmp_path / "air.json"
    air.write_text(json.dumps({"networks": [{"ssid": "one"}], "scan_ms": 0}))
    with VirtualBoard(virtual_firmware, boot_image(tmp_path, script), air=str(air)) as board:
        board.power_on()
        assert printed(board, "seen") == ["one"]
        air.write_text(json.dumps({"networks": [{"ssid": "two"}], "scan_ms": 0}))
        while printed(board, "seen") != ["two"]:
            pass
        air.write_text("{not json")
        board.expect(f"^virtual: air file {air}: .*keeping the previous air$")
        assert printed(board, "seen") == ["two"]


def test_serial_lines_go_to_a_file_descriptor(tmp_path, virtual_firmware):
    script = 'import machine, time\nprint("hello from boot", machine.reset_cause())\n'
    script += "if machine.reset_cause() == 1:\n    machine.reset()\ntime.sleep(30)\n"
    r, w = os.pipe()
    board = VirtualBoard(virtual_firmware, boot_image(tmp_path, script))
    try:
        board.power_on(stdout=w)
        os.close(w)
        seen = b""
        while b"hello from boot 2" not in seen:
            chunk = os.read(r, 4096)
            assert chunk, seen
            seen += chunk
    finally:
        board.power_off()
        os.close(r)
    lines = seen.decode().splitlines()
    assert lines[0].startswith("virtual: power on: EMBER_VIRTUAL (SIMULATION)")
    assert lines[1:] == [
        "hello from boot 1",
        "virtual: machine.reset(): restart, reset cause hard",
        "hello from boot 2",
    ]
    with pytest.raises(RuntimeError, match="captured"):
        board.expect("x")


def test_a_board_that_exits_halts_and_is_not_restarted(tmp_path, virtual_firmware):
    script = 'raise RuntimeError("boot.py failed")\n'
    with VirtualBoard(virtual_firmware, boot_image(tmp_path, script)) as board:
        board.power_on()
        board.expect("^RuntimeError: boot.py failed$")
        board.expect(r"^virtual: halted: the firmware exited with status 1$")
        assert not board.running() and board.returncode == 1 and board.boots == ["power"]


def test_the_command_line_builds_the_image_and_powers_off_on_ctrl_c(tmp_path, virtual_firmware):
    cfg = tmp_path / "device.json"
    cfg.write_text(json.dumps({k: v for k, v in CONFIG.items() if k != "device_id"}))
    www = tmp_path / "www"
    www.mkdir()
    (www / "index.html").write_text("<h1>virtual</h1>")
    img = tmp_path / "unit.img"
    proc = subprocess.Popen(
        [sys.executable, "-m", "ember_host.virtual", "--firmware", str(virtual_firmware),
         "--config", str(cfg), "--www", str(www), "--image", str(img),
         "--runtime", f"portal_port={free_port()}", "--runtime", f"dns_port={free_port()}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout.readline().startswith("virtual: power on: EMBER_VIRTUAL (SIMULATION)")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert out.splitlines()[-1] == "virtual: power off" and "Traceback" not in err
    lfs = mount(img)
    with lfs.open("/config.json", "r") as f:
        cfg = json.loads(f.read())
    assert cfg["device_id"] == "ember-000001" == cfg["hostname"]  # from the MAC, as `flash` does
    with lfs.open("/www/index.html", "r") as f:
        assert f.read() == "<h1>virtual</h1>"


def test_build_sh_virtual_builds_the_variant_then_boots_it(tmp_path):
    got = commands(build_sh(tmp_path, "virtual", "--config", "device.json", "--www", "www"))
    assert got == fetch() + [
        ["make", "-C", f"{MPY_DIR}/mpy-cross", f"-j{NPROC}"],
        ["env", f"EMBER_APP={ROOT}/examples/demo.py", f"EMBER_VERSION={VERSION}", "make", "-C",
         f"{MPY_DIR}/ports/unix", f"-j{NPROC}", f"VARIANT_DIR={ROOT}/boards/{BOARD}",
         f"BUILD={ROOT}/build/{BOARD}"],
        [PY, "-m", "ember_host.virtual", "--firmware", f"{ROOT}/build/{BOARD}/micropython",
         "--config", "device.json", "--www", "www"],
    ]
    # `./build.sh EMBER_VIRTUAL` is the same build, without booting it.
    assert commands(build_sh(tmp_path, BOARD))[-1] == got[-2]


def test_only_the_virtual_board_freezes_the_simulation():
    sim = ROOT / "boards" / BOARD / "sim"
    for path in sim.iterdir():
        assert "SIMULATION" in path.read_text().split('"""')[1], path
    for manifest in (ROOT / "manifest.py", *ROOT.glob("boards/*/manifest.py")):
        if manifest.parent.name != BOARD:
            assert '"sim"' not in manifest.read_text() and BOARD not in manifest.read_text()


def test_the_heap_allowance_covers_what_the_simulation_takes(tmp_path, virtual_firmware):
    (tmp_path / "rtc").write_bytes(b"")
    (tmp_path / "air").write_bytes(b"{}")
    script = (
        "import gc, json, os, socket, time, vfs\n"
        "gc.collect(); a = gc.mem_alloc()\n"
        "import machine, network\n"
        "gc.collect(); print(gc.mem_alloc() - a)\n"
    )
    env = {"MICROPYPATH": ".frozen", "EMBER_VIRTUAL_RTC": str(tmp_path / "rtc"),
           "EMBER_VIRTUAL_AIR": str(tmp_path / "air")}
    out = subprocess.run([str(virtual_firmware), "-X", "heapsize=64k", "-c", script], env=env,
                         capture_output=True, text=True, timeout=30)
    taken = int(out.stdout)
    # Added to the heap asked for (machine and network are C on a board); not much more.
    assert SIM_HEAP - 1024 < taken <= SIM_HEAP

"""The HIL plugin without hardware: the esptool command lines its flash step issues for each
board's release (checked against the release manifest), the image and simulated air it provisions
for the virtual board, where its settings come from, and the serial console read through a
pseudo-terminal with scripted lines, as on a UART."""

import json
import os
import re
import shlex
import subprocess
import sys
import threading
import time
import tty
from pathlib import Path
from types import SimpleNamespace
from xml.etree import ElementTree

import pytest
from ember_host import boards, esp, virtual
from ember_host.hil import targets
from ember_host.hil.console import Console, ConsoleTimeout, Line, parse
from ember_host.hil.session import Device, NotReady
from ember_host.target import ProvisionError
from test_provision import make_release, mount, read

SETTINGS = {
    "wifi_ssid": "hil-lab",
    "wifi_password": "hunter2-wifi-pass",
    "admin_secret": "admin-secret-0123",
}
APP = b"import ember\napp = ember.App()\n"
FLASHABLE = [n for n in boards.names() if boards.load(n).flashable]
ESP32 = SimpleNamespace(name="EMBER_ESP32", virtual=False)  # a target that only names a board


@pytest.mark.parametrize("name", FLASHABLE)
def test_flash_step_writes_the_release_and_the_image_where_the_manifest_says(
    tmp_path, capsys, name
):
    dist = make_release(tmp_path, name)
    manifest = json.loads((dist / "manifest.json").read_text())
    target = targets.make(name, "/dev/ttyUSB3", str(dist), flash_baud=921600)
    record = target.provision(SETTINGS, {"/demo.py": APP}, dry_run=True)
    out = capsys.readouterr().out
    detect, write, verify = (shlex.split(line) for line in out.splitlines())
    common = [*esp.command(), "--chip", manifest["chip"], "--port", "/dev/ttyUSB3"]
    common += ["--baud", "921600"]
    assert detect == [*common, "flash-id"]
    image = write[-1]
    assert image.endswith("/vfs.bin")
    pairs = [manifest["firmware_offset"], str(dist / "firmware.bin")]
    pairs += [manifest["filesystem"]["offset"], image]
    assert write == [*common, "write-flash", "--flash-size", manifest["flash_size"], *pairs]
    assert verify == [*common, "verify-flash", *pairs]
    assert record["device_id"] == "ember-000000"  # from the (dry-run) MAC, as ember-provision
    assert not any(v in out for v in SETTINGS.values() if "secret" in v or "pass" in v)


# Native architecture numbers in an .mpy header (MicroPython's py/persistentcode.h).
MPY_ARCH = {None: 0, "xtensa": 9, "xtensawin": 10, "rv32imc": 11}
HIL_APP = boards.ROOT / "tests" / "hil" / "hil_app.py"
NATIVE = "\n@micropython.native\ndef twice(x):\n    return x * 2\n"


def mpy_header(data):
    """(version, native architecture number) from an .mpy's header (docs/reference/mpyfiles.rst:
    'M', the version, a byte with the architecture in bits 5..2, the small-int bits)."""
    assert data[:1] == b"M" and data[3] == 31, data[:4]  # ESP32/ESP8266 and mpy-cross: 31 bits
    return data[1], data[2] >> 2 & 0x0F


@pytest.mark.parametrize("name", ["EMBER_ESP8266", "EMBER_ESP32"])
@pytest.mark.parametrize("native", [False, True], ids=["hil_app", "with-native-code"])
def test_a_board_gets_the_app_compiled_for_its_architecture(tmp_path, monkeypatch, name, native):
    """A real board's image holds /demo.mpy, compiled for its chip (-march from its board
    definition), and no /demo.py: the board imports it without compiling at boot. mpy-cross
    records the architecture only in a module with native code: the HIL app's header says none
    (its bytecode loads on any board), the same app with a native function says the board's."""
    arch = boards.load(name).mpy_cross_arch
    assert arch == {"EMBER_ESP8266": "xtensa", "EMBER_ESP32": "xtensawin"}[name]
    app = tmp_path / "app.py"
    app.write_text(HIL_APP.read_text() + (NATIVE if native else ""))
    target = targets.make(name, "/dev/ttyUSB3", str(make_release(tmp_path, name)))
    written = []

    def esptool(args, dry_run=False, capture=False):  # the image, read before it is deleted
        if "write-flash" in args:
            written.append(Path(args[-1]).read_bytes())
        return real_run(args, dry_run=True)

    real_run = esp.run
    monkeypatch.setattr(esp, "run", esptool)
    target.provision(SETTINGS, targets.app_files(target, "demo", app), dry_run=True)
    lfs = mount(written[0], boards.load(name).filesystem)
    assert sorted(lfs.listdir("/")) == ["config.json", "demo.mpy"]
    code = read(lfs, "/demo.mpy")
    assert mpy_header(code) == (6, MPY_ARCH[arch if native else None])
    assert b"demo.py" in code  # the source name freezing gives it (-s), not a host path
    assert str(app).encode() not in code


def test_an_app_mpy_cross_rejects_stops_the_run_with_its_message(tmp_path):
    (tmp_path / "bad.py").write_text("def f(:\n    pass\n")
    target = SimpleNamespace(name="EMBER_ESP8266")
    with pytest.raises(ProvisionError, match=r"--hil-app .*bad\.py: mpy-cross rejects it:\n.*"):
        targets.app_files(target, "demo", tmp_path / "bad.py")


def test_a_release_for_another_board_is_refused(tmp_path):
    dist = make_release(tmp_path, "EMBER_ESP32_S3")
    with pytest.raises(ProvisionError, match="is a EMBER_ESP32_S3 release"):
        targets.make("EMBER_ESP32", "/dev/ttyUSB0", str(dist))
    with pytest.raises(ProvisionError, match="needs --hil-port"):
        targets.make("EMBER_ESP32_S3", None, str(dist))
    with pytest.raises(ProvisionError, match="EMBER_NOPE"):
        targets.make("EMBER_NOPE", "/dev/ttyUSB0", str(dist))


def test_virtual_target_provisions_the_image_and_the_simulated_air(tmp_path):
    firmware = tmp_path / "micropython"
    firmware.write_bytes(b"")
    target = targets.make("EMBER_UNIX", release=str(tmp_path))  # the name for it
    assert isinstance(target, targets.VirtualTarget) and target.firmware == firmware
    (tmp_path / "app.py").write_bytes(APP)
    target.provision(SETTINGS, targets.app_files(target, "demo", tmp_path / "app.py"))
    fs = boards.load("EMBER_VIRTUAL").filesystem
    assert target.image.stat().st_size == fs.size
    lfs = mount(target.image.read_bytes(), fs)
    cfg = json.loads(read(lfs, "/config.json"))
    assert {k: cfg[k] for k in SETTINGS} == SETTINGS
    assert 1024 <= cfg["http_port"] <= 65535  # a free local port, not 80
    # Bytecode with no native architecture: the unix port loads it (the HIL runs below).
    assert sorted(lfs.listdir("/")) == ["config.json", "demo.mpy"]
    assert mpy_header(read(lfs, "/demo.mpy")) == (6, 0)
    assert cfg["device_id"] == "ember-000001"  # from the virtual board's MAC, as when flashing
    assert target.air["networks"][0]["ssid"] == "hil-lab"
    assert target.air["networks"][0]["password"] == "hunter2-wifi-pass"


def test_virtual_target_without_firmware_says_how_to_build_it(tmp_path):
    with pytest.raises(targets.Unavailable, match="./build.sh EMBER_VIRTUAL"):
        targets.make("EMBER_VIRTUAL", release=str(tmp_path / "nothing"))


def test_settings_come_from_the_environment_only():
    env = {
        "EMBER_HIL_WIFI_SSID": "lab",
        "EMBER_HIL_WIFI_PASSWORD": "",
        "EMBER_ADMIN_SECRET": "0123456789abcdef",
    }
    assert targets.device_settings(env, simulated=False, flashing=True) == {
        "wifi_ssid": "lab",
        "wifi_password": "",
        "admin_secret": "0123456789abcdef",
    }
    with pytest.raises(ProvisionError) as e:
        targets.device_settings({}, simulated=False, flashing=False)
    assert str(e.value) == (
        "set EMBER_HIL_WIFI_SSID, EMBER_HIL_WIFI_PASSWORD (empty for an open network), "
        "EMBER_ADMIN_SECRET (--hil-no-flash: the secret the device was given)"
    )
    # Flashing a fresh image: a secret of its own; the virtual board: a simulated network.
    fresh = targets.device_settings({}, simulated=True, flashing=True)
    assert fresh["wifi_ssid"] == targets.SIMULATED_WIFI[0] and len(fresh["admin_secret"]) == 32
    assert fresh["admin_secret"] != targets.device_settings({}, True, True)["admin_secret"]


@pytest.mark.parametrize(
    "text, line",
    [
        (
            "ember: ready http://192.168.1.23:80/ id=unit-0001 version=v0.3.0-4-gabc",
            Line(
                "ready",
                ["http://192.168.1.23:80/"],
                {"id": "unit-0001", "version": "v0.3.0-4-gabc"},
            ),
        ),
        (
            "ember: boot version=v1 board=EMBER_ESP32 reset=power\r\n",
            Line("boot", [], {"version": "v1", "board": "EMBER_ESP32", "reset": "power"}),
        ),
        (  # the last field runs to the end of the line, spaces and '=' included
            "ember: error where=app reason=ImportError: no module named 'x' a=b",
            Line("error", [], {"where": "app", "reason": "ImportError: no module named 'x' a=b"}),
        ),
        ("ember: saved config", Line("saved", ["config"], {})),
        (
            "ember: heap for 3 of 8 connections",
            Line("heap", ["for", "3", "of", "8", "connections"]),
        ),
        ("\x00\xffets Jun  8 2016 00:22:57 ember: stopped", Line("stopped")),
        ("rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)", None),
        ("I (29) boot: ESP-IDF v5.5.1", None),
    ],
)
def test_console_lines_parse(text, line):
    assert parse(text) == line


@pytest.fixture
def pty_console():
    """A Console on a pty's slave, as the virtual target opens one; `write` feeds the master,
    the end a board's process writes to."""
    master, slave = os.openpty()
    tty.setraw(slave)
    console = Console(os.ttyname(slave))
    yield console, lambda data: os.write(master, data)
    console.close()
    os.close(master)
    os.close(slave)


def test_console_reads_lines_from_a_pty_and_expects_after_a_mark(pty_console):
    console, write = pty_console
    write(b"rst:0x1 (POWERON_RESET)\r\nember: boot version=v1 board=EMBER_ESP32 reset=power\r\n")
    pos, m = console.expect(r"ember: boot .*reset=(\w+)", timeout=5)
    assert m.group(1) == "power" and pos == 1
    mark = console.mark()

    def later():  # a ready line split across writes, with bytes that are not UTF-8
        time.sleep(0.2)
        write(b"\xff\xfe garbage\r\nember: ready http://10.0.0.7:")
        time.sleep(0.1)
        write(b"8080/ id=unit-7 version=v1\r\n")

    threading.Thread(target=later).start()
    device = Device(ESP32, console, "s3cret-s3cret")
    assert device.wait_ready(timeout=5, after=mark) < 5
    assert (device.ip, device.port, device.id, device.version) == ("10.0.0.7", 8080, "unit-7", "v1")
    assert device.base_url == "http://10.0.0.7:8080/"
    assert console.lines[mark][1] == "\ufffd\ufffd garbage"
    # Lines before the mark never match what is expected after it.
    with pytest.raises(ConsoleTimeout):
        console.expect(r"ember: boot", timeout=0.3, after=console.mark())
    assert "ember: ready http://10.0.0.7:8080/ id=unit-7 version=v1\n" in device.log


def test_console_timeout_quotes_the_last_lines(pty_console):
    console, write = pty_console
    write(b"".join(b"line %d\n" % i for i in range(100)))
    console.expect("line 99", timeout=5)
    with pytest.raises(ConsoleTimeout) as e:
        console.expect("ember: ready", timeout=0.2)
    message = str(e.value)
    assert f"no line matching 'ember: ready' on {console.serial.port} within 0.2 s" in message
    assert "line 99\n" in message and "line 69\n" not in message  # the last 30


def test_console_on_a_pyserial_url():
    """A port given as a URL (rfc2217:// for a board on another machine): loop:// reads back
    what is written to it."""
    console = Console("loop://")
    try:
        console.serial.write(b"ember: ready http://10.1.2.3:80/ id=unit-9 version=v2\r\n")
        _, m = console.expect(r"ember: ready (\S+)", timeout=5)
        assert m.group(1) == "http://10.1.2.3:80/"
    finally:
        console.close()


def test_reset_pulls_en_low_with_gpio0_high():
    """The auto-reset circuit: RTS drives EN, DTR drives GPIO0 (both inverted). A reset is RTS
    asserted and released while DTR stays released, or the chip would boot its ROM loader."""
    console = Console("loop://")
    lines = []
    console.serial._update_rts_state = lambda: lines.append(("RTS", console.serial.rts))
    console.serial._update_dtr_state = lambda: lines.append(("DTR", console.serial.dtr))
    try:
        console.reset()
    finally:
        console.close()
    assert lines == [("DTR", False), ("RTS", True), ("RTS", False)]


def test_setup_mode_instead_of_ready_fails_at_once_with_the_log(pty_console):
    console, write = pty_console
    write(b"ember: joining attempt=4 ssid=lab\nember: join-failed attempt=4 status=no-ap\n")
    write(b"ember: setup ap=ember-setup-a1b2c3 reason=join-failed\n")
    device = Device(ESP32, console, "s3cret-s3cret")
    start = time.monotonic()
    with pytest.raises(NotReady) as e:
        device.wait_ready(timeout=30)
    assert time.monotonic() - start < 5
    assert "setup mode instead of serving: ember: setup ap=ember-setup-a1b2c3" in str(e.value)
    assert "join-failed attempt=4 status=no-ap" in str(e.value)


@pytest.mark.parametrize(
    "trouble",
    [
        b"ember: error where=server reason=MemoryError memory allocation failed",
        b"ember: safe-mode boots=4 reason=3 boots in a row did not reach healthy",
        b"ember: app-fallback file=/demo.py reason=import failed: SyntaxError: invalid syntax",
        b"Traceback (most recent call last):",
    ],
)
def test_ready_after_trouble_is_not_ready(pty_console, trouble):
    """A device that crashed and was reset on the way, or serves without the app it was given,
    is not the device to test, even once it says ready."""
    console, write = pty_console
    write(b"ember: boot version=v1 board=EMBER_ESP32 reset=power\n" + trouble + b"\n")
    write(b"ember: boot version=v1 board=EMBER_ESP32 reset=hard\n")
    write(b"ember: ready http://10.0.0.7:80/ id=unit-7 version=v1\n")
    with pytest.raises(NotReady) as e:
        Device(ESP32, console, "s3cret-s3cret").wait_ready(timeout=5)
    assert str(e.value).startswith("ready after " + trouble.decode())


# -- the plugin as pytest loads it (entry point), in a directory of its own --------------------

PROBE = """
def test_ok(device):
    assert device.base_url.startswith("http://127.0.0.1:")

def test_fails(device):
    assert device.id == "someone-else"
"""
# A test that passes while the device prints a traceback: the handler's exception, on the board.
CRASH = """
import httpx

def test_crash(device):
    r = httpx.get(device.base_url + "crash", timeout=10)
    assert r.status_code == 500
"""
CRASH_APP = """
import ember

app = ember.App()

@app.get("/crash")
def crash(req):
    raise ValueError("on purpose")
"""


def run_pytest(tmp_path, *args, probe=PROBE, **env_vars):
    (tmp_path / "test_probe.py").write_text(probe)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EMBER_HIL_", "EMBER_ADMIN"))}
    env.update(env_vars)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args, "test_probe.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_without_a_board_the_suite_skips_saying_why(tmp_path):
    proc = run_pytest(tmp_path, "-rs")
    assert proc.returncode == 0, proc.stdout
    assert "2 skipped" in proc.stdout
    assert "no --hil-board: the HIL suite needs a board (docs/hil.md)" in proc.stdout


def test_a_board_that_does_not_answer_fails_the_run_with_esptool_s_reason(tmp_path):
    dist = make_release(tmp_path, "EMBER_ESP32")
    args = ["--hil-board", "EMBER_ESP32", "--hil-port", "/dev/ember-hil-none"]
    args += ["--hil-release", str(dist), "--hil-artifacts", "out"]
    wifi = {"EMBER_HIL_WIFI_SSID": "lab", "EMBER_HIL_WIFI_PASSWORD": "lab-password"}
    proc = run_pytest(tmp_path, *args, **wifi)
    assert proc.returncode == 1 and "2 errors" in proc.stdout
    assert "RuntimeError: esptool failed: " in proc.stdout and "/dev/ember-hil-none" in proc.stdout
    report = json.loads((tmp_path / "out" / "hil-report.json").read_text())
    assert report["summary"] == {"failed": 2} and report["board"] == "EMBER_ESP32"
    # Without the network's name nothing is tried: the settings come from the environment only.
    proc = run_pytest(tmp_path, *args)
    assert proc.returncode == 4
    assert "ember-hil: set EMBER_HIL_WIFI_SSID, EMBER_HIL_WIFI_PASSWORD" in proc.stderr


needs_virtual = pytest.mark.skipif(
    not virtual.FIRMWARE.is_file(),
    reason=f"no virtual board firmware ({virtual.FIRMWARE}): ./build.sh EMBER_VIRTUAL",
)


@needs_virtual
def test_a_failed_test_carries_the_serial_log_and_the_run_its_report(tmp_path):
    secret = "hil-secret-4f9a1c"
    args = ["--hil-board", "EMBER_UNIX", "--junitxml", "out/junit.xml"]
    proc = run_pytest(tmp_path, *args, EMBER_ADMIN_SECRET=secret)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "1 failed, 1 passed" in proc.stdout
    assert re.search(r"serial console \(/dev/pts/\d+\)", proc.stdout)
    assert re.search(r"ember: ready http://127\.0\.0\.1:\d+/ id=ember-000001 ", proc.stdout)
    out = tmp_path / "out"  # beside the JUnit XML
    log = out / "test_probe.py_test_fails.serial.log"
    assert "ember: boot version=" in log.read_text()
    assert "ember: ready http://" in (out / "serial-EMBER_VIRTUAL.log").read_text()
    junit = ElementTree.parse(out / "junit.xml")
    props = {p.get("name"): p.get("value") for p in junit.iter("property")}
    assert props == {"serial_log": str(Path("out") / log.name)}
    report = json.loads((out / "hil-report.json").read_text())
    assert report["board"] == "EMBER_VIRTUAL" and report["summary"] == {"passed": 1, "failed": 1}
    assert report["device"]["id"] == "ember-000001"
    assert 0 < report["timings_s"]["power_on_to_ready"] < 30
    # Logs, report and JUnit XML: what CI uploads; the flash image with the secret is not there.
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["junit.xml", "hil-report.json", "serial-EMBER_VIRTUAL.log", log.name]
    )
    assert not any(secret in p.read_text() for p in out.iterdir()) and secret not in proc.stdout


@needs_virtual
def test_no_ready_line_in_time_fails_with_the_log(tmp_path):
    proc = run_pytest(tmp_path, "--hil-board", "EMBER_VIRTUAL", "--hil-timeout", "0.1")
    assert proc.returncode == 1
    assert "2 errors" in proc.stdout  # the fixture's error, once for each test
    assert "no line matching 'ember: (ready|setup) ' on /dev/pts/" in proc.stdout
    assert "within 0.1 s; its last lines:" in proc.stdout
    log = (tmp_path / "hil-artifacts" / "test_probe.py_test_ok.serial.log").read_text()
    assert "virtual: power on: EMBER_VIRTUAL (SIMULATION)" in log


def test_the_workflow_and_the_docs_run_the_same_command_on_every_board():
    workflow = (boards.ROOT / ".github" / "workflows" / "hil.yml").read_text()
    docs = (boards.ROOT / "docs" / "hil.md").read_text()
    ran = re.search(r"\./build\.sh hil (--hil-board .*?)\n(?!\s+--)", workflow, re.S).group(1)
    ran = shlex.split(ran.replace("\\\n", " ").replace('"', ""))
    assert ran[:2] == ["--hil-board", "$BOARD"] and ran[4:6] == ["--hil-release", "dist/$BOARD"]
    assert ran[2] == "--hil-port" and ran[3] == "${EMBER_HIL_PORT:-/dev/ember-hil/$BOARD}"
    said = " ".join(ran).replace(ran[3], "/dev/ember-hil/$BOARD").replace("$BOARD", "<BOARD>")
    assert f"./build.sh hil {said}" in docs.replace("\n", " ")
    # Every flashable board has a job, on a runner whose labels actionlint is told about.
    assert "board: ${{ fromJSON(needs.firmware.outputs.boards) }}" in workflow
    matrix = re.search(r"BOARDS: \$\{\{ inputs\.boards \|\| '(.*)' \}\}", workflow)
    assert sorted(json.loads(matrix.group(1))) == sorted(FLASHABLE)
    labels = (boards.ROOT / ".github" / "actionlint.yaml").read_text()
    assert all(f"    - {label}\n" in labels for label in ["ember-hil", *FLASHABLE])


@needs_virtual
def test_a_traceback_on_the_console_fails_a_test_that_passed_over_http(tmp_path):
    (tmp_path / "crash_app.py").write_text(CRASH_APP)
    args = ["--hil-board", "EMBER_UNIX", "--hil-app", "crash_app.py"]
    proc = run_pytest(tmp_path, *args, probe=CRASH)
    assert proc.returncode == 1 and "1 failed" in proc.stdout, proc.stdout
    assert "the device reported trouble during the test: Traceback (most recent call last):" in (
        proc.stdout
    )
    assert "ValueError: on purpose" in proc.stdout  # the serial log, in the report

"""SIMULATION: the virtual board's host side, the part of a simulated ESP32 outside MicroPython.

The EMBER_VIRTUAL firmware (the unix port with boards/EMBER_VIRTUAL/sim/ frozen in) runs the
device runtime over a LittleFS2 image file. This launcher powers it on and is its chip: it
restarts the process on machine.reset() (reset cause hard) and machine.soft_reset() (soft), is
the watchdog (no feed for the WDT's timeout: kill, restart, cause watchdog), keeps RTC memory
across restarts but not across a power-on, holds the setup button at power-on if asked, and
answers the simulated radio with the air file (see sim/network.py). Given an OTA flash file
(`ota=`), it is the bootloader too: the firmware then runs from the slot that file's otadata
selects, with the IDF's rollback rules (sim/esp32.py), so an update can be sent to it.

    board = VirtualBoard(image="unit.img", air={"networks": [...]}, runtime={...})
    board.power_on()                 # serial lines captured: board.lines(), board.expect(...)
    board.power_on(stdout=fd)        # or written to a file descriptor (a pty, the terminal)
    board.power_off()

    python -m ember_host.virtual --config device.json [--www DIR] [--air A] [--runtime k=v ...]

Lines the launcher adds to the serial stream start with "virtual: "; the board's own start with
whatever it prints ("ember: ..." for the runtime).
"""

import argparse
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from . import boards, device
from .lines import LineLog
from .target import ProvisionError

BOARD = "EMBER_VIRTUAL"
FIRMWARE = boards.ROOT / "build" / BOARD / "micropython"
MAC = "02:45:4d:00:00:01"
# What the simulated machine and network modules take of MicroPython's heap (2.6 KiB measured at
# import, v1.28 unix, the board's 32-bit build): on a board they are C, outside the heap, so the
# launcher adds this to the heap size asked for, and the runtime sees about the heap it would
# have on the device.
SIM_HEAP = 3 * 1024
_UNITS = {"k": 1024, "m": 1024 * 1024}


def heap_bytes(size):
    """64k, 2m or a number of bytes (as MicroPython's -X heapsize takes it) in bytes."""
    size = str(size).lower()
    return int(size[:-1]) * _UNITS[size[-1]] if size[-1] in _UNITS else int(size)


def _fs():
    return boards.load(BOARD).filesystem


def sim_esp32():
    """The SIMULATED esp32 module (sim/esp32.py): its bootloader() runs here, on CPython."""
    spec = importlib.util.spec_from_file_location(
        "ember_sim_esp32", boards.BOARDS_DIR / BOARD / "sim" / "esp32.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class VirtualBoard:
    """One simulated board: the firmware, its flash (the image file) and its world (the air).

    `air` is a path (read afresh at each join and scan), a dict (kept in a file of the board's
    own, changed with set_air), or None (no networks). `runtime` is passed to
    `ember_device.runtime.run(**runtime)`. `hold_button` holds `button_pin` low during the
    power-on boot only (released at later resets, as a finger lets go). `heap` is the device's
    heap ("32k"; None: the unix port's default), to which the launcher adds SIM_HEAP. `ota` is
    the board's OTA flash file (two slots and otadata, sim/esp32.py), made at the first power-on
    with `firmware` in ota_0; at every start the firmware runs from the slot the bootloader
    picks. None: no OTA slots (esp32.Partition's get_next_update raises ENOENT, as on an
    ESP32-C3).
    """

    def __init__(self, firmware=FIRMWARE, image=None, air=None, runtime=None, hold_button=False,
                 heap=None, button_pin=0, mac=MAC, ota=None):
        self.firmware = Path(firmware)
        self.image = Path(image)
        self.runtime = dict(runtime or {})
        self.hold_button = hold_button
        self.heap = heap
        self.button_pin = button_pin
        self.mac = mac
        self.ota = None if ota is None else Path(ota)
        self.boots = []  # the reset cause of each boot since power-on
        self.returncode = None  # set when the firmware stopped on its own (the board halted)
        self._dir = None  # the board's own files (RTC memory) while it is on
        self._air = air
        self._last_air = b"{}"
        self._proc = None
        self._reader = None
        self._sock = None
        self._out = None  # the file descriptor the serial lines go to; None: captured
        self._captured = True
        self._log = LineLog()
        self._seen = 0  # expect() searches the lines from here
        self._stop = threading.Event()
        self._supervisor = None
        self._wdt_ms = None
        self._fed = 0.0

    # -- the air -----------------------------------------------------------------------------

    def set_air(self, air):
        """Change the world (a dict) the radio sees, from its next join attempt or scan on."""
        self._air = dict(air)

    def _read_air(self):
        if self._air is None or isinstance(self._air, dict):
            return json.dumps(self._air or {}, separators=(",", ":")).encode()
        try:
            data = json.dumps(json.loads(Path(self._air).read_text()), separators=(",", ":"))
            self._last_air = data.encode()
        except (OSError, ValueError) as e:  # mid-edit, or wrong: the radio keeps the last air
            self._say(f"air file {self._air}: {e}; keeping the previous air")
        return self._last_air

    def _give_air(self, tag, addr):
        """The radio asked: the air into the file it reads (opened before the image hid the
        host's paths), then the answer that it may read it. A datagram reply would cost its
        heap a buffer as large as the air; this costs it the air's size only."""
        with open(self._dir / "air.json", "r+b") as f:
            f.write(self._read_air())
            f.truncate()
        self._sock.sendto(tag.encode(), addr)

    # -- power ---------------------------------------------------------------------------------

    def power_on(self, stdout=None):
        """Start the board (reset cause power, RTC memory cleared). `stdout`: a file descriptor
        (or an object with fileno()) for the serial lines, or None to capture them."""
        if self._dir is not None:
            raise RuntimeError("the board is already on")
        if not self.firmware.is_file():
            raise FileNotFoundError(
                f"{self.firmware}: no virtual board firmware (./build.sh {BOARD})"
            )
        if not self.image.is_file():
            raise FileNotFoundError(f"{self.image}: no flash image")
        self._captured = stdout is None
        if stdout is not None:  # a copy of its own: the caller may close theirs
            self._out = os.dup(stdout.fileno() if hasattr(stdout, "fileno") else stdout)
        self._dir = Path(tempfile.mkdtemp(prefix="ember-virtual-"))
        (self._dir / "rtc.bin").write_bytes(b"")  # RTC memory does not survive a power cycle
        (self._dir / "air.json").write_bytes(b"{}")
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self.boots = []
        self.returncode = None
        self._wdt_ms = None
        self._stop.clear()
        self._say(f"power on: {BOARD} (SIMULATION), flash {self.image}")
        if self.ota is not None and not self.ota.is_file():
            esp32 = sim_esp32()
            esp32.new_flash(self.ota, esp32.pack_image(self.firmware.read_bytes()))
            self._say(f"OTA flash {self.ota}: {self.firmware.name} in ota_0")
        self._start("power")
        self._supervisor = threading.Thread(target=self._supervise, daemon=True)
        self._supervisor.start()

    def power_off(self):
        """Stop the board: its process killed, nothing of it left running."""
        self._stop.set()
        if self._supervisor is not None:
            self._supervisor.join()
            self._supervisor = None
        self._kill()
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        if self._dir is not None:
            self._say("power off")
            if self._out is not None:
                os.close(self._out)
                self._out = None
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def running(self):
        return self._supervisor is not None and self.returncode is None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.power_off()

    # -- the serial console --------------------------------------------------------------------

    def lines(self):
        """The serial lines so far (when captured), the launcher's "virtual: " lines included."""
        return [text for _, text in self._log.lines]

    def expect(self, pattern, timeout=10.0):
        """The match of the first line after the previous expect()'s that matches `pattern` (a
        regular expression), waiting up to `timeout` s; TimeoutError with the lines seen."""
        if not self._captured:
            raise RuntimeError("expect() needs the serial lines captured (power_on(stdout=None))")
        found = self._log.search(pattern, timeout, self._seen)
        if found is None:
            tail = "\n".join(self.lines()[-self._log.TAIL :])
            raise TimeoutError(
                f"no line matching {pattern!r} within {timeout} s; last lines:\n{tail}"
            )
        pos, m = found
        self._seen = pos + 1
        return m

    def _say(self, text):
        line = f"virtual: {text}"
        if self._out is None:
            self._log.add([line])
        else:
            os.write(self._out, (line + "\n").encode())

    def _pump(self, pipe):
        for raw in pipe:
            self._log.add([raw.decode("utf-8", "replace").rstrip("\r\n")])
        pipe.close()

    # -- the chip ------------------------------------------------------------------------------

    def _start(self, cause):
        self.boots.append(cause)
        env = {
            "MICROPYPATH": ".frozen:/lib",  # with '' first: an ESP32's sys.path
            "EMBER_VIRTUAL_CONTROL": str(self._sock.getsockname()[1]),
            "EMBER_VIRTUAL_BOOT": str(len(self.boots)),
            "EMBER_VIRTUAL_RESET": cause,
            "EMBER_VIRTUAL_RTC": str(self._dir / "rtc.bin"),
            "EMBER_VIRTUAL_AIR": str(self._dir / "air.json"),
            "EMBER_VIRTUAL_MAC": self.mac,
            "EMBER_VIRTUAL_IMAGE": str(self.image.resolve()),
            "EMBER_VIRTUAL_BLOCK_SIZE": str(_fs().block_size),
            "EMBER_VIRTUAL_RUNTIME": json.dumps(self.runtime),
        }
        if self.hold_button and cause == "power":
            env["EMBER_VIRTUAL_BUTTON"] = str(self.button_pin)
        cmd = [str(self.firmware.resolve()) if self.ota is None else self._bootloader(env)]
        if self.heap:
            cmd += ["-X", f"heapsize={heap_bytes(self.heap) + SIM_HEAP}"]
        self._proc = subprocess.Popen(
            cmd + ["-m", "virtual_main"],
            cwd=self._dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if self._out is None else self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C meant for the launcher does not reach the board
        )
        if self._out is None:
            self._reader = threading.Thread(
                target=self._pump, args=(self._proc.stdout,), daemon=True
            )
            self._reader.start()

    def _bootloader(self, env):
        """The slot otadata selects (rollback rules applied), its executable extracted."""
        esp32 = sim_esp32()
        with open(self.ota, "r+b") as f:
            label = esp32.bootloader(f)
            exe = self._dir / f"{label}.bin"
            exe.write_bytes(esp32.firmware(f, label))
        exe.chmod(0o755)
        env["EMBER_VIRTUAL_FLASH"] = str(self.ota.resolve())
        env["EMBER_VIRTUAL_RUNNING"] = label
        self._say(f"bootloader: {label}")
        return str(exe)

    def _kill(self):
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGKILL)
        if self._proc is not None:
            self._proc.wait()
        if self._reader is not None:  # its last lines before the restart's
            self._reader.join(5)

    def _restart(self, cause, why):
        self._kill()
        self._say(f"{why}: restart, reset cause {cause}")
        if cause != "soft":  # as on an ESP32, only a soft reset leaves the watchdog running
            self._wdt_ms = None
        self._start(cause)

    def _supervise(self):
        """Hear the firmware, feed the watchdog's clock, restart when the chip would reset."""
        while not self._stop.is_set():
            if self._proc.poll() is not None:
                self._kill()  # nothing left to kill: waits for the last lines
                self.returncode = self._proc.returncode
                self._say(f"halted: the firmware exited with status {self.returncode}")
                return
            wait = 0.05
            if self._wdt_ms is not None:
                left = self._fed + self._wdt_ms / 1000 - time.monotonic()
                if left <= 0:
                    self._restart("watchdog", f"watchdog: no feed for {self._wdt_ms} ms")
                    continue
                wait = min(wait, left)
            self._sock.settimeout(wait)
            try:
                data, addr = self._sock.recvfrom(256)
            except (socket.timeout, OSError):
                continue
            self._heard(data.decode(errors="replace").split(), addr)

    def _heard(self, words, addr):
        if len(words) < 2 or words[0] != str(len(self.boots)):
            return  # from an earlier boot's process, already gone
        verb = words[1]
        if verb == "feed":
            self._fed = time.monotonic()
        elif verb == "wdt":
            self._wdt_ms = int(words[2])
            self._fed = time.monotonic()
        elif verb == "air":
            self._give_air(words[2], addr)
        elif verb == "reset":
            self._restart("hard", "machine.reset()")
        elif verb == "soft":
            self._restart("soft", "machine.soft_reset()")


# -- the command line --------------------------------------------------------------------------


def _runtime_arg(text):
    key, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"--runtime {text}: expected key=value")
    try:
        return key, json.loads(value)
    except ValueError:
        return key, value  # a plain string


def write_image(path, raw=None, www=None, files=None, mac=MAC):
    """The board's flash as `ember-provision flash` writes it: the config fields `raw` (a dict;
    device_id and hostname derived from `mac` when absent, none derived when `mac` is None),
    `www` copied to /www and `files` ({"/boot.py": bytes}) beside them; blank when no config.
    Returns the validated config (None for a blank flash)."""
    fs = _fs()
    if raw is None:
        Path(path).write_bytes(b"\xff" * fs.size)  # a new chip: the first boot formats it
        return None
    cfg = device.device_config(raw, mac)
    Path(path).write_bytes(device.build_image(cfg, fs, www, files))
    return cfg


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="python -m ember_host.virtual",
        description="SIMULATION: run the EMBER_VIRTUAL board (ember's device runtime on the unix "
        "port, simulated radio and chip) until Ctrl-C",
    )
    ap.add_argument("--firmware", default=str(FIRMWARE), help="the EMBER_VIRTUAL build")
    ap.add_argument("--config", help="device config JSON: the flash image is built from it")
    ap.add_argument("--www", help="directory copied to /www (with --config)")
    ap.add_argument(
        "--image",
        help="the flash image: written from --config if given, else used as it is (a blank "
        "flash if it does not exist)",
    )
    ap.add_argument("--air", help="air file (JSON): the networks the radio finds")
    ap.add_argument("--runtime", action="append", type=_runtime_arg, default=[],
                    help="a runtime.run() parameter, key=value (value as JSON); repeat")
    ap.add_argument("--hold-button", action="store_true", help="setup button held at power-on")
    ap.add_argument("--heap", help="MicroPython heap size, e.g. 64k")
    ap.add_argument("--mac", default=MAC, help=f"the board's base MAC (default {MAC})")
    ap.add_argument("--ota", help="OTA flash file (two slots, otadata; made with the firmware in "
                    "ota_0 if absent): updates over the air, rollback")
    ap.add_argument("--serial-fd", type=int, default=1, help="where serial lines go (default 1)")
    a = ap.parse_args(argv)
    if not a.config and not a.image:
        ap.error("give --config (and --www) to build the flash image, or --image")
    with tempfile.TemporaryDirectory(prefix="ember-virtual-") as tmp:
        image = Path(a.image or Path(tmp) / "flash.img")
        try:
            if a.config or not image.exists():
                raw = json.loads(Path(a.config).read_text()) if a.config else None
                write_image(image, raw, a.www, mac=a.mac)
        except (ProvisionError, OSError, ValueError) as e:
            print(f"ember_host.virtual: {e}", file=sys.stderr)
            return 1
        board = VirtualBoard(a.firmware, image, a.air, dict(a.runtime), a.hold_button, a.heap,
                             mac=a.mac, ota=a.ota)
        # Ctrl-C, or terminated (kill, a CI timeout): powered off, no orphan left serving. The
        # handler only notes the signal: an exception could land between starting the firmware's
        # process and recording it, and leave that process running.
        stopped = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda signum, _: stopped.append(signum))
        try:
            board.power_on(stdout=a.serial_fd)
            while board.running() and not stopped:
                time.sleep(0.1)
        except FileNotFoundError as e:
            print(f"ember_host.virtual: {e}", file=sys.stderr)
            return 1
        finally:
            board.power_off()
    if signal.SIGTERM in stopped:
        return 143
    return 0 if board.returncode in (None, 0) else 1


if __name__ == "__main__":
    raise SystemExit(main())

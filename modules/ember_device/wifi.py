"""The radio: join a network as a station (a timeout per attempt, retries with backoff), keep the
link up while serving, and the soft AP of setup mode.

Status codes are compared with the `network` module's constants, never numbers: they differ
between the ESP32 and ESP8266 ports. The runtime owns the retries: ESP32's own endless
reconnecting is switched off, because a station retrying in the background disturbs the setup
AP on the same radio and hides the reason a join failed.
"""

import asyncio
import time

import network

from .console import say


def station():
    return network.WLAN(network.WLAN.IF_STA)


def access_point():
    return network.WLAN(network.WLAN.IF_AP)


def mac_suffix():
    """The last three bytes of the station MAC, as six hex digits."""
    mac = station().config("mac")
    return "%02x%02x%02x" % (mac[3], mac[4], mac[5])


def ip(iface):
    return iface.ifconfig()[0]


def rssi(sta):
    try:
        return sta.status("rssi")
    except (OSError, ValueError):  # not connected, or a port without it
        return None


def _failure(status):
    if status == network.STAT_WRONG_PASSWORD:
        return "wrong-password"
    if status == network.STAT_NO_AP_FOUND:
        return "no-ap"
    if status == network.STAT_CONNECT_FAIL:
        return "connect-fail"
    return None


def start_station():
    sta = station()
    sta.active(True)
    sta.config(pm=network.WLAN.PM_NONE)  # a server: no power-save latency on each request
    try:
        sta.config(reconnects=0)
    except ValueError:
        pass  # ESP8266: no such key (its SDK retries a dropped link by itself)
    return sta


async def join_once(sta, ssid, password, timeout_ms):
    """None once joined, else why not: no-ap, wrong-password, connect-fail or timeout."""
    try:
        sta.disconnect()  # ESP32 raises on connect() while a connect is in progress
        sta.connect(ssid, password)
    except OSError:  # "Wifi Internal Error" even so (micropython#17661): a failed attempt,
        return "connect-fail"  # retried; raised, it would end the task that keeps the link
    deadline = time.ticks_add(time.ticks_ms(), timeout_ms)
    while not sta.isconnected():
        why = _failure(sta.status())
        if why:
            return why
        if time.ticks_diff(deadline, time.ticks_ms()) <= 0:
            return "timeout"
        await asyncio.sleep_ms(200)
    return None


async def join(sta, ssid, password, attempts, timeout_ms, backoff_ms):
    """Join within `attempts` (0: keep trying), waiting `backoff_ms`, doubled each time (at most a
    minute), between them. True once joined."""
    n = 0
    while not attempts or n < attempts:
        n += 1
        say("joining", "attempt=%d ssid=%s" % (n, ssid))
        why = await join_once(sta, ssid, password, timeout_ms)
        if why is None:
            say("joined", "ip=%s rssi=%s" % (ip(sta), rssi(sta)))
            return True
        say("join-failed", "attempt=%d status=%s" % (n, why))
        sta.disconnect()
        if n != attempts:
            await asyncio.sleep_ms(min(backoff_ms << min(n - 1, 6), 60000))
    return False


def start_ap(name):
    """The open setup AP called `name`; its IP address. The station stops retrying first (one
    radio: its scans and retries would disturb the AP's clients), but stays active so that
    `scan()` works."""
    sta = station()
    sta.active(True)
    sta.disconnect()
    ap = access_point()
    ap.active(True)
    ap.config(ssid=name, security=0)  # open: the portal asks for the admin secret when one is set
    return ip(ap)


def scan():
    """Visible networks as (ssid, rssi, secured), strongest first, each name once. Blocks for a
    second or two (the port's scan does): the portal calls it only on a page load."""
    best = {}
    for ssid, _bssid, _channel, level, auth, _hidden in station().scan():
        try:
            name = ssid.decode()
        except UnicodeError:
            continue
        if name and (name not in best or best[name][1] < level):
            best[name] = (name, level, auth != 0)
    return sorted(best.values(), key=lambda n: -n[1])

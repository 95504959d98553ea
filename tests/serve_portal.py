"""Serve the setup portal and its DNS responder on one event loop, as setup mode does, with a
stand-in device (CPython or MicroPython): `serve_portal.py HTTP_PORT DNS_PORT DIR AP_IP`.

DIR/config.json, when present, is the device's current config; a saved config is written to
DIR/saved.json and a reboot prints `REBOOT <reason>`. Prints `DNS READY <port>` and then
`EMBER READY <port>` once both listen; the harness waits for both. Not a device: the
networks are fixed, and the radio is the host's loopback."""

import json
import sys

import asyncio

from ember_device import dns
from ember_device.portal import setup_app

NETWORKS = [
    ("lab", -48, True),
    ("lab", -80, True),  # the same name from a second access point
    ("cafe <b id=injected>free</b>", -63, False),  # names are chosen by strangers
    ("", -70, True),  # a hidden network
    ("far away", -88, True),
]


def say(text):
    print(text)
    try:
        sys.stdout.flush()
    except AttributeError:  # MicroPython's stdout has no flush: its print does not buffer
        pass


class StandIn:
    device_id = "ember-c0ffee"
    firmware = "v0.0.0-portal-test"

    def __init__(self, folder, ap_ip):
        self.folder = folder
        self.ap_ip = ap_ip
        try:
            with open(folder + "/config.json") as f:
                self.config = json.load(f)
        except OSError:
            self.config = None

    def scan(self):
        return NETWORKS

    def save_config(self, cfg):
        with open(self.folder + "/saved.json", "w") as f:
            json.dump(cfg, f)

    def reboot(self, reason):
        say("REBOOT " + reason)


async def main(http_port, dns_port, folder, ap_ip):
    app = setup_app(StandIn(folder, ap_ip))  # redirects name the port it listens on
    task = asyncio.create_task(dns.serve(ap_ip, dns_port, lambda p: say("DNS READY %d" % p)))
    try:
        await app.serve("127.0.0.1", http_port, lambda p: say("EMBER READY %d" % p))
    finally:
        task.cancel()


asyncio.run(main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]))

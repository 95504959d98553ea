"""Shared by the HIL suite's modules: timeouts, the status call."""

import httpx

# Generous for Wi-Fi; the virtual board answers in milliseconds.
TIMEOUT = 15.0


def status(device):
    """GET /_ember/status with the admin secret, on a connection of its own."""
    r = httpx.get(device.base_url + "_ember/status", headers=device.auth, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    return r.json()

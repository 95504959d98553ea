"""A reboot through the device endpoint: the reboot line, a new boot, the ready line again."""

import time

import httpx
import pytest

from hil_support import TIMEOUT, status


@pytest.mark.hil_reboots
def test_reboot_through_the_endpoint(device, hil_report, request):
    mark = device.console.mark()
    r = httpx.post(device.base_url + "_ember/reboot", headers=device.auth, timeout=TIMEOUT)
    assert r.status_code == 202 and r.json() == {"rebooting": True}
    start = time.monotonic()
    timeout = request.config.getoption("--hil-timeout")
    device.console.expect(r"ember: reboot reason=request$", TIMEOUT, after=mark)
    _, boot = device.console.expect(r"ember: boot .*reset=(\w+)", timeout, after=mark)
    device.wait_ready(timeout, after=mark)
    hil_report.timing("reboot_to_ready", time.monotonic() - start)
    s = status(device)
    assert s["reset_cause"] == boot.group(1) and s["reset_cause"] in ("hard", "soft")
    assert s["uptime_s"] < time.monotonic() - start + 1
    assert httpx.get(device.base_url, timeout=TIMEOUT).status_code == 200

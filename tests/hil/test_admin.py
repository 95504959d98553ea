"""The device endpoints: status with and without the admin secret, and what it reports."""

import httpx
import pytest

from hil_support import TIMEOUT, status


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong-secret-0000"}, {"Authorization": "Basic Zm9vOmJhcg=="}],
    ids=["none", "wrong-bearer", "wrong-basic"],
)
def test_status_needs_the_secret(device, headers):
    r = httpx.get(device.base_url + "_ember/status", headers=headers, timeout=TIMEOUT)
    assert r.status_code == 401
    assert "www-authenticate" in r.headers
    assert device.secret not in r.text


def test_status_reports_the_device(device, hil_report):
    s = status(device)
    assert s["device_id"] == device.id
    assert s["firmware"] == device.version
    assert s["board"] == device.board
    assert s["network"]["mode"] == "station" and s["network"]["state"] == "connected"
    assert s["network"]["ip"] == device.ip
    assert isinstance(s["heap_free"], int) and s["heap_free"] > 0
    assert s["fs"]["size"] > s["fs"]["free"] > 0
    assert device.secret not in str(s)
    hil_report.heap_figure("free_at_first_status", s["heap_free"])
    hil_report.heap_figure("used_at_first_status", s["heap_used"])


def test_basic_auth_with_any_user_name(device):
    r = httpx.get(
        device.base_url + "_ember/status", auth=("anyone", device.secret), timeout=TIMEOUT
    )
    assert r.status_code == 200 and r.json()["device_id"] == device.id

"""The setup portal app (ember_device.portal) in-process, with a stand-in device: the page, the
captive-portal redirects, the form's validation, the admin secret, the save and the reboot.

The cases run on CPython, MicroPython unix and webassembly (tests/inprocess.py)."""

try:
    import pytest
except ImportError:  # MicroPython: tests/run_cases.py runs the cases
    pytest = None
else:
    import inprocess  # puts modules/ on sys.path, for `import ember` below
    from conftest import RUNTIME

    pytestmark = [
        pytest.mark.integration,
        pytest.mark.skipif(
            RUNTIME == "wasm", reason="device runtime: not in the webassembly build (no board)"
        ),
    ]

import json

from ember.testing import TestClient

from ember_device.portal import setup_app

AP = "192.168.4.1"
SECRET = "admin-secret-0123"
WIFI_PASSWORD = "wifi-pass-4567"
CONFIGURED = {
    "device_id": "unit-0001",
    "wifi_ssid": "lab",
    "wifi_password": WIFI_PASSWORD,
    "admin_secret": SECRET,
    "http_port": 8080,
}
PROBES = (
    "/generate_204",
    "/gen_204",
    "/hotspot-detect.html",
    "/library/test/success.html",
    "/connecttest.txt",
    "/ncsi.txt",
    "/redirect",
    "/some/unknown/path?x=1",
)


class Device:
    """A stand-in for the runtime's Device: what the portal reads and calls, recorded."""

    ap_ip = AP
    device_id = "ember-a1b2c3"
    firmware = "v9.9.9-test"

    def __init__(self, config=None, networks=None, fail_save=False):
        self.config = config
        self.networks = networks or [("lab", -48, True), (b"cafe", -71, False)]
        self.fail_save = fail_save
        self.saved = []
        self.reboots = []
        self.scans = 0

    def scan(self):
        self.scans += 1
        return self.networks

    def save_config(self, cfg):
        if self.fail_save:
            raise OSError(28)  # ENOSPC
        self.saved.append(cfg)

    def reboot(self, reason):
        self.reboots.append(reason)


def portal(device, port=None):
    app = setup_app(device, port=port)
    return app, TestClient(app, host=AP if port is None else "%s:%d" % (AP, port))


def first_setup_form(**changes):
    form = {"wifi_ssid": "lab", "wifi_password": WIFI_PASSWORD, "admin_secret": SECRET}
    form.update(changes)
    return form


def assert_no_secret(response, *secrets):
    for secret in secrets:
        assert secret.encode() not in response.body, (secret, response.body)


async def case_page_is_a_gzipped_constant():
    app, client = portal(Device())
    r = await client.get("/")
    assert r.status == 200, r
    assert r.headers["Content-Encoding"] == "gzip"
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert r.body[:3] == b"\x1f\x8b\x08", r.body[:10]  # gzip, deflate
    assert 1000 < len(r.body) < 4096, len(r.body)  # a few KB
    head = await client.head("/")
    assert head.status == 200 and head.headers["Content-Length"] == str(len(r.body))


async def case_probe_urls_redirect_to_the_page():
    app, client = portal(Device())
    for path in PROBES:
        for method in ("GET", "POST"):
            r = await client.request(method, path)
            assert r.status == 302, (method, path, r)
            assert r.headers["Location"] == "http://192.168.4.1/", (path, r)


async def case_other_host_names_redirect_to_the_page():
    # What a phone sends after the DNS responder answered its probe's name with our address.
    app = setup_app(Device())
    hosts = (
        "connectivitycheck.gstatic.com",
        "captive.apple.com",
        "192.168.4.10",
        "192.168.4.1.x.io",
    )
    for host in hosts:
        client = TestClient(app, host=host)
        for path in ("/", "/setup.json", "/generate_204"):
            r = await client.get(path)
            assert r.status == 302 and r.headers["Location"] == "http://192.168.4.1/", (host, r)


async def case_redirect_names_the_portal_port():
    app, client = portal(Device(), port=8080)
    r = await client.get("/hotspot-detect.html")
    assert r.status == 302 and r.headers["Location"] == "http://192.168.4.1:8080/", r
    r = await client.get("/")
    assert r.status == 200, r


async def case_state_lists_the_scan():
    device = Device()
    app, client = portal(device)
    r = await client.get("/setup.json")
    assert r.status == 200, r
    assert r.json() == {
        "device_id": "ember-a1b2c3",
        "firmware": "v9.9.9-test",
        "secret_required": False,
        "networks": [["lab", -48, True], ["cafe", -71, False]],  # bytes SSIDs decoded
        "values": {},
    }
    await client.get("/setup.json")
    assert device.scans == 2  # every load rescans


async def case_state_skips_undecodable_names_and_survives_a_busy_radio():
    device = Device(networks=[(b"\xff\xfe", -40, True), ("ok", -60, True)])
    app, client = portal(device)
    assert (await client.get("/setup.json")).json()["networks"] == [["ok", -60, True]]

    def busy():
        raise OSError(16)

    device.scan = busy
    r = await client.get("/setup.json")
    assert r.status == 200 and r.json()["networks"] == [], r


async def case_first_setup_saves_then_reboots():
    device = Device()
    app, client = portal(device)
    r = await client.post("/", form=first_setup_form(device_id="unit-7", hostname=""))
    assert r.status == 200, r
    assert r.json() == {"saved": True, "ssid": "lab"}
    assert_no_secret(r, SECRET, WIFI_PASSWORD)
    assert device.saved == [
        {
            "device_id": "unit-7",
            "wifi_ssid": "lab",
            "wifi_password": WIFI_PASSWORD,
            "admin_secret": SECRET,
            "http_port": 80,
        }
    ]
    assert device.reboots == ["setup-saved"]  # the device waits for the answer to go out


async def case_open_network():
    device = Device()
    app, client = portal(device)
    form = first_setup_form(wifi_ssid="cafe", wifi_password="", wifi_open="1")
    r = await client.post("/", form=form)
    assert r.status == 200, r
    assert device.saved[0]["wifi_password"] == ""


async def case_errors_per_field_and_nothing_saved():
    device = Device()
    app, client = portal(device)
    form = first_setup_form(wifi_password="short", admin_secret="", hostname="Not_A_Name")
    r = await client.post("/", form=form)
    assert r.status == 400, r
    errors = r.json()["errors"]
    assert sorted(errors) == ["admin_secret", "hostname", "wifi_password"], errors
    assert errors["admin_secret"] == "is required"
    assert "8-63" in errors["wifi_password"]
    assert_no_secret(r, "short")
    # An empty password is not an open network unless the box says so.
    r = await client.post("/", form=first_setup_form(wifi_password=""))
    assert r.status == 400 and list(r.json()["errors"]) == ["wifi_password"], r
    r = await client.post("/", form={})
    assert sorted(r.json()["errors"]) == ["admin_secret", "wifi_password", "wifi_ssid"], r
    assert device.saved == [] and device.reboots == []


async def case_a_configured_device_asks_for_its_secret():
    device = Device(config=dict(CONFIGURED))
    app, client = portal(device)
    r = await client.get("/setup.json")
    state = r.json()
    assert state["secret_required"] is True
    assert state["values"] == {"wifi_ssid": "lab", "device_id": "unit-0001"}
    assert_no_secret(r, SECRET, WIFI_PASSWORD)
    new = first_setup_form(wifi_ssid="other", wifi_password="new-password-1")
    for given in (None, "", "wrong-secret-000", SECRET[:-1], SECRET + "x"):
        form = dict(new)
        if given is not None:
            form["current_secret"] = given
        r = await client.post("/", form=form)
        assert r.status == 403, (given, r)
        assert list(r.json()["errors"]) == ["current_secret"], r
        assert_no_secret(r, SECRET, WIFI_PASSWORD)
    assert device.saved == [] and device.reboots == []


async def case_empty_secrets_keep_the_current_ones():
    device = Device(config=dict(CONFIGURED))
    app, client = portal(device)
    form = {
        "current_secret": SECRET,
        "wifi_ssid": "other",
        "wifi_password": "",
        "admin_secret": "",
        "device_id": "unit-0001",
    }
    r = await client.post("/", form=form)
    assert r.status == 200, r
    assert device.saved == [dict(CONFIGURED, wifi_ssid="other")]  # http_port kept too
    assert device.reboots == ["setup-saved"]


async def case_a_configured_device_takes_new_secrets():
    device = Device(config=dict(CONFIGURED))
    app, client = portal(device)
    form = first_setup_form(current_secret=SECRET, wifi_password="", wifi_open="1", device_id="")
    form["admin_secret"] = "a-brand-new-secret"
    r = await client.post("/", form=form)
    assert r.status == 200, r
    saved = device.saved[0]
    assert saved["admin_secret"] == "a-brand-new-secret" and saved["wifi_password"] == ""
    assert "device_id" not in saved  # emptied in the form: back to the default


async def case_a_config_that_failed_validation_still_guards_and_is_repaired():
    # As read from flash after a schema change: an unknown field, a bad port, a short secret.
    raw = dict(CONFIGURED, admin_secret="short-one", http_port=0, colour="red")
    device = Device(config=raw)
    app, client = portal(device)
    assert (await client.get("/setup.json")).json()["secret_required"] is True
    form = first_setup_form(current_secret=SECRET)
    assert (await client.post("/", form=form)).status == 403
    form = {"current_secret": "short-one", "wifi_ssid": "lab", "admin_secret": SECRET}
    r = await client.post("/", form=form)
    assert r.status == 200, r
    # The valid fields kept (left out of the form: the Wi-Fi password, the device ID), the
    # invalid ones dropped or replaced.
    assert device.saved == [dict(CONFIGURED, http_port=80)]
    device = Device(config=dict(CONFIGURED, admin_secret=123456))  # not even a string
    app, client = portal(device)
    assert (await client.post("/", form=first_setup_form())).status == 403
    assert (await client.post("/", form=first_setup_form(current_secret="123456"))).status == 200


async def case_a_failed_write_is_reported_and_does_not_reboot():
    device = Device(fail_save=True)
    app, client = portal(device)
    r = await client.post("/", form=first_setup_form())
    assert r.status == 500, r
    assert list(r.json()["errors"]) == ["config"], r
    assert device.reboots == []


async def case_a_large_or_broken_body_is_refused():
    app, client = portal(Device())
    r = await client.post("/", form=first_setup_form(admin_secret="x" * 2000))
    assert r.status == 413, r
    r = await client.post(
        "/", body="wifi_ssid=%zz", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert r.status == 400, r


async def case_json_bodies_are_what_the_page_reads():
    app, client = portal(Device())
    r = await client.post("/", form=first_setup_form(wifi_ssid=""))
    assert r.headers["Content-Type"] == "application/json"
    assert json.loads(r.body) == {"errors": {"wifi_ssid": "is required"}}


if pytest is not None:
    test_case = inprocess.cases_test(globals())

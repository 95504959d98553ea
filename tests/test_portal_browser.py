"""The setup page in headless Chromium, against the portal served by tests/serve_portal.py (a
stand-in device): a connectivity probe lands on the page, a network is picked, a too-short
password shows its error, a good one saves the config and the device reboots; a configured
device refuses a wrong admin secret. Screenshots are taken and their pixels checked. CPython
runtime (the browser is the point here)."""

import portal_support
from conftest import browser_check

SECRET = "the-current-admin-secret"

portal = portal_support.fixture()


def browse(p, outdir, scenario, *extra):
    result = browser_check("portal_check.mjs", p.url, outdir, scenario, *extra)
    assert "error_thrown" not in result, (result, p.output())
    assert not [m for m in result["console"] if m.startswith("pageerror")], result["console"]
    for name, shot in result["shots"].items():
        assert (outdir / (name + ".png")).stat().st_size > 0
        assert shot["width"] == 420 and shot["height"] == 1100, shot
        assert shot["colours"] > 50, (name, shot)  # text, buttons, fields: not a blank page
    return result


def test_first_setup_in_chromium(portal, tmp_path):
    p = portal()
    result = browse(p, tmp_path, "first")
    # The probe's redirect was followed to the page, which arrived gzipped.
    assert result["redirected"] == p.url + "generate_204"
    assert result["landed"] == p.url and result["encoding"] == "gzip"
    assert result["device"] == "ember-c0ffee" and result["firmware"] == "v0.0.0-portal-test"
    assert not result["auth_visible"]
    # One entry per name, no hidden network, and a stranger's markup shown as text only.
    assert len(result["networks"]) == 3, result["networks"]
    assert any("<b id=injected>" in n for n in result["networks"]), result["networks"]
    assert result["injected"] == 0
    assert result["picked"] == {"ssid": "lab", "open": False}
    # The schema's error, next to the field, in red; what was typed stays in the form.
    assert "8-63 characters" in result["error"] and result["error_visible"]
    assert result["password_kept"] == "short"
    shots = result["shots"]
    assert shots["errors"]["boxes"]["#e-wifi_password"]["red"] > 20, shots["errors"]
    assert shots["errors"]["boxes"]["#wifi_ssid"]["red"] == 0, shots["errors"]
    assert shots["loaded"]["boxes"]["main"]["red"] == 0  # no error before a submission
    # Saved: the message in green, the form gone; the config written, then the reboot.
    assert "Saved" in result["saved"] and "lab" in result["saved"], result["saved"]
    assert not result["form_visible"]
    assert shots["saved"]["boxes"]["#saved h2"]["green"] > 20, shots["saved"]
    assert p.saved() == {
        "wifi_ssid": "lab",
        "wifi_password": "correct-horse-battery",
        "admin_secret": "a-good-admin-secret",
        "http_port": 80,
    }
    assert p.printed("REBOOT setup-saved"), p.output()


def test_configured_device_in_chromium(portal, tmp_path):
    config = {
        "device_id": "unit-0042",
        "wifi_ssid": "lab",
        "wifi_password": "old-wifi-password",
        "admin_secret": SECRET,
    }
    p = portal(config=config)
    result = browse(p, tmp_path, "configured", SECRET)
    assert result["prefilled"] == "lab" and result["keep_hints"] == 2
    assert "does not match" in result["error"]
    assert result["shots"]["refused"]["boxes"]["#e-current_secret"]["red"] > 20
    assert "cafe" in result["saved"]
    # The secrets left empty were kept; the open network has no password.
    assert p.saved() == dict(config, wifi_ssid="cafe", wifi_password="", http_port=80)
    assert p.printed("REBOOT setup-saved"), p.output()

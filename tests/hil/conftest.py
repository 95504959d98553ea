"""Fixtures of the HIL suite; the device itself comes from the ember_hil plugin (`device`)."""

import httpx
import pytest
from hil_support import TIMEOUT


@pytest.fixture(scope="session")
def http(device):
    """One keep-alive HTTP client for the device's app."""
    with httpx.Client(base_url=device.base_url, timeout=TIMEOUT) as client:
        yield client


@pytest.fixture(scope="session")
def hil_routes(http):
    """The /hil/ routes of tests/hil/hil_app.py: skip, saying how, when the device's app lacks
    them (a release's frozen demo app without --hil-app)."""
    if http.get("/hil/upload").status_code == 404:
        pytest.skip("the device's app has no /hil/ routes: run with --hil-app tests/hil/hil_app.py")

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
    """The /hil/ routes of tests/hil/hil_app.py: skip, saying so, when the device's app lacks
    them (the frozen app, with --hil-app none)."""
    if http.get("/hil/upload").status_code == 404:
        pytest.skip(
            "the device's app has no /hil/ routes: those of tests/hil/hil_app.py, which "
            "--hil-app puts on it (by default)"
        )

"""HTTP Basic / bearer auth (ember.auth) and CORS (ember.cors) against examples/auth_cors.py."""

import base64
import subprocess

import httpx
import pytest

from conftest import have_curl, raw

pytestmark = pytest.mark.integration
ORIGIN = "http://localhost:3000"


@pytest.fixture
def site(serve):
    return serve("examples/auth_cors")


@pytest.fixture
def client(site):
    with httpx.Client(base_url=site.url, timeout=10) as c:
        yield c


def basic(value):
    return {"Authorization": "Basic " + value}


def b64(text):
    return base64.b64encode(text if type(text) is bytes else text.encode()).decode()


def test_basic_good(client):
    r = client.get("/admin", auth=("admin", "s3cret"))
    assert (r.status_code, r.text) == (200, "hello admin")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        basic(b64("admin:wrong")),
        basic(b64("admin:s3cre")),
        basic(b64("admin:s3cret!")),
        basic(b64("root:s3cret")),
        basic(b64("admin")),  # no colon
        basic(b64(":s3cret")),
        basic(b64(b"admin:\xff\xfe")),  # not UTF-8
        basic("!!!not-base64!!!"),
        basic("YWRtaW46czNjcmV0"[:-3]),  # cut base64
        {"Authorization": "Basic"},
        {"Authorization": "Bearer " + b64("admin:s3cret")},
        {"Authorization": "Digest username=admin"},
    ],
)
def test_basic_refused(client, headers):
    r = client.get("/admin", headers=headers)
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == 'Basic realm="ember admin", charset="UTF-8"'


def test_basic_case_insensitive_scheme(client):
    assert client.get("/admin", headers={"Authorization": "bAsIc " + b64("admin:s3cret")}).text == (
        "hello admin"
    )


def test_bearer(client):
    r = client.get("/api/status", headers={"Authorization": "Bearer t0ken-2"})
    assert r.json() == {"client": "sensor-2", "ok": True}
    r = client.put("/api/status", headers={"Authorization": "bearer t0ken-1"}, json={"x": 1})
    assert r.json()["client"] == "sensor-1"
    r = client.get("/api/status")
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == 'Bearer realm="ember"'
    for value in ("Bearer t0ken-3", "Bearer", "Bearer t0ken-1x", "Basic dDBrZW4tMQ=="):
        r = client.get("/api/status", headers={"Authorization": value})
        assert r.status_code == 401, value
    r = client.get("/api/status", headers={"Authorization": "Bearer nope"})
    assert r.headers["www-authenticate"] == 'Bearer realm="ember", error="invalid_token"'


def test_auth_raw_garbage(site):
    for value in (b"\xff\xfe\xfd", b"Basic \xff\xff", b"Bearer \xc3\x28", b"Basic ", b"Basic  =="):
        reply = raw(
            site.port,
            b"GET /admin HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: "
            + value
            + b"\r\n\r\n",
        )
        assert reply.startswith((b"HTTP/1.1 401", b"HTTP/1.1 400")), reply[:100]


def preflight(client, origin, method="PUT", headers="content-type"):
    return client.options(
        "/api/status",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": headers,
        },
    )


def test_cors_preflight_allowed(client):
    r = preflight(client, ORIGIN)
    assert r.status_code == 204
    h = r.headers
    assert h["access-control-allow-origin"] == ORIGIN
    assert h["access-control-allow-methods"] == "GET, PUT"
    assert h["access-control-allow-headers"] == "Content-Type, Authorization"
    assert h["access-control-max-age"] == "600"
    assert h["access-control-allow-credentials"] == "true"
    assert h["vary"] == "Origin"


@pytest.mark.parametrize(
    "origin, method",
    [
        ("http://evil.example", "PUT"),
        ("http://localhost:3001", "GET"),
        (ORIGIN, "DELETE"),
        ("null", "GET"),
        (ORIGIN.upper(), "GET"),
    ],
)
def test_cors_preflight_denied(client, origin, method):
    r = preflight(client, origin, method)
    assert r.status_code == 204  # the router's own OPTIONS answer
    assert not any(k.startswith("access-control-") for k in r.headers)
    assert set(r.headers["allow"].split(", ")) == {"GET", "PUT", "HEAD", "OPTIONS"}


def test_cors_actual_requests(client):
    auth = {"Authorization": "Bearer t0ken-1"}
    r = client.get("/api/status", headers={"Origin": ORIGIN, **auth})
    assert r.headers["access-control-allow-origin"] == ORIGIN
    assert r.headers["access-control-allow-credentials"] == "true"
    assert r.headers["vary"] == "Origin"
    r = client.get("/api/status", headers={"Origin": ORIGIN})  # a 401 the script may read
    assert r.status_code == 401 and r.headers["access-control-allow-origin"] == ORIGIN
    r = client.get("/api/status", headers={"Origin": "http://evil.example", **auth})
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
    assert r.headers["vary"] == "Origin"
    r = client.get("/api/status", headers=auth)
    assert "access-control-allow-origin" not in r.headers


def test_cors_curl_preflight(site):
    if not have_curl():
        pytest.skip("curl not installed")
    out = subprocess.run(
        [
            "curl",
            "-si",
            "-X",
            "OPTIONS",
            "-H",
            f"Origin: {ORIGIN}",
            "-H",
            "Access-Control-Request-Method: GET",
            site.url + "/api/status",
        ],
        capture_output=True,
        text=True,
        timeout=10,
    ).stdout
    assert out.startswith("HTTP/1.1 204")
    assert f"Access-Control-Allow-Origin: {ORIGIN}" in out


def test_equal_constant_time_semantics():
    import sys

    from conftest import ROOT

    sys.path.insert(0, str(ROOT / "modules"))
    from ember.auth import equal

    assert equal("abc", "abc") and equal(b"", b"") and equal("", "")
    assert not equal("abc", "abd") and not equal("abc", "ab") and not equal("ab", "abc")
    assert not equal("", "a") and not equal("a", "") and not equal("é", "e")

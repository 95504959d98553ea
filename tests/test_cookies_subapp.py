"""Cookies (ember.cookies) against examples/cookies.py, sub-apps (App.mount) against
examples/subapp.py, on every runtime; cookie_header's validation in-process on CPython."""

import re
import sys

import httpx
import pytest

from conftest import ROOT, raw

integration = pytest.mark.integration


@pytest.fixture
def cookie_site(serve):
    return serve("examples/cookies")


@integration
def test_login_cookie_roundtrip(cookie_site):
    with httpx.Client(base_url=cookie_site.url, timeout=10) as c:
        assert c.get("/whoami").json() == {"user": None}
        r = c.get("/login", auth=("admin", "s3cret"))
        assert r.status_code == 200
        assert re.fullmatch(
            r"session=[0-9a-f]{24,32}; Max-Age=3600; Path=/; HttpOnly; SameSite=Lax",
            r.headers["set-cookie"],
        ), r.headers["set-cookie"]
        assert c.get("/whoami").json() == {"user": "admin"}  # httpx sent the cookie back
        r = c.get("/logout")
        assert r.headers["set-cookie"] == "session=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"
        assert c.get("/whoami").json() == {"user": None}
        assert c.get("/login", auth=("admin", "nope")).status_code == 401


@integration
def test_cookie_header_parsing(cookie_site):
    reply = raw(
        cookie_site.port,
        b"GET /whoami HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b'Cookie: a=1; session="abc"\r\nCookie: junk; =x; b=2\r\n\r\n',
    )
    assert reply.startswith(b"HTTP/1.1 200") and reply.endswith(b'{"user": null}')


@integration
def test_expires_and_options(cookie_site):
    with httpx.Client(base_url=cookie_site.url, timeout=10) as c:
        r = c.get("/prefs", params={"theme": "dark"})
        assert r.headers["set-cookie"] == (
            "theme=dark; Expires=Wed, 18 May 2033 03:33:20 GMT; Path=/; SameSite=Lax"
        )


@integration
@pytest.mark.parametrize(
    "value",
    [
        "a;b",
        "a,b",
        "a b",
        'a"b',
        "a\\b",
        "x\r\nSet-Cookie: evil=1",
        "x\nX-Evil: 1",
        "tab\there",
        "caf\u00e9",
        '"unclosed',
        "\x7f",
    ],
)
def test_cookie_injection_refused(cookie_site, value):
    with httpx.Client(base_url=cookie_site.url, timeout=10) as c:
        r = c.get("/prefs", params={"theme": value})
        assert r.status_code == 400
        assert "set-cookie" not in r.headers and "x-evil" not in r.headers
        assert r.text == "bad cookie value"


def test_cookie_header_validation():
    sys.path.insert(0, str(ROOT / "modules"))
    from ember.cookies import cookie_header, http_date

    assert cookie_header("a", '"quoted"', same_site=None) == 'a="quoted"; Path=/; HttpOnly'
    assert cookie_header("a", "1", path=None, http_only=False, same_site="Strict") == (
        "a=1; SameSite=Strict"
    )
    assert cookie_header("id", 7, domain="example.com", secure=True, same_site="None") == (
        "id=7; Path=/; Domain=example.com; Secure; HttpOnly; SameSite=None"
    )
    assert cookie_header("e", "v", expires="Thu, 01 Jan 1970 00:00:00 GMT").startswith(
        "e=v; Expires=Thu, 01 Jan 1970 00:00:00 GMT;"
    )
    assert http_date(0) == "Thu, 01 Jan 1970 00:00:00 GMT"
    for name in ("", "a b", "a;b", "a=b", "a\r\n", "é", "a,b", "(a)"):
        with pytest.raises(ValueError):
            cookie_header(name, "v")
    for kwargs in (
        {"path": "/;evil"},
        {"path": "/\r\nX: y"},
        {"domain": "a.com; Secure"},
        {"expires": "x\ny"},
        {"same_site": "Sometimes"},
        {"same_site": "None"},  # without secure
    ):
        with pytest.raises(ValueError):
            cookie_header("a", "v", **kwargs)


# -- sub-apps ------------------------------------------------------------------------------------


@integration
def test_mounted_subapp(serve):
    app = serve("examples/subapp")
    token = {"Authorization": "Bearer k"}
    with httpx.Client(base_url=app.url, timeout=10) as c:
        assert c.get("/").text == "main app"  # the sub-app's hook does not run here
        r = c.get("/api/v1/sensors/3", headers=token)
        assert r.json() == {"sensor": 3, "value": 23}
        r = c.get("/api/v1/sensors/3")  # the sub-app's before hook
        assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
        r = c.get("/api/v1/sensors/9", headers=token)  # the sub-app's 404 handler
        assert (r.status_code, r.json()) == (
            404,
            {"error": "not found", "path": "/api/v1/sensors/9"},
        )
        r = c.get("/api/v1/files/a/b/c.txt", headers=token)
        assert r.json() == {"path": "a/b/c.txt"}
        r = c.get("/api/v1/other", headers=token)  # no sub-app route: the main app's 404
        assert (r.status_code, r.text) == (404, "Not Found")
        assert c.get("/sensors/3", headers=token).status_code == 404  # only under the prefix
        assert c.get("/api/v1/sensors/x", headers=token).status_code == 404
        r = c.post("/api/v1/sensors/3", headers=token)
        assert r.status_code == 405

"""Static files (ember.static) through httpx, curl and raw sockets: examples/static.py and a
directory made by the test. Needs the host filesystem, so not on the webassembly runtime."""

import gzip
import hashlib
import os
import socket
import subprocess

import httpx
import pytest

from conftest import RUNTIME, ROOT, have_curl, raw, recv_all

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        RUNTIME == "wasm", reason="webassembly runtime has no access to the host's files"
    ),
]
WWW = ROOT / "examples" / "static_www"


@pytest.fixture
def site(serve):
    return serve("examples/static")


@pytest.fixture
def client(site):
    with httpx.Client(base_url=site.url, timeout=10) as c:
        yield c


def plain(client, path, **headers):
    """GET without content negotiation (httpx asks for gzip by default)."""
    return client.get(path, headers={"Accept-Encoding": "identity", **headers})


def test_index_and_types(client):
    r = plain(client, "/static/")
    assert r.status_code == 200
    assert r.content == (WWW / "index.html").read_bytes()
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.headers["content-length"] == str((WWW / "index.html").stat().st_size)
    assert r.headers["cache-control"] == "max-age=600"
    assert r.headers["accept-ranges"] == "bytes"
    assert r.headers["etag"].startswith('"')
    assert "transfer-encoding" not in r.headers
    r = plain(client, "/static/style.css")
    assert r.headers["content-type"] == "text/css; charset=utf-8"
    assert r.content == (WWW / "style.css").read_bytes()
    assert plain(client, "/static/sub/").text == "<p>sub index</p>\n"


def test_directory_redirects(client):
    r = plain(client, "/static")
    assert (r.status_code, r.headers["location"]) == (301, "/static/")
    r = plain(client, "/static/sub")
    assert (r.status_code, r.headers["location"]) == (301, "/static/sub/")
    r = plain(client, "/")
    assert r.status_code == 302


def test_missing_is_404_and_server_lives(client):
    for path in ("/static/nope.txt", "/static/sub/nope/", "/static/style.css/"):
        assert plain(client, path).status_code == 404
    assert plain(client, "/static/style.css").status_code == 200


def test_gzip_sibling(client):
    js = (WWW / "app.js").read_bytes()
    gz = (WWW / "app.js.gz").read_bytes()
    r = client.get("/static/app.js", headers={"Accept-Encoding": "gzip, deflate"})
    assert r.headers["content-encoding"] == "gzip"
    assert r.headers["vary"] == "Accept-Encoding"
    assert r.headers["content-length"] == str(len(gz))
    assert r.headers["content-type"] == "text/javascript; charset=utf-8"
    assert r.content == js  # httpx decoded the gzip sibling
    gz_etag = r.headers["etag"]
    r = plain(client, "/static/app.js")
    assert "content-encoding" not in r.headers
    assert r.headers["vary"] == "Accept-Encoding"
    assert r.content == js
    assert r.headers["etag"] != gz_etag  # two representations, two validators
    r = client.get("/static/app.js", headers={"Accept-Encoding": "gzip;q=0, deflate"})
    assert "content-encoding" not in r.headers and r.content == js


def test_gzip_raw_bytes(site):
    reply = raw(
        site.port,
        b"GET /static/app.js HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n"
        b"Connection: close\r\n\r\n",
    )
    head, body = reply.split(b"\r\n\r\n", 1)
    assert b"Content-Encoding: gzip" in head
    assert body == (WWW / "app.js.gz").read_bytes()
    assert gzip.decompress(body) == (WWW / "app.js").read_bytes()


def test_etag_304(client):
    r = plain(client, "/static/style.css")
    etag = r.headers["etag"]
    r = plain(client, "/static/style.css", **{"If-None-Match": etag})
    assert r.status_code == 304
    assert r.content == b""
    assert r.headers["etag"] == etag
    assert r.headers["cache-control"] == "max-age=600"
    r = plain(client, "/static/style.css", **{"If-None-Match": '"other", W/' + etag})
    assert r.status_code == 304
    r = plain(client, "/static/style.css", **{"If-None-Match": '"other"'})
    assert r.status_code == 200 and r.content == (WWW / "style.css").read_bytes()
    assert plain(client, "/static/style.css", **{"If-None-Match": "*"}).status_code == 304


DATA = (WWW / "sub" / "data.txt").read_bytes()


@pytest.mark.parametrize(
    "spec, start, end",
    [
        ("bytes=10-19", 10, 20),
        ("bytes=0-0", 0, 1),
        ("bytes=-10", 4890, 4900),
        ("bytes=4890-", 4890, 4900),
        ("bytes=4000-99999", 4000, 4900),
        ("bytes=-99999", 0, 4900),
    ],
)
def test_range_206(client, spec, start, end):
    r = plain(client, "/static/sub/data.txt", Range=spec)
    assert r.status_code == 206
    assert r.content == DATA[start:end]
    assert r.headers["content-range"] == f"bytes {start}-{end - 1}/{len(DATA)}"
    assert r.headers["content-length"] == str(end - start)


@pytest.mark.parametrize("spec", ["bytes=4900-", "bytes=99999-100000", "bytes=-0"])
def test_range_416(client, spec):
    r = plain(client, "/static/sub/data.txt", Range=spec)
    assert r.status_code == 416
    assert r.headers["content-range"] == f"bytes */{len(DATA)}"


@pytest.mark.parametrize("spec", ["bytes=0-1,5-6", "bytes=abc", "items=0-1", "bytes=9-3"])
def test_range_ignored(client, spec):
    r = plain(client, "/static/sub/data.txt", Range=spec)
    assert r.status_code == 200 and r.content == DATA


def test_if_range(client):
    etag = plain(client, "/static/sub/data.txt").headers["etag"]
    r = plain(client, "/static/sub/data.txt", Range="bytes=0-9", **{"If-Range": etag})
    assert r.status_code == 206 and r.content == DATA[:10]
    r = plain(client, "/static/sub/data.txt", Range="bytes=0-9", **{"If-Range": '"stale"'})
    assert r.status_code == 200 and r.content == DATA


def test_send_file_route(client):
    r = plain(client, "/report.txt", Range="bytes=5-14")
    assert r.status_code == 206 and r.content == DATA[5:15]
    assert r.headers["content-type"] == "text/plain; charset=utf-8"


def test_head_then_get_on_one_connection(site):
    with socket.create_connection(("127.0.0.1", site.port), timeout=5) as s:
        s.sendall(
            b"HEAD /static/sub/data.txt HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET /static/style.css HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        reply = recv_all(s)
    first, rest = reply.split(b"\r\n\r\n", 1)
    assert first.startswith(b"HTTP/1.1 200")
    assert b"Content-Length: 4900" in first
    assert rest.startswith(b"HTTP/1.1 200")  # HEAD sent no body: the next response follows
    assert rest.endswith((WWW / "style.css").read_bytes())


TRAVERSALS = [
    "/static/../static.py",
    "/static/%2e%2e/static.py",
    "/static/%2E%2E/static.py",
    "/static/..%2fstatic.py",
    "/static/%2e%2e%2fstatic.py",
    "/static/.%2e/static.py",
    "/static/sub/../../static.py",
    "/static/sub/%2e%2e/%2e%2e/static.py",
    "/static/..\\static.py",
    "/static/%5c..%5cstatic.py",
    "/static/sub%5c..%5c..%5cstatic.py",
    "/static//etc/passwd",
    "/static/%2fetc%2fpasswd",
    "/static/%2F..%2Fstatic.py",
    "/static/index.html%00",
    "/static/index.html%00.txt",
    "/static/%00",
    "/static/./index.html",
    "/static/%252e%252e/static.py",
    "/static/....//static.py",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_traversal_refused(site, path):
    reply = raw(site.port, f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    head, _, body = reply.partition(b"\r\n\r\n")
    # docs/features.md: a path that leaves the folder (or holds a NUL, or a backslash) is 404,
    # the same answer as a file that is not there: nothing about the filesystem is told.
    assert head.startswith(b"HTTP/1.1 404 "), reply[:200]
    assert body == b"Not Found"


def test_traversal_refused_curl(site):
    if not have_curl():
        pytest.skip("curl not installed")
    for path in TRAVERSALS[:6]:
        out = subprocess.run(
            [
                "curl",
                "-s",
                "--path-as-is",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                site.url + path,
            ],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout
        assert out in ("400", "404"), (path, out)


def test_curl_compressed_and_range(site):
    if not have_curl():
        pytest.skip("curl not installed")
    out = subprocess.run(
        ["curl", "-s", "--compressed", site.url + "/static/app.js"],
        capture_output=True,
        timeout=10,
    ).stdout
    assert out == (WWW / "app.js").read_bytes()
    out = subprocess.run(
        ["curl", "-s", "-r", "100-199", site.url + "/static/sub/data.txt"],
        capture_output=True,
        timeout=10,
    ).stdout
    assert out == DATA[100:200]


# -- a directory made by the test: big files, gzip-only files, hidden files ---------------------


@pytest.fixture
def tmp_site(serve, tmp_path):
    big = os.urandom(1 << 20)
    (tmp_path / "big.bin").write_bytes(big)
    (tmp_path / "only.txt.gz").write_bytes(gzip.compress(b"only gzip here\n" * 50))
    (tmp_path / ".secret").write_text("hidden")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x.json").write_text('{"a": 1}')
    app = serve("static_tmp", env={"EMBER_STATIC_DIR": str(tmp_path)})
    return app, big


def test_big_file_streams(tmp_site):
    app, big = tmp_site
    with httpx.Client(base_url=app.url, timeout=30) as c:
        r = c.get("/big.bin")
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/octet-stream"
        assert r.headers["cache-control"] == "no-cache"
        assert hashlib.sha256(r.content).hexdigest() == hashlib.sha256(big).hexdigest()
        r = c.get("/big.bin", headers={"Range": "bytes=500000-600000"})
        assert r.status_code == 206 and r.content == big[500000:600001]
        assert c.get("/d/x.json").json() == {"a": 1}
        assert c.get("/api/ping").text == "pong"  # routes before the static catch-all
        assert c.get("/").status_code == 404  # index=None
        assert c.get("/d/").status_code == 404
        assert c.get("/.secret").status_code == 404


def test_gzip_only_file(tmp_site):
    app, _ = tmp_site
    want = b"only gzip here\n" * 50
    with httpx.Client(base_url=app.url, timeout=10) as c:
        r = c.get("/only.txt")  # httpx accepts gzip
        assert r.headers["content-encoding"] == "gzip" and r.content == want
        r = c.get("/only.txt", headers={"Accept-Encoding": "identity"})
        assert r.status_code == 406
    reply = raw(app.port, b"GET /only.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    head, body = reply.split(b"\r\n\r\n", 1)
    assert b"Content-Encoding: gzip" in head  # no preference stated: gzip is acceptable
    assert gzip.decompress(body) == want


def test_client_vanishes_mid_download(tmp_site):
    app, big = tmp_site
    for _ in range(5):
        with socket.create_connection(("127.0.0.1", app.port), timeout=5) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            s.recv(1000)
    with httpx.Client(base_url=app.url, timeout=30) as c:
        assert len(c.get("/big.bin").content) == len(big)
    assert app.alive()

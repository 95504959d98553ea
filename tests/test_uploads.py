"""Uploads (ember.multipart, req.form(), req.json()) through httpx, curl and raw sockets, against
examples/uploads.py, on every runtime."""

import hashlib
import json
import os
import subprocess

import httpx
import pytest

from conftest import RUNTIME, have_curl, raw

pytestmark = pytest.mark.integration


@pytest.fixture
def updir(tmp_path):
    return tmp_path


@pytest.fixture
def site(serve, updir):
    return serve("examples/uploads", env={"EMBER_UPLOAD_DIR": str(updir)})


@pytest.fixture
def client(site):
    with httpx.Client(base_url=site.url, timeout=60) as c:
        yield c


def sha(data):
    return hashlib.sha256(data).hexdigest()


def test_one_megabyte_file_and_fields(client, updir):
    data = os.urandom(1 << 20)
    r = client.post(
        "/upload",
        data={"note": "firmware v2", "lang": "üñí"},
        files={"file": ("fw.bin", data, "application/octet-stream")},
    )
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["fields"] == {"note": "firmware v2", "lang": "üñí"}
    assert got["files"] == [
        {"field": "file", "filename": "fw.bin", "size": len(data), "sha256": sha(data)}
    ]
    if RUNTIME != "wasm":  # the file the handler wrote, read back from disk
        assert sha((updir / "upload-0.bin").read_bytes()) == sha(data)


def test_tricky_content_near_the_boundary(client):
    # Bytes that look like the start of a delimiter, at every offset around the window.
    boundary = "XyZzy-ember-boundary"
    pieces = [b"\r\n--XyZzy-ember", b"\r\n--", b"\r\n", b"--XyZzy-ember-boundar", b"\r"]
    blob = b"".join(pieces[i % len(pieces)] + os.urandom(i % 700) for i in range(300))
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="f"; filename="a;b \\"q\\".bin"'
            "\r\nContent-Type: application/x-test\r\n\r\n"
        ).encode()
        + blob
        + f"\r\n--{boundary}--\r\nepilogue ignored".encode()
    )
    r = client.post(
        "/upload",
        content=body,
        headers={"Content-Type": f'multipart/form-data; boundary="{boundary}"'},
    )
    assert r.status_code == 200, r.text
    (f,) = r.json()["files"]
    assert (f["filename"], f["size"], f["sha256"]) == ('a;b "q".bin', len(blob), sha(blob))


def test_several_files_chunked_request(client):
    a, b = os.urandom(70000), b""
    boundary = "bnd"
    body = (
        b'preamble to skip\r\n--bnd\r\nContent-Disposition: form-data; name="a"; filename="a"'
        b"\r\n\r\n" + a + b'\r\n--bnd\r\nContent-Disposition: form-data; name="b"; '
        b'filename="empty"\r\n\r\n' + b + b"\r\n--bnd\r\nContent-Disposition: form-data; "
        b'name="x"\r\n\r\n\r\n--bnd--\r\n'
    )

    def chunks():  # a generator body: httpx sends Transfer-Encoding: chunked
        for i in range(0, len(body), 1000):
            yield body[i : i + 1000]

    r = client.post(
        "/upload",
        content=chunks(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert r.status_code == 200, r.text
    got = r.json()
    assert [(f["filename"], f["size"], f["sha256"]) for f in got["files"]] == [
        ("a", len(a), sha(a)),
        ("empty", 0, sha(b"")),
    ]
    assert got["fields"] == {"x": ""}


def test_curl_form(site, tmp_path):
    if not have_curl():
        pytest.skip("curl not installed")
    data = os.urandom(300000)
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    out = subprocess.run(
        ["curl", "-s", "-F", "note=hi", "-F", f"file=@{src}", site.url + "/upload"],
        capture_output=True,
        timeout=30,
    ).stdout
    got = json.loads(out)
    assert got["fields"] == {"note": "hi"}
    assert got["files"][0]["sha256"] == sha(data)


def post_raw(port, ctype, body, length=None):
    head = (
        f"POST /upload HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: {ctype}\r\n"
        f"Content-Length: {len(body) if length is None else length}\r\n\r\n"
    )
    reply = raw(port, head.encode() + body, shut=True)
    return int(reply.split(b" ", 2)[1]), reply


PART = b'--b\r\nContent-Disposition: form-data; name="f"\r\n\r\nvalue\r\n'


@pytest.mark.parametrize(
    "ctype, body, status",
    [
        ("multipart/form-data", PART + b"--b--\r\n", 400),  # no boundary
        ("multipart/form-data; boundary=", PART + b"--b--\r\n", 400),
        ("multipart/form-data; charset=utf-8", PART + b"--b--\r\n", 400),
        ("text/plain", b"hello", 415),
        ("multipart/form-data; boundary=b", b"no delimiter at all", 400),
        ("multipart/form-data; boundary=b", PART, 400),  # no closing delimiter
        ("multipart/form-data; boundary=b", PART[:30], 400),  # ends inside part headers
        ("multipart/form-data; boundary=b", b"--bXX\r\n", 400),  # malformed delimiter
        ("multipart/form-data; boundary=b", b"--b\r\nNoColonHere\r\n\r\nx\r\n--b--", 400),
        ("multipart/form-data; boundary=b", b"--b\r\nX-A: 1\r\n\r\nx\r\n--b--", 400),
        ("multipart/form-data; boundary=b", PART * 9 + b"--b--\r\n", 413),  # max_parts=8
        (
            "multipart/form-data; boundary=b",  # a field over max_field=256
            b'--b\r\nContent-Disposition: form-data; name="f"\r\n\r\n' + b"v" * 300 + b"\r\n--b--",
            413,
        ),
        (
            "multipart/form-data; boundary=b",  # part headers larger than the window
            b'--b\r\nContent-Disposition: form-data; name="f"\r\nX-Pad: '
            + b"p" * 900
            + b"\r\n\r\nv\r\n--b--",
            400,
        ),
    ],
)
def test_malformed_multipart(site, ctype, body, status):
    got, reply = post_raw(site.port, ctype, body)
    assert got == status, reply[:300]
    assert post_raw(site.port, "multipart/form-data; boundary=b", PART + b"--b--")[0] == 200


def test_truncated_body(site):
    # Content-Length promises more than arrives: the client shuts its side down.
    got, reply = post_raw(site.port, "multipart/form-data; boundary=b", PART, length=5000)
    assert got == 400, reply[:300]
    assert post_raw(site.port, "multipart/form-data; boundary=b", PART + b"--b--")[0] == 200


def test_urlencoded_form(client):
    r = client.post(
        "/form",
        content=b"a=1&a=2&b=x+y&c=%C3%BC",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.json() == {"a": ["1", "2"], "b": "x y", "c": "ü"}
    assert client.post("/form", data={"k": "v" * 3000}).status_code == 413
    assert client.post("/form", content=b"a=%zz").status_code == 400


def test_json_body(client):
    assert client.post("/json", json={"n": [1, 2]}).json() == {"got": {"n": [1, 2]}}
    assert client.post("/json", content=b"{not json").status_code == 400
    assert client.post("/json", json={"big": "x" * 3000}).status_code == 413
    assert client.post("/json", json=[1]).json() == {"got": [1]}

"""HTTP on the device: a GET, JSON both ways, keep-alive, 404, and the limits."""

import json
import socket
import time

import pytest

pytestmark = pytest.mark.usefixtures("device")


def test_get_and_json_round_trip(http, hil_report):
    r = http.get("/")
    assert r.status_code == 200 and r.text == "Hello from ember!\n"
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    r = http.put("/api/state", json={"led": True, "name": "hil"})
    assert r.status_code == 200 and r.json() == {"led": True, "name": "hil"}
    assert http.get("/api/state").json() == {"led": True, "name": "hil"}
    assert http.get("/api/hello/board", params={"lang": "de"}).json() == {
        "hello": "board",
        "lang": "de",
    }
    start = time.monotonic()
    for _ in range(20):
        assert http.get("/").status_code == 200
    hil_report.timing("get_keepalive_mean", (time.monotonic() - start) / 20)


def exchange(sock, request):
    """Send one request on an open connection and read exactly its response."""
    sock.sendall(request)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        assert chunk, f"connection closed after {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
    while len(body) < length:
        body += sock.recv(4096)
    return head, body


def test_keep_alive_serves_requests_on_one_connection(device):
    with socket.create_connection((device.ip, device.port), timeout=15) as sock:
        for i in range(5):
            head, body = exchange(sock, b"GET /api/hello/k%d HTTP/1.1\r\nHost: d\r\n\r\n" % i)
            assert head.startswith(b"HTTP/1.1 200 ")
            assert json.loads(body) == {"hello": "k%d" % i, "lang": "en"}
        # Two pipelined requests, in order.
        sock.sendall(b"GET / HTTP/1.1\r\nHost: d\r\n\r\nGET /api/state HTTP/1.1\r\nHost: d\r\n\r\n")
        head, body = exchange(sock, b"")
        assert body == b"Hello from ember!\n"
        head, body = exchange(sock, b"")
        assert body.startswith(b'{"')


def test_unknown_path_and_method(http):
    assert http.get("/no/such/path").status_code == 404
    r = http.delete("/api/state")
    assert r.status_code == 405 and "PUT" in r.headers["allow"]


@pytest.mark.parametrize(
    "request_bytes, status",
    [
        (b"GET /" + b"a" * 2000 + b" HTTP/1.1\r\nHost: d\r\n\r\n", 414),
        (b"GET / HTTP/1.1\r\nHost: d\r\nX-Big: " + b"b" * 2000 + b"\r\n\r\n", 431),
        (b"GET / HTTP/1.1\r\nHost: d\r\n" + b"X-H: 1\r\n" * 40 + b"\r\n", 431),
        (b"PUT /api/state HTTP/1.1\r\nHost: d\r\nContent-Length: 100000\r\n\r\n", 413),
        (b"GARBAGE\r\n\r\n", 400),
    ],
    ids=["request-line", "header-line", "header-count", "body", "malformed"],
)
def test_limits_answer_with_their_status_and_the_device_serves_on(
    device, http, request_bytes, status
):
    with socket.create_connection((device.ip, device.port), timeout=15) as sock:
        sock.sendall(request_bytes)
        first = sock.recv(64)
    assert first.startswith(b"HTTP/1.1 %d " % status), first
    assert http.get("/").status_code == 200

"""HTTP core behaviour through real clients (httpx, raw sockets, curl), on every runtime."""

import json
import re
import socket
import subprocess
import sys
import time

import httpx
import pytest

from conftest import ROOT, RUNTIME, have_curl, raw, recv_all

pytestmark = pytest.mark.integration


@pytest.fixture
def core(serve):
    return serve("core")


@pytest.fixture
def client(core):
    with httpx.Client(base_url=core.url, timeout=10) as c:
        yield c


# -- handlers and return values -----------------------------------------------------------------


def test_str_response(client):
    r = client.get("/")
    assert r.status_code == 200
    assert r.text == "hello"
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    assert r.headers["content-length"] == "5"


def test_async_handler(client):
    assert client.get("/async").text == "hello async"


def test_bytes_json_list(client):
    r = client.get("/bytes")
    assert r.content == b"\x00\x01binary"
    assert r.headers["content-type"] == "application/octet-stream"
    r = client.get("/json")
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"a": 1, "b": [1, 2]}
    assert client.get("/list").json() == [1, "two", None]


def test_tuples_and_response_objects(client):
    r = client.get("/tuple")
    assert (r.status_code, r.text) == (201, "created")
    r = client.get("/tuple3")
    assert (r.status_code, r.text, r.headers["x-kind"]) == (418, "teapot", "teapot")
    r = client.get("/response")
    assert r.status_code == 202
    assert r.headers["content-type"] == "text/html"
    assert r.headers["x-one"] == "1"
    assert r.text == "<p>hi</p>"
    r = client.get("/none")
    assert r.status_code == 204
    assert r.content == b""
    assert "content-length" not in r.headers


def test_abort_and_redirect(client):
    r = client.get("/abort")
    assert (r.status_code, r.text) == (403, "no entry")
    r = client.get("/redirect")
    assert r.status_code == 302
    assert r.headers["location"] == "/target"


# -- routing -------------------------------------------------------------------------------------


def test_path_params(client):
    assert client.get("/users/42").json() == {"uid": 42, "type": "int"}
    assert client.get("/users/alice/posts").json() == {"name": "alice"}
    assert client.get("/files/a/b/c.txt").json() == {"rest": "a/b/c.txt"}
    assert client.get("/users/x42").status_code == 404  # <int:> takes digits only
    assert client.get("/files/").status_code == 404  # <path:> is not empty


def test_methods(client):
    assert client.get("/multi").text == "GET"
    assert client.post("/multi").text == "POST"
    assert client.put("/put").text == "put"
    assert client.patch("/patch").text == "patch"
    assert client.delete("/delete").text == "delete"


def test_automatic_head(client):
    r = client.head("/json")
    assert r.status_code == 200
    assert r.content == b""
    assert r.headers["content-length"] == str(len(json.dumps({"a": 1, "b": [1, 2]})))


def test_options_and_405(client):
    r = client.options("/multi")
    assert r.status_code == 204
    assert set(r.headers["allow"].split(", ")) == {"GET", "POST", "HEAD", "OPTIONS"}
    r = client.post("/put")
    assert r.status_code == 405
    assert set(r.headers["allow"].split(", ")) == {"PUT", "OPTIONS"}


def test_404_custom_handler(client):
    r = client.get("/missing/thing")
    assert r.status_code == 404
    assert r.json() == {"error": "not found", "path": "/missing/thing"}


# -- the request ---------------------------------------------------------------------------------


def test_request_attributes(client):
    r = client.get(
        "/echo?a=1&a=2&b=x+y&c=%2Fz",
        headers={"X-Test": "Value", "Cookie": 'sid=abc; theme="dark"'},
    )
    data = r.json()
    assert data["method"] == "GET"
    assert data["path"] == "/echo"
    assert data["args"] == {"a": ["1", "2"], "b": "x y", "c": "/z"}
    assert data["all_a"] == ["1", "2"]
    assert data["x_test"] == "Value"
    assert data["has_x"] is True
    assert data["cookies"] == {"sid": "abc", "theme": "dark"}
    assert data["client"] == "127.0.0.1"
    assert data["http11"] is True


def test_a_header_asked_for_by_name_case_spacing_and_repeats(core):
    reply = raw(
        core.port,
        b"GET /echo HTTP/1.1\r\nHost: x\r\nx-test:   spaced out  \r\nX-Testing: no\r\n"
        b"Connection: close\r\n\r\n",
    )
    data = json.loads(reply.partition(b"\r\n\r\n")[2])
    assert data["x_test"] == "spaced out" and data["has_x"] is True  # not X-Testing's
    reply = raw(
        core.port,
        b"GET /echo HTTP/1.1\r\nHost: x\r\nX-Test: a\r\nx-test: b\r\nConnection: close\r\n\r\n",
    )
    assert json.loads(reply.partition(b"\r\n\r\n")[2])["x_test"] == "a, b"  # repeats joined
    reply = raw(
        core.port, b"GET /echo HTTP/1.1\r\nHost: x\r\nX-Testing: no\r\nConnection: close\r\n\r\n"
    )
    data = json.loads(reply.partition(b"\r\n\r\n")[2])
    assert data["x_test"] is None and data["has_x"] is False


def test_percent_decoded_path(core):
    reply = raw(
        core.port, b"GET /users/al%69ce/posts HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    assert reply.startswith(b"HTTP/1.1 200")
    assert json.loads(reply.partition(b"\r\n\r\n")[2]) == {"name": "alice"}
    reply = raw(core.port, b"GET /users/%zz/posts HTTP/1.1\r\nHost: x\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 400")


def test_body_json_form(client):
    assert client.post("/body", content=b"abc").json() == {"len": 3, "text": "abc"}
    assert client.post("/json", json={"k": [1, 2]}).json() == {"got": {"k": [1, 2]}}
    r = client.post("/json", content=b"{nope", headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert client.post("/form", data={"a": "1 2", "b": "&"}).json() == {"a": "1 2", "b": "&"}


def test_body_too_large(client):
    r = client.post("/body", content=b"x" * 5000)
    assert r.status_code == 413


def test_stream_larger_than_max_body(client):
    payload = bytes(range(256)) * 800  # 204800 bytes, 50x max_body
    r = client.post("/sum", content=payload)
    assert r.json() == {"total": len(payload), "sum": sum(payload)}
    r = client.post("/stream", content=payload)
    assert r.json() == {"total": len(payload)}


def test_chunked_request_body(client):
    def gen():
        yield b"hello "
        yield b"chunked "
        yield b"world"

    r = client.post("/body", content=gen())
    assert r.json() == {"len": 19, "text": "hello chunked world"}


def test_chunked_raw_with_extensions_and_trailers(core):
    req = (
        b"POST /body HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        b"3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: 1\r\n\r\n"
    )
    reply = raw(core.port, req)
    assert reply.startswith(b"HTTP/1.1 200")
    assert json.loads(reply.partition(b"\r\n\r\n")[2]) == {"len": 5, "text": "abcde"}


def test_expect_100_continue(core):
    with socket.create_connection(("127.0.0.1", core.port), timeout=5) as s:
        s.sendall(
            b"POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"
        )
        interim = s.recv(100)
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        s.sendall(b"data")
        reply = s.recv(1000)
        assert reply.startswith(b"HTTP/1.1 200")
        assert json.loads(reply.partition(b"\r\n\r\n")[2]) == {"len": 4, "text": "data"}


def test_unsupported_expectation(core):
    reply = raw(
        core.port, b"POST /body HTTP/1.1\r\nHost: x\r\nExpect: magic\r\nContent-Length: 1\r\n\r\nx"
    )
    assert reply.startswith(b"HTTP/1.1 417")


# -- connections ---------------------------------------------------------------------------------


def test_keep_alive_reuses_one_connection(client):
    ports = set()
    for _ in range(5):
        client.get("/")
    # httpx reuses the pooled connection: the server saw one client port for all requests.
    for _ in range(3):
        r = client.get("/echo")
        assert r.headers.get("connection") is None  # HTTP/1.1: persistent by default
        ports.add(r.extensions["network_stream"].get_extra_info("client_addr")[1])
    assert len(ports) == 1


def test_pipelined_requests_answered_in_order(core):
    reqs = (
        b"".join(b"GET /files/%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(1, 4))
        + b"GET /files/4 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    reply = raw(core.port, reqs)
    assert reply.count(b"HTTP/1.1 200 OK") == 4
    bodies = [b'{"rest": "%d"}' % i for i in range(1, 5)]
    positions = [reply.find(b) for b in bodies]
    assert all(p > 0 for p in positions) and positions == sorted(positions)
    assert b"Connection: close" in reply.split(bodies[2])[1]


def test_http10_closes_by_default(core):
    reply = raw(core.port, b"GET / HTTP/1.0\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 200 OK")
    assert b"Connection: close" in reply
    assert reply.endswith(b"hello")


def test_http10_keep_alive(core):
    with socket.create_connection(("127.0.0.1", core.port), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        first = s.recv(1000)
        assert b"Connection: keep-alive" in first
        s.sendall(b"GET /async HTTP/1.0\r\n\r\n")
        assert recv_all(s).endswith(b"hello async")


def test_connection_close(core):
    reply = raw(
        core.port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\n\r\n"
    )
    assert reply.count(b"HTTP/1.1") == 1  # the second request is never read
    assert b"Connection: close" in reply


# -- streaming responses -------------------------------------------------------------------------


def test_generator_streams_chunked(core):
    reply = raw(core.port, b"GET /gen?n=3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    head, _, body = reply.partition(b"\r\n\r\n")
    assert b"Transfer-Encoding: chunked" in head
    assert body == b"7\r\nline 0\n\r\n7\r\nline 1\n\r\n7\r\nline 2\n\r\n0\r\n\r\n"


def test_generator_close_delimited_on_http10(core):
    reply = raw(core.port, b"GET /gen?n=2 HTTP/1.0\r\n\r\n")
    head, _, body = reply.partition(b"\r\n\r\n")
    assert b"Transfer-Encoding" not in head and b"Content-Length" not in head
    assert b"Connection: close" in head
    assert body == b"line 0\nline 1\n"


def test_streams_with_httpx(client):
    assert client.get("/gen?n=4").text == "".join("line %d\n" % i for i in range(4))
    assert client.get("/gen-async-handler").text == "line 0\nline 1\nline 2\n"
    assert client.get("/aiter").text == "tick 2\ntick 1\ntick 0\n"


def test_client_vanishing_mid_stream_frees_everything(core, client):
    before = client.get("/stats").json()["closed_streams"]
    with socket.create_connection(("127.0.0.1", core.port), timeout=5) as s:
        s.sendall(b"GET /gen?n=1000000 HTTP/1.1\r\nHost: x\r\n\r\n")
        s.recv(4096)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if client.get("/stats").json()["closed_streams"] > before:
            break
        time.sleep(0.1)
    assert client.get("/stats").json()["closed_streams"] == before + 1  # generator was closed
    assert client.get("/").text == "hello"


# -- errors and hooks ----------------------------------------------------------------------------


def test_handler_exception_500_with_traceback_in_debug(core, client):
    r = client.get("/boom")
    assert r.status_code == 500
    assert "kaboom" in r.text  # debug=True in this app
    assert client.get("/").status_code == 200
    assert core.printed("kaboom"), core.output()  # and a log line


def test_error_handler_by_exception_class(client):
    r = client.get("/teapot")
    assert (r.status_code, r.text) == (418, "short and stout")


def test_hooks(client):
    r = client.get("/tag")
    assert r.text == "tagged"
    assert r.headers["x-after"] == "tagged"
    r = client.get("/blocked")
    assert (r.status_code, r.text) == (403, "blocked by hook")


def test_header_injection_refused(client):
    r = client.get("/bad-header")
    assert r.status_code == 500
    assert "set-cookie" not in r.headers


def test_access_log(core, client):
    client.get("/users/7")
    assert core.printed('"GET /users/7" 200'), core.output()
    line = next(x for x in core.output().splitlines() if x.endswith('"GET /users/7" 200'))
    assert re.fullmatch(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ 127\.0\.0\.1 "GET /users/7" 200', line)


def test_access_log_has_the_streams(core, client):
    assert "data: one" in client.get("/log/sse").text
    with socket.create_connection(("127.0.0.1", core.port), timeout=5) as s:
        s.sendall(
            b"GET /log/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        assert s.recv(1000).startswith(b"HTTP/1.1 101 ")
        s.sendall(b"\x81\x82abcd" + bytes((ord("h") ^ ord("a"), ord("i") ^ ord("b"))))  # "hi"
        assert s.recv(100) == b"\x81\x02hi"
        s.sendall(b"\x88\x80abcd")  # close
        recv_all(s, 5)
    assert core.printed('"GET /log/sse" 200'), core.output()
    assert core.printed('"GET /log/ws" 101'), core.output()


@pytest.mark.listener
def test_shutdown_closes_listener(core):
    with socket.create_connection(("127.0.0.1", core.port), timeout=5) as idle:
        reply = raw(core.port, b"GET /shutdown HTTP/1.1\r\nHost: x\r\n\r\n", timeout=3)
        assert reply.startswith(b"HTTP/1.1 200")
        assert recv_all(idle, 5) == b""  # the idle connection was closed too
    deadline = time.monotonic() + 5
    while core.alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not core.alive()  # serve() returned, so the process ended


@pytest.mark.skipif(not have_curl(), reason="curl not installed")
def test_curl(core):
    out = subprocess.run(
        ["curl", "-s", "-i", "--http1.1", f"{core.url}/json", f"{core.url}/files/3"],
        capture_output=True,
        check=True,
        timeout=10,
    ).stdout
    assert out.count(b"HTTP/1.1 200 OK") == 2
    assert b'{"rest": "3"}' in out


def test_body_cut_short_answers_400_and_closes(core):
    with socket.create_connection(("127.0.0.1", core.port), timeout=5) as s:
        s.sendall(b"POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly this")
        s.shutdown(socket.SHUT_WR)
        reply = recv_all(s, 5)
    assert reply.startswith(b"HTTP/1.1 400")
    assert reply.endswith(b"body ended early")
    assert b"Connection: close" in reply


def test_header_names_are_case_insensitive_for_framing(core):
    reply = raw(core.port, b"GET / HTTP/1.1\r\nhOsT: x\r\nCONNECTION: Close\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 200") and b"Connection: close" in reply
    reply = raw(core.port, b"GET / HTTP/1.1\r\nHostname: x\r\n\r\n")  # not a Host header
    assert reply.startswith(b"HTTP/1.1 400")
    reply = raw(
        core.port,
        b"POST /body HTTP/1.1\r\nhost: x\r\ncontent-LENGTH: 2\r\nconnection: close\r\n\r\nhi",
    )
    assert json.loads(reply.partition(b"\r\n\r\n")[2]) == {"len": 2, "text": "hi"}


def test_an_unsupported_result_is_a_500_that_says_why(client):
    r = client.get("/mistake/int")
    assert (r.status_code, r.text) == (500, "the handler returned int: not a response")


@pytest.mark.skipif(
    RUNTIME != "cpython", reason="MicroPython cannot tell a coroutine from a generator"
)
def test_a_missing_await_is_a_500_that_says_so(client):
    r = client.post("/mistake/no-await", json={"a": 1})
    assert r.status_code == 500
    assert r.text == "the handler returned coroutine: not a response (an await is missing)"


@pytest.mark.skipif(RUNTIME != "cpython", reason="a CPython check: MicroPython cannot see it")
def test_a_generator_function_handler_is_refused_when_registered():
    source = "import ember\napp = ember.App()\n@app.get('/t')\ndef tick(req):\n    yield 'a'\n"
    proc = subprocess.run(
        [sys.executable, "-c", source],
        env={"PYTHONPATH": str(ROOT / "modules")},
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    assert proc.stderr.splitlines()[-1] == (
        "TypeError: /t: a handler is a def or async def function; to stream, return a "
        "generator (Response(gen())) from it"
    )

"""ember.testing itself: requests and responses, cookies kept between calls, raw connections,
WebSocket and SSE helpers, timeouts; and the example in docs/testing.md.

The cases run in-process on CPython, MicroPython unix and webassembly (tests/inprocess.py)."""

import asyncio

try:
    import pytest
except ImportError:  # MicroPython: tests/run_cases.py runs the cases
    pytest = None
else:
    import inprocess  # puts modules/ on sys.path, for `import ember` below

    pytestmark = pytest.mark.integration

import ember
from ember import Response
from ember.sse import with_sse
from ember.testing import HandshakeError, TestClient, Timeout, WebSocketClosed
from ember.websocket import with_websocket

app = ember.App(max_body=256)
state = {"sse_closed": 0}


@app.get("/")
def index(req):
    return "hello"


@app.post("/echo")
async def echo(req):
    return await req.body()


@app.put("/json")
async def put_json(req):
    data = await req.json()
    data["seen"] = True
    return data


@app.post("/form")
async def form(req):
    f = await req.form()
    return {k: f.getlist(k) for k in f}


@app.get("/peer")
def peer(req):
    return {"host": req.client_addr[0], "port": req.client_addr[1]}


@app.get("/count")
def count(req):
    return Response(iter([b"one ", "two ", b"three"]))


@app.get("/login")
def login(req):
    r = Response("in")
    r.set_cookie("session", "s3cret")
    r.set_cookie("admin", "yes", path="/admin")
    return r


@app.get("/logout")
def logout(req):
    r = Response("out")
    r.set_cookie("session", "", max_age=0)
    return r


@app.get("/whoami")
def whoami(req):
    return req.cookies


@app.get("/admin/whoami")
def admin_whoami(req):
    return req.cookies


@app.get("/slow")
async def slow(req):
    await asyncio.sleep(1)
    return "late"


@app.get("/ws")
@with_websocket
async def ws_echo(req, ws):
    async for msg in ws:
        if msg == "bye":
            await ws.close(4001, "bye yourself")
            return
        await ws.send(msg)


@app.get("/events")
@with_sse(retry=2000)
async def events(req, sse):
    await sse.send("first", id=1)
    await sse.send({"n": 2}, event="json", id=2)
    await sse.comment("keep-alive")
    await sse.send("line one\nline two", event="multi")


@app.get("/endless")
@with_sse
async def endless(req, sse):
    try:
        n = int(sse.last_event_id or 0)
        while True:
            n += 1
            await sse.send(str(n), id=n)
            await asyncio.sleep(0.01)
    finally:
        state["sse_closed"] += 1


async def case_get_status_headers_body():
    r = await TestClient(app).get("/")
    assert r.status == 200 and r.reason == "OK"
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    assert r.headers.get("Content-Length") == "5"
    assert r.body == b"hello" and r.text == "hello"
    r = await TestClient(app).get("/nowhere")
    assert r.status == 404


async def case_head_has_length_but_no_body():
    r = await TestClient(app).head("/")
    assert r.status == 200 and r.headers["Content-Length"] == "5" and r.body == b""


async def case_bodies_json_and_form():
    client = TestClient(app)
    r = await client.post("/echo", body=b"\x00\x01 raw")
    assert r.body == b"\x00\x01 raw"
    r = await client.put("/json", json={"a": [1, 2]})
    assert r.headers["Content-Type"] == "application/json"
    assert r.json() == {"a": [1, 2], "seen": True}
    r = await client.post("/form", form=[("a", "1 2"), ("a", "x&y"), ("é", "")])
    assert r.json() == {"a": ["1 2", "x&y"], "é": [""]}
    r = await client.post("/echo", body=[b"chunk one, ", "chunk two"], chunked=True)
    assert r.body == b"chunk one, chunk two"
    r = await client.post("/echo", body=b"x" * 300)
    assert r.status == 413


async def case_streamed_response_is_dechunked():
    r = await TestClient(app).get("/count")
    assert r.headers["Transfer-Encoding"] == "chunked"
    assert r.body == b"one two three"


async def case_client_address_is_per_connection():
    client = TestClient(app)
    a = (await client.get("/peer")).json()
    b = (await client.get("/peer")).json()
    assert a["host"] == "127.0.0.1" and b["port"] == a["port"] + 1


async def case_cookies_kept_between_calls():
    client = TestClient(app)
    assert (await client.get("/whoami")).json() == {}
    r = await client.get("/login")
    assert r.headers.getlist("Set-Cookie") == [
        "session=s3cret; Path=/; HttpOnly; SameSite=Lax",
        "admin=yes; Path=/admin; HttpOnly; SameSite=Lax",
    ]
    assert client.cookies == {"session": "s3cret", "admin": "yes"}
    assert (await client.get("/whoami")).json() == {"session": "s3cret"}  # not under /admin
    assert (await client.get("/admin/whoami")).json() == {"session": "s3cret", "admin": "yes"}
    await client.get("/logout")  # Max-Age=0 deletes it
    assert client.cookies == {"admin": "yes"}
    assert (await client.get("/whoami")).json() == {}


async def case_raw_connection_pipelined_and_split():
    client = TestClient(app)
    conn = client.connect()
    get = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    conn.send(get + b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc" + get)
    assert (await conn.response()).body == b"hello"
    assert (await conn.response()).body == b"abc"
    assert (await conn.response()).body == b"hello"
    conn.send(get, step=1)  # one byte per arrival
    assert (await conn.response()).body == b"hello"
    conn.shutdown()
    await conn.wait_closed()
    assert conn.app_closed and await conn.read_all() == b""


async def case_expect_100_continue():
    conn = TestClient(app).connect()
    conn.send(
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"
    )
    r = await conn.response(informational=True)  # sent when the handler starts reading
    assert r.status == 100
    conn.send(b"body")
    r = await conn.response()
    assert r.status == 200 and r.body == b"body"
    conn.shutdown()
    await conn.wait_closed()


async def case_timeout_instead_of_a_hang():
    client = TestClient(app, timeout=0.2)
    try:
        await client.get("/slow")
    except Timeout as e:
        assert "no complete response" in str(e)
    else:
        raise AssertionError("no Timeout")


async def case_websocket_messages_and_close():
    ws = await TestClient(app).websocket("/ws")
    assert ws.response.status == 101
    await ws.send("héllo")
    assert await ws.receive() == "héllo"
    await ws.send(b"\x00\xff")
    assert await ws.receive() == b"\x00\xff"
    await ws.ping(b"p")
    assert await ws.receive_frame() == (10, True, b"p")  # the pong
    assert await ws.close(1000) == 1000  # the app echoes our code, then closes
    assert ws.conn.app_closed


async def case_websocket_closed_by_the_app():
    ws = await TestClient(app).websocket("/ws")
    await ws.send("bye")
    try:
        await ws.receive()
    except WebSocketClosed as e:
        assert (e.code, e.reason) == (4001, "bye yourself")
    else:
        raise AssertionError("not closed")
    assert ws.close_code == 4001
    await ws.wait_closed()


async def case_websocket_refused():
    try:
        await TestClient(app).websocket("/")
    except HandshakeError as e:
        assert e.response.status == 200 and e.response.body == b"hello"
    else:
        raise AssertionError("a plain route accepted a WebSocket")


async def case_sse_events():
    stream = await TestClient(app).sse("/events")
    assert stream.response.status == 200
    assert stream.response.headers["Content-Type"] == "text/event-stream"
    events = []
    async for e in stream:  # until the app ends the stream
        events.append(e)
    assert [(e.event, e.data, e.id, e.retry) for e in events] == [
        (None, None, None, 2000),
        (None, "first", "1", None),
        ("json", '{"n": 2}', "2", None),
        ("multi", "line one\nline two", None, None),
    ]
    assert events[2].json() == {"n": 2}
    assert stream.comments == 1
    await stream.close()


async def case_sse_client_goes_away():
    before = state["sse_closed"]
    stream = await TestClient(app).sse("/endless", last_event_id=41)
    assert (await stream.next()).data == "42"
    assert (await stream.next()).data == "43"
    await stream.close()  # the app notices EOF, cancels the handler, closes the connection
    assert state["sse_closed"] == before + 1


if pytest is not None:
    import re
    import subprocess

    from conftest import ROOT, RUNTIME, micropython_command

    test_case = inprocess.cases_test(globals())

    def docs_examples():
        """The Python blocks of docs/testing.md that follow `<!-- run by tests/... -->`."""
        text = (ROOT / "docs" / "testing.md").read_text()
        marker = r"<!-- run by tests/test_testclient.py -->\n```python\n(.*?)```"
        return re.findall(marker, text, re.S)

    @pytest.mark.parametrize("n", range(2))
    def test_docs_example(n, tmp_path):
        """Each example in docs/testing.md, as a user would run it: under pytest's Python, or
        as a script on the unix port (the webassembly build has no asyncio.run)."""
        blocks = docs_examples()
        assert len(blocks) == 2
        path = tmp_path / "test_example.py"
        path.write_text(blocks[n])
        if RUNTIME == "cpython":
            ns = {"__name__": "example"}
            exec(compile(blocks[n], str(path), "exec"), ns)
            tests = [f for name, f in ns.items() if name.startswith("test_")]
            assert tests
            for test in tests:
                test()
            return
        if RUNTIME != "unix":
            pytest.skip("skipped: the webassembly build has no asyncio.run")
        cmd, env = micropython_command(path)
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0 and proc.stdout.endswith("ok\n"), proc.stdout + proc.stderr

    def test_not_frozen_into_firmware():
        """ember.testing is for hosts: manifest.py freezes every other ember module, not it."""
        from ember_host.freezecheck import frozen_files

        for port in ("esp32", "esp8266"):
            names = {name for name, _, _ in frozen_files(ROOT / "manifest.py", port)[0]}
            assert "ember/protocol.py" in names and "ember/websocket.py" in names
            assert "ember/testing.py" not in names
